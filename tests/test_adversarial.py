"""Adversarial files: each case finishes within a wall-clock and memory bound.

The bounds are safety limits, not benchmarks: generous enough for a slow CI machine,
tight enough to catch a hang, a quadratic blow-up or an unbounded allocation. Most cases
run the real command line in a child process (``--jobs 1``, so the child's peak RSS is the
whole run's) that reports its own peak memory; a hang becomes a test failure, not a stuck
suite. Big files are generated here, in tmp_path, never committed.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tunelint.api import Options, lint
from tunelint.extract import parallel
from tunelint.findings import Report
from tunelint.report import formats, render

RISKY_PY = "import torch\nstate = torch.load('model.pt')\n"  # TL403 on line 2
_CHILD = textwrap.dedent(
    """
    import resource, sys
    from tunelint.cli import main
    try:
        code = main(sys.argv[1:])
    finally:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        sys.stderr.write(f"\\nPEAK_RSS={peak}\\n")
    sys.exit(code)
    """
)


@dataclass
class Run:
    code: int
    report: dict[str, Any]
    stderr: str
    seconds: float
    peak_mb: float

    def diagnostics(self, path: str) -> list[dict[str, Any]]:
        return [d for d in self.report["diagnostics"] if d["path"] == path]

    def codes(self, path: str) -> list[str]:
        return [d["code"] for d in self.diagnostics(path)]

    def findings(self, path: str) -> list[tuple[str, int]]:
        return [(f["rule_id"], f["line"]) for f in self.report["findings"] if f["path"] == path]


def check(
    directory: Path, *paths: str, seconds: float = 60, megabytes: float = 500, jobs: int = 1
) -> Run:
    """``tunelint check --format json`` in a child; asserts the time and memory bounds."""
    command = [sys.executable, "-c", _CHILD, "check", "--format", "json", "--no-cache"]
    command += ["--jobs", str(jobs), "--exit-zero", "--allow-empty", *(paths or ["."])]
    env = {**os.environ, "NO_COLOR": "1", "TUNELINT_NO_CACHE": "1"}
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=directory, capture_output=True, text=True, timeout=seconds, env=env
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"tunelint check did not finish within {seconds} s")
    elapsed = time.monotonic() - started
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    peak = int(done.stderr.rsplit("PEAK_RSS=", 1)[1].split()[0])
    peak_mb = peak / (1024 * 1024 if sys.platform == "darwin" else 1024)
    assert peak_mb < megabytes, f"peak memory {peak_mb:.0f} MB, bound {megabytes} MB"
    assert elapsed < seconds
    return Run(done.returncode, json.loads(done.stdout), done.stderr, elapsed, peak_mb)


@contextmanager
def bounded(seconds: float, megabytes: float) -> Iterator[None]:
    """The same bounds for in-process cases: wall clock and traced Python allocations."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.1f} s, bound {seconds} s"
    assert peak < megabytes * 1024 * 1024, f"peak {peak / 2**20:.0f} MB, bound {megabytes} MB"


def run_lint(directory: Path, **options: Any) -> Report:
    return lint(["."], Options(cwd=directory, use_cache=False, jobs=1, **options))


def diagnostics_of(report: Report, path: str) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in report.diagnostics if d.path == path]


# -- expansion, nesting, size ----------------------------------------------------------------


