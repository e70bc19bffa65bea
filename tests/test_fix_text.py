"""The text layer of the fix stage: edits recovered from two texts apply back exactly, the
report spans made of them apply back exactly, offsets move through edits, and files are
decoded and encoded back with their own codec and byte-order mark."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tunelint.fix.text import (
    Lines,
    TextEdit,
    apply_edits,
    decode,
    edit_spans,
    map_offset,
    minimal_edits,
    newline_of,
)

TEXTS = st.text(alphabet="ab \n\r#:-é", max_size=40)


def apply_spans(text: str, spans: tuple[object, ...]) -> str:
    lines = Lines(text)
    edits = []
    for edit in spans:
        span = edit.span  # type: ignore[attr-defined]
        start = lines.offset(span.line, span.column - 1)
        last = lines.offset(span.end_line, span.end_column - 1)
        assert start is not None and last is not None
        assert text[last] not in "\r\n", "an inclusive end on a line break"
        edits.append(TextEdit(start, last + 1, edit.replacement))  # type: ignore[attr-defined]
    return apply_edits(text, edits)


@given(TEXTS, TEXTS)
def test_minimal_edits_turn_one_text_into_the_other(old: str, new: str) -> None:
    edits = minimal_edits(old, new)
    assert apply_edits(old, edits) == new
    assert (edits == []) == (old == new)


@given(TEXTS, TEXTS)
def test_report_spans_apply_back_exactly(old: str, new: str) -> None:
    spans = edit_spans("f", old, minimal_edits(old, new))
    if spans is not None:
        assert apply_spans(old, spans) == new


def test_spans_widen_over_line_breaks_and_insertions() -> None:
    old = "report_to:\n  - mlflow\n  - wandb\n"
    spans = edit_spans("f", old, minimal_edits(old, "report_to:\n  - mlflow\n"))
    assert spans is not None and apply_spans(old, spans) == "report_to:\n  - mlflow\n"
    (edit,) = spans
    assert (edit.span.line, edit.span.end_line, edit.span.end_column) == (2, 3, 9)
    old = "import x\ny = 1\n"
    spans = edit_spans("f", old, minimal_edits(old, "import x\nfrom a import b\ny = 1\n"))
    assert spans is not None and spans[0].replacement == "from a import b\ny"
    # only blank lines after an insertion at the very end: no inclusive span can say it
    assert edit_spans("f", "a\n\n", minimal_edits("a\n\n", "a\n\nb\n")) is None


def test_offsets_move_through_edits() -> None:
    edits = [TextEdit(0, 0, "ab\n"), TextEdit(5, 7, "z")]
    assert map_offset(edits, 0) == 3  # the character moved down
    assert map_offset(edits, 0, after_insert=False) == 0
    assert map_offset(edits, 6) is None  # replaced
    assert map_offset(edits, 9) == 9 + 3 - 1


def test_decoding_keeps_the_codec_and_mark() -> None:
    for data in (
        b"\xef\xbb\xbfa: 1\r\n",
        "a: é\n".encode("utf-16-le"),
        b"\xff\xfe" + "a: é\n".encode("utf-16-le"),
        b"\xfe\xff" + "a: é\n".encode("utf-16-be"),
        b"plain\n",
    ):
        decoded = decode(data)
        if data.startswith(b"a\x00"):  # UTF-16 without a mark is not text tunelint reads
            assert decoded is None
            continue
        assert decoded is not None
        text, encoded = decoded
        assert not text.startswith("\ufeff")
        assert encoded.encode(text) == data
    assert decode(b"\xff\xfe\x00\xd8") is None  # a lone surrogate
    assert newline_of("a\r\nb\n") == "\r\n" and newline_of("a") == "\n"
