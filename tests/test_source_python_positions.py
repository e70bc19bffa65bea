"""Python source: positions read from the text are libcst's own, or libcst's are used.

Each case is extracted twice: as usual (positions from the source text, ``python_tokens``)
and with libcst's ``PositionProvider`` for the whole module. The facts must be identical,
spans and code text included. Cases the text cannot place must fall back, never guess.
"""

from __future__ import annotations

import ast
import gc
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from unittest.mock import patch

import libcst
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tunelint.facts import FileFacts
from tunelint.sources.python import extract_python
from tunelint.sources.python_positions import Spans, Unmapped
from tunelint.sources.python_values import _plain_string

CASES: dict[str, str] = {
    "fstrings_with_calls": """
        import os
        where = f"{os.getcwd()} and {len(items):>{width}}"
        print(f"{name!r}", f'{ {"k": load(1)}["k"] }', f"{f'{inner(2)}'}")
        log(f"done {step(3)}", rf"\\d{pattern()}")
    """,
    "soft_keywords_as_names": """
        import re
        match = re.match(pattern, text)
        case = parse(match)
        type = "causal"
        _ = run(match, case, type, _)
    """,
    "match_statement": """
        match command:
            case ["go", *_]:
                run(command)
            case {"k": value, **rest}:
                handle(value, rest)
            case Point(x=0) as point if point.ok():
                move(point)
            case None | True:
                nothing()
            case _:
                fallback()
    """,
    "non_ascii_identifiers": """
        größe = laden("äöü")
        π = rechne(3.14, größe)
        print(größe, π, "日本語", 名前(1))
    """,
    "line_continuations": """
        total = compute(1) + \\
            other(2)
        joined = "a" \\
            "b"
        call(first, \\
             second)
    """,
    "tabs": "def train():\n\tif ready:\n\t\treturn fit(\t1,\t'a'\t)\n\tfit(b=[\n\t\t2,\n\t])\n",
    "decorators": """
        @app.route("/x", methods=["GET"])
        @other
        @third(lambda: [])
        def view():
            return render("t")
    """,
    "nested_calls": """
        f(x)(y)
        f(g(h(1)))(2)[0](3)
        load(path)["model"].to(device)(input)
    """,
    "calls_on_literals": """
        "a".join(items)
        b"x".decode("utf-8")
        ("a" "b").upper()
        [1, 2].count(1)
        {"a": 1}.get("a")
        (1, 2).index(2)
    """,
    "values_with_no_leaf_at_their_start": """
        f([], {}, (), ..., lambda: [], *[], **{})
        x = []
        y = {}
        z = ()
        w = ...
        run(a, key=[], other={}, default=(), rest=( ))
        g(x or [], y if z else {}, [[], ()], {(): [], "k": {}})
        h(lambda: {}, lambda x, y=[]: (), lambda *a, **k: ...)
        check(value in (), value not in [], [i for i in ()], x[...], x[(), 1])
    """,
    "parentheses_and_trailing_commas": """
        f((a), ((b)), (1,), (c, d,), e,)
        x = (1, 2, )
        y = 1,
        z = ("only")
        g(( "spaced" ), ( 1 , ))
    """,
    "comments_inside_calls": """
        f(  # first
            a,  # a
            # between
            b=2,
        )
        g(
            # leading
            "x",
        )
    """,
    "operators": """
        f(-1, not x, ~y, +z, a if b else [], a or [], b and {})
        g(x := 5, a < b, a not in c, a is not d, *args, **kw)
        h(a @ b, a // b, a ** -b, (yield_ := 1))
    """,
    "conditional_values": """
        device_map = None
        if q:
            device_map = {"": rank} if ddp else []
        load(device_map, ([] if a else {}), x=(b if c else ["auto"]))
        kept = [] if a else (
            {} if b else "auto"
        )
        load(kept)
    """,
    "comprehensions_and_subscripts": """
        f([i for i in range(3) if i], {k: v for k, v in pairs}, x[1:2], x[::3])
        g({i for i in ()}, (i for i in []), x[a, b], x[a:b, c], x[*rest])
        h(i for i in items if keep(i))
    """,
    "strings": '''
        f("""multi
        line""", r"raw\\d", b"bytes", 'it''s', "a" 'b' f"{c}", u"x")
        text = """
          indented
        """
        g("tab\\tescape", "\\N{DASH}", "quote\\"d", 'cr\\r')
    ''',
    "crlf": (
        "import torch\r\nmodel = torch.load(\r\n    'x.pt',\r\n    map_location='cpu',\r\n)\r\n"
        "x = f(1,\r\n      [])\r\n"
    ),
    "async_and_yield": """
        async def g():
            await f(await x, [])
            y = yield
            z = yield from []
            async with open_session() as session:
                await session.get(url)
    """,
    "multi_line_values_in_blocks": """
        class Job:
            def train(self):
                model = Trainer(
                    args=dict(
                        lr=1e-5,
                        steps=[
                            1,
                        ],
                    ),
                    callbacks=[make(  # note
                        2)],
                )
    """,
    "assignments": """
        import os
        os.environ["KEY"] = "v"
        os.environ[name] = other
        self.path: str = "/data/x.jsonl"
        a = b = "same"
        (c) = 1
        lr: float = -0.5
    """,
    "argparse_and_dataclasses": """
        import argparse
        from dataclasses import dataclass, field
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=1e-4)
        parser.add_argument("--steps", default=[], action="append")
        @dataclass
        class Args:
            model: str = field(default="gpt2")
            layers: list = field(default_factory=lambda: [])
            batch: int = 8
    """,
}
# Cases the text cannot place: positions must come from libcst, facts all the same.
FALLBACK_CASES: dict[str, str] = {
    # a combining mark: part of a name for Python, not a word character for the scan
    "combining_mark_in_a_name": "cafe\u0301 = load(1)\nprint(cafe\u0301)\n",
    "expression_statement_with_no_leaf_first": "{}.update(x)\n",
    "suppression_comment": "import torch\ntorch.load(p)  # tunelint: ignore[TL403]\n",
}


