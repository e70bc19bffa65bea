"""The fix stage: after the findings are made, work out what each fixable finding's fix
changes (for the reports: ``Finding.fix`` with edits, SARIF ``fixes``), and what the files
look like with every fix the run may apply (for ``--fix`` and ``--diff``).

Per file: read it once, decode it as the sources do, and check each finding's snippet
against the text (a file changed since the run read it is left alone). Each finding's own
fix is worked out on the original text. The fixes the run applies are then applied one
after the other, top to bottom, each finding's span carried through the earlier edits and
its fixer run on the text as it is by then; the result must still parse, or the file is
left as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from tunelint.discover import kind_of
from tunelint.facts import FileKind, Span
from tunelint.findings import Edit, Finding, Fix, Report
from tunelint.fix.model import Change, FixContext, Fixer
from tunelint.fix.text import (
    Encoded,
    Lines,
    TextEdit,
    decode,
    edit_spans,
    map_offset,
    minimal_edits,
)
from tunelint.fix.write import refusal
from tunelint.rules.model import RuleMeta

DEFAULT_MAX_BYTES = 5_000_000


@dataclass(slots=True)
class FileFix:
    """One file as it is and as the run's fixes leave it."""

    path: str  # as shown in the report
    absolute: str
    before: bytes
    after: bytes
    before_text: str
    after_text: str
    fixed: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class FixPlan:
    files: list[FileFix] = field(default_factory=list)
    # (path, why): files holding fixable findings that the run will not write
    refused: list[tuple[str, str]] = field(default_factory=list)
    # findings with a fix the run's safety setting holds back (unsafe, no --unsafe-fixes)
    held_back: int = 0

    @property
    def fixed(self) -> int:
        return sum(len(file.fixed) for file in self.files)


@dataclass(slots=True)
class _Workspace:
    """The text fixers work on, and the way from it back to the file's text: the file
    itself, or for a notebook its code cells joined into one module."""

    kind: FileKind
    raw: str
    base: str
    to_base: Callable[[Finding], Finding | None]
    # the file's text from the base text and the edits (one list per fix) that made it
    finish: Callable[[str, list[list[TextEdit]]], str | None]
    line_of: Callable[[Span], str | None]


def _workspace(kind: FileKind, raw: str) -> _Workspace | None:
    if kind is FileKind.NOTEBOOK:
        from tunelint.fix.notebook import read_notebook

        code = read_notebook(raw)
        if code is None:
            return None

        def cell_line(span: Span) -> str | None:
            for cell in code.cells:
                if cell.number == span.cell and 0 < span.line <= len(cell.lines):
                    return cell.lines[span.line - 1].removesuffix("\r")
            return None

        return _Workspace(kind, raw, code.python, code.joined, code.written, cell_line)
    lines = Lines(raw)

    def file_line(span: Span) -> str | None:
        if span.cell is not None or not 0 < span.line <= len(lines.starts):
            return None
        return lines.line_text(span.line)

    return _Workspace(kind, raw, raw, lambda finding: finding, lambda text, _: text, file_line)


