"""``ThermalGuardCallback`` for the Hugging Face ``Trainer``: checkpoint, then stop, when hot.

    from tunelint.guard.hf import ThermalGuardCallback
    trainer = Trainer(..., callbacks=[ThermalGuardCallback(max_temp_c=83)])

On the limit it sets ``control.should_save`` and ``control.should_training_stop``: the
Trainer saves a checkpoint at the end of that step and leaves the loop, so the run resumes
later with ``resume_from_checkpoint``. The latest temperatures are added to each log as
``gpu<N>_temperature_c``. Under several processes the ranks agree every
``sync_every_steps`` steps (a one-element all-reduce), so all of them stop at the same step.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from tunelint.guard.thermal import (
    DEFAULT_CONSECUTIVE,
    DEFAULT_INTERVAL_S,
    DEFAULT_MAX_TEMP_C,
    ThermalGuard,
)

logger = logging.getLogger("tunelint.guard")


def _distributed() -> Any:
    """``torch.distributed`` when a group of several processes is running, else None."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return dist
    return None


def any_rank(flag: bool, device: Any = None) -> bool:
    """True when ``flag`` is True on any rank (a one-element all-reduce); ``flag`` alone."""
    dist = _distributed()
    if dist is None:
        return flag
    torch = sys.modules["torch"]
    value = torch.tensor([1 if flag else 0], device=device if device is not None else "cpu")
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


class ThermalGuardCallback(TrainerCallback):  # type: ignore[misc]
    """Saves and stops the Trainer once a GPU stays over ``max_temp_c`` (or throttles)."""

    def __init__(
        self,
        max_temp_c: float = DEFAULT_MAX_TEMP_C,
        *,
        interval: float = DEFAULT_INTERVAL_S,
        consecutive: int = DEFAULT_CONSECUTIVE,
        act_on_throttle: bool = True,
        allow_no_gpu: bool = False,
        log: str | Path | None = None,
        sync_every_steps: int = 10,
        guard: ThermalGuard | None = None,
    ) -> None:
        self.guard = guard or ThermalGuard(
            max_temp_c,
            interval=interval,
            consecutive=consecutive,
            act_on_throttle=act_on_throttle,
            allow_no_gpu=allow_no_gpu,
            log=log,
        )
        self.sync_every_steps = max(1, sync_every_steps)
        self.stopped_because: str | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self.guard.start()
        return control

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if self.stopped_because is not None:
            return control
        reached = self.guard.check()
        if _distributed() is not None:
            # every rank must take the same decision at the same step, or one waits forever
            if getattr(state, "global_step", 0) % self.sync_every_steps:
                return control
            reached = any_rank(reached, getattr(args, "device", None))
        if reached:
            self.stopped_because = self.guard.reason or "thermal limit reached on another rank"
            logger.warning(
                "tunelint guard: %s; saving a checkpoint and stopping", self.stopped_because
            )
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_log(
        self,
        args: Any,
        state: Any,
        control: Any,
        logs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        readings = {
            f"gpu{gpu}_temperature_c": value
            for gpu, value in sorted(self.guard.temperatures().items())
            if value is not None
        }
        if logs is not None:
            logs.update(readings)
        history = getattr(state, "log_history", None)
        if readings and history and history[-1].get("step") == getattr(state, "global_step", None):
            history[-1].update(readings)  # keep them in trainer_state.json too
        return control

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self.guard.stop()
        return control
