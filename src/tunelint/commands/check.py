"""``tunelint check``: lint paths against the policy and report."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from tunelint.commands import EXIT_FINDINGS, EXIT_NOTHING, EXIT_OK, EXIT_USAGE
from tunelint.findings import Severity

# ruff's naming: every format is a value of --output-format; full and concise are the two
# styles of the text report. --format is the same option (text means full).
FORMATS = ("full", "concise", "json", "sarif", "github", "checklist", "text")
TEXT_STYLES = ("full", "concise", "text")


def _codes(raw: list[str] | None) -> list[str]:
    return [code.strip() for item in raw or [] for code in item.split(",") if code.strip()]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check files and directories (default: .)",
        description="Check training scripts, notebooks, configs and launch scripts against "
        "the policy, and report what would go wrong.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or directories to check (default: .); a directory named here is "
        "checked even when a default exclude would skip it",
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--output-format",
        "--format",
        dest="output_format",
        choices=FORMATS,
        default="full",
        metavar="FORMAT",
        help="full (default: each finding with its source), concise (one line per finding), "
        "json, sarif, github (workflow annotations) or checklist (Markdown review); "
        "text is full",
    )
    output.add_argument("--output", "-o", type=Path, help="write the report to this file")
    output.add_argument(
        "--show-source",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show the source lines under each finding (default: in the full format only)",
    )
    output.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print findings and errors only: no summary, nothing at all on a clean run",
    )
    output.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text report: auto (on a terminal, unless NO_COLOR is set), always "
        "or never",
    )
    output.add_argument(
        "--statistics", action="store_true", help="print how many findings each rule has"
    )
    output.add_argument(
        "--show-suppressed", action="store_true", help="also list suppressed findings"
    )
    output.add_argument(
        "--category",
        help="SARIF automationDetails category, one per workflow uploading to code scanning",
    )
    rules = parser.add_argument_group("rules and exit code")
    rules.add_argument(
        "--select",
        action="append",
        metavar="RULES",
        help="only these rules: ids (TL201), prefixes (TL2), names or ALL, comma-separated; "
        "one that matches no rule is an error",
    )
    rules.add_argument(
        "--ignore",
        action="append",
        metavar="RULES",
        help="skip these rules: ids, prefixes or names, comma-separated",
    )
    rules.add_argument(
        "--fail-on",
        choices=[s.label for s in Severity],
        metavar="SEVERITY",
        help="lowest severity that makes the exit code 1: info, low, medium, high or critical "
        "(default: the policy's fail_on, else medium)",
    )
    rules.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 even with findings or files that do not parse",
    )
    rules.add_argument(
        "--allow-empty",
        action="store_true",
        help="exit 0, not 3, when nothing is left to check (pre-commit on excluded files)",
    )
    rules.add_argument(
        "--policy", type=Path, help="policy file (default: the nearest tunelint.yaml)"
    )
    rules.add_argument("--vram", help="GPU memory budget per device for TL101, e.g. 24GiB")
    rules.add_argument("--gpu", help="GPU profile for the TL101 budget, e.g. rtx-4090")
    rules.add_argument(
        "--baseline", type=Path, help="hide the findings recorded in this baseline file"
    )
    rules.add_argument(
        "--write-baseline",
        type=Path,
        metavar="FILE",
        help="record the current findings in FILE and exit 0",
    )
    fixes = parser.add_argument_group("fixes")
    fixes.add_argument(
        "--fix",
        action="store_true",
        help="apply the safe fixes in place, then report the findings that remain",
    )
    fixes.add_argument(
        "--unsafe-fixes",
        action="store_true",
        help="also apply (with --fix), show (with --diff) and count the fixes that change "
        "what the job does",
    )
    fixes.add_argument(
        "--diff",
        action="store_true",
        help="print a unified diff of what --fix would change and change nothing; exit 1 "
        "when there is a diff",
    )
    files = parser.add_argument_group("files")
    files.add_argument(
        "--no-default-excludes",
        dest="default_excludes",
        action="store_false",
        help="also walk into virtual environments, dependency and build folders",
    )
    files.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="enter directory symlinks (those leading out of the project stay refused)",
    )
    files.add_argument(
        "--jobs", "-j", type=int, default=0, help="worker processes (default 0: every core)"
    )
    files.add_argument(
        "--no-cache",
        action="store_true",
        help="do not read or write the facts cache (in the user cache directory)",
    )
    parser.set_defaults(func=run)


def _use_color(choice: str, stream: Any) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def _statistics(report: Any) -> str:
    counts: dict[tuple[str, str], int] = {}
    for finding in report.active:
        key = (finding.rule_id, finding.rule_name)
        counts[key] = counts.get(key, 0) + 1
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "".join(f"{count:5d}  {rule_id}  {name}\n" for (rule_id, name), count in rows)


def run(args: argparse.Namespace) -> int:
    from tunelint.api import ConfigurationError, Options, lint

    options = Options(
        policy_path=args.policy,
        select=_codes(args.select),
        ignore=_codes(args.ignore),
        fail_on=Severity.parse(args.fail_on) if args.fail_on else None,
        vram=args.vram,
        gpu=args.gpu,
        baseline=args.baseline,
        jobs=args.jobs,
        use_cache=not args.no_cache,
        default_excludes=args.default_excludes,
        follow_symlinks=args.follow_symlinks,
    )
    from tunelint.commands.progress import TerminalProgress, wanted

    bar = (
        TerminalProgress(sys.stderr) if wanted(sys.stderr, args.output_format, args.quiet) else None
    )
    options.progress = bar
    try:
        report = lint(args.paths or ["."], options)
        if args.diff:
            return _diff(report, args)
        fixed = _fix(report, args) if args.fix else None
        if fixed is not None and fixed[1]:
            report = lint(args.paths or ["."], options)  # what remains, as ruff reports it
        else:
            fixed = None  # nothing written: nothing to say about it
    except ConfigurationError as error:
        sys.stderr.write(f"tunelint: configuration error:\n{error}\n")
        return EXIT_USAGE
    finally:
        if bar is not None:
            bar.close()
    if report.active:
        from tunelint.fix import plan_fixes

        # each fixable finding's own fix: its edits for the JSON and SARIF reports, which
        # carry them; for the others only which findings have a fix (working out edits
        # means parsing each file again, which costs more than the check)
        edits = args.output_format in {"json", "sarif"}
        plan_fixes(report, unsafe=args.unsafe_fixes, combine=False, edits=edits)
    if args.write_baseline is not None:
        from tunelint.suppress import write_baseline

        write_baseline(args.write_baseline, report.active)
        if not args.quiet:
            count = len(report.active)
            sys.stderr.write(
                f"tunelint: wrote {count} finding{'' if count == 1 else 's'} "
                f"to baseline {args.write_baseline}\n"
            )
        return EXIT_OK
    stream = sys.stdout
    text = _statistics(report) if args.statistics else _render(report, args, stream, fixed)
    if fixed is not None and not args.quiet and args.output_format not in TEXT_STYLES:
        sys.stderr.write(f"tunelint: {_fixed_line(*fixed)}\n")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    else:
        stream.write(text)
        stream.flush()
    if (report.failing() or report.errors()) and not args.exit_zero:
        return EXIT_FINDINGS
    if not report.files_checked and not report.errors() and not args.allow_empty:
        if args.output_format in TEXT_STYLES or args.output is not None:
            sys.stderr.write("tunelint: nothing to check\n")
        return EXIT_NOTHING
    return EXIT_OK


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _fixed_line(findings: int, files: int) -> str:
    return f"Fixed {_plural(findings, 'finding')} in {_plural(files, 'file')}."


def _refused(plan: Any) -> None:
    for path, why in plan.refused:
        sys.stderr.write(f"tunelint: not fixed: {path}: {why}\n")


def _diff(report: Any, args: argparse.Namespace) -> int:
    """``--diff``: what ``--fix`` would write, changing nothing; 1 when there is a diff."""
    from tunelint.fix import plan_fixes
    from tunelint.fix.diff import unified_diff

    plan = plan_fixes(report, unsafe=args.unsafe_fixes)
    _refused(plan)
    text = unified_diff(plan.files)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if not args.quiet:
        files = len(plan.files)
        line = (
            f"Would fix {_plural(plan.fixed, 'finding')} in {_plural(files, 'file')}"
            if plan.files
            else "No fixes to apply"
        )
        if plan.held_back:
            line += f" ({plan.held_back} more with --unsafe-fixes)"
        sys.stderr.write(f"tunelint: {line}.\n")
    return EXIT_FINDINGS if plan.files else EXIT_OK


def _fix(report: Any, args: argparse.Namespace) -> tuple[int, int]:
    """``--fix``: write the fixed files; (findings fixed, files written)."""
    from tunelint.fix import plan_fixes, write_fixes

    plan = plan_fixes(report, unsafe=args.unsafe_fixes)
    _refused(plan)
    problems = dict(write_fixes(plan))
    for path, why in sorted(problems.items()):
        sys.stderr.write(f"tunelint: not fixed: {path}: {why}\n")
    written = [file for file in plan.files if file.path not in problems]
    return sum(len(file.fixed) for file in written), len(written)


def _render(
    report: Any, args: argparse.Namespace, stream: Any, fixed: tuple[int, int] | None = None
) -> str:
    from tunelint.report import render

    fmt = args.output_format
    options: dict[str, object] = {}
    if fmt in TEXT_STYLES:
        options = {
            "color": args.output is None and _use_color(args.color, stream),
            "show_suppressed": args.show_suppressed,
            "show_source": args.show_source,
            "quiet": args.quiet,
            "unsafe_fixes": args.unsafe_fixes,
            "fixed": fixed,
        }
    elif fmt == "sarif" and args.category:
        options = {"category": args.category}
    return render(report, fmt, **options)
