"""Writing fixed files: only regular files inside the checked paths, never through a
symbolic link, only when the file is still what the fix was worked out on, and atomically
(a temporary file beside it, then ``os.replace``), keeping the file's permission bits."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Sequence


def refusal(absolute: str, given: Sequence[str], cwd: str) -> str | None:
    """Why a fix must not write ``absolute``, or None. It must be a regular file, not a
    symbolic link, inside one of the checked paths (``given``, relative to ``cwd``), with no
    symbolic link on the way to it below the working directory (or below the checked path,
    for one outside the working directory). Links above that are the user's own layout."""
    try:
        info = os.lstat(absolute)
    except OSError as error:
        return f"cannot read it ({error.strerror or 'error'})"
    if stat.S_ISLNK(info.st_mode):
        return "it is a symbolic link"
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file"
    tops = [os.path.normpath(os.path.join(cwd, root)) for root in given or ["."]]
    top = next((top for top in tops if absolute == top or _below(absolute, top)), None)
    if top is None:
        return "it lies outside the checked paths"
    base = os.path.normpath(cwd) if _below(absolute, os.path.normpath(cwd)) else top
    directory = os.path.dirname(absolute)
    while _below(directory, base):
        if os.path.islink(directory):
            return "it lies in a symbolically linked directory"
        directory = os.path.dirname(directory)
    return None


def _below(path: str, top: str) -> bool:
    return path.startswith(top.rstrip(os.sep) + os.sep)


def write_atomically(absolute: str, expected: bytes, data: bytes) -> str | None:
    """Replace the file's bytes ``expected`` with ``data``; why not, or None when written."""
    try:
        info = os.lstat(absolute)
        if not stat.S_ISREG(info.st_mode):
            return "it is no longer a regular file"
        with open(absolute, "rb") as handle:
            if handle.read(len(expected) + 1) != expected:
                return "it changed since it was read"
    except OSError as error:
        return f"cannot read it ({error.strerror or 'error'})"
    directory, name = os.path.split(absolute)
    try:
        handle_fd, temporary = tempfile.mkstemp(
            prefix=f".{name}.", suffix=".tunelint", dir=directory
        )
    except OSError as error:
        return f"cannot write beside it ({error.strerror or 'error'})"
    try:
        with os.fdopen(handle_fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        os.replace(temporary, absolute)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return f"cannot write it ({error.strerror or 'error'})"
    return None
