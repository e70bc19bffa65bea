"""The quick policy check says "valid" only where jsonschema agrees, and takes the fast path
for the policies people write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tunelint.policy import policy_schema
from tunelint.subset_schema import plainly_valid

SCHEMA = policy_schema()
VALIDATOR = Draft202012Validator(SCHEMA)
ROOT = Path(__file__).parents[1]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200),
    st.floats(-1, 100, allow_nan=False),
    st.sampled_from(["rtx-4090", "24GiB", "medium", "off", "TL104", "eu-west-1", "x", ""]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                ["gpus", "vram", "severity", "enabled", "max_temperature_c", "exclude"]
            ),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=8,
)
policies = st.dictionaries(
    st.sampled_from(
        [
            "version",
            "extends",
            "hardware",
            "rules",
            "paths",
            "fail_on",
            "residency",
            "cost",
            "limits",
        ]
    ),
    values,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(policies)
def test_never_valid_where_jsonschema_finds_an_error(document: dict[str, Any]) -> None:
    if plainly_valid(document, SCHEMA):
        assert list(VALIDATOR.iter_errors(document)) == [], document


def test_the_policies_people_write_take_the_fast_path() -> None:
    documents = [
        {"version": 1},
        yaml.safe_load((ROOT / "examples" / "tunelint.yaml").read_text()),
        yaml.safe_load((ROOT / "src" / "tunelint" / "presets" / "recommended.yaml").read_text()),
        yaml.safe_load((ROOT / "src" / "tunelint" / "presets" / "strict.yaml").read_text()),
    ]
    for document in documents:
        assert not list(VALIDATOR.iter_errors(document))
        assert plainly_valid(document, SCHEMA), document


def test_an_invalid_policy_is_left_to_jsonschema() -> None:
    assert not plainly_valid({"version": 1, "fail_on": "hgh"}, SCHEMA)
    assert not plainly_valid({"hardware": {"max_temperature_c": "hot"}}, SCHEMA)
    assert not plainly_valid({"nonsense": True}, SCHEMA)
