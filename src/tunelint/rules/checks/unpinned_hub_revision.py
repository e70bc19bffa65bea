"""TL402: hub models and datasets loaded without ``revision`` pinned to a commit.

Reads loader calls (``from_pretrained``, ``pipeline``, ``load_dataset``, ``snapshot_download``,
``hf_hub_download``, ``SentenceTransformer``) and the model settings of Trainer, TRL, axolotl
and LLaMA-Factory configs (with axolotl's per-dataset ``revision``), and launch lines of CLIs
whose training code is not in the project (``trl sft --model_name_or_path ...``). A revision
is pinned when it is a 40-hex commit id. Not reported: local loaders and paths (``json`` /
``csv`` builders, ``./x``, ``/x``, ``~/x``, output and checkpoint folders, directories that
exist), Unknown model ids and Unknown revisions. Defaults a launch line overrides are judged
by the value the launch line passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from tunelint.facts import Call, FileFacts, Setting, Value
from tunelint.project.index import Lookups
from tunelint.project.jobs import Job
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.match import Hit

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
)
# Notebooks resolve imports per cell: a loader imported in an earlier cell arrives bare.
NOTEBOOK_BARE = (
    Loader("load_dataset", 0, "path", "dataset"),
    Loader("snapshot_download", 0, "repo_id", "model"),
    Loader("hf_hub_download", 0, "repo_id", "model"),
)
# model-name keywords some loaders use instead (unsloth's ``model_name``)
ALTERNATE_KEYWORDS = ("model_name", "model_id", "model_name_or_path")


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


def _loader(call: Call, notebook: bool) -> Loader | None:
    for loader in (*LOADERS, *NOTEBOOK_BARE) if notebook else LOADERS:
        if fnmatchcase(call.name, loader.pattern):
            return loader
    return None


def _overridden(value: Value, name: str, jobs: list[Job]) -> Value:
    """A default the job's launch line or config replaces: the value the run really gets."""
    if value.origin not in DEFAULT_ORIGINS:
        return value
    for job in jobs:
        found = job.settings.get(name)
        if found is not None and found.value.origin not in DEFAULT_ORIGINS and found.value.known:
            return found.value
    return value


def _revision_ok(revision: Value | None) -> bool:
    """Pinned, or not knowable (never a finding)."""
    if revision is None or revision.raw is None:
        return False
    if not revision.known:
        return True
    text = revision.as_str()
    return text is not None and pinned(text)


def _detail(what: str, name: str, revision: Value | None) -> str:
    if revision is None or revision.raw is None:
        problem = "without `revision`"
    else:
        problem = f"with `revision={revision.text or revision.raw}`, a branch or tag"
    return (
        f"hub {what} `{name}` is loaded {problem}: whatever is pushed to the repository next "
        "is what the job trains on; pin a 40-hex commit id"
    )


def _local(name: str, facts: FileFacts, project: Lookups) -> bool:
    """Not a hub id: a path, a builder, a project folder, or a folder the project writes."""
    return not hub_id(name, facts.path, project) or project.written_here(name)


def _call_hits(facts: FileFacts, jobs: list[Job], project: Lookups) -> Iterator[Hit]:
    for call in facts.calls:
        loader = _loader(call, facts.kind.value == "notebook")
        if loader is None:
            continue
        value = None
        if loader.position >= 0:
            value = call.arg(loader.position, loader.keyword)
        else:
            value = call.kwarg(loader.keyword)
        for keyword in ALTERNATE_KEYWORDS:
            value = value or call.kwarg(keyword)
        if value is None:
            continue
        value = _overridden(value, loader.what, jobs)
        name = value.as_str()
        if name is None or _local(name, facts, project):
            continue
        revision = call.kwarg("revision")
        if revision is not None:
            revision = _overridden(revision, "revision", jobs)
        if revision is None and call.star_args:
            continue
        if _revision_ok(revision):
            continue
        detail = _detail(loader.what, name, revision)
        yield Hit(call.span, {"detail": detail}, anchor=f"{call.name}:{name}", scope=call.scope)


def _revision_of(facts: FileFacts, jobs: list[Job]) -> Value | None:
    for job in jobs:
        found = job.settings.get("revision")
        if found is not None:
            return found.value
    own = facts.setting("revision")
    return own.value if own is not None else None


def _model_setting_hits(facts: FileFacts, jobs: list[Job], project: Lookups) -> Iterator[Hit]:
    for setting in facts.settings:
        if setting.name != "model" or setting.dialect in {"torchtune", "litgpt", "python"}:
            continue
        name = setting.value.as_str()
        if name is None or _local(name, facts, project):
            continue
        if facts.kind.value == "shell" and not _cli_launch(setting, facts, jobs):
            continue
        revision = _revision_of(facts, jobs)
        if _revision_ok(revision):
            continue
        detail = _detail("model", name, revision)
        yield Hit(setting.span, {"detail": detail}, anchor=f"{setting.key}:{name}")


def _cli_launch(setting: Setting, facts: FileFacts, jobs: list[Job]) -> bool:
    """A launch line whose job has no Python member: the flag is the only loader."""
    for job in jobs:
        launch = job.launch
        if launch is None or job.entry != facts.path:
            continue
        if launch.span.line <= setting.span.line <= launch.span.end_line:
            return not any(member.endswith(".py") for member in job.members)
    return False


def _dataset_hits(facts: FileFacts, project: Lookups) -> Iterator[Hit]:
    """axolotl ``datasets[i].path`` without a pinned ``datasets[i].revision``."""
    if "axolotl" not in facts.dialects:
        return
    keys = {assignment.target: assignment.value for assignment in facts.assignments}
    for setting in facts.settings:
        if setting.name != "dataset" or not setting.key.endswith(".path"):
            continue
        name = setting.value.as_str()
        prefix = setting.key.removesuffix(".path")
        local = keys.get(f"{prefix}.ds_type") or keys.get(f"{prefix}.data_files")
        if name is None or local is not None or not hub_id(name, facts.path, project):
            continue
        revision = keys.get(f"{prefix}.revision")
        if _revision_ok(revision):
            continue
        detail = _detail("dataset", name, revision)
        yield Hit(setting.span, {"detail": detail}, anchor=f"{setting.key}:{name}")


def needles(options: dict[str, Any]) -> dict[str, Any]:
    """Model settings and launch lines are always read; besides them, the loader calls."""
    return {"call": [loader.pattern for loader in LOADERS]}


@register("unpinned-hub-revision", needles=needles)
def check(facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    jobs = [job for job in context.project.jobs_of(facts.path) if facts.path in job.members]
    if facts.kind.value in {"python", "notebook"}:
        yield from _call_hits(facts, jobs, context.project)
        return
    yield from _model_setting_hits(facts, jobs, context.project)
    yield from _dataset_hits(facts, context.project)