def plan_fixes(
    report: Report,
    *,
    unsafe: bool = False,
    combine: bool = True,
    max_bytes: int | None = None,
    edits: bool = True,
) -> FixPlan:
    """Attach each fixable finding's own fix to it (``Finding.fix``, edits on the original
    file) and, with ``combine``, work out the files with every fix this run may apply (safe
    ones; unsafe ones too with ``unsafe``). Nothing is written here.

    Without ``edits``, only say which findings a fixer is offered for
    (``Finding.fix_offered``): parsing files for their edits costs more than checking them,
    and a text report needs no edits."""
    rules = {rule.id: rule for rule in report.rules if isinstance(rule, RuleMeta)}
    context = FixContext(report.policy)
    if max_bytes is None:
        max_bytes = int(context.get("limits.max_file_bytes", DEFAULT_MAX_BYTES))
    plan = FixPlan()
    by_path: dict[str, list[Finding]] = {}
    for finding in report.findings:
        rule = rules.get(finding.rule_id)
        if finding.suppressed or rule is None or rule.autofix is None:
            continue
        if rule.autofix.available:
            by_path.setdefault(finding.span.path, []).append(finding)
        elif finding.fix is None and rule.autofix.note:
            # the finding says why nothing is automatic (edits empty: a person decides)
            note = rule.autofix.note
            finding.fix = Fix(f"No automatic fix: {note[:1].lower()}{note[1:]}")
    if not by_path:
        return plan  # nothing fixable: the fixers (and libcst) are not loaded
    from tunelint.fix.registry import has_fixer

    base = report.cwd or os.getcwd()
    for path, findings in sorted(by_path.items()):
        absolute = os.path.normpath(os.path.join(base, path))
        kind = kind_of(Path(absolute))
        if kind is None or not any(has_fixer(f.rule_id, kind) for f in findings):
            continue
        if not edits and kind in {FileKind.PYTHON, FileKind.NOTEBOOK}:
            _offer(absolute, findings, rules, context, max_bytes)
            continue
        why = refusal(absolute, report.paths, base)
        if why is not None:
            plan.refused.append((path, why))
            continue
        planned = _plan_file(
            path, absolute, kind, findings, rules, context, (unsafe, combine), max_bytes
        )
        if planned is None:
            continue
        file_fix, held_back = planned
        plan.held_back += held_back
        if isinstance(file_fix, str):
            plan.refused.append((path, file_fix))
        elif file_fix is not None:
            plan.files.append(file_fix)
    return plan


def _offer(
    absolute: str,
    findings: Sequence[Finding],
    rules: dict[str, RuleMeta],
    context: FixContext,
    max_bytes: int,
) -> None:
    """Mark the findings a Python fixer has something to change at (``fix.offers``), with
    the rule's description of its fix; no edits are worked out."""
    from tunelint.fix.offers import offered

    read = _read(absolute, max_bytes)
    if read is None:
        return
    text = read[1]
    for finding in findings:
        autofix = rules[finding.rule_id].autofix
        if autofix is None or not offered(finding, context, text):
            continue
        finding.fix_offered = True
        if finding.fix is None and autofix.description:
            unsafe = " (unsafe fix)" if not autofix.safe else ""
            finding.fix = Fix(f"Available: {' '.join(autofix.description.split())}{unsafe}")


