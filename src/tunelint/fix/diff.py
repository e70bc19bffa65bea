"""``--diff``: what ``--fix`` would write, as a unified diff (``git apply`` reads it)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from tunelint.fix.plan import FileFix

NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(files: Iterable[FileFix]) -> str:
    """One diff per changed file, in path order, with ``a/`` and ``b/`` prefixes."""
    out: list[str] = []
    for file in sorted(files, key=lambda f: f.path):
        before = file.before_text.splitlines(keepends=True)
        after = file.after_text.splitlines(keepends=True)
        lines = difflib.unified_diff(before, after, f"a/{file.path}", f"b/{file.path}")
        for line in lines:
            if line.endswith("\n"):
                out.append(line)
            else:  # the file's last line has no line break
                out.append(line + "\n" + NO_NEWLINE)
    return "".join(out)
