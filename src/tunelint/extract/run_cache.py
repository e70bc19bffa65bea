"""The last run's results, reused when nothing that decides them has changed.

Rules look across files (a job spans a launch script, a config and the modules it imports),
so a finding cannot be cached per file: it may change when another file does. What is
cached is the whole result of the rules stage for one project, under a key over everything
it depends on:

* every discovered file: its displayed path, its kind and its bytes (or why it cannot be
  read), in discovery order, and the repositories found;
* the policy as loaded (presets and defaults included), the enabled rules (each rule's whole
  definition as loaded: match, options, messages, fix), the file size limit and the
  command-line GPU budget;
* the code: the facts cache's code fingerprint, plus every data file in the package (GPU
  profiles, prices, presets, schemas);
* the GPUs that NVML reports, when the policy lets rules detect them.

A re-check of an unchanged tree then skips parsing, the project index and the rules: it
costs start-up, discovery and one hash of each file. Any change rebuilds the entry, which
is one file per project (the last run only), signed and loaded like the facts cache: HMAC
with the per-user secret first, then an unpickler that only builds tunelint's facts and
findings.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from tunelint.discover import SourceFile
from tunelint.extract.cache import (
    DIGEST_SIZE,
    FactsCache,
    allowed_globals,
    code_fingerprint,
    dumps,
    write_atomically,
)
from tunelint.facts import Diagnostic
from tunelint.findings import Destination, Finding, Note
from tunelint.sources.read import read_bytes

MAGIC: Final = b"TLRUN001"
ENTRY: Final = "last-run"
# What a run-cache entry may hold beyond facts.
RESULT_GLOBALS: Final = {
    "tunelint.findings": frozenset(
        {"Finding", "Fix", "Edit", "Related", "Destination", "Note", "Severity"}
    ),
    "tunelint.project.jobs": frozenset({"Job"}),
}


@dataclass(slots=True)
class RunResult:
    """What the rules stage hands to the report, before any baseline is applied."""

    findings: list[Finding]
    diagnostics: list[Diagnostic]  # from the files (discovery adds its own each run)
    files_checked: list[str]
    jobs: list[Any]
    notes: list[Note]
    destinations: list[Destination]


def run_key(
    files: Sequence[SourceFile],
    max_bytes: int,
    *,
    repositories: Sequence[str],
    policy: dict[str, Any],
    rules: Sequence[object],
    budget: dict[str, Any],
    gpus: object,
) -> str:
    """The key over everything the rules stage reads (see the module docstring)."""
    digest = hashlib.sha256()
    digest.update(code_fingerprint().encode() + b"\0")
    digest.update(_package_data_fingerprint().encode() + b"\0")
    digest.update(json.dumps(policy, sort_keys=True, default=repr).encode() + b"\0")
    digest.update(repr(list(rules)).encode() + b"\0")
    digest.update(repr((max_bytes, sorted(budget.items()), gpus)).encode() + b"\0")
    digest.update(repr(sorted(repositories)).encode() + b"\0")
    prefilter = os.environ.get("TUNELINT_PREFILTER", "1")
    digest.update(prefilter.encode() + b"\0")
    for file in files:
        data, problem = read_bytes(file, max_bytes)
        digest.update(f"{file.kind.value}\0{file.path}\0".encode("utf-8", "surrogatepass"))
        if data is None:
            digest.update(b"unread\0" + repr(problem).encode() + b"\0")
        else:
            digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


@cache
def _package_data_fingerprint() -> str:
    """A hash of the package's files that are not Python modules (the code fingerprint has
    those): GPU and price tables, presets, schemas. The rules are in the key as loaded."""
    import tunelint

    digest = hashlib.sha256()
    package = Path(tunelint.__file__).resolve().parent
    data = [p for p in package.rglob("*") if p.is_file() and p.suffix not in {".py", ".pyc"}]
    for path in sorted(data):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        with contextlib.suppress(OSError):
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


class RunCache:
    """The last run of one project: read when its key matches, replaced otherwise."""

    def __init__(self, facts_cache: FactsCache) -> None:
        self._store = facts_cache
        self._entry = facts_cache.directory / ENTRY

    @classmethod
    def open(cls, base: Path | None) -> RunCache | None:
        store = FactsCache.open(base) if base is not None else None
        return cls(store) if store is not None else None

    def get(self, key: str) -> RunResult | None:
        """The stored result for ``key``; None when missing, stale, forged or unreadable."""
        try:
            blob = self._entry.read_bytes()
        except OSError:
            return None
        header = len(MAGIC) + DIGEST_SIZE
        if len(blob) < header or not blob.startswith(MAGIC):
            return None
        import hmac

        digest, payload = blob[len(MAGIC) : header], blob[header:]
        if not hmac.compare_digest(digest, self._store.mac(key, payload)):
            return None  # another key (the tree changed), or not written by this user
        try:
            result = _unpickler()(io.BytesIO(payload)).load()
        except Exception:
            return None
        return result if isinstance(result, RunResult) else None

    def put(self, key: str, result: RunResult) -> None:
        """Replace the entry atomically; a failure only costs the next run its shortcut."""
        try:
            payload = dumps(result)
        except Exception:  # something in a finding that pickle cannot write: no shortcut
            return
        write_atomically(self._entry, MAGIC + self._store.mac(key, payload) + payload)


def _unpickler() -> type[pickle.Unpickler]:
    allowed = {**allowed_globals(), **RESULT_GLOBALS, __name__: frozenset({"RunResult"})}

    class ResultUnpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> object:
            if name in allowed.get(module, frozenset()):
                return super().find_class(module, name)
            raise pickle.UnpicklingError(f"{module}.{name} is not a run result class")

    return ResultUnpickler
