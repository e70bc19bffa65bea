"""The progress bar: only on a terminal, outside CI, for people, after a delay."""

from __future__ import annotations

import io

import pytest

from tunelint.commands.progress import TerminalProgress, wanted


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_wanted_only_on_a_terminal_for_people(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert wanted(Terminal(), "full", quiet=False)
    assert wanted(Terminal(), "concise", quiet=False)
    assert not wanted(io.StringIO(), "full", quiet=False)  # a pipe or a file
    assert not wanted(Terminal(), "sarif", quiet=False)
    assert not wanted(Terminal(), "json", quiet=False)
    assert not wanted(Terminal(), "full", quiet=True)
    monkeypatch.setenv("CI", "true")
    assert not wanted(Terminal(), "full", quiet=False)


def test_nothing_is_drawn_before_the_delay() -> None:
    stream = Terminal()
    progress = TerminalProgress(stream, delay_s=3600)
    for done in range(100):
        progress("reading", done, 100)
    progress.close()
    assert stream.getvalue() == ""
    assert progress.bar is None


def test_a_long_run_draws_a_bar_and_removes_it() -> None:
    stream = Terminal()
    progress = TerminalProgress(stream, delay_s=0)
    progress("parsing", 3, 10)
    assert progress.bar is not None
    progress("checking rules", 0, 1)
    progress.close()
    assert progress.bar is None
    assert "parsing" in stream.getvalue() or "checking rules" in stream.getvalue()
