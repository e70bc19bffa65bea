"""Jupyter notebooks: every code cell read by the source that fits what it holds.

Python goes to the Python source; ``!cmd`` lines and ``%%bash`` / ``%%sh`` cells to the shell
source; ``%%writefile x.yaml`` (or ``.json``, ``.sh``, ``.py``) cells to the source for that
file kind. Other magics are blanked (``pass`` when indented), so line numbers and columns
hold. Facts from all cells merge into one FileFacts.

Positions: ``cell`` is the 1-based index of the cell among *all* cells, markdown and raw
included, the way editors number cells (Jupyter's ``In [n]`` is an execution count, not a
position). ``line`` counts within the cell; ``file_line`` is the line in the .ipynb file
holding that source line, found by locating each cell's ``"source"`` value in the raw text
in order and checking it decodes to the same value; None where that fails.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Callable, Sequence

from tunelint.facts import (
    Assignment,
    Diagnostic,
    FileFacts,
    FileKind,
    Launch,
    Reference,
    Span,
    Suppression,
    Value,
)
from tunelint.sources.config import extract_json, extract_yaml
from tunelint.sources.dialects import canonical_settings
from tunelint.sources.python import LineCell, extract_python
from tunelint.sources.shell import extract_shell
from tunelint.sources.shellwords import split_lines

Extractor = Callable[..., FileFacts]
LineMap = Sequence[int] | None
_WRITEFILE: dict[str, Extractor] = {
    ".yaml": extract_yaml,
    ".yml": extract_yaml,
    ".json": extract_json,
    ".sh": extract_shell,
    ".py": extract_python,
}
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "python", "python3"})
_SHELL_CELL_MAGICS = frozenset({"bash", "sh"})
_ENV_MAGIC = re.compile(r"%(?:env|set_env)\s+([A-Za-z_]\w*)(?:\s*=\s*|\s+)(.*)$")
_SHELL_MAGIC = re.compile(r"%(?:sx|system)\s")
_CAPTURE = re.compile(r"[\w.]+\s*=\s*!")
# ``%run [-options] script.py [args]``: the notebook runs that script.
_RUN_MAGIC = re.compile(r"%run\s+(?:-\w+\s+)*(?P<script>[^\s;|&'\"]+\.py)(?=\s|$)")


_NEWLINE = re.compile("\n")


class _Locator:
    """Finds each cell's source in the raw text, in order, to map lines to file lines."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cursor = 0
        self.newlines = [match.start() for match in _NEWLINE.finditer(text)]
        self.decoder = json.JSONDecoder()

    def line_of(self, index: int) -> int:
        return bisect_left(self.newlines, index) + 1

    def find(self, key: str, source: object, count: int) -> list[int] | None:
        pattern = re.compile(rf'"{key}"\s*:\s*')
        for match in pattern.finditer(self.text, self.cursor):
            try:
                value, end = self.decoder.raw_decode(self.text, match.end())
            except ValueError:
                continue
            if value == source:
                self.cursor = end
                return self._lines(match.end(), source, count)
        return None

    def _lines(self, start: int, source: object, count: int) -> list[int]:
        if not isinstance(source, list):
            return [self.line_of(start)] * count
        found = [0] * count
        index, line = start + 1, 0
        for item in source:
            while index < len(self.text) and self.text[index] in " \t\r\n,":
                index += 1
            physical = self.line_of(index)
            _, index = self.decoder.raw_decode(self.text, index)
            if line < count and not found[line]:
                found[line] = physical
            for offset, char in enumerate(item):
                if char == "\n":
                    line += 1
                    if line < count and offset + 1 < len(item):
                        found[line] = physical
        for line in range(count):  # lines that began in an earlier item's tail
            found[line] = found[line] or (found[line - 1] if line else physical)
        return found


def _cells(notebook: object) -> list[object] | None:
    if not isinstance(notebook, dict):
        return None
    if isinstance(notebook.get("cells"), list):
        return list(notebook["cells"])
    worksheets = notebook.get("worksheets")  # nbformat 3
    if isinstance(worksheets, list):
        cells: list[object] = []
        for sheet in worksheets:
            if isinstance(sheet, dict) and isinstance(sheet.get("cells"), list):
                cells.extend(sheet["cells"])
        return cells
    return None