@contextmanager
def _positions_from_libcst() -> Iterator[None]:
    def refuse(self: Spans, walk: object) -> None:
        raise Unmapped("positions from libcst, for comparison")

    with patch.object(Spans, "use_tokens", refuse):
        yield


def read_both(text: str) -> tuple[FileFacts, FileFacts, bool]:
    """Facts as usual, facts with libcst's positions, and whether the first used the text."""
    fell_back: list[bool] = []
    use_libcst = Spans.use_libcst

    def spy(self: Spans) -> None:
        fell_back.append(True)
        use_libcst(self)

    with patch.object(Spans, "use_libcst", spy):
        usual = extract_python(text, "script.py")
    with _positions_from_libcst():
        reference = extract_python(text, "script.py")
    return usual, reference, not fell_back


def _text(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


@pytest.mark.parametrize("name", sorted(CASES))
def test_positions_from_the_text_are_libcsts(name: str) -> None:
    usual, reference, from_text = read_both(_text(CASES[name]))
    assert not usual.diagnostics, usual.diagnostics
    assert usual.calls or usual.assignments
    assert from_text, "the text should place every node of this case"
    assert usual == reference


@pytest.mark.parametrize("name", sorted(FALLBACK_CASES))
def test_what_the_text_cannot_place_comes_from_libcst(name: str) -> None:
    usual, reference, from_text = read_both(FALLBACK_CASES[name])
    assert not usual.diagnostics, usual.diagnostics
    assert not from_text
    assert usual == reference


def test_positions_inside_an_fstring_point_into_it() -> None:
    facts = extract_python('x = f"a {load(path)} b"\n', "script.py")
    [call] = facts.calls
    assert (call.span.line, call.span.column, call.span.end_column) == (1, 10, 19)
    assert call.args[0].text == "path"


def test_cells_of_a_notebook_map_positions_from_the_text() -> None:
    text = "import torch\ntorch.load('a.pt')\nx = 1\ntorch.load(\n    'b.pt')\n"
    cells = [(1, 1, 5), (1, 2, 6), (2, 1, 9), (2, 2, 10), (2, 3, 11)]
    usual = extract_python(text, "nb.ipynb", line_cells=cells)
    with _positions_from_libcst():
        reference = extract_python(text, "nb.ipynb", line_cells=cells)
    assert usual == reference
    second = usual.calls[1]
    assert (second.span.cell, second.span.line, second.span.end_line) == (2, 2, 3)


def test_a_long_string_concatenation_is_placed_without_recursion() -> None:
    text = "table = decode(" + " ".join(f"'\\x{i:02x}'" for i in range(256)) + ")\n"
    usual, reference, from_text = read_both(text)
    assert from_text and not usual.diagnostics
    assert usual == reference


def test_extraction_leaves_no_reference_cycle_holding_the_tree() -> None:
    """A cycle would keep each parsed tree alive until the cycle collector ran."""
    parsed: list[libcst.Module] = []
    parse = libcst.parse_module

    def keep(source: str) -> libcst.Module:
        parsed.append(parse(source))
        return parsed[-1]

    enabled = gc.isenabled()
    gc.disable()
    try:
        with patch.object(libcst, "parse_module", keep):
            extract_python(_text(CASES["argparse_and_dataclasses"]), "script.py")
        holders = sys.getrefcount(parsed[0]) - 1  # less getrefcount's own argument
    finally:
        if enabled:
            gc.enable()
    assert holders == 1  # the list above: nothing of the extraction is left holding it


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_plain_string_literals_read_as_python_reads_them(value: str) -> None:
    for literal in {repr(value), '"""' + value.replace('"', "'") + ' """', "r" + repr(value)}:
        try:
            expected = ast.literal_eval(literal)
        except (SyntaxError, ValueError):
            continue
        plain = _plain_string(literal)
        if plain is not None:
            assert plain == expected, literal


@pytest.mark.parametrize(
    "text",
    [
        "import torch\nx = 1" + " + 1" * 500 + "\ntorch.load(x)\n",
        "import torch\ntorch.load(" + "f(" * 190 + "1" + ")" * 190 + ")\n",
        "import torch\nx = a" + ".b" * 900 + "\ntorch.load(x)\n",
    ],
    ids=["operators", "calls", "attributes"],
)
def test_a_statement_deeper_than_recursion_reaches_is_still_read(text: str) -> None:
    """The walk keeps its own stack: nesting under the parser's bounds is read, not refused."""
    facts = extract_python(text, "script.py")
    assert not facts.diagnostics, facts.diagnostics
    assert "torch.load" in {call.name for call in facts.calls}
