"""Never execute: reading hostile files, configs, policies and rules leaves no mark.

``tests/fixtures/hostile`` holds scripts, configs and notebooks that leave a mark when
executed, imported or YAML-constructed: a file in ``$TUNELINT_MARK_DIR``, a connection
to ``127.0.0.1:$TUNELINT_MARK_PORT``, or ``TUNELINT_PWNED`` in the environment. Every
command runs over a copy of it; afterwards there is no mark file, no connection, no
variable, no module loaded from the tree, and the tree is byte-for-byte unchanged.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tunelint.api import ConfigurationError, Options, lint
from tunelint.extract.cache import MAGIC, FactsCache, cache_dir
from tunelint.findings import Report
from tunelint.report import formats, render

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
# Names a test runner or the interpreter would act on are stored under other names.
RENAMES = {"conftest.hostile": "conftest.py", "sitecustomize.hostile": "sitecustomize.py"}
# Used as configuration by the tests below, not left in the tree as plain files.
CONFIGURATION = {"policy_tags.yaml", "rule_tags.yaml", "rule_check.yaml"}
HOSTILE_MODULES = {"train_marks", "evilcheck", "setup", "pkg", "modeling_evil", "sitecustomize"}

# Runs tunelint's command line once per argv, in one interpreter, then reports what the
# environment and the module table look like: a mark left in-process shows up here.
_DRIVER = textwrap.dedent(
    """
    import contextlib, io, json, os, sys
    from tunelint.cli import main
    codes = []
    for argv in json.loads(sys.argv[1]):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            try:
                codes.append(main(argv))
            except SystemExit as exit:
                codes.append(exit.code)
    tree = os.path.realpath(os.getcwd())
    files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    loaded = sorted(
        name for name, file in files.items()
        if file and os.path.realpath(file).startswith(tree + os.sep)
    )
    print(json.dumps({"codes": codes, "pwned": os.environ.get("TUNELINT_PWNED"),
                      "loaded": loaded}))
    """
)


@dataclass
class Watch:
    """Where marks would appear."""

    directory: Path
    listener: socket.socket
    tree: Path
    snapshot: dict[str, bytes]

    def env(self) -> dict[str, str]:
        port = str(self.listener.getsockname()[1])
        env = {k: v for k, v in os.environ.items() if k != "TUNELINT_PWNED"}
        env |= {"TUNELINT_MARK_DIR": str(self.directory), "TUNELINT_MARK_PORT": port}
        return env | {"NO_COLOR": "1", "TUNELINT_CACHE_KEY_FILE": str(self.directory.parent / "k")}

    def assert_clean(self) -> None:
        assert sorted(p.name for p in self.directory.iterdir()) == [], "a hostile file ran"
        try:
            connection, _ = self.listener.accept()
        except BlockingIOError:
            pass
        else:
            connection.close()
            pytest.fail("a hostile file opened a connection")
        assert "TUNELINT_PWNED" not in os.environ
        for name, module in list(sys.modules.items()):
            origin = getattr(module, "__file__", None)
            if origin:
                inside = os.path.realpath(origin).startswith(str(self.tree.resolve()) + os.sep)
                assert not inside, f"module {name} loaded from the tree"
        assert snapshot(self.tree) == self.snapshot, "the checked tree changed"


def snapshot(tree: Path) -> dict[str, bytes]:
    """Every file in the tree and its bytes (the cache directory aside)."""
    found = {}
    for path in sorted(tree.rglob("*")):
        relative = path.relative_to(tree)
        if relative.parts[0] == ".tunelint_cache" or not path.is_file():
            continue
        found[relative.as_posix()] = path.read_bytes()
    return found


def copy_corpus(target: Path) -> Path:
    shutil.copytree(HOSTILE, target, ignore=shutil.ignore_patterns(*CONFIGURATION))
    for stored, real in RENAMES.items():
        (target / stored).rename(target / real)
    return target


@pytest.fixture
def watch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Watch]:
    marks = tmp_path / "marks"
    marks.mkdir()
    tree = copy_corpus(tmp_path / "tree")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    watched = Watch(marks, listener, tree, snapshot(tree))
    for key, value in watched.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("TUNELINT_PWNED", raising=False)
    try:
        yield watched
        watched.assert_clean()
    finally:
        listener.close()


def drive(watch: Watch, *commands: list[str], cwd: Path | None = None) -> dict[str, Any]:
    """Run the commands through the CLI in one child process; returns its account."""
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER, json.dumps(list(commands))],
        cwd=cwd or watch.tree,
        env=watch.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["pwned"] is None, result
    assert result["loaded"] == [], result
    return result


def test_the_corpus_would_leave_marks(watch: Watch) -> None:
    """The corpus is armed: run for real, its files do leave marks (then they are cleared)."""
    env = watch.env()
    runs = [
        [sys.executable, "train_marks.py"],
        [sys.executable, "-c", "import evilcheck"],
        ["sh", "evil_env.sh"],
    ]
    for command in runs:
        subprocess.run(command, cwd=watch.tree, env=env, capture_output=True, timeout=30)
    left = sorted(p.name for p in watch.directory.iterdir())
    assert {"train_marks.py", "evilcheck.py", "evil_env.sh"} <= set(left), left
    connection, _ = watch.listener.accept()  # the script connected
    connection.close()
    for mark in watch.directory.iterdir():
        mark.unlink()
    for cache in watch.tree.rglob("__pycache__"):
        shutil.rmtree(cache)


def test_every_command_over_the_corpus_leaves_no_mark(watch: Watch) -> None:
    commands = [["check", "--format", fmt, "--no-cache", "."] for fmt in formats()]
    commands += [
        ["check", "--statistics", "."],  # with the cache: written, then read back
        ["check", "--format", "json", "."],
        ["check", "--jobs", "2", "--no-cache", "."],
        ["check", "train_marks.py", "launch", "notebook_marks.ipynb", "config_tags.yaml"],
        ["rules"],
        ["explain", "TL401"],
        ["explain", "trust-remote-code"],
        ["estimate", "./model"],
        ["estimate", "./model", "--format", "json", "--method", "qlora"],
        ["policy", "show"],
        ["policy", "validate"],
    ]
    result = drive(watch, *commands)
    assert len(result["codes"]) == len(commands)
    assert all(code in {0, 1, 2, 3} for code in result["codes"]), result
    checks = [
        code for argv, code in zip(commands, result["codes"], strict=True) if argv[0] == "check"
    ]
    assert all(code == 1 for code in checks), checks  # findings, not errors


def test_checking_in_process_leaves_no_mark(watch: Watch) -> None:
    report = lint(["."], Options(cwd=watch.tree, use_cache=False, jobs=1))
    for fmt in formats():
        assert render(report, fmt, **({"color": False} if fmt == "text" else {}))
    assert_read_not_run(report)


def assert_read_not_run(report: Report) -> None:
    """The files were read: their findings are there, from text alone."""
    by_file = {(f.span.path, f.rule_id) for f in report.findings}
    assert ("train_marks.py", "TL401") in by_file and ("train_marks.py", "TL403") in by_file
    assert ("notebook_marks.ipynb", "TL403") in by_file
    assert "config_tags.yaml" in report.files_checked
    assert "conftest.py" in report.files_checked and "pkg/__init__.py" in report.files_checked


def test_python_tags_in_a_policy_are_an_error_not_code(watch: Watch) -> None:
    policy = HOSTILE / "policy_tags.yaml"
    shutil.copy(policy, watch.tree.parent / "tunelint.yaml")
    result = drive(
        watch,
        ["check", "--policy", str(policy), "."],
        ["check", "."],  # found by walking up from the tree
        ["policy", "validate", str(policy)],
        ["policy", "show"],
    )
    assert result["codes"] == [2, 2, 2, 2]
    with pytest.raises(ConfigurationError):
        lint(["."], Options(cwd=watch.tree, policy_path=policy, use_cache=False))


@pytest.mark.parametrize("rule", ["rule_tags.yaml", "rule_check.yaml"])
def test_custom_rules_are_data(watch: Watch, rule: str) -> None:
    """A Python tag is an invalid rule (exit 2); a ``check:`` naming a module beside the
    rules, in the tree or on the working directory's path is never imported."""
    rules = watch.tree.parent / "rules"
    rules.mkdir()
    shutil.copy(HOSTILE / rule, rules / rule)
    shutil.copy(HOSTILE / "evilcheck.py", rules / "evilcheck.py")
    policy = watch.tree.parent / "tunelint.yaml"
    policy.write_text("version: 1\nrules:\n  custom: [./rules]\n")
    commands = [
        ["check", "--format", "json", "--no-cache", "."],
        ["check", "--select", "EVIL", "."],
        ["rules"],
        ["explain", "EVIL002"],
    ]
    result = drive(watch, *commands)
    if rule == "rule_tags.yaml":
        assert result["codes"] == [2, 2, 2, 2]
        return
    result = drive(watch, *commands, cwd=rules)  # evilcheck.py importable from here
    assert result["codes"][2:] == [0, 0]
    report = lint(["."], Options(cwd=watch.tree, use_cache=False, jobs=1))
    errors = [note for note in report.notes if note.code == "rule-error"]
    assert errors and "evilcheck" in errors[0].message


