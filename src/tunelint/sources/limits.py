"""Bounds on reading one config file, set by the policy's ``limits:`` (light to import: the
orchestrator builds them before any source is loaded)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConfigLimits:
    """Bounds per config file: bytes read, nesting depth, nodes walked (aliases included)."""

    max_bytes: int = 5_000_000
    max_depth: int = 100
    max_nodes: int = 100_000
