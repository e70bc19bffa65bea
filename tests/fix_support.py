"""Helpers for the fix tests: copy a case into a temporary project, run the command line
there, read files back, and check that fixed files still read as what they are."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest
import yaml

from tunelint.cli import main

REPO = Path(__file__).resolve().parents[1]
FIX_FIXTURES = REPO / "tests" / "fixtures" / "fix"
CASES = sorted(p.name for p in FIX_FIXTURES.iterdir() if (p / "before").is_dir())
POLICY = FIX_FIXTURES / "tunelint.yaml"


def copy_case(case: str, target: Path) -> Path:
    """``before/`` of a case and the fixtures' policy, in a repository of their own."""
    project = target / case
    shutil.copytree(FIX_FIXTURES / case / "before", project)
    shutil.copy(POLICY, project / "tunelint.yaml")
    (project / ".git").mkdir()
    return project


def files_of(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (no .git), by POSIX path relative to it."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def run_cli(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
    paths: tuple[str, ...] = (".",),
) -> tuple[int, str, str]:
    """``tunelint check PATHS ARGS`` in ``project``: (exit code, stdout, stderr)."""
    monkeypatch.chdir(project)
    capsys.readouterr()
    code = main(["check", *paths, "--no-cache", "--color", "never", *args])
    out, err = capsys.readouterr()
    return code, out, err


def notebook_python(text: str) -> str:
    from tunelint.fix.notebook import read_notebook

    code = read_notebook(text)
    return code.python if code is not None else ""


def still_reads(name: str, data: bytes) -> None:
    """The file parses as what it is; nothing in it is run."""
    from tunelint.fix.text import decode

    decoded = decode(data)
    assert decoded is not None, name
    text = decoded[0]
    if name.endswith(".py"):
        ast.parse(text, filename=name)
    elif name.endswith(".ipynb"):
        json.loads(text)
        ast.parse(notebook_python(text), filename=name)
    elif name.endswith(".json"):
        json.loads(text)
    elif name.endswith((".yaml", ".yml")):
        for _ in yaml.compose_all(text, Loader=yaml.SafeLoader):
            pass


def leaves(data: object, prefix: tuple[object, ...] = ()) -> dict[tuple[object, ...], object]:
    """Scalars of loaded YAML/JSON by key path; a list of scalars is one leaf."""
    if isinstance(data, dict):
        found: dict[tuple[object, ...], object] = {}
        for key, value in data.items():
            found.update(leaves(value, (*prefix, key)))
        return found
    if isinstance(data, list) and any(isinstance(item, dict | list) for item in data):
        found = {}
        for index, item in enumerate(data):
            found.update(leaves(item, (*prefix, index)))
        return found
    return {prefix: data}
