"""The shell word scanner passes over runs of plain characters at once; it must split every
line exactly as the character-by-character scanner it replaced (kept here as the reference)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tunelint.sources.shellwords import _ARRAY, _OPERATORS, Word, commands, skip_group

ALPHABET = list(" \t\n&|;()\\'\"$={}`ab=-_./<>x12#*")


def reference_commands(code: str) -> list[list[Word]]:
    """The scanner as first written: one character per turn of the loop."""
    found: list[list[Word]] = []
    words: list[Word] = []
    start, index, quote = -1, 0, ""

    def close_word(end: int) -> None:
        nonlocal start
        if start >= 0:
            words.append(Word(code[start:end], start, end))
            start = -1

    while index < len(code):
        char = code[index]
        if quote:
            if char == "\\" and quote == '"':
                index += 1
            elif char == quote:
                quote = ""
            index += 1
            continue
        if char in " \t\n":
            close_word(index)
            index += 1
            continue
        operator = next((op for op in _OPERATORS if code.startswith(op, index)), "")
        redirect = operator in {"&", "|&"} and (
            code[index - 1 : index] in {">", "<"} or code[index + 1 : index + 2] == ">"
        )
        if operator and not redirect and not (operator == "(" and code[index - 1 : index] == "$"):
            close_word(index)
            if words:
                found.append(words)
                words = []
            index += len(operator)
            continue
        if start < 0:
            start = index
        if char == "\\":
            index += 2
        elif char in "'\"":
            quote = char
            index += 1
        elif char == "$" and code[index + 1 : index + 2] in {"(", "{"}:
            opening = code[index + 1]
            index = skip_group(code, index + 1, opening, ")" if opening == "(" else "}")
        elif (
            char == "="
            and code[index + 1 : index + 2] == "("
            and _ARRAY.fullmatch(code[start:index])
        ):
            index = skip_group(code, index + 1, "(", ")")  # `ARGS=( ... )`: one word
        elif char == "`":
            end = code.find("`", index + 1)
            index = len(code) if end < 0 else end + 1
        else:
            index += 1
    close_word(len(code))
    if words:
        found.append(words)
    return found


def _shape(found: list[list[Word]]) -> list[list[tuple[str, int, int]]]:
    return [[(word.raw, word.start, word.end) for word in command] for command in found]


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_the_fast_scanner_splits_as_the_reference(code: str) -> None:
    assert _shape(commands(code)) == _shape(reference_commands(code))


def test_launch_lines_split_as_the_reference() -> None:
    lines = [
        'accelerate launch --config_file "a b.yaml" train.py --lr 1e-4 && echo "done; ok"',
        'ARGS=( --model org/x --bf16 ) ; python train.py "${ARGS[@]}" 2>&1 | tee log',
        "torchrun --nproc_per_node=$(nvidia-smi -L | wc -l) train.py > out.log 2>&1 &",
        "python -c 'print(\"a;b\")' || exit 1",
        "echo `date` ; deepspeed train.py --deepspeed ds.json",
    ]
    for line in lines:
        assert _shape(commands(line)) == _shape(reference_commands(line))
        assert commands(line), line
