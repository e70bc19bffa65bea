"""Annotated fixtures: the expectations are written next to the code they are about.

In Python, YAML, shell and notebook cells, a comment ``# expect: TL201`` on a line of its
own applies to the next code line; at the end of a line it applies to that line.
``# ok: TL201`` marks a look-alike that must stay silent (documentation for the reader; the
exact comparison below already enforces it). JSON has no comments: a sidecar
``<name>.json.expect`` holds ``TL103: 4, 9`` lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

_MARK = re.compile(r"#\s*(expect|ok)\s*:\s*([A-Za-z0-9_,\s-]+?)\s*$")

Expectation = tuple[str, int | None, int, str]  # path, cell, line, rule id


def _from_lines(
    lines: list[str], path: str, cell: int | None
) -> tuple[set[Expectation], set[Expectation]]:
    expected: set[Expectation] = set()
    silent: set[Expectation] = set()
    pending: list[tuple[str, list[str]]] = []
    for number, line in enumerate(lines, start=1):
        match = _MARK.search(line)
        code_part = line[: match.start()].strip() if match else line.strip()
        if match and not code_part:
            pending.append((match.group(1), _codes(match.group(2))))
            continue
        targets = list(pending)
        if match:
            targets.append((match.group(1), _codes(match.group(2))))
        if code_part and not code_part.startswith("#"):
            for kind, codes in targets:
                bucket = expected if kind == "expect" else silent
                bucket.update((path, cell, number, code) for code in codes)
            pending = []
    return expected, silent


def _codes(text: str) -> list[str]:
    return [code for code in re.split(r"[\s,]+", text.strip()) if code]


def expectations(path: Path, shown: str) -> tuple[set[Expectation], set[Expectation]]:
    """(must fire, must stay silent) for one fixture file."""
    if path.suffix == ".json":
        sidecar = path.with_name(path.name + ".expect")
        expected: set[Expectation] = set()
        if sidecar.exists():
            for raw in sidecar.read_text().splitlines():
                if ":" in raw and not raw.strip().startswith("#"):
                    code, lines = raw.split(":", 1)
                    for line in _codes(lines):
                        expected.add((shown, None, int(line), code.strip()))
        return expected, set()
    if path.suffix == ".ipynb":
        notebook = json.loads(path.read_text())
        expected, silent = set(), set()
        for index, cell in enumerate(notebook.get("cells", []), start=1):
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else source
            found, quiet = _from_lines(text.splitlines(), shown, index)
            expected |= found
            silent |= quiet
        return expected, silent
    return _from_lines(path.read_text().splitlines(), shown, None)


def collect(files: Iterable[tuple[Path, str]]) -> tuple[set[Expectation], set[Expectation]]:
    expected: set[Expectation] = set()
    silent: set[Expectation] = set()
    for path, shown in files:
        found, quiet = expectations(path, shown)
        expected |= found
        silent |= quiet
    return expected, silent
