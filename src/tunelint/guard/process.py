"""The guarded command: a child in its own process group, stopped politely, then for good.

A training launcher (torchrun, accelerate, deepspeed) starts worker processes of its own;
signalling only the launcher would leave the workers holding the GPUs. The child therefore
gets a new process group and every signal goes to the whole group: first the polite one
(SIGINT by default, what Ctrl-C sends, so frameworks can save a checkpoint), then SIGKILL
once the grace period has passed and anything in the group is still alive.

Like coreutils ``timeout``, the command runs outside the terminal's foreground group, so
the guard forwards the terminal's signals to it and gives it no terminal input (a read
from a background group would stop it instead).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

# Distinct status when the guard stopped the command; 75 is EX_TEMPFAIL in sysexits.h
# ("temporary failure, try again later"): the run can resume once the card has cooled.
GUARD_STOPPED_STATUS = 75
FORWARDED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")


def parse_signal(name: str | int) -> signal.Signals:
    """A signal from ``SIGINT``, ``INT``, ``int`` or ``2``; ValueError for anything else."""
    text = str(name).strip().upper()
    if text.isdigit():
        return signal.Signals(int(text))
    if not text.startswith("SIG"):
        text = "SIG" + text
    try:
        return signal.Signals[text]
    except KeyError:
        raise ValueError(f"unknown signal {name!r}") from None


def exit_status(returncode: int) -> int:
    """A shell-style status: a child killed by signal N reports 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


class GuardedProcess:
    """Starts ``argv`` in a new process group and signals that group."""

    def __init__(self, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.env = env
        self.popen: subprocess.Popen[bytes] | None = None
        self.signals_sent: list[tuple[float, str]] = []
        self._previous: dict[int, Any] = {}

    @property
    def pid(self) -> int:
        assert self.popen is not None, "start() first"
        return self.popen.pid

    def start(self) -> None:
        """Raises OSError (FileNotFoundError, PermissionError) if the command cannot start."""
        stdin = subprocess.DEVNULL if _is_tty(sys.stdin) else None
        self.popen = subprocess.Popen(self.argv, env=self.env, stdin=stdin, process_group=0)

    def poll(self) -> int | None:
        assert self.popen is not None, "start() first"
        return self.popen.poll()

    def wait(self, timeout: float | None = None) -> int | None:
        """The return code, or None if the command still runs after ``timeout`` seconds."""
        assert self.popen is not None, "start() first"
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def group_alive(self) -> bool:
        """Whether any process of the group remains (the leader counts until reaped)."""
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def send(self, sig: signal.Signals) -> bool:
        """Send ``sig`` to the whole group; False when the group is already gone."""
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            return False
        self.signals_sent.append((time.monotonic(), sig.name))
        return True

    def stop(
        self,
        polite: signal.Signals = signal.SIGINT,
        grace: float = 30.0,
        on_kill: Callable[[], None] | None = None,
    ) -> int:
        """Polite signal, up to ``grace`` seconds for the group to end, then SIGKILL."""
        assert self.popen is not None, "start() first"
        self.send(polite)
        deadline = time.monotonic() + max(0.0, grace)
        while time.monotonic() < deadline:
            if self.popen.poll() is not None and not self.group_alive():
                break
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        else:
            if self.group_alive():
                if on_kill is not None:
                    on_kill()
                self.send(signal.SIGKILL)
        return self.popen.wait()

    # ------------------------------------------------------------ signal forwarding
    def forward_signals(self) -> None:
        """Pass the terminal's signals on to the command's group instead of dying of them."""
        for name in FORWARDED_SIGNALS:
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            try:
                self._previous[sig] = signal.signal(sig, self._forward)
            except (ValueError, OSError):  # not the main thread, or not allowed
                continue

    def restore_signals(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _forward(self, signum: int, frame: FrameType | None) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.send(signal.Signals(signum))


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (ValueError, OSError):
        return False