def _blank(line: str) -> str:
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    return f"{indent}pass" if indent else ""


def _kinds(lines: Sequence[str]) -> list[str]:
    """What each line is: ``shell`` (``!``, ``%sx``, ``x = !``), ``env`` (``%env``),
    ``magic``, ``comment``, ``blank`` or ``python``. A comment goes with the line below."""
    kinds: list[str] = []
    continued = ""
    for line in lines:
        stripped = line.lstrip()
        if continued:
            kind = f"{continued}-continued"
        elif _ENV_MAGIC.match(stripped):
            kind = "env"
        elif stripped.startswith("!") or any(
            pattern.match(stripped) for pattern in (_CAPTURE, _SHELL_MAGIC)
        ):
            kind = "shell"
        elif stripped.startswith("%"):
            kind = "magic"
        elif stripped.startswith("#"):
            kind = "comment"
        else:
            kind = "python" if stripped else "blank"
        # a shell line or a magic (``%pip install a \``) goes on after a backslash
        ends_open = line.rstrip().endswith("\\")
        continued = kind.split("-")[0] if ends_open and kind.startswith(("shell", "magic")) else ""
        kinds.append(kind)
    following = "python"
    for index in range(len(kinds) - 1, -1, -1):
        if kinds[index] == "comment":
            kinds[index] = "shell-comment" if following == "shell" else "comment"
        elif kinds[index] != "blank":
            following = kinds[index]
    return kinds


def _shell_line(line: str) -> str:
    """The shell command of a ``!``/``%sx``/``x = !`` line, columns kept."""
    stripped = line.lstrip()
    indent = len(line) - len(stripped)
    capture = _CAPTURE.match(stripped)
    if _SHELL_MAGIC.match(stripped):
        magic = stripped.split(None, 1)[0]
        return " " * (indent + len(magic)) + stripped[len(magic) :]
    if capture is not None:
        return " " * (indent + capture.end()) + stripped[capture.end() :]
    bangs = 2 if stripped.startswith("!!") else 1
    return " " * (indent + bangs) + stripped[bangs:]


def _split_cell(lines: Sequence[str], kinds: list[str]) -> tuple[list[str], list[str]]:
    """The cell as Python (magics blanked) and as shell (only its shell lines), same shape."""
    python: list[str] = []
    shell: list[str] = []
    for line, kind in zip(lines, kinds, strict=True):
        if kind in {"python", "comment", "blank"}:
            python.append(line)
        else:  # a continued line sits inside a command: nothing to keep indented
            python.append("" if kind.endswith("-continued") else _blank(line))
        if kind == "shell":
            shell.append(_shell_line(line))
        else:
            shell.append(line if kind in {"shell-continued", "shell-comment"} else "")
    return python, shell


