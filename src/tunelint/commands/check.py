"""``tunelint check``: lint paths against the policy and report."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from tunelint.commands import EXIT_FINDINGS, EXIT_NOTHING, EXIT_OK, EXIT_USAGE
from tunelint.findings import Severity

FORMATS = ("text", "json", "sarif", "github", "checklist")


def _codes(raw: list[str] | None) -> list[str]:
    return [code.strip() for item in raw or [] for code in item.split(",") if code.strip()]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check", help="check files and directories (default: .)", description=__doc__
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    parser.add_argument("--output", "-o", type=Path, help="write the report to this file")
    parser.add_argument("--select", action="append", help="only these rule ids, prefixes or names")
    parser.add_argument("--ignore", action="append", help="skip these rule ids, prefixes or names")
    parser.add_argument(
        "--fail-on",
        choices=[s.label for s in Severity],
        help="lowest severity that makes the exit code 1 (default: policy, else medium)",
    )
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="exit 0, not 3, when nothing is left to check (pre-commit on excluded files)",
    )
    parser.add_argument("--policy", type=Path, help="policy file (default: nearest tunelint.yaml)")
    parser.add_argument("--vram", help="GPU memory budget per device, e.g. 24GiB")
    parser.add_argument("--gpu", help="GPU profile for the budget, e.g. rtx-4090")
    parser.add_argument("--baseline", type=Path, help="hide findings recorded in this baseline")
    parser.add_argument("--write-baseline", type=Path, help="record current findings and exit 0")
    parser.add_argument("--category", help="SARIF automationDetails category (one per workflow)")
    parser.add_argument("--statistics", action="store_true", help="count findings per rule")
    parser.add_argument("--show-suppressed", action="store_true", help="list suppressed findings")
    parser.add_argument("--jobs", "-j", type=int, default=0, help="worker processes (0: all cores)")
    parser.add_argument("--no-cache", action="store_true", help="ignore .tunelint_cache")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
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
    )
    try:
        report = lint(args.paths or ["."], options)
    except ConfigurationError as error:
        sys.stderr.write(f"tunelint: configuration error:\n{error}\n")
        return EXIT_USAGE
    if args.write_baseline is not None:
        from tunelint.suppress import write_baseline

        write_baseline(args.write_baseline, report.active)
        sys.stderr.write(
            f"tunelint: wrote {len(report.active)} findings to baseline {args.write_baseline}\n"
        )
        return EXIT_OK
    from tunelint.report import render

    stream = sys.stdout
    render_options: dict[str, object] = {}
    if args.format == "text":
        render_options = {
            "color": args.output is None and _use_color(args.color, stream),
            "show_suppressed": args.show_suppressed,
        }
    elif args.format == "sarif" and args.category:
        render_options = {"category": args.category}
    text = _statistics(report) if args.statistics else render(report, args.format, **render_options)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    else:
        stream.write(text)
        stream.flush()
    if not report.files_checked and not args.allow_empty:
        if args.format == "text" or args.output is not None:
            sys.stderr.write("tunelint: nothing to check\n")
        return EXIT_NOTHING
    if report.failing() and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_OK
