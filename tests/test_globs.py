"""``matches_any`` answers as ``fnmatch.fnmatchcase`` over each pattern would."""

from __future__ import annotations

from fnmatch import fnmatchcase

from hypothesis import given
from hypothesis import strategies as st

from tunelint.globs import matches_any

NAME = st.text(alphabet="abcT._*?[]!\n", max_size=12)


@given(NAME, st.lists(NAME, max_size=4))
def test_matches_any_is_fnmatchcase_over_the_patterns(name: str, patterns: list[str]) -> None:
    expected = any(fnmatchcase(name, pattern) for pattern in patterns)
    assert matches_any(name, tuple(patterns)) is expected


def test_dotted_names() -> None:
    loaders = ("transformers.*.from_pretrained", "peft.*.from_pretrained")
    assert matches_any("transformers.AutoModelForCausalLM.from_pretrained", loaders)
    assert not matches_any("transformers.from_pretrained_x", loaders)
    assert not matches_any("anything", ())
