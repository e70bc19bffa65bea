"""``tunelint guard [OPTIONS] -- COMMAND [ARGS...]``: run a training command under a thermal guard.

The command runs in its own process group while NVML is read every ``--interval`` seconds
for the GPUs it may use. After ``--consecutive`` readings above ``--max-temp`` (or with the
clocks held down by hardware or thermal slowdown), ``--on-limit stop`` sends ``--signal`` to
the group and SIGKILL after ``--grace`` seconds; ``warn`` only says so. Exit status: the
command's own; 75 when the guard stopped it; 2 when no GPU can be watched (unless
``--allow-no-gpu``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunelint.commands import EXIT_USAGE

DEFAULTS: dict[str, Any] = {
    "interval_s": 5.0,
    "consecutive": 3,
    "on_limit": "stop",
    "grace_s": 30.0,
    "signal": "SIGINT",
    "act_on_throttle": True,
}
DEFAULT_MAX_TEMP_C = 85.0


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "guard",
        help="run a training command and stop it when a GPU runs too hot",
        description="Run a training command in its own process group and read the "
        "temperature of the GPUs it may use through NVML every --interval seconds. After "
        "--consecutive readings above --max-temp (or with the clocks held down by hardware or "
        "thermal slowdown), --on-limit stop sends --signal to the group and SIGKILL after "
        "--grace seconds; warn only says so. Exit status: the command's own; 75 when the "
        "guard stopped it; 2 when no GPU can be watched (unless --allow-no-gpu).",
        usage="tunelint guard [OPTIONS] -- COMMAND [ARGS...]",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--interval", type=_positive, help="seconds between readings (5)")
    p.add_argument(
        "--max-temp", type=float, help="limit in °C (policy hardware.max_temperature_c, 85)"
    )
    p.add_argument("--consecutive", type=_count, help="readings over the limit before acting (3)")
    p.add_argument("--on-limit", choices=("stop", "warn"), help="stop the command or warn (stop)")
    p.add_argument("--grace", type=_non_negative, help="seconds from the signal to SIGKILL (30)")
    p.add_argument("--signal", help="polite signal sent first (SIGINT)")
    p.add_argument("--log", type=Path, help="append readings to FILE as JSON lines")
    p.add_argument("--kwh-price", type=_non_negative, help="electricity price per kWh")
    p.add_argument("--currency", help="currency of the price (policy cost.currency, USD)")
    p.add_argument(
        "--temperature-only",
        action="store_true",
        help="act on temperature alone, not on hardware or thermal clock slowdown",
    )
    p.add_argument(
        "--allow-no-gpu", action="store_true", help="without NVML or a GPU, run unguarded"
    )
    p.add_argument("--policy", type=Path, help="policy file (default: the nearest one)")
    p.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- COMMAND [ARGS...]",
        help="the training command to run, after --",
    )
    p.set_defaults(func=run)


@dataclass(frozen=True)
class GuardSettings:
    """Command line over policy ``hardware.guard`` over the built-in defaults."""

    interval: float
    max_temp_c: float
    consecutive: int
    on_limit: str
    grace: float
    polite: signal.Signals
    act_on_throttle: bool
    log: Path | None
    kwh_price: float | None
    currency: str


def resolve_settings(args: argparse.Namespace, policy: Any) -> GuardSettings:
    """Raises ValueError for an unknown signal name."""
    from tunelint.guard.process import parse_signal

    section = policy.get("hardware.guard", {}) if policy is not None else {}
    section = section if isinstance(section, dict) else {}

    def pick(cli: Any, key: str) -> Any:
        return cli if cli is not None else section.get(key, DEFAULTS.get(key))

    max_temp = args.max_temp
    if max_temp is None and policy is not None:
        max_temp = policy.get("hardware.max_temperature_c")
    log = args.log if args.log is not None else section.get("log")
    kwh = args.kwh_price
    if kwh is None and policy is not None:
        kwh = policy.get("cost.electricity_per_kwh")
    currency = args.currency or (policy.get("cost.currency") if policy is not None else None)
    return GuardSettings(
        interval=float(pick(args.interval, "interval_s")),
        max_temp_c=float(max_temp if max_temp is not None else DEFAULT_MAX_TEMP_C),
        consecutive=int(pick(args.consecutive, "consecutive")),
        on_limit=str(pick(args.on_limit, "on_limit")),
        grace=float(pick(args.grace, "grace_s")),
        polite=parse_signal(pick(args.signal, "signal")),
        act_on_throttle=False
        if args.temperature_only
        else bool(section.get("act_on_throttle", True)),
        log=Path(log) if log is not None else None,
        kwh_price=float(kwh) if kwh is not None else None,
        currency=str(currency or "USD"),
    )


def _say(message: str) -> None:
    sys.stderr.write(f"tunelint guard: {message}\n")
    sys.stderr.flush()


def _load_policy(path: Path | None) -> Any:
    from tunelint.policy import load_policy

    return load_policy(path, Path.cwd())


def run(args: argparse.Namespace) -> int:
    from tunelint.guard.devices import NvmlUnavailable
    from tunelint.guard.monitor import GpuMonitor, load_nvml
    from tunelint.policy import PolicyError

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        _say("no command to run: write tunelint guard [OPTIONS] -- COMMAND [ARGS...]")
        return EXIT_USAGE
    try:
        settings = resolve_settings(args, _load_policy(args.policy))
    except (PolicyError, ValueError) as error:
        _say(str(error))
        return EXIT_USAGE
    nvml = None
    try:
        nvml = load_nvml(getattr(args, "nvml", None))
        monitor = GpuMonitor(
            nvml,
            max_temp_c=settings.max_temp_c,
            consecutive=settings.consecutive,
            act_on_throttle=settings.act_on_throttle,
            visible=os.environ.get("CUDA_VISIBLE_DEVICES"),
        )
        monitor.open()
    except NvmlUnavailable as error:
        if nvml is not None:
            with contextlib.suppress(Exception):
                nvml.nvmlShutdown()
        if not args.allow_no_gpu:
            _say(f"{error}; refusing to run unguarded (pass --allow-no-gpu to run anyway)")
            return EXIT_USAGE
        _say(f"warning: {error}; running the command unguarded (--allow-no-gpu)")
        return _run_unguarded(command)
    try:
        return _run_guarded(command, monitor, settings)
    finally:
        monitor.close()


def _run_unguarded(command: list[str]) -> int:
    from tunelint.guard.process import GuardedProcess, exit_status

    child = GuardedProcess(command)
    try:
        child.start()
    except OSError as error:
        _say(f"cannot run {command[0]!r}: {error.strerror or error}")
        return 127 if isinstance(error, FileNotFoundError) else 126
    child.forward_signals()
    try:
        return exit_status(child.popen.wait() if child.popen else 0)
    finally:
        child.restore_signals()


def _run_guarded(command: list[str], monitor: Any, settings: GuardSettings) -> int:
    from tunelint.guard.process import GUARD_STOPPED_STATUS, GuardedProcess, exit_status
    from tunelint.guard.report import EnergyPrice, JsonLog, limits_line, summary_json, summary_lines

    for warning in monitor.take_warnings():
        _say(f"warning: {warning}")
    for stats in monitor.stats:
        _say(limits_line(stats, settings.max_temp_c))
    price = EnergyPrice(settings.kwh_price, settings.currency)
    child = GuardedProcess(command)
    try:
        child.start()
    except OSError as error:
        _say(f"cannot run {command[0]!r}: {error.strerror or error}")
        return 127 if isinstance(error, FileNotFoundError) else 126
    child.forward_signals()
    stopped_because: str | None = None
    try:
        with JsonLog(settings.log) as log:
            log.write({"event": "start", "time": time.time(), "command": command, "pid": child.pid})
            returncode = None
            while returncode is None:
                readings = monitor.sample()
                log.readings(readings)
                for warning in monitor.take_warnings():
                    _say(f"warning: {warning}")
                for event in monitor.events:
                    log.write({"event": "limit", "time": time.time(), "reason": event})
                    if settings.on_limit == "warn":
                        _say(f"warning: {event}")
                if settings.on_limit == "stop" and monitor.tripped:
                    stopped_because = monitor.tripped
                    _say(
                        f"{stopped_because}: sending {settings.polite.name} to the command, "
                        f"SIGKILL in {settings.grace:g} s if it has not ended"
                    )
                    log.write(_signal_record(settings.polite.name))
                    returncode = child.stop(
                        settings.polite,
                        settings.grace,
                        on_kill=lambda: log.write(_signal_record("SIGKILL")),
                    )
                    break
                returncode = child.wait(settings.interval)
            status = GUARD_STOPPED_STATUS if stopped_because else exit_status(returncode)
            for line in summary_lines(monitor.stats, price):
                _say(line)
            if stopped_because:
                _say(f"stopped the command (exit status {GUARD_STOPPED_STATUS}): {stopped_because}")
            log.write(summary_json(monitor.stats, price, status, stopped_because))
    finally:
        child.restore_signals()
    return status


def _signal_record(name: str) -> dict[str, Any]:
    return {"event": "signal", "time": time.time(), "signal": name}
