"""Python source: the nesting bound reads every text as its first, simpler scan did.

``_nesting_problem`` guards libcst's parser (which recurses without a stack guard) and is
tuned for speed: runs that begin nothing are passed over inside a match. The straight
scan it replaced is kept here as the reference; both must give the same answer for any
text, hostile ones included.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tunelint.sources.python_nesting import (
    MAX_BRACKETS,
    MAX_CHAIN,
    MAX_NESTING_WORK,
    MAX_PIECES,
    _nesting_problem,
)

REPO = Path(__file__).resolve().parents[1]

_REFERENCE_SCAN = re.compile(
    # strings as "unrolled loops" with possessive repeats: linear time and constant memory
    # even for a string of megabytes
    r"(?P<string>(?P<prefix>[A-Za-z]{0,2})(?:"
    r"\'\'\'[^\'\\]*+(?:(?:\\.|\'(?!\'\'))[^\'\\]*+)*+\'\'\'"
    r"|\"\"\"[^\"\\]*+(?:(?:\\.|\"(?!\"\"))[^\"\\]*+)*+\"\"\""
    r"|'[^'\\\r\n]*+(?:\\.[^'\\\r\n]*+)*+'"
    r"|\"[^\"\\\r\n]*+(?:\\.[^\"\\\r\n]*+)*+\"))"
    r"|(?P<comment>#[^\r\n]*+)|(?P<join>\\(?:\r\n?|\n))|(?P<open>[(\[{])|(?P<close>[)\]}])"
    r"|(?P<reset>[,;]|\r\n?|\n)"
    r"|(?P<op>[-+*/%@&|^~<>.]|\b(?:not|and|or|if|else|lambda|await|yield|in|is)\b)",
    re.DOTALL,
)


def reference_nesting_problem(text: str) -> str | None:
    """The scan as first written: one match per piece, every alternative at every character.

    Counts an upper bound of the syntax tree's depth per statement: open brackets, and
    operators, calls and attribute accesses chained within them (a comma or the end of a
    statement ends a chain). f-string contents are measured as code.
    """
    stack: list[int] = []
    chain = deepest = work = 0
    for pieces, match in enumerate(_REFERENCE_SCAN.finditer(text)):
        if pieces > MAX_PIECES:
            return f"more than {MAX_PIECES} brackets, operators and strings, about 1 GB to parse"
        group = match.lastgroup
        if group == "string":
            if "f" in match.group("prefix").lower():
                body = match.group(0)[len(match.group("prefix")) + 1 : -1]
                inner = reference_nesting_problem(body)
                if inner is not None:
                    return inner
            continue
        if group == "open":
            stack.append(chain)
            chain += 1
            if len(stack) > MAX_BRACKETS:
                return f"more than {MAX_BRACKETS} nested brackets, the most Python accepts"
        elif group == "close":
            chain = stack.pop() + 1 if stack else chain
        elif group == "reset":
            if match.group(0) in ",;" or not stack:
                chain = stack[-1] + 1 if stack else 0
            if not stack and match.group(0) != ",":  # the end of a statement
                work += deepest * deepest
                deepest = 0
                if work > MAX_NESTING_WORK:
                    return "more nesting in all than the parser reads in bounded time"
        elif group == "op":
            chain += 1
        if chain > deepest:
            deepest = chain
            if chain > MAX_CHAIN:
                return f"more than {MAX_CHAIN} operators, calls or brackets nested in one statement"
    if work + deepest * deepest > MAX_NESTING_WORK:
        return "more nesting in all than the parser reads in bounded time"
    return None


# Text made of what the scan reacts to: brackets, separators, operators (word ones too),
# string prefixes and quotes, comments, continuations, names, blanks.
PIECES = [*"()[]{},;.+-*/%@&|^~<>=:!#\\'\"\n\r\t ", "rb", "f", "F", "x", "_", "1", "é"]
PIECES += ["not", "and", "or", "if", "else", "lambda", "await", "yield", "in", "is"]
PIECES += ["'''", '"""', "f'{", "}'", "\\\n", "\r\n", "abc", "notx", "xif", "    "]
texts = st.lists(st.sampled_from(PIECES), max_size=400).map("".join)


def _samples() -> list[Path]:
    found = [*(REPO / "src").rglob("*.py"), *(REPO / "tests" / "fixtures").rglob("*.py")]
    return sorted(found)


@pytest.mark.parametrize("path", _samples(), ids=lambda path: path.name)
def test_the_bound_reads_source_files_as_before(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    assert _nesting_problem(text) == reference_nesting_problem(text)


DEEP = [
    "x = " + "(" * (MAX_BRACKETS + 1) + ")" * (MAX_BRACKETS + 1) + "\n",
    "x = " + "-" * (MAX_CHAIN + 1) + "1\n",
    "x = f" + "()" * (MAX_CHAIN + 1) + "\n",
    ("x = " + "[" * 150 + "]" * 150 + "\n") * (MAX_NESTING_WORK // 150 // 150 + 2),
    "y = 2;" * (MAX_PIECES + 2) + "\n",
    "x = f'{" + "[" * 300 + "]" * 300 + "}'\n",
    "abc" * 10_000 + "'",
    " " * 100_000 + "$",
    "xf'" + "(" * 300 + "'",
]


@pytest.mark.parametrize("text", DEEP, ids=[str(i) for i in range(len(DEEP))])
def test_the_bound_refuses_what_it_refused(text: str) -> None:
    assert _nesting_problem(text) == reference_nesting_problem(text)


@given(texts)
@example("x = a if'b' else c\n")
@example("notx'(((' + y\n")
@example("xfb'{((('\n")
@example('abc"(((\n')
def test_the_bound_reads_any_text_as_before(text: str) -> None:
    assert _nesting_problem(text) == reference_nesting_problem(text)
