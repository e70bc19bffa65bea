"""No silent loss: every file found is checked or reported with a reason, in every format.

A mixed directory holds good files of every kind next to broken, binary, mis-encoded,
oversized and special ones. Each discovered file must be in ``files_checked`` or carry a
diagnostic; text, JSON and SARIF must all name every skipped file and why; the summary
line counts both. Invalid configuration (policy, custom rule, baseline) stops the run with
exit code 2 and no report, never a partial run that looks clean.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from test_fuzz_sources import assert_valid_sarif

from tunelint.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
RISKY_PY = "import torch\nstate = torch.load('model.pt')\n"

GOOD = {
    "good/train.py": RISKY_PY,
    "good/launch.sh": (FIXTURES / "rules" / "TL401" / "launch_risky.sh").read_text(),
    "good/lf.yaml": (FIXTURES / "rules" / "TL401" / "llamafactory_risky.yaml").read_text(),
    "good/ds.json": (FIXTURES / "sources" / "ds_zero3_nvme.json").read_text(),
    "good/nb.ipynb": (FIXTURES / "sources" / "finetune.ipynb").read_text(),
    "good/quiet.py": "x = 1\n",
}
BAD_TEXT = {
    "bad/syntax.py": RISKY_PY + "def (:\n",
    "bad/broken.yaml": "trust_remote_code: true\nkey: [unclosed\n",
    "bad/broken.json": '{"zero_optimization": {"stage": 3}',
    "bad/broken.ipynb": '{"cells": [{"source": "torch.load(p)"',
    "bad/cells.ipynb": json.dumps(
        {
            "cells": [
                1,
                {"cell_type": "code", "source": 5},
                {"cell_type": "code", "source": RISKY_PY},
            ]
        }
    ),
    "bad/unsplittable.sh": "python train.py --trust_remote_code 'unclosed\n",
    "bad/too_big.py": RISKY_PY + "#" * 5_000 + "\n",
    "bad/deep.py": RISKY_PY + "x = " + "[" * 500 + "]" * 500 + "\n",
}
BAD_BYTES = {
    "bad/binary.py": b"\x00\x01\x02torch.load" * 100,
    "bad/latin1.yaml": "trust_remote_code: caf\xe9\n".encode("latin-1"),
    "bad/utf16.py": RISKY_PY.encode("utf-16-le"),
}
POLICY = "version: 1\nlimits:\n  max_file_bytes: 4000\npaths:\n  exclude: ['excluded/**']\n"


def mixed_directory(root: Path) -> dict[str, str]:
    """Writes the directory; returns the reason code expected for each file not checked."""
    for name, text in {**GOOD, **BAD_TEXT}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    for name, data in BAD_BYTES.items():
        (root / name).write_bytes(data)
    (root / "tunelint.yaml").write_text(POLICY)
    (root / "excluded").mkdir()
    (root / "excluded" / "vendored.py").write_text(RISKY_PY)
    (root / ".gitignore").write_text("ignored.py\n")
    (root / "ignored.py").write_text(RISKY_PY)
    (root / "notes.txt").write_text("not a kind tunelint reads\n")
    outside = root.parent / "outside.py"
    outside.write_text(RISKY_PY)
    (root / "bad" / "outside.py").symlink_to(outside)
    (root / "bad" / "loop.py").symlink_to("loop.py")
    expected = {
        "bad/syntax.py": "parse-error",
        "bad/broken.json": "parse-error",
        "bad/broken.ipynb": "parse-error",
        "bad/too_big.py": "too-large",
        "bad/deep.py": "too-deep",
        "bad/binary.py": "binary",
        "bad/latin1.yaml": "decode-error",
        "bad/utf16.py": "binary",
        "bad/outside.py": "outside-root",
        "bad/loop.py": "symlink-loop",
    }
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "bad" / "pipe.yaml")
        expected["bad/pipe.yaml"] = "not-a-file"
    return expected


def cli(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        code = main(["check", "--no-cache", "--jobs", "1", *args])
    finally:
        os.chdir(cwd)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_mixed_directory_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    expected = mixed_directory(root)

    code, out, _ = cli(root, "--format", "json", capsys=capsys)
    assert code == 1
    report = json.loads(out)
    reasons = {d["path"]: d["code"] for d in report["diagnostics"]}
    for path, reason in expected.items():
        assert reasons.get(path) == reason, (path, report["diagnostics"])
        assert path not in report["files_checked"], path
    for path in ("bad/syntax.py", "bad/broken.json", "bad/binary.py", "bad/too_big.py"):
        assert path in report["files_not_checked"], path
    assert report["files_skipped"] == []  # excluded/ was walked past, never named
    for name in GOOD:
        assert name in report["files_checked"], name
        assert name not in reasons, reasons[name]
    # read in part: counted as partly checked, and the part not read is reported
    assert report["files_partly_checked"] == ["bad/cells.ipynb"]
    assert reasons["bad/cells.ipynb"] == "bad-notebook"
    # a parse error with nothing read before it: not checked
    for broken in ("bad/broken.yaml", "bad/unsplittable.sh"):
        assert reasons[broken] == "parse-error", broken
        assert broken in report["files_not_checked"], broken
    too_big = next(d for d in report["diagnostics"] if d["path"] == "bad/too_big.py")
    assert "limits.max_file_bytes" in too_big["message"]
    # excluded on purpose, never reached, or not a kind tunelint reads: not reported
    everything = {*report["files_checked"], *report["files_partly_checked"], *reasons}
    assert not {"excluded/vendored.py", "ignored.py", "notes.txt"} & everything
    # each good file's findings are there
    fired = {(f["path"], f["rule_id"]) for f in report["findings"]}
    assert {
        ("good/train.py", "TL403"),
        ("good/launch.sh", "TL401"),
        ("good/lf.yaml", "TL401"),
    } <= fired
    summary = report["summary"]
    lists = ("files_checked", "files_partly_checked", "files_not_checked", "files_skipped")
    for key in lists:
        assert summary[key] == len(report[key]), key
    counted = [path for key in lists for path in report[key]]
    assert len(counted) == len(set(counted)), "a file is counted twice"
    assert set(report["files_not_checked"]) == {
        *expected,
        "bad/broken.yaml",
        "bad/unsplittable.sh",
    }
    assert set(reasons) == {*report["files_not_checked"], *report["files_partly_checked"]}

    code, text, _ = cli(root, "--format", "text", "--color", "never", capsys=capsys)
    assert code == 1
    not_checked = text.split("Not checked", 1)[1]
    for path, reason in reasons.items():
        assert f"{path}" in not_checked and reason in not_checked, path
    last = next(line for line in reversed(text.splitlines()) if line.startswith("Found "))
    assert f"{summary['files_checked']} files checked" in last, last
    assert f"{summary['files_partly_checked']} partly checked" in last, last
    assert f"{summary['files_not_checked']} not checked" in last, last

    code, sarif, _ = cli(root, "--format", "sarif", capsys=capsys)
    assert code == 1
    assert_valid_sarif(sarif)
    invocation = json.loads(sarif)["runs"][0]["invocations"][0]
    notes = invocation["toolExecutionNotifications"]
    noted = {
        note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: note["descriptor"][
            "id"
        ]
        for note in notes
        if "locations" in note  # the others are about rules, not files
    }
    assert {path: reasons[path] for path in noted} == reasons
    counts = invocation["properties"]
    assert (counts["filesChecked"], counts["filesPartlyChecked"]) == (
        summary["files_checked"],
        summary["files_partly_checked"],
    )
    assert (counts["filesNotChecked"], counts["filesSkipped"]) == (
        summary["files_not_checked"],
        summary["files_skipped"],
    )


def test_summary_when_nothing_could_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "syntax.py").write_text(RISKY_PY + "def (:\n")
    code, out, err = cli(tmp_path, "--format", "text", "--color", "never", capsys=capsys)
    assert code == 1, (out, err)  # a file that does not parse is an error, not a clean pass
    assert "0 files checked, 1 not checked; 1 error" in out
    assert "syntax.py" in out and "parse-error" in out


def write_rules(root: Path, text: str) -> None:
    (root / "rules").mkdir()
    (root / "rules" / "ACME001.yaml").write_text(text)
    (root / "tunelint.yaml").write_text("version: 1\nrules:\n  custom: [./rules]\n")


RULE = (
    "id: ACME001\nname: acme-rule\ntitle: A custom rule\nseverity: high\nconfidence: high\n"
    "category: custom\nmessage: m\nwhy: w\nfix: f\nmatch: {call: 'torch.load'}\n"
)
INVALID_CONFIGURATIONS: dict[str, Callable[[Path], object]] = {
    "unknown policy key": lambda root: (root / "tunelint.yaml").write_text("versoin: 1\n"),
    "policy not a mapping": lambda root: (root / "tunelint.yaml").write_text("- 1\n"),
    "policy YAML error": lambda root: (root / "tunelint.yaml").write_text("rules: [\n"),
    "policy limit of the wrong type": lambda root: (root / "tunelint.yaml").write_text(
        "version: 1\nlimits:\n  max_depth: deep\n"
    ),
    "policy extends a missing file": lambda root: (root / "tunelint.yaml").write_text(
        "version: 1\nextends: [./missing.yaml]\n"
    ),
    "custom rule missing fields": lambda root: write_rules(root, "id: ACME001\n"),
    "custom rule YAML error": lambda root: write_rules(root, RULE + "match: [\n"),
    "custom rule shadows a built-in": lambda root: write_rules(
        root, RULE.replace("ACME001", "TL401")
    ),
    "custom rule directory missing": lambda root: (root / "tunelint.yaml").write_text(
        "version: 1\nrules:\n  custom: [./nowhere]\n"
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID_CONFIGURATIONS))
def test_invalid_configuration_stops_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    (tmp_path / "train.py").write_text(RISKY_PY)
    INVALID_CONFIGURATIONS[case](tmp_path)
    for fmt in ("text", "json", "sarif"):
        code, out, err = cli(tmp_path, "--format", fmt, capsys=capsys)
        assert code == 2, (case, fmt, out, err)
        assert out == "", "no report may come out of a half-configured run"
        assert "configuration error" in err or "error" in err.lower()


@pytest.mark.parametrize(
    "baseline",
    ["{not json", "[]", '{"version": 99}', "\x00\x01", None],
    ids=["broken", "list", "version", "binary", "missing"],
)
def test_an_invalid_baseline_stops_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], baseline: str | None
) -> None:
    (tmp_path / "train.py").write_text(RISKY_PY)
    path = tmp_path / "baseline.json"
    if baseline is not None:
        path.write_text(baseline)
    code, out, err = cli(tmp_path, "--format", "json", "--baseline", str(path), capsys=capsys)
    assert code == 2, (out, err)
    assert out == ""


def test_a_policy_given_by_name_must_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "train.py").write_text(RISKY_PY)
    code, out, _ = cli(tmp_path, "--policy", str(tmp_path / "nope.yaml"), capsys=capsys)
    assert code == 2 and out == ""


def test_unreadable_policy_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "train.py").write_text(RISKY_PY)
    (tmp_path / "tunelint.yaml").write_bytes(b"version: 1\nfail_on: \xff\xfe\n")
    code, out, _ = cli(tmp_path, capsys=capsys)
    assert code == 2 and out == ""
