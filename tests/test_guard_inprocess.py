"""ThermalGuard on its polling thread, and the Trainer / Lightning callbacks built on it.

The callbacks are tested against the real ``TrainerCallback`` and Lightning ``Callback``
interfaces where those packages are installed (they are optional extras).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from guard_fakes import FakeGpu, FakeNvml, uuid

from tunelint.guard import NvmlUnavailable, ThermalGuard, ThermalLimitReached

FAST = {"interval": 0.02, "consecutive": 3}


def wait_until(condition: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def hot_nvml() -> FakeNvml:
    return FakeNvml([FakeGpu(uuid(0), temperatures=[70, 88, 89, 90, 91])])


def test_check_turns_true_once_the_limit_is_reached(tmp_path: Path) -> None:
    log = tmp_path / "guard.jsonl"
    nvml = hot_nvml()
    with ThermalGuard(85, nvml=nvml, visible_devices="0", log=log, **FAST) as guard:  # type: ignore[arg-type]
        assert guard.available
        assert wait_until(guard.check), "the limit should be reached on the background thread"
        assert guard.reason is not None and "above 85 °C" in guard.reason
        assert guard.temperatures()[0] is not None and guard.temperatures()[0] >= 88
        with pytest.raises(ThermalLimitReached):
            guard.raise_if_reached()
    assert nvml.shutdown
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert "limit" in events and events[-1] == "summary"


def test_a_cool_gpu_never_reaches_the_limit() -> None:
    nvml = FakeNvml([FakeGpu(uuid(0), temperatures=[60])])
    with ThermalGuard(85, nvml=nvml, visible_devices="0", **FAST) as guard:  # type: ignore[arg-type]
        time.sleep(0.2)
        assert not guard.check() and guard.reason is None
        assert guard.stats[0].samples >= 3


def test_no_driver_raises_unless_allowed() -> None:
    with pytest.raises(NvmlUnavailable):
        ThermalGuard(nvml=FakeNvml([], fail_init=True)).start()
    with pytest.warns(UserWarning, match="unguarded"):
        guard = ThermalGuard(nvml=FakeNvml([], fail_init=True), allow_no_gpu=True).start()
    assert not guard.available and not guard.check()
    guard.stop()


def test_importing_the_guard_pulls_in_no_framework() -> None:
    code = (
        "import sys, tunelint.guard; "
        "bad = [m for m in ('transformers', 'lightning', 'torch', 'pynvml') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ Hugging Face Trainer
def test_trainer_callback_saves_stops_and_logs_temperatures() -> None:
    transformers = pytest.importorskip("transformers")
    from tunelint.guard.hf import ThermalGuardCallback

    guard = ThermalGuard(85, nvml=hot_nvml(), visible_devices="0", **FAST)  # type: ignore[arg-type]
    callback = ThermalGuardCallback(guard=guard)
    assert isinstance(callback, transformers.TrainerCallback)
    state, control = transformers.TrainerState(), transformers.TrainerControl()
    args = SimpleNamespace(device="cpu")
    callback.on_train_begin(args, state, control)
    try:
        state.global_step = 1
        callback.on_step_end(args, state, control)
        assert not control.should_training_stop  # not yet: one reading only
        assert wait_until(guard.check)
        state.global_step = 2
        returned = callback.on_step_end(args, state, control)
        assert returned is control
        assert control.should_save and control.should_training_stop
        assert callback.stopped_because and "above 85" in callback.stopped_because
        logs = {"loss": 1.0}
        state.log_history.append({"loss": 1.0, "step": 2})
        callback.on_log(args, state, control, logs=logs)
        assert logs["gpu0_temperature_c"] >= 88
        assert state.log_history[-1]["gpu0_temperature_c"] == logs["gpu0_temperature_c"]
    finally:
        callback.on_train_end(args, state, control)


def test_trainer_callback_hooks_match_the_real_interface() -> None:
    transformers = pytest.importorskip("transformers")
    import inspect

    from tunelint.guard.hf import ThermalGuardCallback

    for hook in ("on_train_begin", "on_step_end", "on_log", "on_train_end"):
        ours = inspect.signature(getattr(ThermalGuardCallback, hook))
        theirs = inspect.signature(getattr(transformers.TrainerCallback, hook))
        assert list(ours.parameters)[:4] == list(theirs.parameters)[:4], hook


# ------------------------------------------------------------------ Lightning
def test_lightning_callback_checkpoints_then_stops_a_real_fit(tmp_path: Path) -> None:
    pytest.importorskip("lightning")
    torch = pytest.importorskip("torch")
    import lightning.pytorch as pl

    from tunelint.guard.lightning import ThermalGuardCallback

    class Tiny(pl.LightningModule):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(4, 1)

        def training_step(self, batch: object, index: int) -> object:
            time.sleep(0.01)  # give the guard's thread time to read between steps
            x, y = batch  # type: ignore[misc]
            return torch.nn.functional.mse_loss(self.layer(x), y)

        def configure_optimizers(self) -> object:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    data = torch.utils.data.TensorDataset(torch.randn(4000, 4), torch.randn(4000, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=1)
    guard = ThermalGuard(85, nvml=hot_nvml(), visible_devices="0", **FAST)  # type: ignore[arg-type]
    callback = ThermalGuardCallback(guard=guard, sync_every_steps=1)
    trainer = pl.Trainer(
        max_steps=4000,
        accelerator="cpu",
        default_root_dir=tmp_path,
        callbacks=[callback],
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
    )
    trainer.fit(Tiny(), loader)
    assert callback.stopped_because is not None
    assert trainer.should_stop and trainer.global_step < 4000
    assert callback.saved_to == tmp_path / "thermal-stop.ckpt" and callback.saved_to.is_file()
    assert torch.load(callback.saved_to, weights_only=False)["global_step"] >= 1


def test_tunelint_check_never_imports_the_guard_or_a_framework(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("print('hello')\n")
    code = (
        "import sys\n"
        "from tunelint.cli import main\n"
        f"main(['check', {str(tmp_path)!r}, '--no-cache'])\n"
        "names = ('tunelint.guard', 'transformers', 'lightning', 'torch', 'pynvml')\n"
        "print([m for m in names if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr


class FakeDistributed:
    """torch.distributed for two ranks: the other rank's flag is scripted."""

    class ReduceOp:
        MAX = "max"

    def __init__(self, other_rank_reached: bool) -> None:
        self.other = other_rank_reached
        self.reductions = 0

    def is_available(self) -> bool:
        return True

    def is_initialized(self) -> bool:
        return True

    def get_world_size(self) -> int:
        return 2

    def all_reduce(self, value: list[int], op: str) -> None:
        self.reductions += 1
        value[0] = max(value[0], int(self.other))


