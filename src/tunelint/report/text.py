"""The human report, in two styles as in ruff: ``full`` (grouped by file, a code frame with
carets under the exact span) and ``concise`` (one line per finding).

rich is imported lazily (only this format needs it). The console is built from explicit
settings, never the environment, so the same report renders the same bytes anywhere;
the caller decides colour (TTY, NO_COLOR) and width.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Iterator
from itertools import groupby
from typing import TYPE_CHECKING, Any

from tunelint.facts import Diagnostic
from tunelint.findings import Finding, Note, Report, Severity
from tunelint.report._common import (
    fix_safety,
    fixable_line,
    plural,
    rule_index,
    rule_link,
    skipped_directories_line,
    sorted_findings,
    summarise,
)
from tunelint.rules.model import RuleMeta

if TYPE_CHECKING:
    from rich.text import Text

DEFAULT_WIDTH = 100
MAX_FRAME_LINES = 6
STYLES = ("full", "concise")

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


def docs_hint(report: Report, finding: Finding) -> str:
    """The rule's page when the policy or the rule names one, else the command that shows it."""
    return rule_link(report, finding.rule_id, finding.rule_name) or (
        f"tunelint explain {finding.rule_id}"
    )


def _finding_lines(
    finding: Finding,
    meta: RuleMeta | None,
    width: int,
    *,
    show_suppressed: bool,
    show_source: bool,
    docs: str,
    fixable: bool = False,
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
    if fixable:
        head.append((" [*]", "green"))
    if meta is not None and meta.title:
        head.append((f"  {meta.title}", "bold"))
    if show_suppressed and finding.suppressed:
        head.append((_suppressed(finding), "dim"))
    out: list[Line] = [head]
    out.extend([(text, "")] for text in _wrap(finding.message, width, "    "))
    if show_source:
        out.extend(_frame(finding, "    "))
    for related in finding.related:
        text = f"{related.span.where()}: {related.message}"
        out.extend([(line, "dim")] for line in _wrap(text, width, "    ", "related: "))
    if finding.fix is not None and finding.fix.description:
        out.extend(
            [(line, "green")] for line in _wrap(finding.fix.description, width, "    ", "fix: ")
        )
    out.append([(f"    docs: {docs}", "dim")])
    return out


def _suppressed(finding: Finding) -> str:
    return f"  (suppressed: {finding.suppression_reason or 'no reason given'})"


def concise_line(finding: Finding, show_suppressed: bool = False, fixable: bool = False) -> Line:
    """``path:line:col: TL402 [medium] message``: ruff's concise form, one line; ``[*]``
    after the severity when ``--fix`` would fix it."""
    style = SEVERITY_STYLES[finding.severity]
    line: Line = [
        (finding.span.where(), "bold"),
        (": ", ""),
        (finding.rule_id, "bold " + style),
        (f" [{finding.severity.label}]", style),
    ]
    if fixable:
        line.append((" [*]", "green"))
    line.append((" " + " ".join(finding.message.split()), ""))
    if show_suppressed and finding.suppressed:
        line.append((_suppressed(finding), "dim"))
    return line


def diagnostic_line(diagnostic: Diagnostic) -> str:
    """``path:line: parse-error [error]: message``."""
    where = diagnostic.path + (f":{diagnostic.line}" if diagnostic.line else "")
    return f"{where}: {diagnostic.code} [{diagnostic.level}]: {diagnostic.message}"


def _level_style(level: str) -> str:
    return "red" if level == "error" else "yellow"


def summary_line(report: Report) -> str:
    """``Found 3 findings (2 high, 1 medium) in 2 files; 5 files checked, 1 partly checked,
    1 not checked; 1 suppressed; 1 rule not evaluated; 1 error``: every file counted once."""
    summary = summarise(report)
    if summary.findings:
        counts = ", ".join(f"{n} {label}" for label, n in summary.by_severity.items() if n)
        text = (
            f"Found {plural(summary.findings, 'finding')} ({counts}) in "
            f"{plural(summary.files_with_findings, 'file')}; "
        )
    else:
        text = "No findings in "
    files = [f"{plural(summary.files_checked, 'file')} checked"]
    if summary.files_partly_checked:
        files.append(f"{summary.files_partly_checked} partly checked")
    if summary.files_not_checked:
        files.append(f"{summary.files_not_checked} not checked")
    if summary.files_skipped:
        files.append(f"{summary.files_skipped} skipped")
    text += ", ".join(files)
    if summary.suppressed:
        text += f"; {summary.suppressed} suppressed"
        if summary.baselined:
            text += f" ({summary.baselined} by baseline)"
    if summary.rules_not_evaluated:
        text += f"; {plural(summary.rules_not_evaluated, 'rule')} not evaluated"
    if summary.errors:
        text += f"; {plural(summary.errors, 'error')}"
    return text


def _diagnostic_sections(report: Report, width: int) -> list[Line]:
    tally = report.tally()
    out: list[Line] = []
    for title, paths in (
        ("Not checked", tally.not_checked),
        ("Partly checked", tally.partly_checked),
    ):
        wanted = set(paths)
        shown = [d for d in sorted(report.diagnostics) if d.path in wanted]
        if not shown:
            continue
        out.append([(title, "bold underline")])
        for diagnostic in shown:
            style = _level_style(diagnostic.level)
            out.extend([(line, style)] for line in _wrap(diagnostic_line(diagnostic), width, "  "))
        out.append([])
    return out


def _note_lines(notes: list[Note], width: int) -> list[Line]:
    if not notes:
        return []
    out: list[Line] = [[("Rules not evaluated", "bold underline")]]
    for note in notes:
        out.extend([(line, _level_style(note.level))] for line in _wrap(note.message, width, "  "))
    out.append([])
    return out


def _marker(report: Report, unsafe_fixes: bool) -> Callable[[Finding], bool]:
    """Whether a finding gets ``[*]``: ``--fix`` fixes it (an unsafe fix only with
    ``--unsafe-fixes``)."""
    allowed = {"safe", "unsafe"} if unsafe_fixes else {"safe"}
    return lambda finding: fix_safety(report, finding) in allowed


def _full(
    report: Report,
    width: int,
    show_suppressed: bool,
    show_source: bool,
    marked: Callable[[Finding], bool],
) -> list[Line]:
    rules = rule_index(report)
    shown = [f for f in sorted_findings(report) if show_suppressed or not f.suppressed]
    out: list[Line] = []
    for path, group in groupby(shown, key=lambda f: f.span.path):
        out.append([(path, "bold underline")])
        for finding in group:
            out.extend(
                _finding_lines(
                    finding,
                    rules.get(finding.rule_id),
                    width,
                    show_suppressed=show_suppressed,
                    show_source=show_source,
                    docs=docs_hint(report, finding),
                    fixable=marked(finding),
                )
            )
            out.append([])
    out.extend(_diagnostic_sections(report, width))
    out.extend(_note_lines(report.notes, width))
    return out


def _concise(
    report: Report, show_suppressed: bool, show_source: bool, marked: Callable[[Finding], bool]
) -> list[Line]:
    """Findings and file problems in path order, as ruff lists syntax errors among
    diagnostics; then the rules not evaluated."""
    rows: list[tuple[tuple[str, int, int], list[Line]]] = []
    for finding in sorted_findings(report):
        if show_suppressed or not finding.suppressed:
            lines = [concise_line(finding, show_suppressed, marked(finding))]
            if show_source:
                lines.extend(_frame(finding, "  "))
            rows.append(((finding.span.path, 1, len(rows)), lines))
    for diagnostic in sorted(report.diagnostics):
        line = [(diagnostic_line(diagnostic), _level_style(diagnostic.level))]
        rows.append(((diagnostic.path, 0, len(rows)), [line]))
    out: list[Line] = [line for _, lines in sorted(rows, key=lambda row: row[0]) for line in lines]
    for note in report.notes:
        out.append([(f"{note.level}: {note.message}", _level_style(note.level))])
    return out


def _quiet(
    report: Report, style: str, width: int, show_source: bool, marked: Callable[[Finding], bool]
) -> list[Line]:
    """Findings and the errors that fail the run; nothing else, nothing at all on success."""
    rules = rule_index(report)
    out: list[Line] = []
    for finding in sorted_findings(report):
        if finding.suppressed:
            continue
        if style == "concise":
            out.append(concise_line(finding, fixable=marked(finding)))
            if show_source:
                out.extend(_frame(finding, "  "))
            continue
        lines = _finding_lines(
            finding,
            rules.get(finding.rule_id),
            width,
            show_suppressed=False,
            show_source=show_source,
            docs=docs_hint(report, finding),
            fixable=marked(finding),
        )
        out.extend([*lines, []])
    for problem in report.errors():
        text = diagnostic_line(problem) if isinstance(problem, Diagnostic) else problem.message
        out.append([(text, "red")])
    return out


def _lines(
    report: Report,
    width: int,
    *,
    style: str,
    show_suppressed: bool,
    show_source: bool | None,
    quiet: bool,
    unsafe_fixes: bool = False,
    fixed: tuple[int, int] | None = None,
) -> list[Line]:
    if style not in STYLES:
        raise ValueError(f"unknown text style {style!r}; expected one of: {', '.join(STYLES)}")
    source = show_source if show_source is not None else style == "full"
    marked = _marker(report, unsafe_fixes)
    if quiet:
        return _quiet(report, style, width, source, marked)
    if style == "concise":
        out = _concise(report, show_suppressed, source, marked)
    else:
        out = _full(report, width, show_suppressed, source, marked)
    if fixed is not None:
        findings, files = fixed
        out.append([(f"Fixed {plural(findings, 'finding')} in {plural(files, 'file')}.", "bold")])
    out.append([(summary_line(report), "bold")])
    skipped = skipped_directories_line(report)
    if skipped:
        out.extend([(line, "dim")] for line in _wrap(skipped, width, ""))
    fixable = fixable_line(report, unsafe_fixes)
    if fixable:  # last, as ruff ends with what --fix would do
        out.append([(fixable, "")])
    return out


def render_text(
    report: Report,
    *,
    color: bool = False,
    width: int | None = None,
    show_suppressed: bool = False,
    style: str = "full",
    show_source: bool | None = None,
    quiet: bool = False,
    unsafe_fixes: bool = False,
    fixed: tuple[int, int] | None = None,
) -> str:
    """Render for people. Plain text (no escape codes) when ``color`` is False.

    ``style``: ``full`` or ``concise``. ``show_source``: code frames under findings
    (default: in ``full`` only). ``quiet``: findings and errors only, no summary, so a
    clean run prints nothing. Suppressed findings are only counted unless
    ``show_suppressed``. ``[*]`` marks findings ``--fix`` fixes (with ``unsafe_fixes``,
    also those only ``--unsafe-fixes`` fixes) and a line counts them; ``fixed`` is (findings,
    files) that ``--fix`` changed, said before the summary.
    """
    width = width or DEFAULT_WIDTH
    lines = _lines(
        report,
        width,
        style=style,
        show_suppressed=show_suppressed,
        show_source=show_source,
        quiet=quiet,
        unsafe_fixes=unsafe_fixes,
        fixed=fixed,
    )
    if not color:  # plain text: the styles do not matter, and rich need not be loaded
        return "".join(
            "".join(text for text, _ in pieces).expandtabs(8).rstrip() + "\n" for pieces in lines
        )
    from rich.console import Console
    from rich.text import Text

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
    for pieces in lines:
        line: Text = Text()
        for text, piece_style in pieces:
            line.append(text, style=piece_style or None)
        line.rstrip()
        console.print(line)
    return buffer.getvalue()


def render_concise(report: Report, **options: Any) -> str:
    """``--output-format concise``: the text report, one line per finding (options as for
    ``render_text``)."""
    return render_text(report, style="concise", **options)