def _read(absolute: str, max_bytes: int) -> tuple[bytes, str, Encoded] | None:
    try:
        with open(absolute, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError:
        return None
    if len(data) > max_bytes:
        return None
    decoded = decode(data)
    return (data, *decoded) if decoded is not None else None


def _plan_file(
    path: str,
    absolute: str,
    kind: FileKind,
    findings: Sequence[Finding],
    rules: dict[str, RuleMeta],
    context: FixContext,
    how: tuple[bool, bool],
    max_bytes: int,
) -> tuple[FileFix | str | None, int] | None:
    """The file with the run's fixes (or why it is left as it is), and how many fixes the
    safety setting holds back; None when the file cannot be read as it was."""
    unsafe, combine = how
    read = _read(absolute, max_bytes)
    if read is None:
        return None
    data, raw, encoded = read
    space = _workspace(kind, raw)
    if space is None:
        return None
    chosen: list[tuple[Finding, Fixer]] = []
    held_back = 0
    for finding in sorted(findings, key=Finding.sort_key):
        from tunelint.fix.registry import fixer_for

        fixer = fixer_for(finding.rule_id, kind)
        local = space.to_base(finding) if fixer is not None else None
        if fixer is None or local is None or not _current(space, finding):
            continue
        change = _run(fixer, space.base, local, context)
        if change is None:
            continue
        edits = _edits_of(space, change, path)
        if not edits:
            continue
        rule = rules[finding.rule_id]
        finding.fix = Fix(_described(change, rule), edits)
        if unsafe or (rule.autofix is not None and rule.autofix.safe):
            chosen.append((finding, fixer))
        else:
            held_back += 1
    if not chosen or not combine:
        return None, held_back
    after, fixed = _apply_all(space, chosen, context)
    if after is None or not fixed:
        return None, held_back
    if not _still_reads(kind, after, space):
        return "the fixed file would not parse, so it is left as it is", held_back
    file_fix = FileFix(path, absolute, data, encoded.encode(after), raw, after, fixed)
    return (file_fix if file_fix.after != file_fix.before else None), held_back


def _run(fixer: Fixer, text: str, finding: Finding, context: FixContext) -> Change | None:
    """The fixer's change; a fixer that fails on odd input leaves the finding unfixed (the
    finding is still reported: nothing is lost, nothing is half-written)."""
    try:
        return fixer(text, finding, context)
    except (RecursionError, MemoryError):
        return None
    except Exception:
        if os.environ.get("TUNELINT_DEBUG"):
            raise
        return None


def _current(space: _Workspace, finding: Finding) -> bool:
    """The finding's line is still what the run read (no snippet: nothing to compare)."""
    if not finding.snippet:
        return True
    first = finding.snippet.splitlines()[0] if finding.snippet.strip() else finding.snippet
    return space.line_of(finding.span) == first


def _edits_of(space: _Workspace, change: Change, path: str) -> tuple[Edit, ...] | None:
    written = space.finish(change.text, [minimal_edits(space.base, change.text)])
    if written is None or written == space.raw:
        return None
    return edit_spans(path, space.raw, minimal_edits(space.raw, written))


def _described(change: Change, rule: RuleMeta) -> str:
    text = change.description[:1].upper() + change.description[1:]
    if rule.autofix is not None and not rule.autofix.safe:
        return f"{text} (unsafe fix)"
    return text


def _apply_all(
    space: _Workspace, chosen: list[tuple[Finding, Fixer]], context: FixContext
) -> tuple[str | None, list[Finding]]:
    """Every chosen fix in turn on the text as the earlier ones left it."""
    current = space.base
    history: list[list[TextEdit]] = []
    fixed: list[Finding] = []
    for finding, fixer in chosen:
        local = space.to_base(finding)
        moved = _moved(space.base, current, history, local) if local is not None else None
        if moved is None:
            continue
        change = _run(fixer, current, moved, context)
        if change is None or change.text == current:
            continue
        history.append(minimal_edits(current, change.text))
        current = change.text
        fixed.append(finding)
    if not fixed:
        return None, []
    return space.finish(current, history), fixed


def _moved(
    original: str, current: str, history: list[list[TextEdit]], finding: Finding
) -> Finding | None:
    """The finding with its span carried through the edits made since ``original``."""
    span = finding.span
    before = Lines(original)
    start = before.offset(span.line, span.column - 1)
    end = before.offset(span.end_line, span.end_column - 1) if span.end_column else None
    if start is None:
        return None
    for edits in history:
        start = map_offset(edits, start)
        end = map_offset(edits, end) if end is not None else None
        if start is None:
            return None
    after = Lines(current)
    line, column = after.position(start)
    moved = Span(span.path, line, column + 1)
    if end is not None:
        end_line, end_column = after.position(end)
        moved = Span(span.path, line, column + 1, end_line, end_column + 1)
    return replace(finding, span=moved)


def _still_reads(kind: FileKind, text: str, space: _Workspace) -> bool:
    """The fixed file still parses as what it is (Python, YAML, JSON, notebook)."""
    from tunelint.fix.config import compose
    from tunelint.fix.python import parse

    if kind is FileKind.PYTHON:
        return parse(text) is not None
    if kind is FileKind.NOTEBOOK:
        from tunelint.fix.notebook import read_notebook

        code = read_notebook(text)
        return code is not None and parse(code.python) is not None
    return compose(text, kind is FileKind.JSON) is not None
