"""``ThermalGuardCallback`` for Lightning: save a checkpoint, then stop, when a GPU runs hot.

    from tunelint.guard.lightning import ThermalGuardCallback
    trainer = L.Trainer(callbacks=[ThermalGuardCallback(max_temp_c=83)])

After a training batch that finds the limit reached it calls ``trainer.save_checkpoint``
(to ``checkpoint_path``, else ``thermal-stop.ckpt`` beside the run's checkpoints) and sets
``trainer.should_stop``. The ranks agree through ``strategy.reduce_boolean_decision`` every
``sync_every_steps`` steps, so all of them save and stop together.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

try:
    from lightning.pytorch.callbacks import Callback
except ImportError:  # the standalone pytorch_lightning distribution
    from pytorch_lightning.callbacks import Callback

from tunelint.guard.thermal import (
    DEFAULT_CONSECUTIVE,
    DEFAULT_INTERVAL_S,
    DEFAULT_MAX_TEMP_C,
    ThermalGuard,
)

logger = logging.getLogger("tunelint.guard")
CHECKPOINT_NAME = "thermal-stop.ckpt"


class ThermalGuardCallback(Callback):  # type: ignore[misc]
    """Checkpoints and stops a Lightning fit once a GPU stays over ``max_temp_c``."""

    def __init__(
        self,
        max_temp_c: float = DEFAULT_MAX_TEMP_C,
        *,
        interval: float = DEFAULT_INTERVAL_S,
        consecutive: int = DEFAULT_CONSECUTIVE,
        act_on_throttle: bool = True,
        allow_no_gpu: bool = False,
        log: str | Path | None = None,
        checkpoint_path: str | Path | None = None,
        sync_every_steps: int = 10,
        guard: ThermalGuard | None = None,
    ) -> None:
        super().__init__()
        self.guard = guard or ThermalGuard(
            max_temp_c,
            interval=interval,
            consecutive=consecutive,
            act_on_throttle=act_on_throttle,
            allow_no_gpu=allow_no_gpu,
            log=log,
        )
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path is not None else None
        self.sync_every_steps = max(1, sync_every_steps)
        self.stopped_because: str | None = None
        self.saved_to: Path | None = None

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if stage == "fit":
            self.guard.start()

    def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if stage == "fit":
            self.guard.stop()

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.stopped_because is not None:
            return
        reached = self.guard.check()
        if trainer.world_size > 1:
            # every rank must take the same decision at the same step, or one waits forever
            if trainer.global_step % self.sync_every_steps:
                return
            reached = bool(trainer.strategy.reduce_boolean_decision(reached, all=False))
        if not reached:
            return
        self.stopped_because = self.guard.reason or "thermal limit reached on another rank"
        path = self._target(trainer)
        logger.warning("tunelint guard: %s; saving %s and stopping", self.stopped_because, path)
        trainer.save_checkpoint(str(path))
        self.saved_to = path
        trainer.should_stop = True

    def _target(self, trainer: Any) -> Path:
        if self.checkpoint_path is not None:
            return self.checkpoint_path
        checkpointing = getattr(trainer, "checkpoint_callback", None)
        directory = getattr(checkpointing, "dirpath", None) or trainer.default_root_dir
        return Path(os.fspath(directory)) / CHECKPOINT_NAME