class _Cells:
    """Reads code cells in order, then parses the Python of all cells as one module (the
    kernel's view: a name imported or bound in one cell is known in the next). ``%env`` and
    ``os.environ`` assignments carry forward to later ``!`` lines, which inherit the kernel's
    environment; a ``%env`` applies to its whole cell."""

    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts
        self.python: list[tuple[int, Sequence[str], LineMap]] = []
        self.shell: list[tuple[int, Sequence[str], LineMap]] = []
        # (cell, line, from_magic, name, value): exports seen so far, in notebook order
        self.exports: list[tuple[int, int, bool, str, Value]] = []

    def run(
        self,
        extract: Extractor,
        lines: Sequence[str],
        number: int,
        line_map: LineMap,
        env: tuple[tuple[str, Value], ...] = (),
    ) -> FileFacts | None:
        if not any(line.strip() for line in lines):
            return None
        text = "\n".join(lines) + "\n"
        if extract is extract_shell:
            part = extract_shell(text, self.facts.path, cell=number, line_map=line_map, env=env)
        else:
            part = extract(text, self.facts.path, cell=number, line_map=line_map)
        _merge(self.facts, part, number, line_map)
        return part

    def code(self, number: int, lines: Sequence[str], line_map: LineMap) -> None:
        first = lines[0].strip() if lines else ""
        if first.startswith("%%"):
            self.cell_magic(number, first[2:], ["", *lines[1:]], line_map)
            return
        kinds = _kinds(lines)
        for index, kind in enumerate(kinds):
            if kind == "env":
                self.env_magic(number, index + 1, lines[index], line_map)
            elif kind == "magic":
                self.run_magic(number, index + 1, lines[index], line_map)
        python, shell = _split_cell(lines, kinds)
        self.shell.append((number, shell, line_map))
        self.python.append((number, python, line_map))

    def cell_magic(self, number: int, magic: str, body: list[str], line_map: LineMap) -> None:
        words = magic.split()
        name = words[0] if words else ""
        if name in _SHELL_CELL_MAGICS or (name == "script" and words[1:2] in (["bash"], ["sh"])):
            self.shell.append((number, body, line_map))
        elif name == "writefile":
            target = [word for word in words[1:] if not word.startswith("-")]
            suffix = next((s for s in _WRITEFILE if target and target[-1].endswith(s)), None)
            if suffix is not None:
                self.run(_WRITEFILE[suffix], body, number, line_map)
        elif name in _PYTHON_CELL_MAGICS:
            self.code(number, body, line_map)

    def env_magic(self, number: int, line: int, text: str, line_map: LineMap) -> None:
        """``%env NAME=value``: an exported variable for every later ``!`` line."""
        match = _ENV_MAGIC.match(text.lstrip())
        assert match is not None
        indent = len(text) - len(text.lstrip())
        file_line = line_map[line - 1] if line_map is not None and line <= len(line_map) else None

        def span(start: int, end: int) -> Span:
            return Span(
                self.facts.path, line, indent + start + 1, line, indent + end, number, file_line
            )

        value = Value(match.group(2), span(*match.span(2)), "env", match.group(2))
        key_span = span(*match.span(1))
        self.facts.assignments.append(Assignment(match.group(1), value, "env", key_span))
        self.facts.settings.extend(canonical_settings("env", match.group(1), value, key_span))
        self.exports.append((number, line, True, match.group(1), value))

    def run_magic(self, number: int, line: int, text: str, line_map: LineMap) -> None:
        """``%run script.py``: the notebook launches that script (a member of its job)."""
        match = _RUN_MAGIC.match(text.lstrip())
        if match is None:
            return
        indent = len(text) - len(text.lstrip())
        file_line = line_map[line - 1] if line_map is not None and line <= len(line_map) else None
        start, end = match.span("script")
        span = Span(
            self.facts.path, line, indent + start + 1, line, indent + end, number, file_line
        )
        script = Value(match.group("script"), span, "cli", match.group("script"))
        whole = Span(self.facts.path, line, indent + 1, line, len(text.rstrip()), number, file_line)
        self.facts.references.append(Reference(script, "script", "%run"))
        self.facts.launches.append(Launch("python", whole, script, text=text.strip()))

    def finish(self) -> None:
        """Python of all cells as one module, then shell lines with the environment so far."""
        python = self._joined_python()
        for assignment in python.assignments if python is not None else ():
            span = assignment.span
            if assignment.kind == "env" and span.cell is not None:
                self.exports.append(
                    (span.cell, span.line, False, assignment.target, assignment.value)
                )
        self.exports.sort(key=lambda export: (export[0], export[1]))
        for number, lines, line_map in self.shell:
            env = {
                name: value
                for cell, _, magic, name, value in self.exports
                if cell < number or (cell == number and magic)
            }
            self.run(extract_shell, lines, number, line_map, env=tuple(env.items()))

    def _joined_python(self) -> FileFacts | None:
        joined: list[str] = []
        line_cells: list[LineCell] = []
        for number, lines, line_map in self.python:
            for index, line in enumerate(lines, start=1):
                file_line = line_map[index - 1] if line_map and index <= len(line_map) else None
                joined.append(line)
                line_cells.append((number, index, file_line))
        if not any(line.strip() for line in joined):
            return None
        part = extract_python("\n".join(joined) + "\n", self.facts.path, line_cells=line_cells)
        if any(d.code in {"parse-error", "too-deep"} for d in part.diagnostics):
            # One cell that does not parse must not cost the other cells their facts.
            cells = [self.run(extract_python, ls, n, lm) for n, ls, lm in self.python]
            merged = FileFacts(self.facts.path, FileKind.PYTHON)
            for cell_facts in cells:
                merged.assignments.extend(cell_facts.assignments if cell_facts else ())
            return merged
        _merge(self.facts, part, None, None)
        return part


