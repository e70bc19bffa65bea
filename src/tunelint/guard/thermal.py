"""``ThermalGuard``: the guard inside a training process, polling on a background thread.

A wrapper can only signal the command from outside; inside the process the training loop
can save a checkpoint first and stop cleanly. The guard never stops anything itself: the
loop asks ``check()`` (or a framework callback does) and decides.

    with ThermalGuard(max_temp_c=83) as guard:
        for step, batch in enumerate(loader):
            train_step(batch)
            if guard.check():
                save_checkpoint()
                break
"""

from __future__ import annotations

import logging
import os
import threading
import time
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

from tunelint.guard.devices import NvmlUnavailable
from tunelint.guard.monitor import GpuMonitor, GpuStats, load_nvml
from tunelint.guard.report import EnergyPrice, JsonLog, summary_json

DEFAULT_MAX_TEMP_C = 85.0
DEFAULT_INTERVAL_S = 5.0
DEFAULT_CONSECUTIVE = 3

logger = logging.getLogger("tunelint.guard")


class ThermalLimitReached(RuntimeError):
    """Raised by ``raise_if_reached()`` for loops that prefer an exception."""


class ThermalGuard:
    """Watches the GPUs this process may use; ``check()`` turns True once the limit is reached.

    ``nvml`` replaces the ``pynvml`` module (tests); ``visible_devices`` replaces
    ``CUDA_VISIBLE_DEVICES``. Without NVML or a driver, ``start()`` raises NvmlUnavailable
    unless ``allow_no_gpu`` is set, in which case the guard warns and never reaches a limit.
    """

    def __init__(
        self,
        max_temp_c: float = DEFAULT_MAX_TEMP_C,
        *,
        interval: float = DEFAULT_INTERVAL_S,
        consecutive: int = DEFAULT_CONSECUTIVE,
        act_on_throttle: bool = True,
        allow_no_gpu: bool = False,
        log: str | Path | None = None,
        nvml: Any = None,
        visible_devices: str | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.max_temp_c = float(max_temp_c)
        self.interval = float(interval)
        self.consecutive = int(consecutive)
        self.act_on_throttle = act_on_throttle
        self.allow_no_gpu = allow_no_gpu
        self.log_path = Path(log) if log is not None else None
        self._nvml = nvml
        if visible_devices is None:
            visible_devices = os.environ.get("CUDA_VISIBLE_DEVICES")
        self._visible = visible_devices
        self._monitor: GpuMonitor | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._latest: dict[int, dict[str, Any]] = {}
        self._log = JsonLog(self.log_path)
        self.available = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> ThermalGuard:
        if self._thread is not None:
            return self
        try:
            nvml = load_nvml(self._nvml)
            monitor = GpuMonitor(
                nvml,
                max_temp_c=self.max_temp_c,
                consecutive=self.consecutive,
                act_on_throttle=self.act_on_throttle,
                visible=self._visible,
            )
            monitor.open()
        except NvmlUnavailable as error:
            if not self.allow_no_gpu:
                raise
            warnings.warn(f"tunelint guard: {error}; training runs unguarded", stacklevel=2)
            return self
        self._monitor = monitor
        self.available = True
        self._log.__enter__()
        self._sample()  # the first reading now, so check() is meaningful at once
        self._thread = threading.Thread(target=self._run, name="tunelint-guard", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling, close NVML and write the summary to the log (if any)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(1.0, 2 * self.interval))
            self._thread = None
        if self._monitor is not None:
            price = EnergyPrice(None)
            self._log.write(summary_json(self._monitor.stats, price, None, self._reason))
            self._monitor.close()
        self._log.__exit__(None, None, None)

    def __enter__(self) -> ThermalGuard:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ polling
    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        monitor = self._monitor
        if monitor is None:
            return
        try:
            with self._lock:
                readings = monitor.sample()
                for reading in readings:
                    self._latest[reading.gpu] = reading.as_json()
                if monitor.tripped and self._reason is None:
                    self._reason = monitor.tripped
            self._log.readings(readings)
        except Exception as error:  # the guard must never take the training down
            logger.warning("tunelint guard: reading the GPUs failed: %s", error)
            return
        for warning in monitor.take_warnings():
            logger.warning("tunelint guard: %s", warning)
        for event in monitor.events:
            logger.warning("tunelint guard: %s", event)
            self._log.write({"event": "limit", "time": time.time(), "reason": event})

    # ------------------------------------------------------------------ queries
    def check(self) -> bool:
        """True once a GPU has stayed over the limit (or throttled) for ``consecutive`` readings."""
        return self._reason is not None

    def raise_if_reached(self) -> None:
        if self._reason is not None:
            raise ThermalLimitReached(self._reason)

    @property
    def reason(self) -> str | None:
        return self._reason

    def temperatures(self) -> dict[int, int | None]:
        """The latest temperature of each watched GPU, by NVML index."""
        with self._lock:
            return {gpu: record["temperature_c"] for gpu, record in self._latest.items()}

    def latest(self) -> dict[int, dict[str, Any]]:
        with self._lock:
            return {gpu: dict(record) for gpu, record in self._latest.items()}

    @property
    def stats(self) -> list[GpuStats]:
        return list(self._monitor.stats) if self._monitor is not None else []
