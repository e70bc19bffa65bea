"""What someone meets on a first run, on a fresh clone and on a project of their own.

Each test is one thing such a user would trip over: a typo that checks nothing and passes,
a budget nobody gave reported as a pass, a broken file counted as checked, a virtual
environment crawled, links to pages that do not exist, paths code scanning cannot map,
and output too long to read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tunelint.cli import build_parser, main

IMPORT = "from transformers import AutoModelForCausalLM\n"
RISKY = IMPORT + 'm = AutoModelForCausalLM.from_pretrained("x", trust_remote_code=True)\n'
CLEAN = "def add(a, b):\n    return a + b\n"
TRAINING = (
    "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
    'model = AutoModelForCausalLM.from_pretrained("bigscience/bloom-30b", revision="0" * 40)\n'
    'args = TrainingArguments(output_dir="out", save_steps=100)\n'
    "trainer = Trainer(model=model, args=args)\n"
    "trainer.train()  # tunelint: ignore[TL104] -- watched by the cluster\n"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TUNELINT_NO_CACHE", "1")
    (tmp_path / "risky.py").write_text(RISKY)
    (tmp_path / "clean.py").write_text(CLEAN)
    return tmp_path


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """No NVIDIA driver, whatever the machine running the tests has."""
    import tunelint.memory.gpus as gpus

    monkeypatch.setattr(gpus, "_load_pynvml", lambda: None)


# --- a typo in a selector checks nothing and passes -------------------------------------


@pytest.mark.parametrize(
    ("flag", "code", "hint"),
    [
        ("--select", "foo", None),
        ("--select", "TL9", None),
        ("--select", "trust-remote-cod", "trust-remote-code"),
        ("--ignore", "TL4O1", "TL401"),
        ("--select", "TL401,TL99", None),
    ],
)
def test_an_unknown_rule_selector_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str], flag: str, code: str, hint: str | None
) -> None:
    assert main(["check", "risky.py", flag, code]) == 2
    err = capsys.readouterr().err
    assert flag in err and "no rule" in err
    if hint is not None:
        assert f"did you mean {hint!r}?" in err


def test_valid_selectors_still_select(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "risky.py", "--select", "ALL"]) == 1
    assert main(["check", "risky.py", "--select", "TL2"]) == 0
    assert main(["check", "risky.py", "--select", "trust-remote-code"]) == 1
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["check", "risky.py", "--fail-on", "hgh"])
    assert exited.value.code == 2
    assert "did you mean 'high'?" in capsys.readouterr().err


def test_an_unknown_code_in_per_file_ignores_is_a_configuration_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "tunelint.yaml").write_text(
        "version: 1\npaths:\n  per_file_ignores:\n    'risky.py': [TL410]\n"
    )
    assert main(["check", "."]) == 2
    err = capsys.readouterr().err
    assert "per_file_ignores" in err and "TL410" in err and "did you mean" in err
    assert main(["policy", "validate"]) == 2


# --- policy validate accepts what check then refuses -------------------------------------


def test_policy_validate_checks_gpu_names_like_check(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "tunelint.yaml").write_text("version: 1\nhardware: {gpus: [rtx-4090x]}\n")
    assert main(["policy", "validate"]) == 2
    err = capsys.readouterr().err
    assert "hardware.gpus" in err and "rtx-4090x" in err and "did you mean 'rtx-4090'?" in err
    assert "(1 problem)" in err
    assert main(["check", "."]) == 2
    assert "rtx-4090x" in capsys.readouterr().err
    (project / "tunelint.yaml").write_text("version: 1\nhardware: {vram: 24 gigs}\n")
    assert main(["policy", "validate"]) == 2
    assert "hardware.vram" in capsys.readouterr().err


# --- no GPU budget: TL101 silently skipped, ticked in the checklist ----------------------


def test_a_rule_without_its_input_says_it_was_not_evaluated(
    project: Path, capsys: pytest.CaptureFixture[str], no_gpu: None
) -> None:
    (project / "train.py").write_text(TRAINING)
    main(["check", ".", "--color", "never"])
    text = capsys.readouterr().out
    assert text.count("TL101 model-exceeds-vram not evaluated") == 1, text
    assert "--gpu" in text and "1 rule not evaluated" in text

    main(["check", ".", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert [(n["rule_id"], n["code"]) for n in report["notes"]] == [("TL101", "not-evaluated")]
    assert report["summary"]["rules_not_evaluated"] == 1

    main(["check", ".", "--format", "sarif"])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["associatedRule"]["id"] for n in notes if "associatedRule" in n] == ["TL101"]

    main(["check", ".", "--format", "checklist"])
    checklist = capsys.readouterr().out
    (line,) = [row for row in checklist.splitlines() if row.startswith("- [") and "TL101" in row]
    assert line.startswith("- [ ] **TL101**") and "not evaluated" in line
    assert "fits, or the model could not be sized" not in checklist

    # With a budget, the rule runs and says nothing about itself.
    main(["check", ".", "--gpu", "rtx-4090", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert report["notes"] == [] and "TL101" in {f["rule_id"] for f in report["findings"]}


def test_estimate_detect_on_without_a_gpu_is_an_error(
    capsys: pytest.CaptureFixture[str], no_gpu: None
) -> None:
    assert main(["estimate", "gpt2", "--detect", "on"]) == 2
    err = capsys.readouterr().err
    assert "no NVIDIA driver found" in err and "--gpu" in err
    assert main(["estimate", "gpt2", "--detect", "on", "--gpu", "rtx-4090"]) == 0


# --- broken files counted twice, or not at all -------------------------------------------


def _notebook(*cells: str) -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": "code", "source": cell, "metadata": {}} for cell in cells],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def test_a_partly_read_notebook_is_counted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nb.ipynb").write_text(_notebook(RISKY, "def broken(:\n"))
    assert main(["check", ".", "--no-cache", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    summary = report["summary"]
    assert (summary["files_checked"], summary["files_partly_checked"]) == (0, 1)
    assert (summary["files_not_checked"], summary["files_skipped"]) == (0, 0)
    assert report["files_partly_checked"] == ["nb.ipynb"]
    main(["check", ".", "--no-cache", "--color", "never"])
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert "not checked" not in last and "1 partly" in last, last


def test_a_syntax_error_among_clean_files_fails_the_run(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "risky.py").unlink()
    (project / "broken.py").write_text("import torch\nstate = torch.load(p\ndef (:\n")
    assert main(["check", "."]) == 1
    assert "parse-error" in capsys.readouterr().out
    assert main(["check", ".", "--exit-zero"]) == 0
    # A broken file that holds nothing any rule reads fails the run all the same.
    (project / "broken.py").write_text("def (:\n    pass\n")
    assert main(["check", "."]) == 1
    assert "broken.py" in capsys.readouterr().out


# --- a virtual environment not named .venv is crawled -------------------------------------


def _venv(directory: Path) -> None:
    site = directory / "lib" / "python3.11" / "site-packages" / "pkg"
    site.mkdir(parents=True)
    (directory / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (site / "mod.py").write_text(RISKY)
    (directory / "lib64").symlink_to("lib")


def test_a_virtual_environment_is_skipped_and_the_summary_says_so(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _venv(project / "venv2")
    (project / "risky.py").unlink()
    assert main(["check", ".", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["findings"] == []
    assert report["skipped_directories"] == [
        {"path": "venv2", "reason": "virtual-environment"},
    ]
    main(["check", ".", "--color", "never"])
    out = capsys.readouterr().out
    assert "1 virtual environment (venv2/)" in out and "--no-default-excludes" in out
    # Named on the command line, or with the default excludes off, it is checked.
    site = "venv2/lib/python3.11/site-packages"
    main(["check", "venv2", "--format", "json"])
    assert json.loads(capsys.readouterr().out)["skipped_directories"] == [
        {"path": site, "reason": "dependencies"},
        {"path": "venv2/lib64", "reason": "symlink"},
    ]
    assert main(["check", site, "--format", "json"]) == 1
    paths = {f["path"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert paths == {f"{site}/pkg/mod.py"}
    assert main(["check", ".", "--no-default-excludes", "--format", "json"]) == 1
    paths = {f["path"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert paths == {f"{site}/pkg/mod.py"}  # once: lib64 is a symlink to lib, not followed


def test_directory_symlinks_are_followed_only_when_asked(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "shared").mkdir()
    (project / "shared" / "risky.py").write_text(RISKY)
    (project / "risky.py").unlink()
    (project / "jobs").mkdir()
    (project / "jobs" / "common").symlink_to("../shared")
    (project / "tunelint.yaml").write_text("version: 1\n")  # the project root: shared/ is in it
    assert main(["check", "jobs", "--format", "json"]) == 3
    report = json.loads(capsys.readouterr().out)
    assert report["skipped_directories"] == [{"path": "jobs/common", "reason": "symlink"}]
    main(["check", "jobs", "--color", "never"])
    assert "--follow-symlinks" in capsys.readouterr().out
    assert main(["check", "jobs", "--format", "json", "--follow-symlinks"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [f["path"] for f in report["findings"]] == ["jobs/common/risky.py"]


# --- links to a repository that does not exist; URIs relative to the working directory ----


def test_no_link_points_at_a_repository_that_does_not_exist(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for fmt in ("text", "sarif", "json", "checklist", "github"):
        main(["check", ".", "--format", fmt])
        assert "github.com/tunelint" not in capsys.readouterr().out, fmt
    main(["check", ".", "--color", "never"])
    assert "docs: tunelint explain TL401" in capsys.readouterr().out
    main(["check", ".", "--format", "sarif"])
    driver = json.loads(capsys.readouterr().out)["runs"][0]["tool"]["driver"]
    assert all("helpUri" not in rule for rule in driver["rules"])
    assert all(rule["help"]["text"] for rule in driver["rules"])

    (project / "tunelint.yaml").write_text(
        "version: 1\ndocs_url: https://docs.example.com/tunelint/{id}.html\n"
    )
    main(["check", ".", "--color", "never"])
    assert "docs: https://docs.example.com/tunelint/TL401.html" in capsys.readouterr().out
    main(["check", ".", "--format", "sarif"])
    rules = json.loads(capsys.readouterr().out)["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"]: r["helpUri"] for r in rules}["TL401"] == (
        "https://docs.example.com/tunelint/TL401.html"
    )


def test_sarif_uris_are_relative_to_the_repository_root_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repository = tmp_path / "repo"
    (repository / ".git").mkdir(parents=True)
    (repository / "ml" / "jobs").mkdir(parents=True)
    (repository / "ml" / "jobs" / "risky.py").write_text(RISKY)

    def uris(cwd: Path, path: str) -> tuple[list[str], str]:
        monkeypatch.chdir(cwd)
        main(["check", path, "--no-cache", "--format", "sarif"])
        run = json.loads(capsys.readouterr().out)["runs"][0]
        found = [
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
        ]
        return found, run["originalUriBaseIds"]["%SRCROOT%"]["uri"]

    at_root = uris(repository, ".")
    assert at_root == (["ml/jobs/risky.py"], repository.resolve().as_uri() + "/")
    assert uris(repository / "ml", ".") == at_root
    assert uris(repository / "ml" / "jobs", "risky.py") == at_root
    monkeypatch.chdir(repository / "ml")
    main(["check", ".", "--no-cache", "--format", "github"])
    assert "file=ml/jobs/risky.py," in capsys.readouterr().out


# --- output too long to read; help that shows markup --------------------------------------


def test_concise_output_is_one_line_per_finding(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "more.py").write_text(RISKY)
    assert main(["check", ".", "--output-format", "concise", "--color", "never"]) == 1
    lines = capsys.readouterr().out.splitlines()
    message = (
        "[high] `trust_remote_code` is true: loading runs Python files from the model "
        "repository on this machine, with this user's access to data and credentials"
    )
    assert lines[:2] == [f"more.py:2:65: TL401 {message}", f"risky.py:2:65: TL401 {message}"]
    assert lines[-1].startswith("Found 2 findings (2 high)")
    assert len(lines) == 3
    # the old spellings keep working: --format text is the full report
    main(["check", ".", "--format", "text", "--color", "never"])
    assert "docs: tunelint explain TL401" in capsys.readouterr().out
    main(["check", ".", "--output-format", "full", "--no-show-source", "--color", "never"])
    assert " | " not in capsys.readouterr().out


def test_quiet_prints_findings_only_and_nothing_on_success(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "clean.py", "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["check", ".", "--quiet", "--output-format", "concise"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [line for line in out.splitlines() if "TL401" in line]
    assert len(out.splitlines()) == 1


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found.extend(_parsers(child))
    return found


def test_every_option_has_clean_help() -> None:
    missing = []
    for parser in _parsers(build_parser()):
        text = parser.format_help()
        assert "``" not in text, parser.prog
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                continue
            if not action.help:
                missing.append(f"{parser.prog} {action.dest}")
    assert missing == []


def test_explain_suggests_the_rule_meant(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "TL4O1"]) == 2
    assert "did you mean 'TL401'?" in capsys.readouterr().err
    assert main(["explain", "trust-remote-cod"]) == 2
    assert "did you mean 'trust-remote-code'?" in capsys.readouterr().err


def test_installed_command_prints_help_without_markup(tmp_path: Path) -> None:
    """The real entry point, as a new user calls it."""
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run(
        [sys.executable, "-m", "tunelint", "check", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    assert "``" not in done.stdout and "--output-format" in done.stdout


def test_nothing_shipped_or_documented_links_to_that_repository() -> None:
    """pyproject, the README, docs/ and the package itself."""
    root = Path(__file__).resolve().parents[1]
    places = [root / "pyproject.toml", root / "README.md", root / "action.yml"]
    places += sorted((root / "docs").rglob("*.md")) + sorted((root / "src").rglob("*.*"))
    linked = [
        str(path.relative_to(root))
        for path in places
        if path.is_file() and "github.com/tunelint" in path.read_text(errors="replace")
    ]
    assert linked == []
