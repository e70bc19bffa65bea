"""What a hub repository id is and which calls load one: the vocabulary TL402 reads code
with (loaders, download commands, ``hf://`` URIs, what is a local path instead)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

from tunelint.facts import Call, Value
from tunelint.project.index import Lookups

COMMIT = re.compile(r"[0-9a-fA-F]{40}")
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")
DEFAULT_ORIGINS = frozenset({"argparse-default", "dataclass-default"})
LOCAL_BUILDERS = frozenset(
    {"json", "csv", "parquet", "text", "arrow", "pandas", "imagefolder", "audiofolder"}
    | {"videofolder", "webdataset", "sql", "generator", "xml", "spark", "cache"}
)
LOCAL_DIRS = frozenset(
    {"output", "outputs", "out", "checkpoints", "checkpoint", "ckpt", "ckpts", "runs"}
    | {"results", "saves", "save", "saved_models", "models", "model", "weights", "merged"}
    | {"adapters", "data", "datasets", "local", "tmp", "artifacts", "exports", "export"}
)
LOCAL_SUFFIXES = (
    ".json", ".jsonl", ".csv", ".tsv", ".parquet", ".arrow", ".txt", ".bin", ".pt", ".pth",
    ".safetensors", ".gguf", ".ckpt", ".yaml", ".yml", ".zip", ".tar", ".gz",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Loader:
    """A loader call: where its repo id and revision are passed, and what it loads."""

    pattern: str
    position: int
    keyword: str
    what: str  # "model" or "dataset"


LOADERS = (
    Loader("peft.*.from_pretrained", 1, "model_id", "model"),
    Loader("*.from_pretrained", 0, "pretrained_model_name_or_path", "model"),
    Loader("transformers.pipeline", -1, "model", "model"),
    Loader("sentence_transformers.SentenceTransformer", 0, "model_name_or_path", "model"),
    Loader("datasets.load_dataset", 0, "path", "dataset"),
    Loader("huggingface_hub.snapshot_download", 0, "repo_id", "model"),
    Loader("huggingface_hub.hf_hub_download", 0, "repo_id", "model"),
    # TRL trainers take a model id string and load it themselves
    Loader("trl.*Trainer", 0, "model", "model"),
    # ms-swift's loaders (ModelScope by default, the Hugging Face Hub with use_hf), and
    # ModelScope's own download
    Loader("swift*.get_model_processor", 0, "model_id_or_path", "model"),
    Loader("swift*.get_model_tokenizer", 0, "model_id_or_path", "model"),
    Loader("modelscope*.snapshot_download", 0, "model_id", "model"),
)
# ``hf://datasets/org/name@revision/path`` (datasets, pandas, polars, DuckDB read these)
HF_URI = re.compile(r"^hf://(?:(datasets|spaces|models)/)?([\w.-]+/[\w.-]+)(?:@([^/]+))?(?:/|$)")
# Notebooks resolve imports per cell: a loader imported in an earlier cell arrives bare.
NOTEBOOK_BARE = (
    Loader("load_dataset", 0, "path", "dataset"),
    Loader("snapshot_download", 0, "repo_id", "model"),
    Loader("hf_hub_download", 0, "repo_id", "model"),
)
# Hub download commands, read from shell lines (also notebooks' ``!`` lines and ``%%bash``
# cells): the repository id first, ``repo_type`` saying model or dataset.
DOWNLOADS = tuple(
    Loader(name, 0, "repo_id", "model")
    for name in ("tune download", "huggingface-cli download", "hf download", "modelscope download")
)
# model-name keywords some loaders use instead (unsloth's ``model_name``)
ALTERNATE_KEYWORDS = ("model_name", "model_id", "model_name_or_path")
# where a training reads its starting weights when they are a folder (besides ``model``)
WEIGHT_FOLDER_KEYS = frozenset({"checkpointer.checkpoint_dir"})


def pinned(text: str) -> bool:
    return COMMIT.fullmatch(text.strip()) is not None


def hub_id(text: str, referrer: str = "", project: Lookups | None = None) -> bool:
    """Does ``text`` name a hub repository rather than something on this machine (a path, a
    dataset builder, a folder of the project)?"""
    name = text.strip()
    if not name or name.startswith((".", "/", "~", "\\", "$")) or ":" in name:
        return False
    if name.lower().endswith(LOCAL_SUFFIXES) or HUB_ID.fullmatch(name) is None:
        return False
    if name.lower() in LOCAL_BUILDERS:
        return False
    head, _, tail = name.partition("/")
    if not tail and (len(name) < 3 or name.lower() in LOCAL_DIRS):
        return False  # legacy ids without an owner are gpt2, t5-small, ...; not "outputs"
    if tail and (head.lower() in LOCAL_DIRS or tail.startswith("checkpoint-")):
        return False
    return project is None or not project.is_directory(name, referrer)


def loader_of(call: Call, kind: str) -> Loader | None:
    """The loader a call is, for a file of ``kind`` (notebooks and shell lines know more)."""
    return _loader_named(call.name, kind)


@lru_cache(maxsize=4096)
def _loader_named(name: str, kind: str) -> Loader | None:
    loaders: tuple[Loader, ...] = LOADERS
    if kind == "notebook":
        loaders += NOTEBOOK_BARE
    if kind in {"shell", "notebook"}:
        loaders += DOWNLOADS
    for loader in loaders:
        if fnmatchcase(name, loader.pattern):
            return loader
    return None


def what_loads(call: Call, loader: Loader) -> str | None:
    """Model or dataset, as ``repo_type`` says (None: a Space, or a type not known);
    a torchtune download from Kaggle (``--source kaggle``) is no hub repository."""
    source = call.kwarg("source")
    if source is not None and (source.as_str() or "").strip().lower() != "huggingface":
        return None
    repo_type = call.kwarg("repo_type")
    if repo_type is None:
        return loader.what
    text = (repo_type.as_str() or "").strip().lower()
    return {"model": "model", "dataset": "dataset"}.get(text)


def revision_ok(revision: Value | None) -> bool:
    """Pinned, or not knowable (never a finding)."""
    if revision is None or revision.raw is None:
        return False
    if not revision.known:
        return True
    text = revision.as_str()
    return text is not None and pinned(text)
