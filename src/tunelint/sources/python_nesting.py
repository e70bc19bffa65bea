"""How deeply a Python text nests, measured before libcst parses it.

The guard in front of the parser, shared by the Python source (``python``) and the fixes
(``fix/python.py``); a linear scan of the text that needs no parsing.
"""

from __future__ import annotations

import re

# libcst's native parser recurses without a stack guard: a few thousand nested brackets or
# operators crash the process, and its time grows with the square of a statement's nesting.
# So the text is measured first, by a linear scan, and refused beyond what Python itself
# accepts, beyond what one statement can nest, and beyond a budget for the whole file.
MAX_BRACKETS = 200  # CPython's own limit ("too many nested parentheses")
MAX_CHAIN = 1000  # operators, calls and brackets chained in one statement (over-counted)
MAX_NESTING_WORK = 2_000_000  # sum over statements of the squared chain: about 20 s of parsing
MAX_PIECES = 200_000  # brackets, operators, separators and strings: the parser needs ~5 KB each
# What the scan counts. Strings as "unrolled loops" with possessive repeats: linear time and
# constant memory even for a string of megabytes.
_PIECES = (
    r"(?P<string>(?P<prefix>[A-Za-z]{0,2})(?:"
    r"\'\'\'[^\'\\]*+(?:(?:\\.|\'(?!\'\'))[^\'\\]*+)*+\'\'\'"
    r"|\"\"\"[^\"\\]*+(?:(?:\\.|\"(?!\"\"))[^\"\\]*+)*+\"\"\""
    r"|'[^'\\\r\n]*+(?:\\.[^'\\\r\n]*+)*+'"
    r"|\"[^\"\\\r\n]*+(?:\\.[^\"\\\r\n]*+)*+\"))"
    r"|(?P<comment>#[^\r\n]*+)|(?P<join>\\(?:\r\n?|\n))|(?P<open>[(\[{])|(?P<close>[)\]}])"
    r"|(?P<reset>[,;]|\r\n?|\n)"
    r"|(?P<op>[-+*/%@&|^~<>.]|\b(?:not|and|or|if|else|lambda|await|yield|in|is)\b)"
)
# Runs that begin no piece (blanks, "=", ":", "!", names that are no word operator, all but the
# last two characters of a name before a quote, which may be a string's prefix) are passed
# over inside a match, and a character that begins nothing is matched alone as junk: the
# regular expression then tries each position once, not each alternative at every character
# of every name.
_INERT = (
    r"(?:[ \t=:!]++|(?!(?:not|and|or|if|else|lambda|await|yield|in|is)\b)"
    r"(?:\w++(?![\'\"])|\w+(?=\w\w[\'\"])))*+"
)
_SCAN = re.compile(rf"{_INERT}(?:{_PIECES}|(?P<junk>.|\Z))", re.DOTALL)


def _nesting_problem(text: str) -> str | None:
    """Why ``text`` nests too deeply for the parser to read safely, or None.

    Counts an upper bound of the syntax tree's depth per statement: open brackets, and
    operators, calls and attribute accesses chained within them (a comma or the end of a
    statement ends a chain). f-string contents are measured as code.
    """
    stack: list[int] = []
    chain = deepest = work = pieces = 0
    for match in _SCAN.finditer(text):
        group = match.lastgroup
        if group == "junk":
            continue
        if pieces > MAX_PIECES:
            return f"more than {MAX_PIECES} brackets, operators and strings, about 1 GB to parse"
        pieces += 1
        if group == "string":
            prefix = match.group("prefix")
            if "f" in prefix.lower():
                inner = _nesting_problem(match.group("string")[len(prefix) + 1 : -1])
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
            separator = match.group("reset")
            if separator in ",;" or not stack:
                chain = stack[-1] + 1 if stack else 0
            if not stack and separator != ",":  # the end of a statement
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
