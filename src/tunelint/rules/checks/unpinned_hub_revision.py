"""TL402: hub models and datasets loaded without ``revision`` pinned to a commit.

Reads loader calls (``from_pretrained``, ``pipeline``, ``load_dataset``, ``snapshot_download``,
``hf_hub_download``, ``SentenceTransformer``), hub download commands on shell lines and in
notebooks (``tune download``, ``huggingface-cli download``, ``hf download``, ``modelscope
download``), the model settings of Trainer, TRL, axolotl and LLaMA-Factory configs (with
axolotl's per-dataset ``revision``), launch lines of CLIs and scripts whose code is not among
the checked files (``trl sft --model_name_or_path ...``), and configs that set a key the
project's code takes its model id from (``from_pretrained(config["base_model"])``). A revision
is pinned when it is a 40-hex commit id; what a hub id and a loader are is in ``_hub.py``.
Not reported: local loaders and paths (``json`` / ``csv`` builders, ``./x``, ``/x``, ``~/x``,
output and checkpoint folders, directories that exist), downloads of Spaces, Unknown model
ids and Unknown revisions. Defaults a launch line overrides are judged by the value the
launch line passes.

A download is a load of what runs or trains next. In a training job (a notebook or script
that downloads and then runs ``tune run ...``) it *trains* when the folder it downloads to is
what the training reads its weights from: the job's model setting, or torchtune's
``checkpointer.checkpoint_dir``, is that folder or a path inside it. The repository's one
finding is then placed at the download (where the pin goes), other loads of the same
repository related to it. Otherwise it *loads*, as any loader call does.
Matching folders is all the check does: what a training reads by other means (a path built
at run time, a built-in torchtune config's defaults) is not followed, and the download then
reads as a load. The download itself never makes its file a training job.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from tunelint.facts import Call, FileFacts, Span, Value
from tunelint.findings import Related
from tunelint.project.index import Lookups
from tunelint.project.jobs import Job
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.checks._hub import (
    ALTERNATE_KEYWORDS,
    DEFAULT_ORIGINS,
    DOWNLOADS,
    HF_URI,
    LOADERS,
    WEIGHT_FOLDER_KEYS,
    Loader,
    hub_id,
    loader_of,
    revision_ok,
    what_loads,
)
from tunelint.rules.match import Hit, written_at


@dataclass(frozen=True, slots=True)
class Load:
    """One place a hub repository is named to be downloaded."""

    repo: str
    what: str  # model | dataset
    span: Span
    revision: Value | None
    rank: int  # which place decides: the job's own setting, then a model class, then others
    anchor: str
    scope: str = ""
    # where the id was written when the load names it through a variable
    origins: tuple[Related, ...] = ()
    # the folder a download command writes the repository to, and whether the training
    # of the job reads its weights from there
    folder: str = ""
    trains: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.what, self.repo.strip().rstrip("/").lower())


DECIDES, MODEL_CLASS, OTHER_LOADER, DATASET = 3, 2, 1, 0
SIDE_LOADERS = ("Tokenizer", "Processor", "Config", "FeatureExtractor", "ImageProcessor")


def _uri_loads(call: Call) -> Iterator[Load]:
    """``hf://`` paths passed to any reader: pinned when ``@`` names a 40-hex commit."""
    for value in (*call.args, *(value for _, value in call.kwargs)):
        texts = value.raw if isinstance(value.raw, list | tuple) else [value.raw]
        for text in texts:
            match = HF_URI.match(text) if isinstance(text, str) else None
            if match is None:
                continue
            what = "dataset" if match.group(1) == "datasets" else "model"
            revision = match.group(3)
            pin = Value(revision, value.span, "literal", revision) if revision else None
            yield Load(match.group(2), what, value.span, pin, DATASET, f"hf:{match.group(2)}")


