"""Hypothesis profiles for the hostile-input tests.

``ci`` (the default) runs a fixed, derandomized number of examples so the suite stays
bounded and repeatable; ``long`` runs many random examples for a deliberate search:

    HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/test_fuzz_sources.py

Tests with their own ``@settings(max_examples=...)`` keep their count in every profile.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_QUIET,
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=_QUIET,
    print_blob=True,
)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
