"""Training-memory estimator, GPU profiles and NVML detection (all offline)."""

from tunelint.memory.estimate import Estimate, TrainingSetup, estimate
from tunelint.memory.models import ModelInfo, UnknownModelError, resolve_model
from tunelint.memory.settings import estimate_from_settings

__all__ = [
    "Estimate",
    "ModelInfo",
    "TrainingSetup",
    "UnknownModelError",
    "estimate",
    "estimate_from_settings",
    "resolve_model",
]
