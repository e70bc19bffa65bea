"""``tunelint guard`` end to end: a fake NVML, a real child process and its process group.

Intervals are tiny (0.05 s); time bounds are generous upper bounds, never speed tests.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest
from guard_fakes import HW_THERMAL, SW_POWER_CAP, FakeGpu, FakeNvml, uuid

from tunelint.cli import main
from tunelint.guard import GUARD_STOPPED_STATUS

INTERVAL = 0.05
CONSECUTIVE = 3
GRACE = 1.0

# The child ignores SIGINT after noting it, starts a grandchild in its group that notes its
# pid, and then sleeps: only SIGKILL to the whole group ends both.
STUBBORN_CHILD = textwrap.dedent(
    """
    import os, signal, subprocess, sys, time
    marks = sys.argv[1]
    def note(text):
        with open(marks, "a") as f:
            f.write(text + "\\n")
    signal.signal(signal.SIGINT, lambda *_: note("SIGINT"))
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    note(f"grandchild {grandchild.pid}")
    note("ready")
    open(marks + ".ready", "w").close()
    for _ in range(1200):
        time.sleep(0.1)
    """
)

# The child saves on SIGINT and leaves with status 0, as a well-behaved trainer would.
POLITE_CHILD = textwrap.dedent(
    """
    import signal, sys, time
    marks = sys.argv[1]
    def save_and_leave(*_):
        with open(marks, "a") as f:
            f.write("saved\\n")
        sys.exit(0)
    signal.signal(signal.SIGINT, save_and_leave)
    open(marks + ".ready", "w").close()
    for _ in range(1200):
        time.sleep(0.1)
    """
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


def install(monkeypatch: pytest.MonkeyPatch, nvml: FakeNvml) -> FakeNvml:
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    return nvml


def guard(*options: str, command: list[str]) -> tuple[int, float]:
    argv = ["guard", "--interval", str(INTERVAL), "--consecutive", str(CONSECUTIVE)]
    started = time.monotonic()
    code = main([*argv, *options, "--", *command])
    return code, time.monotonic() - started


def records(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_hot_gpu_stops_the_group_with_sigint_then_sigkill(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marks, log = tmp_path / "marks", tmp_path / "guard.jsonl"
    hot = FakeGpu(uuid(0), temperatures=[70, 80, 90, 91, 92, 93], wait_for=tmp_path / "marks.ready")
    install(monkeypatch, FakeNvml([hot]))
    code, took = guard(
        "--grace", str(GRACE), "--log", str(log),
        command=[sys.executable, "-c", STUBBORN_CHILD, str(marks)],
    )  # fmt: skip
    assert code == GUARD_STOPPED_STATUS
    assert took < 60, "generous upper bound: the run must not hang"
    events = records(log)
    over = [e["time"] for e in events if e["event"] == "reading" and e["temperature_c"] > 85]
    signals = [(e["signal"], e["time"]) for e in events if e["event"] == "signal"]
    assert [name for name, _ in signals] == ["SIGINT", "SIGKILL"]
    sigint, sigkill = signals[0][1], signals[1][1]
    # three readings over the limit: the polite signal follows the first within
    # (consecutive - 1) intervals, SIGKILL follows it after the grace (slack for a busy machine)
    assert sigint - over[0] < (CONSECUTIVE - 1) * INTERVAL + 2.0
    assert GRACE * 0.9 <= sigkill - sigint < GRACE + 2.0
    lines = marks.read_text().splitlines()
    assert lines[-1] == "SIGINT", "the child saw the polite signal before SIGKILL"
    grandchild = int(next(x for x in lines if x.startswith("grandchild")).split()[1])
    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild), "SIGKILL must reach the whole process group"
    summary = events[-1]
    assert summary["event"] == "summary" and summary["exit_status"] == GUARD_STOPPED_STATUS
    gpu = summary["gpus"][0]  # type: ignore[index]
    assert gpu["peak_c"] == 92 and gpu["thresholds_c"]["slowdown"] == 89
    err = capsys.readouterr().err
    assert "policy limit 85 °C; card slowdown 89 °C, shutdown 92 °C, max operating 87 °C" in err
    assert "above 85 °C for 3 readings" in err and "exit status 75" in err
    assert "peak 92 °C" in err and "mean" in err and "kWh" in err


def test_a_polite_child_ends_within_the_grace_and_no_sigkill_is_sent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    marks, log = tmp_path / "marks", tmp_path / "guard.jsonl"
    throttled = FakeGpu(uuid(0), reasons=[0, HW_THERMAL], wait_for=tmp_path / "marks.ready")
    install(monkeypatch, FakeNvml([throttled]))
    code, took = guard(
        "--grace", "20", "--log", str(log),
        command=[sys.executable, "-c", POLITE_CHILD, str(marks)],
    )  # fmt: skip
    assert code == GUARD_STOPPED_STATUS
    assert took < 20, "the guard must not wait out the grace once the group has ended"
    assert [e["signal"] for e in records(log) if e["event"] == "signal"] == ["SIGINT"]
    assert marks.read_text() == "saved\n"


def test_a_child_that_ends_on_its_own_keeps_its_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install(monkeypatch, FakeNvml([FakeGpu(uuid(0), temperatures=[60, 61, 62])]))
    code, _ = guard(
        command=[sys.executable, "-c", "import time, sys; time.sleep(0.3); sys.exit(3)"]
    )
    assert code == 3
    err = capsys.readouterr().err
    assert "stopped the command" not in err and "peak 6" in err


def test_a_child_killed_by_a_signal_reports_128_plus_the_signal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install(monkeypatch, FakeNvml([FakeGpu(uuid(0))]))
    code, _ = guard(command=[sys.executable, "-c", "import os, signal; os.kill(os.getpid(), 15)"])
    assert code == 128 + 15


def test_warn_mode_never_stops_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install(monkeypatch, FakeNvml([FakeGpu(uuid(0), temperatures=[99])]))
    code, _ = guard(
        "--on-limit", "warn", command=[sys.executable, "-c", "import time; time.sleep(0.5)"]
    )
    assert code == 0
    assert "warning: GPU 0 above 85 °C" in capsys.readouterr().err


def test_power_capping_alone_never_stops_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeNvml([FakeGpu(uuid(0), reasons=[SW_POWER_CAP])]))
    code, _ = guard(command=[sys.executable, "-c", "import time; time.sleep(0.6)"])
    assert code == 0


def test_missing_driver_is_status_2_unless_allowed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install(monkeypatch, FakeNvml([FakeGpu(uuid(0))], fail_init=True))
    code, _ = guard(command=[sys.executable, "-c", "raise SystemExit(4)"])
    assert code == 2
    assert "no NVIDIA driver found" in capsys.readouterr().err
    code, _ = guard("--allow-no-gpu", command=[sys.executable, "-c", "raise SystemExit(4)"])
    assert code == 4
    assert "running the command unguarded" in capsys.readouterr().err


def test_missing_module_is_status_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml raises ImportError
    code, _ = guard(command=[sys.executable, "-c", "pass"])
    assert code == 2


def test_a_gpu_vanishing_mid_run_is_reported_and_the_child_keeps_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(monkeypatch, FakeNvml([FakeGpu(uuid(0), lost_after=2), FakeGpu(uuid(1))]))
    log = tmp_path / "guard.jsonl"
    code, _ = guard(
        "--log", str(log), command=[sys.executable, "-c", "import time; time.sleep(0.5)"]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "GPU 0" in err and "stopped answering NVML" in err and "still watching" in err
    summary = records(log)[-1]
    assert [g["lost"] for g in summary["gpus"]] == ["GPU is lost", None]  # type: ignore[union-attr]


def test_cuda_visible_devices_picks_the_watched_gpu(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    install(monkeypatch, FakeNvml([FakeGpu(uuid(0), temperatures=[99]), FakeGpu(uuid(1))]))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-00000001")
    log = tmp_path / "guard.jsonl"
    code, _ = guard(
        "--log", str(log), command=[sys.executable, "-c", "import time; time.sleep(0.4)"]
    )
    assert code == 0, "the hot GPU 0 is not the command's"
    assert {e["gpu"] for e in records(log) if e["event"] == "reading"} == {1}


def test_policy_sets_the_limit_and_the_price(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(monkeypatch, FakeNvml([FakeGpu(uuid(0), temperatures=[80], energy_step_mj=360_000)]))
    (tmp_path / "tunelint.yaml").write_text(
        "hardware:\n  max_temperature_c: 75\n  guard:\n    grace_s: 0.5\n"
        "cost:\n  electricity_per_kwh: 0.30\n  currency: EUR\n"
    )
    code, _ = guard(command=[sys.executable, "-c", "import time; time.sleep(30)"])
    assert code == GUARD_STOPPED_STATUS
    err = capsys.readouterr().err
    assert "above 75 °C" in err and "EUR at 0.3 EUR/kWh" in err


def test_usage_errors(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    install(monkeypatch, FakeNvml([FakeGpu(uuid(0))]))
    assert main(["guard", "--"]) == 2
    assert "no command to run" in capsys.readouterr().err
    assert main(["guard", "--signal", "SIGNOPE", "--", "true"]) == 2
    assert "unknown signal" in capsys.readouterr().err
    assert main(["guard", "--", "/nonexistent/trainer"]) == 127