CHECK_NAMES = ["evilcheck", "evilcheck:check", "evilcheck.check", "os.system", "subprocess"]


@pytest.mark.parametrize("name", CHECK_NAMES)
def test_a_check_name_never_imports_a_module(watch: Watch, name: str) -> None:
    """Only built-in checks and installed entry points run; any other name is a rule error."""
    rules = watch.tree / "rules"
    rules.mkdir()
    text = (HOSTILE / "rule_check.yaml").read_text().replace("check: evilcheck", f"check: {name}")
    (rules / "EVIL002.yaml").write_text(text)
    shutil.copy(HOSTILE / "evilcheck.py", rules / "evilcheck.py")
    (watch.tree / "tunelint.yaml").write_text("version: 1\nrules:\n  custom: [./rules]\n")
    watch.snapshot = snapshot(watch.tree)
    report = lint(["."], Options(cwd=watch.tree, use_cache=False, jobs=1, select=["EVIL"]))
    [error] = [note for note in report.notes if note.code == "rule-error"]
    assert "EVIL002" in error.message
    drive(watch, ["check", "--no-cache", "--select", "EVIL002", "."], cwd=rules)


class _Boom:
    """Unpickling this runs ``os.system``: what a planted cache entry would try."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, ('touch "$TUNELINT_MARK_DIR/cache-pickle"',))


def test_a_planted_cache_entry_is_never_unpickled(watch: Watch) -> None:
    """Entries forged without the per-user key, and forged with it, never run code."""
    base = cache_dir(watch.tree)
    assert base is not None
    cache = FactsCache.open(base)
    assert cache is not None
    payload = pickle.dumps(_Boom())
    target = watch.tree / "train_marks.py"
    key = cache.key("train_marks.py", kind_of(target), target.read_bytes())
    entry = cache._entry(key)
    entry.parent.mkdir(parents=True, exist_ok=True)
    header = MAGIC
    entry.write_bytes(header + b"\0" * 32 + payload)  # no valid digest
    first = lint(["."], Options(cwd=watch.tree, use_cache=True, jobs=1))
    entry.write_bytes(header + cache.mac(key, payload) + payload)  # valid digest, bad payload
    second = lint(["."], Options(cwd=watch.tree, use_cache=True, jobs=1))
    assert_read_not_run(first)
    assert_read_not_run(second)
    assert render(second, "json") == render(first, "json")


def kind_of(path: Path) -> Any:
    from tunelint.discover import kind_of as discover_kind

    kind = discover_kind(path)
    assert kind is not None
    return kind
