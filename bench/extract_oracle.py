"""Facts of the Python and notebook sources compared with those of an earlier revision.

    python bench/extract_oracle.py tests/fixtures ~/src/some-repo
    python bench/extract_oracle.py --baseline 2b16df7 --stdlib tests/fixtures

The baseline revision's ``src/tunelint`` is exported with ``git archive`` into a temporary
directory and run in subprocesses (``--workers``); its facts are pickled per file under
``--cache`` (keyed by revision, path and content), so a second comparison against the same
revision only runs the current code. Every field of every file's facts is compared exactly:
calls (names, arguments, values, spans, scopes, text), settings, assignments, references,
suppressions, diagnostics, imports and lines. A crash is compared as its exception text.
The current facts must also survive a pickle round trip unchanged.

Exits 1 when any file differs, and prints the first differences of each such file.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import pickle
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields, is_dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = (".py", ".ipynb")


# -- one file's facts, in whichever tunelint is importable --------------------------------------


def facts_of(path: str, data: bytes) -> object:
    """FileFacts of one file as the importable tunelint extracts them, or the crash as text."""
    from tunelint.sources.read import decode

    text, problem = decode(data, path)
    if text is None:
        return f"decode: {problem}"
    try:
        if path.endswith(".ipynb"):
            from tunelint.sources.notebook import extract_notebook

            return extract_notebook(text, path)
        from tunelint.sources.python import extract_python

        return extract_python(text, path)
    except Exception as error:  # compared like any other result
        return f"crash: {type(error).__name__}: {error}"


def _baseline_worker(item: tuple[str, str, str]) -> str:
    """Runs inside a baseline process: extract one file and pickle its facts to ``out``."""
    path, absolute, out = item
    result = facts_of(path, Path(absolute).read_bytes())
    Path(out).write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    return out


def _baseline_main(listing: str, workers: int) -> None:
    import tunelint

    print(f"baseline code: {Path(tunelint.__file__).parent}", flush=True)
    items = [tuple(line.split("\t")) for line in Path(listing).read_text().splitlines()]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(_baseline_worker, items, chunksize=4):
            pass


# -- files ------------------------------------------------------------------------------------


def files_under(roots: Iterable[Path]) -> Iterator[tuple[str, Path]]:
    """(displayed path, absolute path) of every .py and .ipynb file, sorted per root."""
    for index, root in enumerate(roots):
        root = root.resolve()
        found = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in found:
            if path.suffix in SUFFIXES and path.is_file() and "__pycache__" not in path.parts:
                relative = path.relative_to(root) if root.is_dir() else Path(path.name)
                yield f"r{index}/{relative.as_posix()}", path


def _key(revision: str, path: str, data: bytes) -> str:
    digest = hashlib.sha256(revision.encode() + b"\0" + path.encode() + b"\0" + data)
    return digest.hexdigest()[:32]


def resolve_revision(revision: str) -> str:
    command = ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{revision}^{{commit}}"]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def default_revision() -> str:
    """Where this branch left ``main``: the code before the branch's own changes."""
    command = ["git", "-C", str(ROOT), "merge-base", "HEAD", "main"]
    found = subprocess.run(command, capture_output=True, text=True)
    return found.stdout.strip() if found.returncode == 0 else "HEAD"


def export(revision: str, target: Path) -> Path:
    """The revision's ``src/`` (tunelint and nothing else), unpacked under ``target``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "src/tunelint"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "src"


def baseline_facts(
    revision: str, files: list[tuple[str, Path, bytes]], cache: Path, workers: int
) -> dict[str, Path]:
    """Pickled baseline facts per displayed path, computing those not cached yet."""
    cache.mkdir(parents=True, exist_ok=True)
    where = {path: cache / f"{_key(revision, path, data)}.pickle" for path, _, data in files}
    missing = [(p, a) for p, a, _ in files if not where[p].exists()]
    if missing:
        print(f"baseline {revision[:10]}: extracting {len(missing)} files", flush=True)
        with tempfile.TemporaryDirectory(prefix="tunelint-oracle-") as temporary:
            source = export(revision, Path(temporary))
            listing = Path(temporary) / "files.tsv"
            listing.write_text(
                "".join(f"{path}\t{absolute}\t{where[path]}\n" for path, absolute in missing)
            )
            env = dict(os.environ, PYTHONPATH=str(source))
            code = (
                f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                "import extract_oracle as o; "
                f"o._baseline_main({str(listing)!r}, {workers})"
            )
            subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=temporary)
    return where


# -- comparison -------------------------------------------------------------------------------


def _same(old: object, new: object) -> bool:
    if old == new:
        return True
    return type(old) is type(new) and repr(old) == repr(new) and "nan" in repr(old)


def differences(old: object, new: object, limit: int = 6) -> list[str]:
    """Where two results of one file differ, field by field and item by item."""
    if isinstance(old, str) or isinstance(new, str) or not is_dataclass(old):
        return [] if _same(old, new) else [f"result: {old!r}\n    now: {new!r}"]
    found: list[str] = []
    for item in fields(old):  # type: ignore[arg-type]
        before, after = getattr(old, item.name), getattr(new, item.name)
        if _same(before, after):
            continue
        if isinstance(before, list | tuple) and isinstance(after, list | tuple):
            if len(before) != len(after):
                found.append(f"{item.name}: {len(before)} items, now {len(after)}")
            for index, (a, b) in enumerate(zip(before, after, strict=False)):
                if not _same(a, b):
                    found.append(f"{item.name}[{index}]: {a!r}\n    now: {b!r}")
                    break
        else:
            found.append(f"{item.name}: {before!r}\n    now: {after!r}")
        if len(found) >= limit:
            break
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("roots", nargs="*", type=Path, help="directories or files to compare")
    parser.add_argument("--stdlib", action="store_true", help="also the interpreter's stdlib")
    parser.add_argument("--baseline", help="revision to compare with (default: merge-base main)")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "tunelint-oracle"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--show", type=int, default=20, help="files whose differences to print")
    args = parser.parse_intermixed_args(argv)
    roots = list(args.roots)
    if args.stdlib:
        roots.append(Path(sysconfig.get_paths()["stdlib"]))
    if not roots:
        parser.error("nothing to compare: give directories or --stdlib")
    revision = resolve_revision(args.baseline or default_revision())
    files = [(p, a, a.read_bytes()) for p, a in files_under(roots)]
    if any("site-packages" in Path(p).parts for p, _, _ in files):
        files = [f for f in files if "site-packages" not in Path(f[0]).parts]
    where = baseline_facts(revision, files, args.cache, args.workers)
    sys.path.insert(0, str(ROOT / "src"))
    differing: list[tuple[str, list[str]]] = []
    started = time.perf_counter()
    for path, _, data in files:
        new = facts_of(path, data)
        old = pickle.loads(where[path].read_bytes())
        found = differences(old, new)
        if not isinstance(new, str) and pickle.loads(pickle.dumps(new)) != new:
            found.append("the current facts change in a pickle round trip")
        if found:
            differing.append((path, found))
    elapsed = time.perf_counter() - started
    for path, found in differing[: args.show]:
        print(f"DIFF {path}")
        for line in found:
            print(f"  {line}")
    sizes = sum(len(data) for _, _, data in files)
    print(
        f"{len(files)} files ({sizes / 1e6:.1f} MB) against {revision[:10]}: "
        f"{len(differing)} differ; current extraction {elapsed:.1f} s"
    )
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
