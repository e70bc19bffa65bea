"""The pre-commit hook end to end, through the real ``pre-commit try-repo``.

``try-repo`` clones this repository (with its uncommitted changes to tracked files, as a
temporary commit), installs the package into a fresh hook virtualenv with pip, and runs
the hook from ``.pre-commit-hooks.yaml`` on the files named, inside a throwaway git
repository. Each call installs anew (try-repo uses a temporary store); pip's own cache
keeps that to seconds. The tests skip only when pre-commit is missing or when pip cannot
reach a package index to install the hook's dependencies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
RISKY = """\
import mlflow

mlflow.set_tracking_uri("https://mlflow.example.com")
with mlflow.start_run():
    mlflow.log_artifact("data/train.jsonl")
"""
CLEAN = """\
import hashlib
from pathlib import Path

import mlflow

digest = hashlib.sha256(Path("data/train.jsonl").read_bytes()).hexdigest()
with mlflow.start_run():
    mlflow.log_param("data_sha256", digest)
"""
POLICY = """\
version: 1
paths:
  exclude: ["vendor/**"]
"""
# pip's words when it cannot reach an index or the index lacks a dependency.
NO_INDEX = (
    "No matching distribution found",
    "Could not find a version that satisfies the requirement",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Max retries exceeded",
    "ProxyError",
)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Logs and any store pre-commit keeps land here, never in the user's cache."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    (root / "vendor").mkdir()
    (root / "tunelint.yaml").write_text(POLICY)
    (root / "risky.py").write_text(RISKY)
    (root / "clean.py").write_text(CLEAN)
    (root / "vendor" / "risky.py").write_text(RISKY)
    (root / "notes.txt").write_text("not a file kind the hook takes\n")
    if shutil.which("git") is not None:
        subprocess.run(["git", "init", "-q"], cwd=root, env=_env(root), check=True)
        subprocess.run(["git", "add", "."], cwd=root, env=_env(root), check=True)
    return root


def _env(home: Path) -> dict[str, str]:
    # No GIT_* from an outer hook or CI step may point git at another repository.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["PRE_COMMIT_HOME"] = str(home)
    env["NO_COLOR"] = "1"
    return env


def try_repo(project: Path, home: Path, *files: str) -> tuple[int, str]:
    pytest.importorskip("pre_commit", reason="pre-commit is not installed")
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("try-repo needs git and a git checkout of this repository")
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "tunelint"]
    command += ["--color", "never", "--verbose", "--files", *files]
    result = subprocess.run(
        command, cwd=project, env=_env(home), capture_output=True, text=True, timeout=900
    )
    output = result.stdout + result.stderr
    installing = "pip" in output and "An unexpected error has occurred" in output
    if result.returncode == 3 and installing and any(word in output for word in NO_INDEX):
        reason = next(line for line in output.splitlines() if any(w in line for w in NO_INDEX))
        pytest.skip(f"the hook environment cannot install (no package index): {reason.strip()}")
    return result.returncode, output


def test_manifest_declares_the_hook() -> None:
    pytest.importorskip("pre_commit", reason="pre-commit is not installed")
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "tunelint"
    assert hook["entry"] == "tunelint check --allow-empty"
    assert hook["language"] == "python"
    assert hook["types_or"] == ["python", "jupyter", "yaml", "json", "shell"]
    assert hook["require_serial"] is True
    assert hook["minimum_pre_commit_version"] == "3.2.0"  # types_or needs 2.9.0 or later
    from pre_commit.clientlib import load_manifest

    (loaded,) = load_manifest(str(REPO / ".pre-commit-hooks.yaml"))
    assert loaded["pass_filenames"] is True


@pytest.mark.e2e
def test_risky_file_fails_the_commit(project: Path, pre_commit_home: Path) -> None:
    code, output = try_repo(project, pre_commit_home, "risky.py", "notes.txt")
    assert code == 1, output
    assert "tunelint" in output and "Failed" in output
    assert "TL203" in output and "risky.py:5:" in output
    assert "notes.txt" not in output  # types_or kept it from the hook


@pytest.mark.e2e
def test_clean_file_passes(project: Path, pre_commit_home: Path) -> None:
    code, output = try_repo(project, pre_commit_home, "clean.py")
    assert code == 0, output
    assert "Passed" in output and "TL2" not in output


@pytest.mark.e2e
def test_excluded_file_passes_even_when_risky(project: Path, pre_commit_home: Path) -> None:
    """pre-commit passes the name; the policy's exclude still holds, and nothing is left."""
    code, output = try_repo(project, pre_commit_home, "vendor/risky.py")
    assert code == 0, output
    assert "Passed" in output and "TL203" not in output


def test_excludes_hold_for_files_passed_by_name(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the hook runs, in process: the name is given, the policy's exclude wins."""
    from tunelint.cli import main

    monkeypatch.chdir(project)
    assert main(["check", "--allow-empty", "vendor/risky.py"]) == 0
    assert "TL203" not in capsys.readouterr().out
    assert main(["check", "vendor/risky.py"]) == 3  # without --allow-empty: nothing to check
    capsys.readouterr()
    assert main(["check", "--allow-empty", "vendor/risky.py", "risky.py"]) == 1
    out = capsys.readouterr().out
    assert "risky.py:5:" in out and "vendor/risky.py" not in out