def _call_loads(facts: FileFacts, job: Job | None, project: Lookups) -> Iterator[Load]:
    """The file's loads (worked out once per file), less those whose id is a default the
    job's launch line or config overrides."""
    loads = project.per_file("tl402-call-loads", facts.path, lambda f: _file_loads(f, project))
    for load, default_of in loads:
        if job is not None and default_of is not None:
            decided = job.value(default_of)
            if decided is not None and decided.origin not in DEFAULT_ORIGINS:
                continue  # the job's launch line or config passes its own id (known or not)
        yield load


def _file_loads(facts: FileFacts, project: Lookups) -> list[tuple[Load, str | None]]:
    """Each load of the file, with what it loads when its id is only a default (argparse,
    dataclass field) that a job may override."""
    found: list[tuple[Load, str | None]] = []
    for call in facts.calls:
        found.extend((load, None) for load in _uri_loads(call))
        loader = loader_of(call, facts.kind.value)
        if loader is None:
            continue
        if loader in DOWNLOADS:
            found.extend((load, None) for load in _download_load(call, loader, facts))
            continue
        if loader.position >= 0:
            value = call.arg(loader.position, loader.keyword)
        else:
            value = call.kwarg(loader.keyword)
        for keyword in ALTERNATE_KEYWORDS:
            value = value or call.kwarg(keyword)
        if value is None:
            continue
        name = value.as_str()
        if name is None or _local(name, facts, project):
            continue
        revision = call.kwarg("revision")
        if revision is None and call.star_args:
            continue  # ``**kwargs`` may carry the revision
        side = any(word in call.name.rsplit(".", 2)[-2:][0] for word in SIDE_LOADERS)
        rank = DATASET if loader.what == "dataset" else OTHER_LOADER if side else MODEL_CLASS
        # a value written elsewhere and passed here (an attribute set above the call, a dict
        # entry passed with ``**``) keeps the span where it is written
        origins = written_at(facts, value)
        if value.via is not None:
            origins = (Related(value.span, f"`{name}` is set here"),)
        load = Load(
            name,
            loader.what,
            call.span,
            revision,
            rank,
            f"{call.name}:{name}",
            call.scope,
            origins,
        )
        found.append((load, loader.what if value.origin in DEFAULT_ORIGINS else None))
    return found


def _download_load(call: Call, loader: Loader, facts: FileFacts) -> Iterator[Load]:
    """A download command: reported where its repository id is written (the ``MODEL=``
    line of ``huggingface-cli download $MODEL``), as launch flags are. Its first argument is
    always a repository id (a folder of the same name, even one it downloads to, is not)."""
    value = call.arg(0)
    what = what_loads(call, loader)
    name = value.as_str() if value is not None else None
    if value is None or what is None or name is None or not hub_id(name):
        return
    folder = call.kwarg("local_dir")
    yield Load(
        name,
        what,
        value.span,
        call.kwarg("revision"),
        MODEL_CLASS if what == "model" else DATASET,
        f"{call.name}:{name}",
        "",
        written_at(facts, value),
        (folder.as_str() or "") if folder is not None else "",
    )


def _folder(text: str) -> str:
    """A folder as written, compared with other mentions of it (``./x/`` is ``x``)."""
    cleaned = text.strip().strip("'\"")
    return posixpath.normpath(cleaned) if cleaned else ""


def _weight_folders(job: Job, project: Lookups) -> list[str]:
    """Folders the job's training reads its starting weights from: its model setting, and
    torchtune's ``checkpointer.checkpoint_dir`` in its configs and launch line."""
    found: list[str] = []
    model = job.value("model")
    if model is not None and model.as_str():
        found.append(_folder(model.as_str() or ""))
    launched = list(job.launch.settings) if job.launch is not None else []
    for setting in [s for f in project.member_facts(job) for s in f.settings] + launched:
        if setting.key in WEIGHT_FOLDER_KEYS and setting.value.as_str():
            found.append(_folder(setting.value.as_str() or ""))
    return [folder for folder in found if folder]


