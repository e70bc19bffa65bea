"""Bytes and text of one file, or why they cannot be had: the one place that reads a file.

Every file is read here exactly once per run (discovery only lists, the cache keys on these
bytes, the sources get this text), so every reason a file was not read comes from here too.
"""

from __future__ import annotations

import os
import stat
from typing import Final

from tunelint.discover import SourceFile
from tunelint.facts import Diagnostic

BINARY_PROBE: Final = 8192
# Diagnostics that mean nothing of the file was read: it counts as not checked.
UNREAD_CODES: Final = frozenset(
    {
        "too-large",
        "unreadable",
        "binary",
        "decode-error",
        "not-a-file",
        "too-deep",
        "internal-error",
    }
)


def read_bytes(file: SourceFile, max_bytes: int) -> tuple[bytes | None, Diagnostic | None]:
    """The file's bytes, or why they cannot be read.

    Opened without blocking and checked on the open descriptor: a file swapped for a FIFO or
    a device after discovery is refused, not waited on, and never read past the limit.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        with open(os.open(file.absolute, flags), "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                message = "not a regular file (FIFO, device or socket)"
                return None, Diagnostic(file.path, "not-a-file", message)
            size = info.st_size
            if size > max_bytes:
                message = (
                    f"file is {size} bytes, over the limit of {max_bytes} (limits.max_file_bytes)"
                )
                return None, Diagnostic(file.path, "too-large", message)
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        return None, Diagnostic(file.path, "unreadable", "file disappeared during the run")
    except OSError as error:
        return None, Diagnostic(file.path, "unreadable", error.strerror or "cannot read file")
    if len(data) > max_bytes:
        message = f"file grew past the limit of {max_bytes} bytes while being read"
        return None, Diagnostic(file.path, "too-large", message)
    return data, None


def decode(data: bytes, path: str) -> tuple[str | None, Diagnostic | None]:
    """Text of the bytes (UTF-8 with or without BOM, UTF-16 with BOM), or why they are not text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError as error:
            return None, Diagnostic(path, "decode-error", f"invalid UTF-16: {error.reason}")
    if b"\x00" in data[:BINARY_PROBE]:
        return None, Diagnostic(path, "binary", "binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        message = f"not valid UTF-8 at byte {error.start} (line {line})"
        return None, Diagnostic(path, "decode-error", message, line)


def read_text(file: SourceFile, max_bytes: int) -> tuple[str | None, Diagnostic | None]:
    """The file's text, or why it cannot be read as text."""
    data, problem = read_bytes(file, max_bytes)
    if data is None:
        return None, problem
    return decode(data, file.path)