def alias_bomb(levels: int = 9) -> str:
    """The "billion laughs": each level refers to the previous one ten times (10**9 nodes)."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_expansion_stops_at_the_node_limit(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(alias_bomb())
    (tmp_path / "ok.py").write_text(RISKY_PY)
    run = check(tmp_path, seconds=30, megabytes=400)
    [diagnostic] = run.diagnostics("bomb.yaml")
    assert diagnostic["code"] == "limit"
    assert "limits.max_yaml_nodes" in diagnostic["message"]
    assert run.findings("ok.py") == [("TL403", 2)]


def test_the_node_limit_also_holds_for_a_bomb_in_a_notebook_cell(tmp_path: Path) -> None:
    cell = {"cell_type": "code", "source": "%%writefile cfg.yaml\n" + alias_bomb(), "metadata": {}}
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "bomb.ipynb").write_text(json.dumps(notebook))
    run = check(tmp_path, seconds=30, megabytes=400)
    assert "limit" in run.codes("bomb.ipynb")


def _fan_out_python() -> str:
    """Names bound to lists of names: resolving the last one naively visits 256**29 nodes."""
    lines = ["import torch", 'a0 = "x"']
    lines += [f"a{i} = [" + ", ".join([f"a{i - 1}"] * 256) + "]" for i in range(1, 30)]
    return "\n".join([*lines, "torch.load(a29)", "torch.load({'k': a29})"]) + "\n"


def _doubling_shell() -> str:
    """Each variable twice the one before: the last would be 8 * 2**39 bytes."""
    lines = ["A0=xxxxxxxx"] + [f'A{i}="$A{i - 1}$A{i - 1}"' for i in range(1, 40)]
    return "\n".join([*lines, 'python train.py --trust_remote_code true --out "$A39"']) + "\n"


def _doubling_yaml() -> str:
    lines = ['a0: "xxxxxxxx"'] + [f'a{i}: "${{a{i - 1}}}${{a{i - 1}}}"' for i in range(1, 40)]
    lines += ["checkpointer:", '  output_dir: "${a39}"', "model:"]
    lines += ["  _component_: torchtune.models.llama3_1.lora_llama3_1_8b"]
    return "\n".join(lines) + "\n"


EXPANSION_BOMBS = {
    "fan_out.py": (_fan_out_python, "TL403"),
    "doubling.sh": (_doubling_shell, "TL401"),
    "doubling.yaml": (_doubling_yaml, None),
}


@pytest.mark.parametrize("name", sorted(EXPANSION_BOMBS))
def test_expansion_bombs_in_other_kinds(tmp_path: Path, name: str) -> None:
    """The billion laughs without YAML aliases: constants, shell variables, interpolation."""
    make, rule = EXPANSION_BOMBS[name]
    (tmp_path / name).write_text(make())
    run = check(tmp_path, seconds=30, megabytes=400)
    assert name in run.report["files_checked"]
    if rule is not None:
        assert rule in {rule_id for rule_id, _ in run.findings(name)}


DEEP = 100_000
TRUST_YAML = "trust_remote_code: true\n"  # something the rules read, so the file is parsed
TRUST_JSON = '{"trust_remote_code": true, "a": '
CELL = '{"cell_type": "code", "source": "import torch\\ntorch.load(p)\\n"}'
NESTED: dict[str, tuple[str, set[str]]] = {
    "deep.yaml": (TRUST_YAML + "a: " + "[" * DEEP + "]" * DEEP + "\n", {"limit"}),
    "deep_map.yaml": (TRUST_YAML + "a: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n", {"limit"}),
    "deep_block.yaml": (
        TRUST_YAML + "".join(" " * i + "k:\n" for i in range(2_000)) + " " * 2_000 + "1\n",
        {"limit"},
    ),
    "deep.json": (TRUST_JSON + "[" * DEEP + "]" * DEEP + "}", {"limit"}),
    "deep.py": (RISKY_PY + "x = " + "[" * DEEP + "]" * DEEP + "\n", {"too-deep"}),
    "deep_ops.py": (RISKY_PY + "x = " + "-" * DEEP + "1\n", {"too-deep"}),
    "deep_calls.py": (RISKY_PY + "x = f" + "()" * DEEP + "\n", {"too-deep"}),
    "deep_lambda.py": (RISKY_PY + "x = " + "lambda: " * DEEP + "1\n", {"too-deep"}),
    "deep_fstring.py": (RISKY_PY + "x = f'{" + "[" * DEEP + "]" * DEEP + "}'\n", {"too-deep"}),
    "deep.ipynb": ('{"cells": [' + CELL + ", " + "[" * DEEP + "]" * DEEP + "]}", {"limit"}),
    "deep.sh": (
        "python train.py --trust_remote_code true\npython t.py "
        + "$(" * DEEP
        + "x"
        + ")" * DEEP
        + "\n",
        {"limit"},
    ),
}


@pytest.mark.parametrize("name", sorted(NESTED))
def test_deep_nesting_is_refused_not_crashed(tmp_path: Path, name: str) -> None:
    """100 000 levels: the native Python parser would crash the process (SIGSEGV) on this."""
    text, codes = NESTED[name]
    (tmp_path / name).write_text(text)
    (tmp_path / "ok.py").write_text(RISKY_PY)
    run = check(tmp_path, seconds=40, megabytes=400)
    got = set(run.codes(name))
    assert got == codes, run.diagnostics(name)
    for diagnostic in run.diagnostics(name):
        if diagnostic["code"] == "limit" and name.endswith((".yaml", ".json")):
            assert "limits.max_depth" in diagnostic["message"], diagnostic
    if name == "deep.sh":
        assert run.findings(name) == [("TL401", 1)]
    assert run.findings("ok.py") == [("TL403", 2)]


def test_python_nesting_message_names_the_bound(tmp_path: Path) -> None:
    (tmp_path / "deep.py").write_text(RISKY_PY + "x = " + "(" * 5_000 + "1" + ")" * 5_000 + "\n")
    with bounded(seconds=20, megabytes=200):
        report = run_lint(tmp_path)
    [(code, message)] = diagnostics_of(report, "deep.py")
    assert code == "too-deep" and "200 nested brackets" in message


HUGE_LITERALS: dict[str, str] = {
    "flat_list.py": RISKY_PY + "x = [" + "1," * 1_000_000 + "]\n",  # 2 MB, 10**6 elements
    "statements.py": RISKY_PY + "y = 2;" * 400_000 + "\n",
    "deep_lines.py": RISKY_PY + ("x = " + "[" * 150 + "]" * 150 + "\n") * 2_000,
    "flat_list.json": '{"zero_optimization": {"stage": 3}, "x": [' + "1," * 200_000 + "1]}",
    "flat_list.yaml": "trust_remote_code: true\nx: [" + "1, " * 200_000 + "1]\n",
}


@pytest.mark.parametrize("name", sorted(HUGE_LITERALS))
def test_huge_literals_are_bounded(tmp_path: Path, name: str) -> None:
    """Millions of nodes under the size limit: refused or read, within the bounds."""
    (tmp_path / name).write_text(HUGE_LITERALS[name])
    run = check(tmp_path, seconds=60, megabytes=800)
    if name.endswith(".py"):
        [diagnostic] = run.diagnostics(name)
        assert diagnostic["code"] == "too-deep", diagnostic
    else:
        assert "limits.max_yaml_nodes" in run.diagnostics(name)[0]["message"]


def test_a_50_mb_file_is_too_large_and_names_the_limit(tmp_path: Path) -> None:
    with (tmp_path / "huge.py").open("wb") as handle:
        handle.write(RISKY_PY.encode())
        handle.truncate(50 * 1024 * 1024)
    (tmp_path / "ok.py").write_text(RISKY_PY)
    run = check(tmp_path, seconds=30, megabytes=300)
    [diagnostic] = run.diagnostics("huge.py")
    assert diagnostic["code"] == "too-large"
    assert "limits.max_file_bytes" in diagnostic["message"]
    assert "huge.py" in run.report["files_not_checked"]
    assert run.findings("ok.py") == [("TL403", 2)]


TEN_MB = 10 * 1024 * 1024
ONE_LINE: dict[str, Callable[[str], str]] = {
    "line.py": lambda big: RISKY_PY + f"note = '{big}'\n",
    "line.yaml": lambda big: f"trust_remote_code: true\nnote: {big}\n",
    "line.json": lambda big: '{"zero_optimization": {"stage": 3}, "note": "' + big + '"}',
    "line.sh": lambda big: f"python train.py --trust_remote_code true\necho {big}\n",
    "line.ipynb": lambda big: json.dumps(
        {"cells": [{"cell_type": "code", "source": RISKY_PY + f"s = '{big}'\n"}]}
    ),
}


@pytest.mark.parametrize("name", sorted(ONE_LINE))
def test_one_10_mb_line_under_a_raised_limit_finishes(tmp_path: Path, name: str) -> None:
    (tmp_path / "tunelint.yaml").write_text("version: 1\nlimits:\n  max_file_bytes: 20000000\n")
    (tmp_path / name).write_text(ONE_LINE[name]("x" * TEN_MB))
    run = check(tmp_path, seconds=90, megabytes=600)
    read_in = "files_partly_checked" if run.diagnostics(name) else "files_checked"
    assert name in run.report[read_in]
    assert all(d["code"] == "limit" for d in run.diagnostics(name)), run.diagnostics(name)
    if name in {"line.py", "line.ipynb"}:
        assert [rule for rule, _ in run.findings(name)] == ["TL403"]


# -- bytes that are not text -----------------------------------------------------------------


def test_binary_nul_and_bad_encodings(tmp_path: Path) -> None:
    files = {
        "binary.py": bytes(range(256)) * 64,
        "nul_late.py": RISKY_PY.encode() + b"#" * 9_000 + b"\x00\n",
        "nul_code.py": RISKY_PY.encode() + b"x" * 9_000 + b" = \x00\n",
        "bad_utf8.py": RISKY_PY.encode() + b"x = '\xff\xfe\xc3'\n",
        "utf16_bom.py": RISKY_PY.encode("utf-16"),
        "utf16_no_bom.py": RISKY_PY.encode("utf-16-le"),
        "utf16_broken.py": b"\xff\xfe" + "x = 1\n".encode("utf-16-le") + b"\x00\xd8",
        "utf8_bom.py": b"\xef\xbb\xbf" + RISKY_PY.encode(),
        "latin1.yaml": "name: caf\xe9\n".encode("latin-1"),
        "bad_utf8.ipynb": b'{"cells": [{"cell_type": "code", "source": "\xff"}]}',
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    run = check(tmp_path, seconds=30, megabytes=300)
    assert run.codes("binary.py") == ["binary"]
    # a NUL past the binary probe is text to the reader: in a comment it is harmless, in
    # code the parser refuses the file
    assert run.findings("nul_late.py") == [("TL403", 2)]
    assert run.codes("nul_code.py") == ["parse-error"]
    [bad] = run.diagnostics("bad_utf8.py")
    assert bad["code"] == "decode-error" and bad["line"] == 3
    assert run.findings("utf16_bom.py") == [("TL403", 2)]
    assert run.codes("utf16_no_bom.py") == ["binary"]
    assert run.codes("utf16_broken.py") == ["decode-error"]
    assert run.findings("utf8_bom.py") == [("TL403", 2)]
    assert run.codes("latin1.yaml") == ["decode-error"]
    assert run.codes("bad_utf8.ipynb") == ["decode-error"]
    for name in files:
        assert (name in run.report["files_checked"]) or run.codes(name), name


def test_a_notebook_with_valid_json_but_broken_cells(tmp_path: Path) -> None:
    cells: list[Any] = [
        1,
        "print('x')",
        None,
        {"cell_type": "code"},
        {"cell_type": "code", "source": 5},
        {"cell_type": "code", "source": [1, 2]},
        {"cell_type": 7, "source": "x"},
        {"cell_type": "code", "source": ["import torch\n", "state = torch.load('m.pt')\n"]},
    ]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "cells.ipynb").write_text(json.dumps(notebook))
    shapes: dict[str, Any] = {
        "list.ipynb": ["torch.load"],
        "str.ipynb": "torch.load",
        "num.ipynb": 7,
    }
    for name, document in shapes.items():
        (tmp_path / name).write_text(json.dumps(document))
    run = check(tmp_path, seconds=30, megabytes=300)
    assert "cells.ipynb" in run.report["files_partly_checked"]
    assert run.codes("cells.ipynb") and set(run.codes("cells.ipynb")) == {"bad-notebook"}
    assert run.findings("cells.ipynb") == [("TL403", 2)]
    for name in ("list.ipynb", "str.ipynb"):
        assert run.codes(name) == ["bad-notebook"], name


def test_malformed_urls_in_every_kind(tmp_path: Path) -> None:
    """urllib raises on "http://[x": a value like that in one file must not end the run."""
    bad = "http://[bad"
    (tmp_path / "t.py").write_text(
        f"import mlflow, wandb\nmlflow.set_tracking_uri('{bad}')\nwandb.init(dir='s3://[b/x')\n"
    )
    (tmp_path / "c.yaml").write_text(f"report_to: mlflow\ntracking_uri: '{bad}'\n")
    (tmp_path / "d.json").write_text(json.dumps({"output_dir": "gs://[b/x", "hub_model_id": bad}))
    (tmp_path / "l.sh").write_text(f"MLFLOW_TRACKING_URI='{bad}' python t.py --push_to_hub\n")
    with bounded(seconds=20, megabytes=100):
        report = run_lint(tmp_path)
        for fmt in formats():
            assert render(report, fmt, **({"color": False} if fmt == "text" else {}))
    assert sorted(report.files_checked) == ["c.yaml", "d.json", "l.sh", "t.py"]


# -- the file system ---------------------------------------------------------------------------


def test_symlink_loops_are_reported(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text(RISKY_PY)
    (tmp_path / "loop").symlink_to(".", target_is_directory=True)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to("..", target_is_directory=True)
    (tmp_path / "self.py").symlink_to("self.py")
    (tmp_path / "a.py").symlink_to("b.py")
    (tmp_path / "b.py").symlink_to("a.py")
    run = check(tmp_path, seconds=30, megabytes=300)
    assert run.codes("self.py") == ["symlink-loop"]
    assert run.codes("a.py") == ["symlink-loop"] and run.codes("b.py") == ["symlink-loop"]
    # Directory symlinks are not followed unless asked: skipped, and said so.
    skipped = {(d["path"], d["reason"]) for d in run.report["skipped_directories"]}
    assert skipped == {("loop", "symlink"), ("sub/up", "symlink")}
    assert run.findings("ok.py") == [("TL403", 2)]
    assert run.report["files_checked"] == ["ok.py"]
    run = check(tmp_path, ".", "--follow-symlinks", seconds=30, megabytes=300)
    loops = {d["path"] for d in run.report["diagnostics"] if d["code"] == "symlink-loop"}
    assert {"loop", "sub/up"} <= loops
    assert run.findings("ok.py") == [("TL403", 2)]
    assert run.report["files_checked"] == ["ok.py"]


def test_a_symlink_out_of_the_tree_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(RISKY_PY)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "tunelint.yaml").write_text("version: 1\n")
    (tree / "ok.py").write_text("x = 1\n")
    (tree / "leak.py").symlink_to(outside / "secret.py")
    (tree / "elsewhere").symlink_to(outside, target_is_directory=True)
    run = check(tree, seconds=30, megabytes=300)
    assert run.codes("leak.py") == ["outside-root"]
    assert run.report["skipped_directories"] == [{"path": "elsewhere", "reason": "symlink"}]
    assert run.report["findings"] == []
    run = check(tree, ".", "--follow-symlinks", seconds=30, megabytes=300)
    assert run.codes("elsewhere") == ["outside-root"]
    assert run.report["findings"] == []
    assert run.report["files_checked"] == ["ok.py", "tunelint.yaml"]


def test_a_fifo_never_blocks_the_run(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(tmp_path / "pipe.py")
    os.mkfifo(tmp_path / "pipe")  # no suffix: would need its shebang read
    (tmp_path / "ok.py").write_text(RISKY_PY)
    run = check(tmp_path, seconds=20, megabytes=300)
    assert run.codes("pipe.py") == ["not-a-file"]
    assert run.findings("ok.py") == [("TL403", 2)]
    named = check(tmp_path, "pipe.py", "pipe", "ok.py", seconds=20, megabytes=300)
    assert named.codes("pipe.py") == ["not-a-file"] and named.codes("pipe") == ["not-a-file"]


def test_a_device_file_is_never_read(tmp_path: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    (tmp_path / "zero.py").symlink_to("/dev/zero")  # reading it would never end
    (tmp_path / "null.yaml").symlink_to("/dev/null")
    (tmp_path / "ok.py").write_text(RISKY_PY)
    run = check(tmp_path, seconds=20, megabytes=300)
    assert run.codes("zero.py") == ["outside-root"] and run.codes("null.yaml") == ["outside-root"]
    named = check(tmp_path, "zero.py", "null.yaml", seconds=20, megabytes=300)
    assert named.codes("zero.py") == ["not-a-file"]
    assert named.codes("null.yaml") == ["not-a-file"]


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="running as root: permission bits do not stop reads (covered by the patched tests)",
)
def test_a_file_without_read_permission(tmp_path: Path) -> None:
    locked = tmp_path / "locked.py"
    locked.write_text(RISKY_PY)
    locked.chmod(0)
    try:
        run = check(tmp_path, seconds=20, megabytes=300)
    finally:
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert run.codes("locked.py") == ["unreadable"]


def test_a_file_that_cannot_be_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What an unreadable file looks like to the reader, whoever runs the tests."""
    (tmp_path / "locked.py").write_text(RISKY_PY)
    (tmp_path / "ok.py").write_text(RISKY_PY)
    real_open = os.open

    def deny(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("locked.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)  # what parallel.read_bytes opens with
    with bounded(seconds=20, megabytes=100):
        report = run_lint(tmp_path)
    assert diagnostics_of(report, "locked.py") == [("unreadable", "Permission denied")]
    assert report.tally().not_checked == ["locked.py"]
    assert report.files_skipped == []
    assert [f.rule_id for f in report.findings if f.span.path == "ok.py"] == ["TL403"]


def test_a_directory_named_like_a_source_is_walked(tmp_path: Path) -> None:
    (tmp_path / "x.py").mkdir()
    (tmp_path / "x.py" / "inner.py").write_text(RISKY_PY)
    run = check(tmp_path, seconds=20, megabytes=300)
    assert run.report["files_checked"] == ["x.py/inner.py"]
    named = check(tmp_path, "x.py", seconds=20, megabytes=300)
    assert named.report["files_checked"] == ["x.py/inner.py"]


def test_a_file_deleted_during_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gone.py").write_text(RISKY_PY)
    (tmp_path / "ok.py").write_text(RISKY_PY)
    real_read = parallel.read_bytes

    def delete_first(file: Any, max_bytes: int) -> Any:
        if file.path == "gone.py":
            Path(file.absolute).unlink()
        return real_read(file, max_bytes)

    monkeypatch.setattr(parallel, "read_bytes", delete_first)
    with bounded(seconds=20, megabytes=100):
        report = run_lint(tmp_path)
    [(code, message)] = diagnostics_of(report, "gone.py")
    assert code == "unreadable" and "disappeared" in message
    assert [f.rule_id for f in report.findings if f.span.path == "ok.py"] == ["TL403"]


def test_a_file_swapped_for_a_fifo_after_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    (tmp_path / "swap.py").write_text(RISKY_PY)
    real_read = parallel.read_bytes

    def swap_first(file: Any, max_bytes: int) -> Any:
        if file.path == "swap.py":
            Path(file.absolute).unlink()
            os.mkfifo(file.absolute)
        return real_read(file, max_bytes)

    monkeypatch.setattr(parallel, "read_bytes", swap_first)
    with bounded(seconds=20, megabytes=100):
        report = run_lint(tmp_path)
    assert [code for code, _ in diagnostics_of(report, "swap.py")] == ["not-a-file"]


# -- the limits are the policy's -------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "name", "text", "key"),
    [
        ("max_depth: 3", "c.yaml", "a: {b: {c: {d: {e: 1}}}}\n", "limits.max_depth"),
        ("max_depth: 3", "c.json", '{"a": {"b": {"c": {"d": {"e": 1}}}}}', "limits.max_depth"),
        ("max_yaml_nodes: 5", "c.yaml", "a: [1, 2, 3, 4, 5, 6, 7]\n", "limits.max_yaml_nodes"),
        ("max_yaml_nodes: 5", "c.json", '{"a": [1, 2, 3, 4, 5, 6, 7]}', "limits.max_yaml_nodes"),
        ("max_file_bytes: 64", "c.py", RISKY_PY + "#" * 100 + "\n", "limits.max_file_bytes"),
    ],
)
def test_limits_come_from_the_policy_and_are_named(
    tmp_path: Path, limits: str, name: str, text: str, key: str
) -> None:
    (tmp_path / name).write_text(text)
    with bounded(seconds=20, megabytes=100):
        default = run_lint(tmp_path)
    assert diagnostics_of(default, name) == []
    (tmp_path / "tunelint.yaml").write_text(f"version: 1\nlimits:\n  {limits}\n")
    with bounded(seconds=20, megabytes=100):
        limited = run_lint(tmp_path)
    [(code, message)] = diagnostics_of(limited, name)
    assert code in {"limit", "too-large"} and key in message, message


def test_raising_a_limit_reads_what_the_default_refuses(tmp_path: Path) -> None:
    deep = "a: " + "[" * 150 + "1" + "]" * 150 + "\n"
    (tmp_path / "deep.yaml").write_text(deep)
    assert [c for c, _ in diagnostics_of(run_lint(tmp_path), "deep.yaml")] == ["limit"]
    (tmp_path / "tunelint.yaml").write_text("version: 1\nlimits:\n  max_depth: 400\n")
    assert diagnostics_of(run_lint(tmp_path), "deep.yaml") == []
