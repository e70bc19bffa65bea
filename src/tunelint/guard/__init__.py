"""Runtime thermal guard: NVML sampling, the ``tunelint guard`` wrapper and in-process guards.

``ThermalGuard`` works in any training loop; ``tunelint.guard.hf`` and
``tunelint.guard.lightning`` hold callbacks for the Hugging Face Trainer and Lightning
(they import those frameworks, this package never does).
"""

from tunelint.guard.devices import NvmlUnavailable
from tunelint.guard.process import GUARD_STOPPED_STATUS
from tunelint.guard.thermal import ThermalGuard, ThermalLimitReached

__all__ = ["GUARD_STOPPED_STATUS", "NvmlUnavailable", "ThermalGuard", "ThermalLimitReached"]