def _trained_downloads(loads: list[Load], job: Job, project: Lookups) -> list[Load]:
    """Downloads into a folder the training reads: they train, and decide their repository."""
    folders = _weight_folders(job, project)
    out: list[Load] = []
    for load in loads:
        target = _folder(load.folder) if load.folder else ""
        if target and any(f == target or f.startswith(target.rstrip("/") + "/") for f in folders):
            load = replace(load, trains=True, rank=DECIDES)
        out.append(load)
    return out


def _setting_loads(facts: FileFacts, job: Job | None, project: Lookups) -> Iterator[Load]:
    """Model ids in configs and launch lines, and axolotl datasets with their revisions."""
    decided = job.settings.get("model") if job is not None else None
    for setting in facts.settings:
        if setting.name != "model" or setting.dialect in {"torchtune", "litgpt", "python"}:
            continue
        if setting.dialect == "hf-loader":
            continue  # read from the loader call itself
        if decided is not None and setting is not decided:
            continue  # overridden in this job: the run never loads it
        name = setting.value.as_str()
        if name is None or _local(name, facts, project):
            continue
        revision = _job_revision(job) if job is not None else _own(facts, "revision")
        anchor = f"{setting.key}:{name}"
        origins = written_at(project.facts(setting.span.path) or facts, setting.value)
        yield Load(name, "model", setting.span, revision, DECIDES, anchor, "", origins)
    if "axolotl" in facts.dialects:
        yield from _axolotl_datasets(facts, project)
    yield from _key_loads(facts, project)


def _key_loads(facts: FileFacts, project: Lookups) -> Iterator[Load]:
    """A config that sets a key the project's code takes a model id from
    (``base_model: org/x`` where a trainer loads ``from_pretrained(config["base_model"])``):
    the config decides the model. Configs read in a dialect already name their model."""
    if facts.kind.value not in {"yaml", "json"} or any(s.name == "model" for s in facts.settings):
        return
    keys = project.model_keys_read(facts.path)
    if not keys:
        return
    top = {a.target: a.value for a in facts.assignments if a.kind == "key" and "." not in a.target}
    revision = top.get("revision", top.get("model_revision"))
    for key in sorted(keys & top.keys()):
        value = top[key]
        name = value.as_str()
        if name is None or _local(name, facts, project):
            continue
        yield Load(name, "model", value.span, revision, DECIDES, f"{key}:{name}", "", ())


def _job_revision(job: Job) -> Value | None:
    """The revision the job passes with its model id. A loader's ``revision=args.x`` that
    cannot be resolved only forwards a flag: when the launch line or config does not set
    that flag, no revision is passed."""
    found = job.settings.get("revision")
    if found is None or (found.dialect == "hf-loader" and not found.value.known):
        return None
    return found.value


def _own(facts: FileFacts, name: str) -> Value | None:
    found = facts.setting(name)
    return found.value if found is not None else None


def _axolotl_datasets(facts: FileFacts, project: Lookups) -> Iterator[Load]:
    """axolotl ``datasets[i].path`` with its ``datasets[i].revision``."""
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
        yield Load(name, "dataset", setting.span, revision, DATASET, f"{setting.key}:{name}")


def _report(loads: Iterable[Load], trained: str | None, job_id: str) -> Iterator[Hit]:
    """One finding per repository: at the place that decides it, the others related."""
    groups: dict[tuple[str, str], list[Load]] = {}
    for load in loads:
        groups.setdefault(load.key, []).append(load)
    for (what, repo), group in groups.items():
        unpinned = [load for load in group if not revision_ok(load.revision)]
        if not unpinned:
            continue
        first = sorted(unpinned, key=lambda load: (-load.rank, load.span))[0]
        related = first.origins + tuple(
            item
            for load in sorted(group, key=lambda load: load.span)
            if load is not first
            for item in (Related(load.span, f"`{load.repo}` is also loaded here"), *load.origins)
        )
        trains = (trained is not None and repo == trained) or any(load.trains for load in group)
        role = "trains" if trains else "loads"
        detail = _detail(what, first.repo, first.revision, role)
        yield Hit(
            first.span,
            {"detail": detail},
            anchor=first.anchor,
            scope=first.scope,
            related=related,
            properties={"repository": first.repo, "job": job_id} if job_id else {},
        )


