"""Command line: argument parsing only. Each subcommand lives in ``tunelint.commands``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from tunelint import __version__
from tunelint.commands import EXIT_OK, EXIT_USAGE

# Subcommand modules, imported only when present so a slim install still starts.
COMMANDS = ("check", "rules", "explain", "estimate", "gpu", "policy", "guard")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"tunelint: error: {message}\n")
        raise SystemExit(EXIT_USAGE)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        """A value outside the choices names the closest one: ``--fail-on hgh``."""
        choices = action.choices
        if choices is None or value in choices:
            return
        from tunelint.hints import did_you_mean

        names = [str(choice) for choice in choices]
        message = (
            f"invalid choice: {value!r}{did_you_mean(str(value), names)}; "
            f"choose from {', '.join(names)}"
        )
        raise argparse.ArgumentError(action, message)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or (``only``) one subcommand's: importing every command module
    would cost each pre-commit call the start-up of commands it does not run."""
    parser = _Parser(
        prog="tunelint",
        description="Policy-as-code compliance linter for ML fine-tuning jobs.",
        epilog="Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or "
        "configuration error, 3 nothing to check.",
    )
    parser.add_argument("--version", action="version", version=f"tunelint {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in (only,) if only in COMMANDS else COMMANDS:
        try:
            module = importlib.import_module(f"tunelint.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"tunelint.commands.{name}":
                continue
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments and not arguments[0].startswith("-") else None
    parser = build_parser(only=command)
    args = parser.parse_args(arguments)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        sys.stderr.write("tunelint: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # a bug in tunelint: say so plainly, traceback on request
        if os.environ.get("TUNELINT_DEBUG"):
            raise
        sys.stderr.write(
            f"tunelint: internal error: {type(error).__name__}: {error}\n"
            "This is a bug in tunelint; rerun with TUNELINT_DEBUG=1 for the traceback.\n"
        )
        return EXIT_USAGE
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
