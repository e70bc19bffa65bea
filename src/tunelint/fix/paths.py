"""Where a fix moves a directory that sits in a shared location: a folder of the same name
under the project, checked against the same shared locations the rule reports."""

from __future__ import annotations

from pathlib import PurePosixPath

from tunelint.fix.model import FixContext

SHARED_LOCATIONS = ("/tmp", "/var/tmp", "/dev/shm")
# Keys (keyword arguments and config keys) naming a directory, and the project folder the
# fix moves each to.
SHARED_DIR_KEYS = {
    "output_dir": "outputs",
    "out_dir": "outputs",
    "offload_folder": "offload",
    "offload_dir": "offload",
    "nvme_path": "offload",
    "cache_dir": ".cache",
}


def shared_patterns(context: FixContext) -> list[str]:
    extra = context.get("data_protection.shared_paths", []) or []
    if not isinstance(extra, list | tuple):
        extra = [extra]
    return [*SHARED_LOCATIONS, *(str(item) for item in extra)]


def project_path(key: str, current: str, context: FixContext) -> str | None:
    """``./outputs/<name>`` for ``/tmp/<...>/name`` under ``output_dir`` (``./offload``,
    ``./.cache`` for the others); None when ``current`` is not in a shared location, or the
    new place would be one too."""
    from tunelint.rules.match import path_under

    folder = SHARED_DIR_KEYS.get(key)
    patterns = shared_patterns(context)
    if folder is None or not path_under(current.strip(), patterns):
        return None
    name = PurePosixPath(current.strip().rstrip("/")).name
    if not name or any(current.strip().rstrip("/") == pattern.rstrip("/") for pattern in patterns):
        name = ""
    target = f"./{folder}/{name}" if name and name not in {".", ".."} else f"./{folder}"
    if path_under(target, patterns):
        return None
    return target


# Keys naming an offload directory (keyword arguments and config keys).
OFFLOAD_DIR_KEYS = frozenset(
    {"offload_folder", "offload_dir", "nvme_path"}
    | {"offload_optimizer_nvme_path", "offload_param_nvme_path"}
)


def encrypted_path(current: str, context: FixContext) -> str | None:
    """``<first encrypted path>/<name>`` for an offload directory outside the policy's
    ``data_protection.encrypted_paths``; None without a plain directory there to use."""
    from tunelint.rules.match import path_under

    patterns = context.get("data_protection.encrypted_paths", []) or []
    if not isinstance(patterns, list | tuple) or not patterns:
        return None
    patterns = [str(pattern) for pattern in patterns]
    if path_under(current.strip(), patterns):
        return None
    root = patterns[0].rstrip("/")
    for tail in ("/**", "/*"):
        root = root.removesuffix(tail)
    if not root.startswith("/") or any(char in root for char in "*?[]"):
        return None
    name = PurePosixPath(current.strip().rstrip("/")).name
    target = f"{root.rstrip('/')}/{name if name not in {'', '.', '..'} else 'offload'}"
    return target if path_under(target, patterns) else None