def _detail(what: str, name: str, revision: Value | None, role: str) -> str:
    if revision is None or revision.raw is None:
        problem = "without `revision`"
    else:
        problem = f"with `revision={revision.text or revision.raw}`, a branch or tag"
    if what == "dataset":
        consequence = "is what this code reads"
    else:
        consequence = "is what the job trains on" if role == "trains" else "is what runs here"
    return (
        f"hub {what} `{name}` is loaded {problem}: whatever is pushed to the repository next "
        f"{consequence}; pin a 40-hex commit id"
    )


def _local(name: str, facts: FileFacts, project: Lookups) -> bool:
    """Not a hub id: a path, a builder, a project folder, or a folder the project writes."""
    return not hub_id(name, facts.path, project) or project.written_here(name)


def needles(options: dict[str, Any]) -> dict[str, Any]:
    """Model settings and launch lines are always read; besides them, the loader calls."""
    return {"call": [loader.pattern for loader in LOADERS]}


@register("unpinned-hub-revision", per="job", needles=needles)
def check_job(job: Job, context: CheckContext) -> Iterator[Hit]:
    """A training job: each repository it downloads, once, where the job decides it."""
    if not job.trains:
        return
    project = context.project
    loads: list[Load] = []
    members = set(job.members)
    for path in project.scope(job):
        facts = project.facts(path)
        if facts is None or (path not in members and facts.kind.value == "shell"):
            continue  # a launcher's own lines belong to the jobs it starts itself
        if facts.kind.value in {"python", "notebook", "shell"}:
            loads.extend(_call_loads(facts, job, project))
        if path in members:
            loads.extend(_setting_loads(facts, job, project))
    loads = _trained_downloads(loads, job, project)
    trained = job.value("model")
    name = trained.as_str() if trained is not None else None
    key = name.strip().rstrip("/").lower() if name else None
    yield from _report(loads, key, job.id)


@register("unpinned-hub-revision", per="file")
def check_file(facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    """A file no training job takes in (an inference notebook, a config nothing launches, a
    script that only downloads): each repository it downloads, once."""
    project = context.project
    if facts.kind.value == "shell":
        for job in project.jobs_of(facts.path):
            yield from _report(_unseen_launch_loads(job, facts, project), None, job.id)
    if project.in_training_job(facts.path):
        return
    loads: list[Load] = []
    if facts.kind.value in {"python", "notebook", "shell"}:  # shell: download commands
        loads.extend(_call_loads(facts, None, project))
    if facts.kind.value not in {"python", "notebook", "shell"}:
        # a launch line is judged with the job it starts
        loads.extend(_setting_loads(facts, None, project))
    yield from _report(loads, None, "")


def _unseen_launch_loads(job: Job, facts: FileFacts, project: Lookups) -> Iterator[Load]:
    """``python train.py --model_name_or_path org/x`` where ``train.py`` is not among the
    checked files (another repository, a file pre-commit did not pass): what it does with
    the id cannot be read, and the line decides which model it loads. A job that trains is
    judged whole by ``check_job``; a launch of code that is here, with that code."""
    launch = job.launch
    if job.trains or launch is None or job.entry != facts.path or job.members != (facts.path,):
        return
    if launch.script is None or not launch.script.as_str():
        return
    for setting in launch.settings:
        if setting.name != "model" or setting.span.path != facts.path:
            continue
        name = setting.value.as_str()
        if name is None or _local(name, facts, project):
            continue
        origins = written_at(facts, setting.value)
        anchor = f"{setting.key}:{name}"
        yield Load(name, "model", setting.span, _job_revision(job), DECIDES, anchor, "", origins)
