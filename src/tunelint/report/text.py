"""The human report: grouped by file, a code frame with carets under the exact span.

rich is imported lazily (only this format needs it). The console is built from explicit
settings, never the environment, so the same report renders the same bytes anywhere;
the caller decides colour (TTY, NO_COLOR) and width.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from itertools import groupby
from typing import TYPE_CHECKING

from tunelint.findings import Finding, Report, Severity
from tunelint.report._common import plural, rule_index, sorted_findings, summarise
from tunelint.rules.model import DOCS_BASE, RuleMeta

if TYPE_CHECKING:
    from rich.text import Text

DEFAULT_WIDTH = 100
MAX_FRAME_LINES = 6

SEVERITY_STYLES = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}

Line = list[tuple[str, str]]  # (text, style) pieces of one output line


def _wrap(text: str, width: int, indent: str, first: str = "") -> Iterator[str]:
    """Wrap prose to ``width`` keeping the indent; long words (paths, URLs) stay whole."""
    for number, paragraph in enumerate(text.splitlines() or [""]):
        lead = indent + (first if number == 0 else " " * len(first))
        yield from textwrap.wrap(
            paragraph,
            width=max(width, len(lead) + 20),
            initial_indent=lead,
            subsequent_indent=indent + " " * len(first),
            break_long_words=False,
            break_on_hyphens=False,
        ) or [lead.rstrip()]


def _caret_range(line: str, index: int, finding: Finding) -> tuple[int, int] | None:
    """0-based start and exclusive end of the underline on frame line ``index``, if any."""
    span = finding.span
    last = span.end_line - span.line
    if index > last:
        return None
    stripped = line.rstrip()
    start = span.column - 1 if index == 0 else len(line) - len(line.lstrip())
    end = span.end_column if index == last and span.end_column else len(stripped)
    start = max(0, min(start, len(stripped)))
    return start, max(end, start + 1)


def _frame(finding: Finding, indent: str) -> list[Line]:
    snippet_lines = finding.snippet.rstrip("\n").splitlines()
    if not snippet_lines:
        return []
    style = SEVERITY_STYLES[finding.severity] + " bold"
    shown = snippet_lines[:MAX_FRAME_LINES]
    gutter = len(str(finding.span.line + len(shown) - 1))
    blank = " " * gutter
    out: list[Line] = [[(f"{indent}{blank} |", "blue")]]
    for index, text in enumerate(shown):
        number = str(finding.span.line + index).rjust(gutter)
        out.append([(f"{indent}{number} | ", "blue"), (text.rstrip(), "")])
        carets = _caret_range(text, index, finding)
        if carets is None:
            continue
        start, end = carets
        # Keep tabs in the padding so carets line up under tab-indented code.
        pad = "".join(ch if ch == "\t" else " " for ch in text[:start])
        out.append([(f"{indent}{blank} | ", "blue"), (pad, ""), ("^" * (end - start), style)])
    if len(snippet_lines) > len(shown):
        more = plural(len(snippet_lines) - len(shown), "more line")
        out.append([(f"{indent}{blank} | ", "blue"), (f"... {more}", "dim")])
    return out


def _finding_lines(
    finding: Finding, meta: RuleMeta | None, width: int, show_suppressed: bool
) -> list[Line]:
    style = SEVERITY_STYLES[finding.severity]
    head: Line = [
        ("  ", ""),
        (finding.span.where(), "bold"),
        ("  ", ""),
        (finding.rule_id, "bold " + style),
        (" ", ""),
        (finding.rule_name, style),
        (f" [{finding.severity.label}]", style),
    ]
    if meta is not None and meta.title:
        head.append((f"  {meta.title}", "bold"))
    if show_suppressed and finding.suppressed:
        why = finding.suppression_reason or "no reason given"
        head.append((f"  (suppressed: {why})", "dim"))
    out: list[Line] = [head]
    out.extend([(text, "")] for text in _wrap(finding.message, width, "    "))
    out.extend(_frame(finding, "    "))
    for related in finding.related:
        text = f"{related.span.where()}: {related.message}"
        out.extend([(line, "dim")] for line in _wrap(text, width, "    ", "related: "))
    if finding.fix is not None and finding.fix.description:
        out.extend(
            [(line, "green")] for line in _wrap(finding.fix.description, width, "    ", "fix: ")
        )
    uri = meta.help_uri if meta is not None else f"{DOCS_BASE}/{finding.rule_id}.md"
    if uri:
        out.append([(f"    docs: {uri}", "dim")])
    return out


def summary_line(report: Report) -> str:
    """``Found 3 findings (2 high, 1 medium) in 2 of 5 files checked; 1 suppressed; ...``."""
    summary = summarise(report)
    checked = plural(summary.files_checked, "file")
    if summary.findings:
        counts = ", ".join(f"{n} {label}" for label, n in summary.by_severity.items() if n)
        text = (
            f"Found {plural(summary.findings, 'finding')} ({counts}) in "
            f"{summary.files_with_findings} of {checked} checked"
        )
    else:
        text = f"No findings in {checked} checked"
    if summary.suppressed:
        text += f"; {summary.suppressed} suppressed"
        if summary.baselined:
            text += f" ({summary.baselined} by baseline)"
    if summary.files_not_checked:
        text += f"; {plural(summary.files_not_checked, 'file')} not checked"
    return text


def _lines(report: Report, width: int, show_suppressed: bool) -> list[Line]:
    rules = rule_index(report)
    shown = [f for f in sorted_findings(report) if show_suppressed or not f.suppressed]
    out: list[Line] = []
    for path, group in groupby(shown, key=lambda f: f.span.path):
        out.append([(path, "bold underline")])
        for finding in group:
            out.extend(_finding_lines(finding, rules.get(finding.rule_id), width, show_suppressed))
            out.append([])
    if report.diagnostics:
        out.append([("Not checked", "bold underline")])
        for diagnostic in sorted(report.diagnostics):
            where = diagnostic.path + (f":{diagnostic.line}" if diagnostic.line else "")
            text = f"{where}: {diagnostic.code}: {diagnostic.message}"
            out.extend([(line, "yellow")] for line in _wrap(text, width, "  "))
        out.append([])
    out.append([(summary_line(report), "bold")])
    return out


def render_text(
    report: Report, *, color: bool, width: int | None = None, show_suppressed: bool = False
) -> str:
    """Render for people. Plain text (no escape codes) when ``color`` is False.

    Suppressed findings are only counted unless ``show_suppressed``.
    """
    from rich.console import Console
    from rich.text import Text

    width = width or DEFAULT_WIDTH
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
        soft_wrap=True,
        _environ={},
    )
    for pieces in _lines(report, width, show_suppressed):
        line: Text = Text()
        for text, style in pieces:
            line.append(text, style=style or None)
        line.rstrip()
        console.print(line)
    return buffer.getvalue()
