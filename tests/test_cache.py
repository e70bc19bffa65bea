"""The facts cache: hits give equal facts, bad entries are rebuilt and never unpickled."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import stat
from pathlib import Path

import pytest

from tunelint.api import Options, lint
from tunelint.cli import main
from tunelint.discover import discover
from tunelint.extract import cache as cache_module
from tunelint.extract.cache import (
    CACHE_DIR,
    HEADER_SIZE,
    MAGIC,
    FactsCache,
    cache_dir,
    code_fingerprint,
)
from tunelint.extract.parallel import extract_files, parse
from tunelint.facts import FileFacts, FileKind

SCRIPT = """\
import torch
from transformers import AutoModelForCausalLM, TrainingArguments

model = AutoModelForCausalLM.from_pretrained("gpt2", trust_remote_code=True)
args = TrainingArguments(output_dir="/tmp/out", per_device_train_batch_size=4)
state = torch.load("ckpt.pt")  # tunelint: ignore[TL403] -- our own checkpoint
"""
CALLS: list[str] = []


def _record() -> str:
    CALLS.append("unpickled")
    return "boom"


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_record, ())


@pytest.fixture(autouse=True)
def _own_key(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path_factory.mktemp("key") / "cache-key"
    monkeypatch.setenv("TUNELINT_CACHE_KEY_FILE", str(key))
    monkeypatch.delenv("TUNELINT_NO_CACHE", raising=False)
    monkeypatch.delenv("TUNELINT_CACHE_DIR", raising=False)
    # the user's cache directory, here one per test
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))
    # one generation for the whole test, whatever else changes in the checkout meanwhile
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda: "c" * 64)
    CALLS.clear()


def _open(tmp_path: Path) -> FactsCache:
    opened = FactsCache.open(tmp_path / CACHE_DIR, fingerprint="f" * 64)
    assert opened is not None
    return opened


def _facts(path: str = "train.py") -> FileFacts:
    return parse(path, FileKind.PYTHON, SCRIPT)


def test_hit_returns_equal_facts(tmp_path: Path) -> None:
    cache = _open(tmp_path)
    facts = _facts()
    key = cache.key("train.py", FileKind.PYTHON, SCRIPT.encode())
    assert cache.get(key, "train.py", FileKind.PYTHON) is None
    cache.put(key, facts)
    assert cache.get(key, "train.py", FileKind.PYTHON) == facts
    assert (cache.stats.hits, cache.stats.misses, cache.stats.writes) == (1, 1, 1)


def test_key_depends_on_content_path_and_kind(tmp_path: Path) -> None:
    cache = _open(tmp_path)
    base = cache.key("a.py", FileKind.PYTHON, b"x = 1\n")
    assert base == cache.key("a.py", FileKind.PYTHON, b"x = 1\n")
    assert base != cache.key("a.py", FileKind.PYTHON, b"x = 2\n")
    assert base != cache.key("b.py", FileKind.PYTHON, b"x = 1\n")
    assert base != cache.key("a.py", FileKind.SHELL, b"x = 1\n")


def _entry(cache: FactsCache, key: str) -> Path:
    return cache.directory / key[:2] / key


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[: len(blob) // 2],  # truncated
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),  # one bit of the payload
        lambda blob: blob[:HEADER_SIZE],  # header only
        lambda blob: b"",  # empty
        lambda blob: b"XXXXXXXX" + blob[len(MAGIC) :],  # not our format
        lambda blob: blob[:HEADER_SIZE] + pickle.dumps(_Evil()),  # payload swapped
    ],
)
def test_damaged_entries_are_rebuilt_and_never_unpickled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: object
) -> None:
    cache = _open(tmp_path)
    key = cache.key("train.py", FileKind.PYTHON, SCRIPT.encode())
    cache.put(key, _facts())
    entry = _entry(cache, key)
    entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    loads: list[bytes] = []
    unpickler = cache_module._unpickler()
    original = unpickler.load

    def spy(self: pickle.Unpickler) -> object:
        loads.append(b"")
        return original(self)

    monkeypatch.setattr(unpickler, "load", spy)
    assert cache.get(key, "train.py", FileKind.PYTHON) is None
    assert loads == [] and CALLS == []
    assert cache.stats.rejected == 1
    assert not entry.exists()
    cache.put(key, _facts())
    assert cache.get(key, "train.py", FileKind.PYTHON) == _facts()


def test_entries_of_another_key_holder_are_rejected(tmp_path: Path) -> None:
    """A cache committed to a repository or planted by someone else does not verify."""
    mine = _open(tmp_path)
    theirs = FactsCache(mine.directory, b"k" * 32)
    key = mine.key("train.py", FileKind.PYTHON, SCRIPT.encode())
    theirs.put(key, _facts())
    assert mine.get(key, "train.py", FileKind.PYTHON) is None
    assert mine.stats.rejected == 1


def test_verified_entries_still_hold_only_facts(tmp_path: Path) -> None:
    """Even with a valid digest, only facts classes may come out of an entry."""
    cache = _open(tmp_path)
    key = cache.key("train.py", FileKind.PYTHON, SCRIPT.encode())
    payload = pickle.dumps(_Evil())
    _entry(cache, key).parent.mkdir(parents=True, exist_ok=True)
    _entry(cache, key).write_bytes(MAGIC + cache.mac(key, payload) + payload)
    assert cache.get(key, "train.py", FileKind.PYTHON) is None
    assert CALLS == []


def test_an_entry_for_another_path_is_rejected(tmp_path: Path) -> None:
    cache = _open(tmp_path)
    key = cache.key("train.py", FileKind.PYTHON, SCRIPT.encode())
    cache.put(key, _facts("other.py"))
    assert cache.get(key, "train.py", FileKind.PYTHON) is None


def _writer(directory: str, secret: bytes, key: str, rounds: int) -> None:
    cache = FactsCache(Path(directory), secret)
    facts = _facts()
    for _ in range(rounds):
        cache.put(key, facts)


def test_concurrent_writers_never_leave_a_broken_entry(tmp_path: Path) -> None:
    cache = _open(tmp_path)
    key = cache.key("train.py", FileKind.PYTHON, SCRIPT.encode())
    expected = _facts()
    context = multiprocessing.get_context("fork")
    writers = [
        context.Process(target=_writer, args=(str(cache.directory), cache.secret, key, 150))
        for _ in range(2)
    ]
    for writer in writers:
        writer.start()
    seen = 0
    while any(w.is_alive() for w in writers):
        found = cache.get(key, "train.py", FileKind.PYTHON)
        if found is not None:
            assert found == expected
            seen += 1
    for writer in writers:
        writer.join()
        assert writer.exitcode == 0
    assert cache.get(key, "train.py", FileKind.PYTHON) == expected
    assert cache.stats.rejected == 0
    assert [p.name for p in _entry(cache, key).parent.iterdir()] == [key]


def _project(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "tunelint.yaml").write_text("version: 1\n")
    (tmp_path / "train.py").write_text(SCRIPT)
    (tmp_path / "util.py").write_text("def add(a, b):\n    return a + b\n")
    return tmp_path


def test_second_run_hits_and_reports_the_same(tmp_path: Path) -> None:
    from tunelint.report import render

    project = _project(tmp_path)
    options = Options(cwd=project, jobs=1)
    first = render(lint(["."], options), "json")
    base = cache_dir(project)
    assert base is not None
    assert (base / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (base / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172")
    found = discover(["."], root=project, cwd=project)
    run = extract_files(found.files, 100_000, cache_dir=base)
    assert run.stats.cache.hits == 2  # train.py and tunelint.yaml; util.py: no prefilter here
    second = render(lint(["."], options), "json")
    assert first == second


def test_no_cache_bypasses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    base = cache_dir(project)
    assert base is not None
    lint(["."], Options(cwd=project, jobs=1, use_cache=False))
    assert not base.exists()
    monkeypatch.chdir(project)
    assert main(["check", "--no-cache", "--exit-zero", "."]) == 0
    assert not base.exists()
    monkeypatch.setenv("TUNELINT_NO_CACHE", "1")
    assert cache_dir(project) is None
    lint(["."], Options(cwd=project, jobs=1))
    assert not base.exists()


def test_the_cache_lives_in_the_user_cache_directory_one_per_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_cache = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_cache))
    one, other = _project(tmp_path / "one"), _project(tmp_path / "other")
    lint(["."], Options(cwd=one, jobs=1))
    base = cache_dir(one)
    assert base is not None and base.is_relative_to(user_cache / "tunelint")
    assert entries_under(base) and not (one / CACHE_DIR).exists()
    assert cache_dir(other) != base
    # the same project reached through another spelling of its path shares the cache
    assert cache_dir(one / "." / ".." / "one") == base


def entries_under(base: Path) -> list[Path]:
    return [path for path in base.rglob("*") if path.is_file() and len(path.name) == 64]


def test_cache_dir_can_move(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNELINT_CACHE_DIR", "build/facts")
    assert cache_dir(tmp_path) == tmp_path / "build" / "facts"
    monkeypatch.setenv("TUNELINT_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert cache_dir(tmp_path / "project") == tmp_path / "elsewhere"


def test_a_changed_file_misses_and_the_rest_hit(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "other.py").write_text("import torch\nx = torch.load('a')\n")
    found = discover(["."], root=project, cwd=project)
    base = project / CACHE_DIR
    extract_files(found.files, 100_000, cache_dir=base)
    (project / "other.py").write_text("import torch\nx = torch.load('b')\n")
    run = extract_files(found.files, 100_000, cache_dir=base)
    assert (run.stats.cache.hits, run.stats.parsed) == (3, 1)
    assert run.facts["other.py"].calls[0].args[0].raw == "b"


def test_without_a_key_there_is_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("TUNELINT_CACHE_KEY_FILE", str(blocker / "key"))
    assert FactsCache.open(tmp_path / CACHE_DIR) is None
    project = _project(tmp_path / "p")
    facts = extract_files(discover(["."], root=project, cwd=project).files, 100_000).facts
    assert facts["train.py"].calls


def test_key_file_is_private(tmp_path: Path) -> None:
    secret = cache_module.load_secret(tmp_path / "keys" / "key")
    assert secret is not None and len(secret) == 32
    mode = stat.S_IMODE(os.stat(tmp_path / "keys" / "key").st_mode)
    assert mode == 0o600
    assert cache_module.load_secret(tmp_path / "keys" / "key") == secret


def test_old_generations_are_pruned(tmp_path: Path) -> None:
    base = tmp_path / CACHE_DIR
    for index in range(6):
        old = base / f"{index:032d}"
        old.mkdir(parents=True)
        os.utime(old, (1000 + index, 1000 + index))
    assert FactsCache.open(base, fingerprint="9" * 64) is not None
    kept = sorted(p.name for p in base.iterdir() if p.is_dir())
    assert kept == [f"{i:032d}" for i in (3, 4, 5)] + ["9" * 32]


def test_fingerprint_is_stable() -> None:
    first = code_fingerprint()
    assert first == code_fingerprint()
    assert first != "c" * 64
    assert len(first) == 64 and int(first, 16) >= 0
