"""Per-file cache of facts, in the user's cache directory, one per project root.

An entry holds the pickled FileFacts of one file and is found by a key over:

* the file's content (SHA-256 of its bytes), its displayed path and its kind (facts carry
  the path in every span, and the kind decides the source);
* the *code fingerprint*: tunelint's version, this module's ``SCHEMA``, the Python version,
  the versions of the parsers (libcst, PyYAML) and a hash of the source code of every module
  in the tunelint package. Hashing the code (rather than trusting the version number) keeps
  the cache correct in a checkout where sources change without a release.

Rules and policy are not in the key: facts do not depend on them. The results of the rules
are cached separately, for the whole project at once (``run_cache.py``), and reused only when
every file, the policy and the rules are unchanged. Prefiltered files are not cached (the
prefilter depends on the enabled rules and is cheaper than a cache lookup).

Unpickling runs code, so an entry is trusted only after its HMAC-SHA256 verifies. The HMAC
key is a random per-user secret kept outside the repository (``$XDG_CACHE_HOME/tunelint/``,
mode 0600), so a cache directory committed to a repository or planted by another user cannot
be forged: it fails verification and is rebuilt. Verified payloads are further unpickled with
an allow-list of classes (tunelint's facts and plain builtins). Writes go to a temporary file
and are moved into place with ``os.replace``, so concurrent runs never see half an entry.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Final

from tunelint.facts import FileFacts, FileKind

if TYPE_CHECKING:
    import pickle

# The name for a cache kept next to a project (TUNELINT_CACHE_DIR=.tunelint_cache); discovery
# never enters a directory of that name.
CACHE_DIR: Final = ".tunelint_cache"
SCHEMA: Final = 1
MAGIC: Final = b"TLFACTS1"
DIGEST_SIZE: Final = 32
HEADER_SIZE: Final = len(MAGIC) + DIGEST_SIZE
KEY_ENV: Final = "TUNELINT_CACHE_KEY_FILE"
KEEP_GENERATIONS: Final = 4
PARSER_DISTRIBUTIONS: Final = ("libcst", "PyYAML")
CACHEDIR_TAG: Final = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by tunelint.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n"
)
GITIGNORE: Final = "# Automatically created by tunelint.\n*\n"

_ALLOWED_GLOBALS: Final = {
    "tunelint.facts": frozenset(
        {
            "FileFacts",
            "FileKind",
            "Span",
            "Value",
            "Call",
            "Setting",
            "Assignment",
            "Launch",
            "Reference",
            "Suppression",
            "Requirement",
            "Diagnostic",
            "UNKNOWN",
            "_Unknown",
        }
    ),
    "builtins": frozenset({"set", "frozenset", "complex", "bytes", "bytearray", "slice", "range"}),
    "copyreg": frozenset({"_reconstructor"}),
}


class CacheError(Exception):
    """An entry that must not be used: wrong header, bad digest, disallowed content."""


@cache
def _unpickler() -> type[pickle.Unpickler]:
    """The restricted unpickler, made on first use (pickle is not imported at start-up)."""
    import pickle

    class FactsUnpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> object:
            if name in _ALLOWED_GLOBALS.get(module, frozenset()):
                return super().find_class(module, name)
            raise CacheError(f"cache entry refers to {module}.{name}, which facts never hold")

    return FactsUnpickler


@cache
def _reducers() -> dict[type, object]:
    """Pickle the frozen facts as constructor calls: several times faster to load than the
    field-by-field ``__setstate__`` that dataclasses give frozen slotted classes."""
    import copyreg
    import dataclasses

    from tunelint import facts as module

    table: dict[type, object] = dict(copyreg.dispatch_table)
    for name in sorted(_ALLOWED_GLOBALS["tunelint.facts"]):
        cls = getattr(module, name, None)
        params = getattr(cls, "__dataclass_params__", None)
        if not isinstance(cls, type) or params is None or not params.frozen:
            continue
        names = tuple(f.name for f in dataclasses.fields(cls) if f.init)

        def reduce(obj: object, cls: type = cls, names: tuple[str, ...] = names) -> object:
            shared = _SHARED.setdefault
            return (
                cls,
                tuple(
                    shared(v, v) if type(v) is str else v for v in (getattr(obj, n) for n in names)
                ),
            )

        table[cls] = reduce
    return table


# Equal strings of one dump, made one object so that pickle stores each once: call names,
# scopes, origins and source text repeat thousands of times in a large file, and share memory
# once loaded.
_SHARED: dict[str, str] = {}


def allowed_globals() -> dict[str, frozenset[str]]:
    """The classes a facts entry may name (other caches add their own to these)."""
    return dict(_ALLOWED_GLOBALS)


def dumps(facts: object) -> bytes:
    """The bytes of one file's facts (or of anything made of facts), as the caches store
    them and workers send them."""
    import io
    import pickle

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _reducers()  # type: ignore[assignment]
    try:
        pickler.dump(facts)
    finally:
        _SHARED.clear()
    return buffer.getvalue()


def loads(payload: bytes) -> FileFacts:
    """Facts back from ``dumps``; only facts classes may come out (CacheError otherwise)."""
    import io

    try:
        facts = _unpickler()(io.BytesIO(payload)).load()
    except CacheError:
        raise
    except Exception as error:
        raise CacheError(f"cannot unpickle: {error}") from None
    if not isinstance(facts, FileFacts):
        raise CacheError("entry does not hold FileFacts")
    return facts


def cache_dir(root: Path) -> Path | None:
    """Where the cache lives for a policy root; None when the environment turns it off.

    By default in the user's cache directory (``platformdirs``: ``~/.cache/tunelint`` on
    Linux), under a name made from the resolved root, so nothing is written into the
    checked project and two checkouts never share entries. ``TUNELINT_NO_CACHE`` (any value
    but 0/false) turns caching off, ``TUNELINT_CACHE_DIR`` moves the cache (relative paths
    are taken from the policy root), as ruff's variables do.
    """
    if os.environ.get("TUNELINT_NO_CACHE", "").strip().lower() not in {"", "0", "false", "no"}:
        return None
    moved = os.environ.get("TUNELINT_CACHE_DIR")
    if moved:
        return root / moved
    import hashlib

    import platformdirs

    project = hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:32]
    return platformdirs.user_cache_path("tunelint", appauthor=False) / "projects" / project


@cache
def code_fingerprint() -> str:
    """Changes whenever the facts a file yields could change: code, parsers, Python. Worked
    out once per process (hashing the package's sources costs some 20 ms; the code a process
    runs does not change under it)."""
    import hashlib
    from importlib import metadata

    import tunelint

    digest = hashlib.sha256()
    package = Path(tunelint.__file__).resolve().parent
    parts = [f"schema={SCHEMA}", f"tunelint={tunelint.__version__}", f"python={sys.version}"]
    for distribution in PARSER_DISTRIBUTIONS:
        try:
            parts.append(f"{distribution}={metadata.version(distribution)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{distribution}=?")
    digest.update("\n".join(parts).encode())
    for module in sorted(package.rglob("*.py")):
        digest.update(module.relative_to(package).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(module.read_bytes()).digest())
    return digest.hexdigest()


def _key_file() -> Path:
    configured = os.environ.get(KEY_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tunelint" / "cache-hmac-key"


def load_secret(path: Path | None = None) -> bytes | None:
    """The per-user HMAC key, created on first use; None when it cannot be kept."""
    import secrets
    import tempfile

    path = path or _key_file()
    try:
        secret = path.read_bytes()
        if len(secret) >= 32:
            return secret
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret = secrets.token_bytes(32)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secret)
            os.chmod(temporary, 0o600)
            try:
                os.link(temporary, path)  # never replace a key another run just made
            except FileExistsError:
                pass
            except OSError:  # no hard links here: last writer wins, others' entries rebuild
                os.replace(temporary, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        secret = path.read_bytes()
    except OSError:
        return None
    return secret if len(secret) >= 32 else None


@dataclass(slots=True)
class CacheStats:
    hits: int = 0
    misses: int = 0
    rejected: int = 0  # entries that failed verification and were rebuilt
    writes: int = 0

    def add(self, other: CacheStats) -> None:
        self.hits += other.hits
        self.misses += other.misses
        self.rejected += other.rejected
        self.writes += other.writes


@dataclass(slots=True)
class FactsCache:
    """One generation of the cache: the entries made by this code fingerprint."""

    directory: Path
    secret: bytes
    stats: CacheStats = field(default_factory=CacheStats)

    @classmethod
    def open(cls, base: Path, fingerprint: str | None = None) -> FactsCache | None:
        """The cache in directory ``base``; None when it cannot be used (read-only, no key)."""
        secret = load_secret()
        if secret is None:
            return None
        directory = base / (fingerprint or code_fingerprint())[:32]
        try:
            if directory.is_dir():
                os.utime(directory)  # in use: the newest generations survive pruning
            else:
                _prepare(base)
                directory.mkdir(parents=True, exist_ok=True)
                _prune(base, keep=directory)
        except OSError:
            return None
        return cls(directory, secret)

    def key(self, path: str, kind: FileKind, data: bytes) -> str:
        import hashlib

        digest = hashlib.sha256()
        digest.update(kind.value.encode() + b"\0" + path.encode("utf-8", "surrogatepass") + b"\0")
        digest.update(hashlib.sha256(data).digest())
        return digest.hexdigest()

    def _entry(self, key: str) -> Path:
        return self.directory / key[:2] / key

    def mac(self, key: str, payload: bytes) -> bytes:
        """The entry's HMAC-SHA256 under this user's secret, over its key and payload."""
        import hashlib
        import hmac

        return hmac.new(self.secret, key.encode() + b"\0" + payload, hashlib.sha256).digest()

    def get(self, key: str, path: str, kind: FileKind) -> FileFacts | None:
        """The cached facts, or None (missing, or rejected and removed: rebuild them)."""
        entry = self._entry(key)
        try:
            blob = entry.read_bytes()
        except OSError:
            self.stats.misses += 1
            return None
        try:
            facts = self._decode(key, blob)
            if facts.path != path or facts.kind != kind:
                raise CacheError("entry belongs to another file")
        except CacheError:
            self.stats.rejected += 1
            self.stats.misses += 1
            with contextlib.suppress(OSError):
                entry.unlink()
            return None
        self.stats.hits += 1
        return facts

    def _decode(self, key: str, blob: bytes) -> FileFacts:
        if len(blob) < HEADER_SIZE or not blob.startswith(MAGIC):
            raise CacheError("not a tunelint cache entry")
        digest, payload = blob[len(MAGIC) : HEADER_SIZE], blob[HEADER_SIZE:]
        import hmac

        if not hmac.compare_digest(digest, self.mac(key, payload)):
            raise CacheError("digest does not match: corrupted or not written by this user")
        return loads(payload)

    def put(self, key: str, facts: FileFacts, payload: bytes | None = None) -> None:
        """Store atomically; failures (read-only disk, full disk) only cost the next run time.

        ``payload``: ``dumps(facts)`` when the caller has it already.
        """
        payload = dumps(facts) if payload is None else payload
        entry = self._entry(key)
        try:
            entry.parent.mkdir(exist_ok=True)
        except OSError:
            return
        if write_atomically(entry, MAGIC + self.mac(key, payload) + payload):
            self.stats.writes += 1


def write_atomically(path: Path, blob: bytes) -> bool:
    """Write ``blob`` to a temporary file beside ``path`` and move it into place, so that a
    concurrent reader sees the old entry or the new one, never half of one. False when the
    disk refuses (read-only, full): the caller only loses a cache entry."""
    import tempfile

    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError:
        return False
    return True


def _prepare(base: Path) -> None:
    """Create the cache directory with its .gitignore and CACHEDIR.TAG."""
    base.mkdir(parents=True, exist_ok=True)
    for name, text in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", GITIGNORE)):
        target = base / name
        if not target.exists():
            with contextlib.suppress(OSError):
                target.write_text(text, encoding="utf-8")


def _prune(base: Path, keep: Path) -> None:
    """Keep the newest few generations; older code's entries are never read again."""
    import shutil

    try:
        generations = [p for p in base.iterdir() if p.is_dir() and p != keep]
        generations.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in generations[KEEP_GENERATIONS - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


__all__ = [
    "CACHE_DIR",
    "CacheStats",
    "FactsCache",
    "cache_dir",
    "code_fingerprint",
    "dumps",
    "load_secret",
    "loads",
    "write_atomically",
]
