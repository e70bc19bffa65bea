"""Notebook fixes: the Python fixes run on the notebook's code cells joined into one module,
as the notebook source reads them (a name imported in one cell is known in the next), and
only the ``source`` of the cells that changed is written back into the .ipynb text.

Why re-serialise ``source`` entries rather than edit inside JSON strings: a fix can add a
line (an import), which is a new list item, and a cell's lines are JSON strings with their
own escapes, so character spans of the cell text do not map onto the file. Each changed
cell's ``source`` value is found in the raw text (decoded and compared, in order) and
replaced by a list in the same layout; items whose text did not change keep their raw text,
so outputs, metadata, other cells and unchanged lines stay byte for byte.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tunelint.facts import Span
from tunelint.findings import Finding
from tunelint.fix.text import TextEdit, map_offset, minimal_edits


@dataclass(slots=True)
class _Cell:
    number: int  # 1-based among all cells
    key: str  # "source" (nbformat 4) or "input" (3)
    value: object  # the JSON value: a list of strings or a string
    lines: list[str]  # the source split at "\n" ("\r" kept)
    python: list[str]  # the lines as Python reads them (magics blanked)
    start: int = -1  # the value's raw span in the file
    end: int = -1


@dataclass(slots=True)
class NotebookCode:
    """A notebook's code cells as one Python module, and the way back to the file."""

    raw: str
    cells: list[_Cell]
    python: str
    line_cells: list[tuple[int, int]]  # joined line -> (cell index in ``cells``, line)
    starts: list[int]  # offset of each cell's first line in ``python``

    def joined(self, finding: Finding) -> Finding | None:
        """The finding with its span in the joined module's lines; None outside it."""
        span = finding.span
        if span.cell is None:
            return None
        where = {
            (self.cells[c].number, line): index
            for index, (c, line) in enumerate(self.line_cells, 1)
        }
        line = where.get((span.cell, span.line))
        end_line = where.get((span.cell, span.end_line))
        if line is None or end_line is None:
            return None
        from dataclasses import replace

        joined = Span(span.path, line, span.column, end_line, span.end_column)
        return replace(finding, span=joined)

    def written(self, python: str, history: Sequence[list[TextEdit]] | None = None) -> str | None:
        """The notebook text with the changed cells' ``source`` written from ``python``;
        None when a change crosses cells or touches a line that is a magic in the cell.

        ``history``: the edits that led from the joined module to ``python``, one list per
        fix (a line added at a cell's end belongs to that cell, not the next one); without
        it, one diff of the two texts stands in."""
        steps = history if history is not None else [minimal_edits(self.python, python)]
        bounds: list[int] = [0]
        for start in self.starts[1:]:
            mapped: int | None = start
            for edits in steps:
                mapped = (
                    map_offset(edits, mapped, after_insert=True) if mapped is not None else None
                )
            if mapped is None:
                return None
            bounds.append(mapped)
        bounds.append(len(python))
        replacements: list[tuple[int, int, str]] = []
        for index, cell in enumerate(self.cells):
            block = python[bounds[index] : bounds[index + 1]]
            if not block.endswith("\n"):
                return None
            new_python = block[:-1].split("\n")
            if new_python == cell.python:
                continue
            lines = _restore(cell, new_python)
            if lines is None or cell.start < 0:
                return None
            replacements.append((cell.start, cell.end, _serialised(self.raw, cell, lines)))
        out = self.raw
        for start, end, text in sorted(replacements, reverse=True):
            out = out[:start] + text + out[end:]
        return out


def read_notebook(raw: str) -> NotebookCode | None:
    from tunelint.sources.notebook import _cells
    from tunelint.sources.shellwords import split_lines

    try:
        notebook = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    found = _cells(notebook)
    if found is None:
        return None
    cells: list[_Cell] = []
    every: list[tuple[int, str, object]] = []
    for number, cell in enumerate(found, start=1):
        if not isinstance(cell, dict):
            continue
        key = "source" if "source" in cell else "input"
        value = cell.get(key)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            text = "".join(value)
        elif isinstance(value, str):
            text = value
        else:
            continue
        every.append((number, key, value))
        if cell.get("cell_type") != "code":
            continue
        lines = split_lines(text)
        python = _python_lines(lines)
        if python is not None:
            raw_lines = text.split("\n")[: len(lines)]
            cells.append(_Cell(number, key, value, raw_lines, python))
    _locate(raw, every, cells)
    joined: list[str] = []
    line_cells: list[tuple[int, int]] = []
    starts: list[int] = []
    offset = 0
    for index, cell in enumerate(cells):
        starts.append(offset)
        for number, line in enumerate(cell.python, start=1):
            joined.append(line)
            line_cells.append((index, number))
            offset += len(line) + 1
    if not joined:
        return None
    return NotebookCode(raw, cells, "\n".join(joined) + "\n", line_cells, starts)


