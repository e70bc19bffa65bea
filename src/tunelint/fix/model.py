"""What a fixer receives and returns: the finding, the policy, and a changed text or nothing.

Fixers run after the findings are made. They read the finding's rule id, span and snippet,
and the policy; they never ask the rules anything. A fixer that cannot be sure of the
change it would make returns None and the finding stays for a person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tunelint.findings import Finding

DEFAULT_SAVE_STEPS = 500


@dataclass(frozen=True, slots=True)
class Change:
    """The whole text after the fix, and the fix in words."""

    text: str
    description: str


@dataclass(frozen=True, slots=True)
class FixContext:
    """The policy as loaded for the run (``Report.policy``), read by dotted path."""

    policy: Mapping[str, Any] = field(default_factory=dict)

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.policy
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return default if node is None else node

    def checkpoint_interval(self, max_steps: int | None = None) -> int:
        """The ``save_steps`` a fix writes: the policy's longest gap between checkpoints,
        else 500; at most half the run when the run's ``max_steps`` is known and shorter."""
        try:
            steps = int(float(self.get("training.max_steps_without_checkpoint", 0) or 0))
        except (TypeError, ValueError):
            steps = 0
        steps = steps if steps > 0 else DEFAULT_SAVE_STEPS
        if max_steps is not None and max_steps > 0 and steps >= max_steps:
            steps = max(1, max_steps // 2)
        return steps


# (text of the document, the finding in that document's coordinates, context) -> change
Fixer = Callable[[str, Finding, FixContext], Change | None]


def int_literal(text: str) -> int | None:
    """An integer written as a literal (``500``, ``1_000``, ``"500"``), else None."""
    cleaned = text.strip().strip("'\"").replace("_", "")
    if cleaned.isdigit():
        return int(cleaned)
    return None
