"""SARIF of the bundled examples, as GitHub code scanning will receive it.

Valid against the OASIS 2.1.0 schema, within GitHub's limits, byte-identical from run to
run (fresh processes, different hash seeds, cold and warm cache), and with
``partialFingerprints`` that survive lines inserted above a finding, so alerts stay the
same alerts when code moves.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from test_report_sarif import LEVELS, SECURITY, all_locations, validate

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
GITHUB_MAX_RESULTS = 25_000
GITHUB_MAX_TAGS = 20
GITHUB_MAX_GZIP_BYTES = 10 * 1024 * 1024


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A copy of examples/ (policy included) in a repository of its own (SARIF paths are
    relative to its root), so runs and edits never touch this repository."""
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns(".tunelint_cache"))
    (tmp_path / ".git").mkdir()
    return target


def sarif_text(cwd: Path, *args: str, seed: str = "0") -> str:
    """``tunelint check examples/ --format sarif`` in a fresh process."""
    env = dict(os.environ, PYTHONHASHSEED=seed, NO_COLOR="1")
    command = [sys.executable, "-m", "tunelint", "check", "examples/", "--format", "sarif"]
    result = subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1, result.stderr  # the risky example has findings
    return result.stdout


def results_by_place(log: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    places: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for result in log["runs"][0]["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        places[(result["ruleId"], unquote(uri))].append(result)
    return places


def assert_github_constraints(text: str) -> None:
    """What GitHub code scanning needs beyond the schema (see test_report_sarif.py)."""
    log = json.loads(text)
    assert len(gzip.compress(text.encode("utf-8"))) <= GITHUB_MAX_GZIP_BYTES
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) <= GITHUB_MAX_RESULTS
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids)), "duplicate rule descriptors"
    for rule in rules:
        props = rule["properties"]
        assert len(props["tags"]) <= GITHUB_MAX_TAGS and "security" in props["tags"]
        assert isinstance(props["security-severity"], str)
        assert 0.0 <= float(props["security-severity"]) <= 10.0
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
        assert rule.get("helpUri", "https://").startswith("https://")
    fingerprints = set()
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert result["level"] in set(LEVELS.values())
        severity = next(label for label, score in SECURITY.items()
                        if score == rule["properties"]["security-severity"])  # fmt: skip
        assert rule["defaultConfiguration"]["level"] == LEVELS[severity]
        fingerprint = result["partialFingerprints"]["tunelint/v1"]
        assert fingerprint not in fingerprints, "two results share a fingerprint"
        fingerprints.add(fingerprint)
        assert result["message"]["text"]
    for location in all_locations(run):
        physical = location["physicalLocation"]
        artifact = physical["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        uri = artifact["uri"]
        assert not urlsplit(uri).scheme and not uri.startswith("/") and uri.isascii()
        assert " " not in uri
        region = physical.get("region", {})
        assert region.get("startLine", 1) >= 1 and region.get("startColumn", 1) >= 1


def test_examples_validate_and_meet_githubs_constraints(examples: Path) -> None:
    text = sarif_text(examples.parent, "--category", "tunelint/examples")
    log = json.loads(text)
    validate(log)
    assert_github_constraints(text)
    run = log["runs"][0]
    assert run["automationDetails"] == {"id": "tunelint/examples/"}
    places = results_by_place(log)
    assert ("TL203", "examples/risky/track.py") in places
    assert ("TL201", "examples/risky/train.py") in places
    assert not any(path.startswith("examples/fixed/") for _, path in places)
    (tl203,) = places[("TL203", "examples/risky/track.py")]
    assert tl203["locations"][0]["physicalLocation"]["region"]["startLine"] == 10


def test_two_runs_give_byte_identical_logs(examples: Path) -> None:
    first = sarif_text(examples.parent, seed="1")  # cold cache
    assert sarif_text(examples.parent, seed="2") == first  # warm cache, another hash seed
    assert sarif_text(examples.parent, "--no-cache", seed="3") == first


def insert_above(path: Path, after_line: int, lines: list[str]) -> None:
    text = path.read_text().splitlines(keepends=True)
    path.write_text(
        "".join([*text[:after_line], *(line + "\n" for line in lines), *text[after_line:]])
    )


def test_inserting_lines_above_keeps_partial_fingerprints(examples: Path) -> None:
    before = json.loads(sarif_text(examples.parent))
    risky = examples / "risky"
    insert_above(risky / "track.py", 1, ["", "# Tracking for the team.", "import os"])
    insert_above(risky / "train.py", 2, ["# Training entry point.", "import sys", "", ""])
    insert_above(
        risky / "launch.sh", 1, ["# Run from the repository root.", 'cd "$(dirname "$0")"']
    )
    after = json.loads(sarif_text(examples.parent))
    shift = {
        "examples/risky/track.py": 3,
        "examples/risky/train.py": 4,
        "examples/risky/launch.sh": 2,
    }

    old, new = results_by_place(before), results_by_place(after)
    assert old.keys() == new.keys() and old
    for place, results in old.items():
        assert len(new[place]) == len(results), place
        for was, now in zip(results, new[place], strict=True):
            line = was["locations"][0]["physicalLocation"]["region"]["startLine"]
            moved = now["locations"][0]["physicalLocation"]["region"]["startLine"]
            assert moved == line + shift[place[1]], place  # the finding did move
            assert now["partialFingerprints"] == was["partialFingerprints"], place


def action_step(name: str) -> dict[str, Any]:
    import yaml

    action = yaml.safe_load((REPO / "action.yml").read_text())
    return next(step for step in action["runs"]["steps"] if step["name"] == name)


def run_step(
    step: dict[str, Any], cwd: Path, inputs: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """A composite step's script under bash as the runner starts it, inputs via its env."""
    env = dict(os.environ, GITHUB_OUTPUT=str(cwd / "github_output"), NO_COLOR="1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for key, value in step.get("env", {}).items():
        name = value.removeprefix("${{ inputs.").removesuffix(" }}")
        env[key] = inputs[name]
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_action_writes_sarif_despite_findings_and_gates_separately(examples: Path) -> None:
    inputs = {"paths": "examples/risky\nexamples/fixed", "args": "--no-cache", "category": "ci/x"}
    workspace = examples.parent
    scan = run_step(action_step("Run tunelint"), workspace, inputs)
    assert scan.returncode == 0, scan.stderr  # findings do not fail the scan step
    assert (workspace / "github_output").read_text() == "sarif-file=tunelint.sarif\n"
    log = json.loads((workspace / "tunelint.sarif").read_text())
    validate(log)
    assert log["runs"][0]["automationDetails"] == {"id": "ci/x/"}
    assert ("TL203", "examples/risky/track.py") in results_by_place(log)

    gate = run_step(action_step("Fail on findings"), workspace, inputs)
    assert gate.returncode == 1
    assert "::error file=examples/risky/track.py,line=10," in gate.stdout

    clean = run_step(
        action_step("Fail on findings"), workspace, {**inputs, "paths": "examples/fixed"}
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr

    broken = {**inputs, "args": "--policy missing.yaml"}
    (workspace / "tunelint.sarif").unlink()
    failed = run_step(action_step("Run tunelint"), workspace, broken)
    assert failed.returncode == 2 and "configuration error" in failed.stderr
    assert not (workspace / "tunelint.sarif").exists()
    # No second sarif-file output: the upload step's condition skips it.
    assert (workspace / "github_output").read_text() == "sarif-file=tunelint.sarif\n"