def _python_lines(lines: list[str]) -> list[str] | None:
    """The cell as the notebook source parses it: magics blanked; None for a cell that is
    not Python (``%%bash``, ``%%writefile``)."""
    from tunelint.sources.notebook import _PYTHON_CELL_MAGICS, _kinds, _split_cell

    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        words = first[2:].split()
        if words and words[0] in _PYTHON_CELL_MAGICS:
            body = _python_lines(["", *lines[1:]])
            return body
        return None
    python, _ = _split_cell(lines, _kinds(lines))
    return python


def _locate(raw: str, every: list[tuple[int, str, object]], cells: list[_Cell]) -> None:
    """Each code cell's source value in the raw text: found in order, decoded and compared."""
    decoder = json.JSONDecoder()
    wanted = {cell.number: cell for cell in cells}
    cursor = 0
    for number, key, value in every:
        pattern = re.compile(rf'"{key}"\s*:\s*')
        for match in pattern.finditer(raw, cursor):
            try:
                decoded, end = decoder.raw_decode(raw, match.end())
            except ValueError:
                continue
            if decoded == value:
                cursor = end
                if number in wanted:
                    wanted[number].start, wanted[number].end = match.end(), end
                break


def _restore(cell: _Cell, new_python: list[str]) -> list[str] | None:
    """The cell's new lines: unchanged lines as they were (magics back in place), changed
    and added lines from the fixed Python; None when a changed line was not Python."""
    matcher = difflib.SequenceMatcher(None, cell.python, new_python, autojunk=False)
    crlf = bool(cell.lines) and all(line.endswith("\r") for line in cell.lines[:-1] or cell.lines)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(cell.lines[i1:i2])
            continue
        changed = range(i1, i2)
        if any(cell.python[i] != cell.lines[i].removesuffix("\r") for i in changed):
            return None  # a magic or shell line: never rewritten
        out.extend(line + "\r" if crlf else line for line in new_python[j1:j2])
    return out


def _serialised(raw: str, cell: _Cell, lines: list[str]) -> str:
    """The cell's new ``source`` value, laid out like the old one."""
    old_text = "".join(cell.value) if isinstance(cell.value, list) else str(cell.value)
    text = "\n".join(lines) + ("\n" if old_text.endswith("\n") else "")
    original = raw[cell.start : cell.end]
    ascii_only = "\\u" in original and all(ord(char) < 128 for char in original)
    if not isinstance(cell.value, list):
        return json.dumps(text, ensure_ascii=ascii_only)
    items = text.splitlines(keepends=True)
    old_items: Sequence[str] = cell.value
    raws = _raw_items(original)
    if raws is None or len(raws) != len(old_items):
        return json.dumps(items, ensure_ascii=ascii_only)
    starts, ends = zip(*raws, strict=True) if raws else ((), ())
    lead = original[1 : starts[0]] if raws else ""
    trail = original[ends[-1] : -1] if raws else ""
    separator = original[ends[0] : starts[1]] if len(raws) > 1 else "," + (lead or " ")
    matcher = difflib.SequenceMatcher(None, list(old_items), items, autojunk=False)
    pieces: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.extend(original[starts[i] : ends[i]] for i in range(i1, i2))
        else:
            pieces.extend(json.dumps(item, ensure_ascii=ascii_only) for item in items[j1:j2])
    return "[" + lead + separator.join(pieces) + trail + "]"


def _raw_items(original: str) -> list[tuple[int, int]] | None:
    """(start, end) of each string item of a raw JSON list."""
    decoder = json.JSONDecoder()
    found: list[tuple[int, int]] = []
    index = 1
    while index < len(original):
        while index < len(original) and original[index] in " \t\r\n,":
            index += 1
        if index >= len(original) or original[index] == "]":
            return found
        try:
            _, end = decoder.raw_decode(original, index)
        except ValueError:
            return None
        found.append((index, end))
        index = end
    return None
