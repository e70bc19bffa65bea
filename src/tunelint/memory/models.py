"""Resolve a model id or path to its architecture, offline.

Order: a local ``config.json`` (a model directory, or a snapshot already in the local
Hugging Face cache), then the built-in table (``architectures.json``), then the name
itself ("7b", "8x7b", "30B-A3B"), which is marked low confidence. Nothing is ever
downloaded: a linter must be fast, deterministic and work without network.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from tunelint.memory.arch import Architecture, generic_architecture
from tunelint.memory.hfconfig import architecture_from_config, quant_bits_from_config

Source = Literal["config", "table", "name"]
Confidence = Literal["high", "medium", "low"]

_MAX_CONFIG_BYTES = 2_000_000


class UnknownModelError(ValueError):
    """The model could not be sized from a local config, the table or its name."""


@dataclass(frozen=True)
class ModelInfo:
    """What the estimator knows about one model."""

    model_id: str
    arch: Architecture
    params: int
    active_params: int
    source: Source
    confidence: Confidence
    quant_bits: int | None = None
    matched: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------- table
@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, Architecture], dict[str, str]]:
    """Load the packaged table once: id -> architecture, and lookup key -> id."""
    text = resources.files("tunelint.memory").joinpath("architectures.json").read_text("utf-8")
    data = json.loads(text)
    families: dict[str, dict[str, object]] = data["families"]
    archs: dict[str, Architecture] = {}
    index: dict[str, str] = {}
    for row in data["models"]:
        row = dict(row)
        model_id = str(row.pop("id"))
        aliases = [str(a) for a in row.pop("aliases", [])]
        family = str(row.pop("family"))
        values: dict[str, object] = {**families[family], **row, "family": family}
        base = Architecture(
            hidden=int(str(values.pop("hidden"))),
            layers=int(str(values.pop("layers"))),
            heads=int(str(values.pop("heads"))),
            kv_heads=int(str(values.pop("kv_heads"))),
            intermediate=int(str(values.pop("intermediate"))),
            vocab=int(str(values.pop("vocab"))),
        )
        archs[model_id] = base.with_updates(**values)
        for name in [model_id, *aliases]:
            low = name.lower()
            index.setdefault(low, model_id)
            index.setdefault(low.rsplit("/", 1)[-1], model_id)
    return archs, index


def table_ids() -> list[str]:
    """Ids of every model in the built-in table (aliases not included)."""
    return sorted(_table()[0])


_STRIP = re.compile(
    r"[-_.](?:gptq|awq|gguf|exl2|mlx|bnb[-_]?4bit|bnb[-_]?8bit|4bit|8bit|int4|int8|nf4|"
    r"fp16|bf16|hf|instruct|chat|it|pt|base|\d+k|v\d+(?:\.\d+)*)$"
)


def lookup_table(model_id: str) -> tuple[str, Architecture] | None:
    """Find a table entry by id, bare name, alias, or name minus format suffixes."""
    archs, index = _table()
    low = model_id.strip().lower().rstrip("/")
    bare = low.rsplit("/", 1)[-1]
    candidates = [low, bare]
    name = bare
    while True:
        stripped = _STRIP.sub("", name)
        if stripped == name:
            break
        name = stripped
        candidates.append(name)
    candidates += [c.removeprefix("meta-") for c in candidates if c.startswith("meta-")]
    for key in candidates:
        if key in index:
            hit = index[key]
            return hit, archs[hit]
    return None


# --------------------------------------------------------------------------- names
@dataclass(frozen=True)
class NameSize:
    """Sizes read from a model name."""

    params: float
    experts: int = 0
    per_token: int = 0
    active: float = 0.0


_MOE = re.compile(r"(?<![\d.])(\d+)x(\d+(?:\.\d+)?)b(?![a-z])")
_ACTIVE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)b[-_]a(\d+(?:\.\d+)?)b(?![a-z])")
_SIZE = re.compile(r"(?<![\d._])(\d+(?:[._]\d+)?)([bm])(\d{1,2})?(?![a-z\d])")


def parse_name_size(model_id: str) -> NameSize | None:
    """Read a parameter count from a name: 7b, 1.3B, 560m, 8x7b, 7b1, 1_8B, 30B-A3B.

    Quantisation tags ("4bit"), versions ("v0.1", "3.1") and context lengths ("32k",
    "2048") have no b/m unit glued to them and are ignored.
    """
    name = model_id.strip().lower().rsplit("/", 1)[-1]
    if m := _ACTIVE.search(name):
        total, active = float(m.group(1)) * 1e9, float(m.group(2)) * 1e9
        experts = 16
        per_token = max(1, min(experts, round(experts * active / total)))
        return NameSize(total, experts=experts, per_token=per_token, active=active)
    if m := _MOE.search(name):
        n, size = int(m.group(1)), float(m.group(2)) * 1e9
        mlp_share = 0.8  # the MLP holds most of a dense block; experts replicate only it
        total = size * (1 - mlp_share) + n * size * mlp_share
        active = size * (1 - mlp_share) + 2 * size * mlp_share
        return NameSize(total, experts=n, per_token=2, active=active)
    if m := _SIZE.search(name):
        number = float(m.group(1).replace("_", "."))
        if m.group(3):  # "7b1" -> 7.1B, the BLOOM spelling
            number = float(f"{m.group(1).replace('_', '.')}.{m.group(3)}")
        scale = 1e9 if m.group(2) == "b" else 1e6
        return NameSize(number * scale)
    return None


_QUANT4 = re.compile(r"(gptq|awq|bnb[-_]?4bit|4bit|int4|nf4)")
_QUANT8 = re.compile(r"(bnb[-_]?8bit|8bit|int8)")


def quant_bits_from_name(model_id: str) -> int | None:
    """Quantised repos (GPTQ, AWQ, bnb-4bit, -4bit) load in 4 bit; -8bit/int8 in 8 bit."""
    low = model_id.lower()
    if _QUANT8.search(low):
        return 8
    if _QUANT4.search(low):
        return 4
    return None


# --------------------------------------------------------------------------- local files
def _cache_roots() -> list[Path]:
    roots: list[Path] = []
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if value := os.environ.get(var):
            roots.append(Path(value))
    if value := os.environ.get("HF_HOME"):
        roots.append(Path(value) / "hub")
    roots.append(Path.home() / ".cache" / "huggingface" / "hub")
    return roots


def _snapshot_config(repo_dir: Path) -> Path | None:
    ref = repo_dir / "refs" / "main"
    snaps = repo_dir / "snapshots"
    if ref.is_file():
        candidate = snaps / ref.read_text("utf-8").strip() / "config.json"
        if candidate.is_file():
            return candidate
    if snaps.is_dir():
        for snap in sorted(snaps.iterdir()):
            if (snap / "config.json").is_file():
                return snap / "config.json"
    return None


def find_local_config(model_id: str, cache_dirs: Sequence[Path] | None = None) -> Path | None:
    """A config.json for `model_id` on this machine: a directory or a hub cache snapshot."""
    path = Path(model_id).expanduser()
    try:
        if path.is_file() and path.suffix == ".json":
            return path
        if path.is_dir():
            for name in ("config.json", "adapter_config.json"):  # a model, or a PEFT adapter
                if (path / name).is_file():
                    return path / name
    except OSError:
        return None
    if "/" not in model_id or model_id.startswith((".", "/", "~")):
        return None
    wanted = "models--" + model_id.strip("/").replace("/", "--")
    for root in cache_dirs if cache_dirs is not None else _cache_roots():
        try:
            if not root.is_dir():
                continue
            exact = root / wanted
            dirs = [exact] if exact.is_dir() else []
            if not dirs:
                dirs = [d for d in root.iterdir() if d.name.lower() == wanted.lower()]
            for repo_dir in dirs:
                if found := _snapshot_config(repo_dir):
                    return found
        except OSError:
            continue
    return None


def _read_json(path: Path) -> dict[str, object] | None:
    try:
        if path.stat().st_size > _MAX_CONFIG_BYTES:
            return None
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# --------------------------------------------------------------------------- resolution
def _from_arch(
    model_id: str,
    arch: Architecture,
    source: Source,
    confidence: Confidence,
    *,
    quant: int | None,
    matched: str,
    notes: Sequence[str] = (),
) -> ModelInfo:
    return ModelInfo(
        model_id=model_id,
        arch=arch,
        params=arch.total_params(),
        active_params=arch.active_params(),
        source=source,
        confidence=confidence,
        quant_bits=quant,
        matched=matched,
        notes=tuple(notes),
    )


def resolve_model(
    model_id: str, *, cache_dirs: Sequence[Path] | None = None, _depth: int = 0
) -> ModelInfo:
    """Size `model_id` offline: local config.json, then the table, then the name.

    Raises UnknownModelError when none of the three applies.
    """
    name_quant = quant_bits_from_name(model_id)
    config_path = find_local_config(model_id, cache_dirs)
    if config_path is not None:
        data = _read_json(config_path)
        if data is not None and "base_model_name_or_path" in data and _depth == 0:
            base = str(data["base_model_name_or_path"])
            info = resolve_model(base, cache_dirs=cache_dirs, _depth=1)
            note = f"adapter directory: sized from its base model {base}"
            return replace(info, model_id=model_id, notes=(*info.notes, note))
        if data is not None:
            arch = architecture_from_config(data)
            if arch is not None:
                quant = quant_bits_from_config(data) or name_quant
                return _from_arch(
                    model_id, arch, "config", "high", quant=quant, matched=str(config_path)
                )
    hit = lookup_table(model_id)
    if hit is not None:
        table_id, arch = hit
        return _from_arch(model_id, arch, "table", "high", quant=name_quant, matched=table_id)
    size = parse_name_size(model_id)
    if size is not None:
        arch = generic_architecture(
            size.params, experts=size.experts, per_token=size.per_token, active=size.active
        )
        note = f"size read from the name ({size.params / 1e9:.3g}B); generic architecture"
        return _from_arch(model_id, arch, "name", "low", quant=name_quant, matched="", notes=[note])
    raise UnknownModelError(
        f"cannot size model {model_id!r}: no local config.json, not in the built-in table, "
        "and no size (like 7b) in its name"
    )


def config_to_architecture(config: Mapping[str, object]) -> Architecture | None:
    """Public wrapper: an architecture from a parsed Hugging Face config.json mapping."""
    return architecture_from_config(dict(config))