def _merge(
    facts: FileFacts, part: FileFacts, number: int | None, line_map: Sequence[int] | None
) -> None:
    facts.dialects = tuple(dict.fromkeys(facts.dialects + part.dialects))
    facts.imports = tuple(dict.fromkeys(facts.imports + part.imports))
    facts.calls.extend(part.calls)
    facts.settings.extend(part.settings)
    facts.assignments.extend(part.assignments)
    facts.launches.extend(part.launches)
    facts.references.extend(part.references)
    for suppression in part.suppressions:
        _add_suppression(facts.suppressions, suppression)
    for diagnostic in part.diagnostics:
        where = f"cell {number}" if number is not None else "code cells"
        where += f", line {diagnostic.line}" if diagnostic.line else ""
        file_line = None
        if diagnostic.line and line_map is not None and diagnostic.line <= len(line_map):
            file_line = line_map[diagnostic.line - 1]
        message = f"{where}: {diagnostic.message}"
        facts.diagnostics.append(Diagnostic(facts.path, diagnostic.code, message, file_line))


def _add_suppression(found: list[Suppression], new: Suppression) -> None:
    """One comment seen by two sources (Python and shell) is one suppression."""
    for index, old in enumerate(found):
        same = (old.codes, old.cell, old.span.line, old.span.column)
        if same == (new.codes, new.cell, new.span.line, new.span.column):
            first = min(old.first_line, new.first_line)
            last = max(old.last_line, new.last_line)
            found[index] = Suppression(old.codes, old.reason, old.span, first, last, old.cell)
            return
    found.append(new)


HOSTED_RUNTIMES = ("colab", "kaggle")


def _hosted_runtimes(notebook: object, cells: list[object]) -> tuple[str, ...]:
    """Hosted runtimes the notebook was saved from: Colab and Kaggle leave their own key in
    the notebook's or a cell's ``metadata``."""
    found: list[str] = []
    holders = [notebook, *cells]
    for holder in holders:
        metadata = holder.get("metadata") if isinstance(holder, dict) else None
        if isinstance(metadata, dict):
            found.extend(name for name in HOSTED_RUNTIMES if name in metadata)
    return tuple(sorted(set(found)))


def extract_notebook(text: str, path: str) -> FileFacts:
    """Facts of a .ipynb file (nbformat 4, leniently 3); bad cells are skipped and reported."""
    facts = FileFacts(path, FileKind.NOTEBOOK)
    text = text.removeprefix("\ufeff")
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        message = f"invalid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        facts.diagnostics.append(Diagnostic(path, "parse-error", message, error.lineno))
        return facts
    except RecursionError:
        facts.diagnostics.append(Diagnostic(path, "limit", "JSON nested too deep to read"))
        return facts
    cells = _cells(notebook)
    if cells is None:
        message = "not a notebook: no `cells` list (nbformat 4) or `worksheets` (nbformat 3)"
        facts.diagnostics.append(Diagnostic(path, "bad-notebook", message, 1))
        return facts
    facts.dialects = _hosted_runtimes(notebook, cells)
    locator = _Locator(text)
    reader = _Cells(facts)
    all_lines: list[tuple[str, ...]] = []
    for number, cell in enumerate(cells, start=1):
        key = "source" if isinstance(cell, dict) and "source" in cell else "input"
        source = cell.get(key) if isinstance(cell, dict) else None
        if isinstance(source, list) and all(isinstance(item, str) for item in source):
            lines = split_lines("".join(source))
        elif isinstance(source, str):
            lines = split_lines(source)
        else:
            problem = "is not an object" if not isinstance(cell, dict) else "has no text source"
            message = f"cell {number} {problem}; skipped"
            facts.diagnostics.append(Diagnostic(path, "bad-notebook", message))
            all_lines.append(())
            continue
        all_lines.append(tuple(lines))
        line_map = locator.find(key, source, len(lines))
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            reader.code(number, lines, line_map)
    reader.finish()
    facts.cell_lines = tuple(all_lines)
    return facts


__all__ = ["extract_notebook"]