class FakeTensor(list):  # type: ignore[type-arg]
    def item(self) -> int:
        return int(self[0])


def test_trainer_callback_ranks_stop_together_at_a_sync_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    transformers = pytest.importorskip("transformers")
    from tunelint.guard.hf import ThermalGuardCallback

    dist = FakeDistributed(other_rank_reached=True)
    fake_torch = SimpleNamespace(distributed=dist, tensor=lambda v, device=None: FakeTensor(v))
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    cool = FakeNvml([FakeGpu(uuid(0), temperatures=[60])])
    guard = ThermalGuard(85, nvml=cool, visible_devices="0", **FAST)  # type: ignore[arg-type]
    callback = ThermalGuardCallback(guard=guard, sync_every_steps=4)
    state, control = transformers.TrainerState(), transformers.TrainerControl()
    args = SimpleNamespace(device="cpu")
    callback.on_train_begin(args, state, control)
    try:
        state.global_step = 3  # not a sync step: no collective, no decision
        callback.on_step_end(args, state, control)
        assert dist.reductions == 0 and not control.should_training_stop
        state.global_step = 4  # this rank is cool, the other one reached the limit
        callback.on_step_end(args, state, control)
        assert dist.reductions == 1
        assert control.should_save and control.should_training_stop
        assert callback.stopped_because == "thermal limit reached on another rank"
    finally:
        callback.on_train_end(args, state, control)
