"""A progress bar on the terminal for checks that take more than about a second.

Nothing is drawn before the delay has passed (a quick run prints no bar at all), and rich is
imported only then. The command line turns it on only when stderr is a terminal, ``CI`` is
not set and the report is for people (not JSON, SARIF or annotations).
"""

from __future__ import annotations

import os
import time
from typing import IO, Any

DELAY_S = 1.0


def wanted(stream: IO[str], output_format: str, quiet: bool) -> bool:
    """Show progress on ``stream``? Only on a terminal, outside CI, for a human report."""
    if quiet or os.environ.get("CI") or output_format not in {"text", "full", "concise"}:
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class TerminalProgress:
    """Callable as ``progress(stage, done, total)``; ``close()`` removes the bar."""

    def __init__(self, stream: IO[str], delay_s: float = DELAY_S) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.delay_s = delay_s
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < self.delay_s:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            console = Console(file=self.stream, stderr=True)
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(stage, total=max(total, 1))
        self.bar.update(self.task, description=stage, completed=done, total=max(total, 1))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
