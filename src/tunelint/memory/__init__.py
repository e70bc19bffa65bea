"""Training-memory estimator, GPU profiles and NVML detection (all offline).

Names are loaded on first use: importing ``tunelint.memory.gpus`` to check a GPU name must
not pay for the estimator.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "Estimate": "tunelint.memory.estimate",
    "TrainingSetup": "tunelint.memory.estimate",
    "estimate": "tunelint.memory.estimate",
    "ModelInfo": "tunelint.memory.models",
    "UnknownModelError": "tunelint.memory.models",
    "resolve_model": "tunelint.memory.models",
    "estimate_from_settings": "tunelint.memory.settings",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
