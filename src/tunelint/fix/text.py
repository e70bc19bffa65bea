"""Text as the fix stage edits it: decoded once, edited by offsets, encoded back the same way.

A file is decoded the way ``tunelint.sources.read`` decodes it (UTF-8 with or without a
byte-order mark, UTF-16 with one), and encoded back with the same codec and mark, so a fix
changes only the characters it means to. Edits are character offsets into the decoded text;
``minimal_edits`` recovers them from a before and after text, and ``edit_spans`` turns them
into the line/column spans reports carry (1-based, end inclusive).
"""

from __future__ import annotations

import difflib
from bisect import bisect_right
from dataclasses import dataclass

from tunelint.facts import Span
from tunelint.findings import Edit

UTF8_BOM = b"\xef\xbb\xbf"
_NEWLINES = "\r\n"


@dataclass(frozen=True, slots=True)
class Encoded:
    """How a file's bytes became text, so the fixed text becomes bytes the same way."""

    codec: str  # "utf-8" | "utf-16-le" | "utf-16-be"
    bom: bytes = b""

    def encode(self, text: str) -> bytes:
        return self.bom + text.encode(self.codec)


def decode(data: bytes) -> tuple[str, Encoded] | None:
    """The text and its encoding, or None for bytes that are not text tunelint reads."""
    if data.startswith(b"\xff\xfe"):
        codec, bom = "utf-16-le", b"\xff\xfe"
    elif data.startswith(b"\xfe\xff"):
        codec, bom = "utf-16-be", b"\xfe\xff"
    elif data.startswith(UTF8_BOM):
        codec, bom = "utf-8", UTF8_BOM
    else:
        codec, bom = "utf-8", b""
    body = data[len(bom) :]
    if codec == "utf-8" and b"\x00" in body[:8192]:
        return None
    try:
        return body.decode(codec), Encoded(codec, bom)
    except UnicodeDecodeError:
        return None


def newline_of(text: str) -> str:
    """The file's line ending: that of its first line (``\\n`` for a one-line file)."""
    index = text.find("\n")
    if index > 0 and text[index - 1] == "\r":
        return "\r\n"
    return "\n"


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace ``text[start:end]`` with ``replacement``."""

    start: int
    end: int
    replacement: str


class Lines:
    """Offsets of line starts: converts between offsets and 1-based lines, 0-based columns."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self.starts.extend(index + 1 for index, char in enumerate(text) if char == "\n")

    def offset(self, line: int, column: int) -> int | None:
        """Offset of 1-based ``line`` and 0-based ``column``; None when outside the text."""
        if not 1 <= line <= len(self.starts) or column < 0:
            return None
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        if start + column > end:
            return None
        return start + column

    def position(self, offset: int) -> tuple[int, int]:
        """(1-based line, 0-based column) of an offset."""
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1]

    def line_text(self, line: int) -> str:
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip(_NEWLINES)


def apply_edits(text: str, edits: list[TextEdit]) -> str:
    """``text`` with non-overlapping ``edits`` applied."""
    out: list[str] = []
    cursor = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < cursor:
            raise ValueError("overlapping edits")
        out.append(text[cursor : edit.start])
        out.append(edit.replacement)
        cursor = edit.end
    out.append(text[cursor:])
    return "".join(out)


def minimal_edits(old: str, new: str) -> list[TextEdit]:
    """Edits that turn ``old`` into ``new``: changed lines found by a line diff, then each
    change trimmed to the characters that differ (common tail first, so a removed line is
    the line break before it plus the line, not the line plus its own break)."""
    if old == new:
        return []
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    old_starts = _starts(old_lines)
    new_starts = _starts(new_lines)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    edits: list[TextEdit] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start, end = old_starts[i1], old_starts[i2]
        replacement = new[new_starts[j1] : new_starts[j2]]
        edits.append(_trim(old, start, end, replacement))
    return edits


def _starts(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def _trim(old: str, start: int, end: int, replacement: str) -> TextEdit:
    removed = old[start:end]
    tail = 0
    limit = min(len(removed), len(replacement))
    while tail < limit and removed[-1 - tail] == replacement[-1 - tail]:
        tail += 1
    removed, replacement = removed[: len(removed) - tail], replacement[: len(replacement) - tail]
    head = 0
    limit = min(len(removed), len(replacement))
    while head < limit and removed[head] == replacement[head]:
        head += 1
    return TextEdit(start + head, end - tail, replacement[head:])


def map_offset(edits: list[TextEdit], offset: int, *, after_insert: bool = True) -> int | None:
    """Where ``offset`` of the text before ``edits`` lies in the text after them; None when
    an edit replaced the character there. Text inserted exactly at ``offset`` lies before it
    when ``after_insert`` (the character moved down), else after it."""
    shift = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start == edit.end == offset:
            if after_insert:
                shift += len(edit.replacement)
            continue
        if offset < edit.start or (offset == edit.start and edit.start == edit.end):
            break
        if offset < edit.end:
            return None
        shift += len(edit.replacement) - (edit.end - edit.start)
    return offset + shift


def edit_spans(path: str, text: str, edits: list[TextEdit]) -> tuple[Edit, ...] | None:
    """The edits as report spans (1-based, end inclusive), each widened so that it covers at
    least one character and does not end on a line break (which an inclusive column cannot
    name); None when an edit cannot be so widened (an insertion among trailing blank lines)."""
    lines = Lines(text)
    spans: list[Edit] = []
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        widened = _widen(text, edit)
        if widened is None:
            return None
        line, column = lines.position(widened.start)
        end_line, end_column = lines.position(widened.end - 1)
        span = Span(path, line, column + 1, end_line, end_column + 1)
        spans.append(Edit(span, widened.replacement))
    return tuple(spans)


def _widen(text: str, edit: TextEdit) -> TextEdit | None:
    start, end, replacement = edit.start, edit.end, edit.replacement
    forward_end, forward_replacement = end, replacement
    while forward_end < len(text) and (forward_end == start or text[forward_end - 1] in _NEWLINES):
        forward_replacement += text[forward_end]
        forward_end += 1
    if forward_end > start and text[forward_end - 1] not in _NEWLINES:
        return TextEdit(start, forward_end, forward_replacement)
    # only line breaks follow: slide the edit left over equal characters (the same result),
    # or take in the character before an insertion
    while start > 0 and (end == start or text[end - 1] in _NEWLINES):
        if end > start and not replacement and text[start - 1] == text[end - 1]:
            start, end = start - 1, end - 1
        elif end == start and replacement and replacement[-1] == text[start - 1]:
            replacement = text[start - 1] + replacement[:-1]
            start, end = start - 1, end - 1
        elif end == start:
            start -= 1
            replacement = text[start] + replacement
        else:
            return None
    if end > start and text[end - 1] not in _NEWLINES:
        return TextEdit(start, end, replacement)
    return None
