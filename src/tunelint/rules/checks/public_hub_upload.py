"""TL303: uploads to the Hugging Face Hub that create (or land in) a public repository.

Reports ``push_to_hub`` turned on (TrainingArguments, TRL configs, Trainer and LLaMA-Factory
YAML, launch flags) when neither the file nor the job it belongs to makes the repository
private (``hub_private_repo``; axolotl's ``hub_model_id`` always pushes privately), and
``push_to_hub(...)`` / ``create_repo(...)`` calls and ``save_pretrained(..., push_to_hub=True)``
without ``private=True``. A push to a repo
id that the same file creates privately is not reported; an Unknown privacy flag never is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tunelint.facts import Call, FileFacts, Setting, Value
from tunelint.findings import Related
from tunelint.globs import matches_any
from tunelint.project.index import Lookups
from tunelint.project.jobs import Job
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.match import Hit

CREATE_CALLS = ("huggingface_hub.create_repo", "huggingface_hub.HfApi*.create_repo")
ANY = "*"


def _is_push(call: Call) -> bool:
    return call.short_name == "push_to_hub"


def _saves_to_hub(call: Call) -> Value | None:
    """``model.save_pretrained(path, push_to_hub=True)`` (also a tokenizer's, a processor's):
    transformers creates the repository (``repo_id``, else the folder's name) and uploads to
    it. The ``push_to_hub`` value, or None."""
    if call.short_name != "save_pretrained":
        return None
    value = call.kwarg("push_to_hub")
    return value if value is not None and value.as_bool() is True else None


def _trainer_push(call: Call) -> bool:
    """``trainer.push_to_hub()``: privacy comes from the TrainingArguments."""
    receiver = call.text.rsplit(".", 1)[0] if "." in call.text else ""
    owner = receiver.rsplit(".", 1)[-1].lower()
    return _is_push(call) and (call.name.endswith("Trainer.push_to_hub") or "trainer" in owner)


def _builds_arguments(facts: FileFacts) -> bool:
    """The file writes its TrainingArguments / TRL config itself, rather than parsing them
    from the command line (``HfArgumentParser``, ``TrlParser``), where ``--hub_private_repo``
    may be passed; only then is an unset privacy flag known to be unset."""
    for call in facts.calls:
        short = call.short_name
        if short.endswith("TrainingArguments") or (
            call.name.startswith("trl.") and short.endswith("Config")
        ):
            return True
    return False


def _repo_id(call: Call) -> str:
    if call.short_name == "save_pretrained":
        value = call.kwarg("repo_id")
        folder = call.arg(0, "save_directory")
        name = folder.as_str() if value is None and folder is not None else None
        text = value.as_str() if value is not None else name
        text = text.rstrip("/").rsplit("/", 1)[-1] if text and value is None else text
    else:
        value = call.arg(0, "repo_id")
        text = value.as_str() if value is not None else None
    return text.strip().lower() if text else ANY


def _privacy(call: Call) -> bool | None:
    """True/False as passed; None when the value cannot be known (never a finding)."""
    value = call.kwarg("private")
    if value is None:
        return None if call.star_args else False
    if not value.known:
        return None
    return value.as_bool()


def _jobs_of(jobs: list[Job], path: str, line: int) -> list[Job]:
    """The jobs a setting on ``line`` of ``path`` belongs to: a launch script's line belongs
    only to the launch written there."""
    found = []
    for job in jobs:
        launch = job.launch
        elsewhere = launch is not None and not launch.span.line <= line <= launch.span.end_line
        if job.entry == path and elsewhere:
            continue
        found.append(job)
    return found


def _private_setting(setting: Setting | None) -> bool:
    """Private, or not knowable: either way not a finding."""
    if setting is None:
        return False
    return not setting.value.known or setting.value.as_bool() is not False


def _uploads_privately(facts: FileFacts) -> bool:
    """The file creates every repository it creates with ``private=`` set, to True or to a
    value not known here (a parameter, defaulting to True in ``push_folder_to_hub(...,
    private=True)``): an upload helper whose privacy the job does not leave public."""
    creates = [c for c in facts.calls if matches_any(c.name, tuple(CREATE_CALLS))]
    return bool(creates) and all(_privacy(call) is not False for call in creates)


def _helper_private(jobs: list[Job], project: Lookups | None) -> bool:
    """A project module of the job uploads privately (see ``_uploads_privately``)."""
    if project is None:
        return False
    return any(
        project.per_file("uploads-privately", path, _uploads_privately)
        for job in jobs
        for path in project.scope(job)
    )


def _made_private(
    facts: FileFacts, jobs: list[Job], line: int, project: Lookups | None = None
) -> bool:
    own = [s for s in facts.settings if s.name == "hub_private"]
    if facts.kind.value == "shell":
        launch_jobs = _jobs_of(jobs, facts.path, line)
        own = [s for s in own if any(_in_launch(job, s) for job in launch_jobs)] or own
    if own and _private_setting(own[-1]):
        return True
    line_jobs = _jobs_of(jobs, facts.path, line)
    for job in line_jobs:
        if _private_setting(job.settings.get("hub_private")):
            return True
    return _helper_private(line_jobs, project)


def _in_launch(job: Job, setting: Setting) -> bool:
    launch = job.launch
    if launch is None:
        return False
    if launch.settings:
        return setting in launch.settings
    return launch.span.line <= setting.span.line <= launch.span.end_line


def _private_repos(facts: FileFacts, jobs: list[Job]) -> set[str]:
    """Repo ids this file creates privately (``*``: one whose id is not known)."""
    repos: set[str] = set()
    for call in facts.calls:
        creates = _is_push(call) or matches_any(call.name, tuple(CREATE_CALLS))
        creates = creates or _saves_to_hub(call) is not None
        if creates and not _trainer_push(call) and _privacy(call) is not False:
            repos.add(_repo_id(call))
    pushes = [s for s in facts.settings if s.name == "push_to_hub" and s.value.as_bool()]
    for setting in pushes:
        if _made_private(facts, jobs, setting.span.line):
            model_id = facts.setting("hub_model_id")
            text = model_id.value.as_str() if model_id is not None else None
            repos.add(text.strip().lower() if text else ANY)
    return repos


def needles(options: dict[str, Any]) -> dict[str, Any]:
    """``push_to_hub`` settings are always read; besides them, push and create-repo calls
    (a ``save_pretrained(push_to_hub=True)`` spells ``push_to_hub`` too)."""
    return {"call": ["*push_to_hub", *CREATE_CALLS]}


@register("public-hub-upload", needles=needles)
def check(facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    jobs = list(context.project.jobs_reaching(facts.path))
    private = _private_repos(facts, jobs)
    pushing = False
    for setting in facts.settings:
        if setting.name != "push_to_hub" or setting.value.as_bool() is not True:
            continue
        pushing = True
        if _made_private(facts, jobs, setting.span.line, context.project):
            continue
        detail = (
            f"`{setting.key}` is on and nothing makes the repository private "
            "(`hub_private_repo`): the model trained on this data is published on a "
            "public Hugging Face repository"
        )
        related = tuple(
            Related(call.span, "the push itself") for call in facts.calls if _trainer_push(call)
        )
        yield Hit(
            setting.span,
            {"detail": detail},
            anchor=f"push_to_hub:{setting.key}",
            related=related,
        )
    for call in facts.calls:
        trainer = _trainer_push(call)
        creates = matches_any(call.name, tuple(CREATE_CALLS))
        saving = _saves_to_hub(call)
        if not (creates or _is_push(call) or saving is not None):
            continue
        if trainer:
            if pushing or _made_private(facts, jobs, call.span.line, context.project):
                continue
            if private or not _builds_arguments(facts):
                continue
            detail = (
                f"`{call.text or call.name}()` pushes with the TrainingArguments' "
                "`hub_private_repo`, which is not set: the repository is created public"
            )
        else:
            if _privacy(call) is not False:
                continue
            repo = _repo_id(call)
            if repo in private or (private and repo == ANY) or ANY in private:
                continue
            verb = "creates" if creates else "uploads to"
            shown = f"{call.text or call.name}(...)"
            if saving is not None:
                shown = f"{call.text or call.name}(..., push_to_hub=True)"
            detail = (
                f"`{shown}` without `private=True` {verb} a public "
                "Hugging Face repository: weights (and whatever they memorised from the "
                "training data) become downloadable by anyone"
            )
        # a save that pushes is reported at its push_to_hub (it may be written in a dict
        # the call splats: the entry a reviewer changes)
        where = saving.span if saving is not None else call.span
        yield Hit(where, {"detail": detail}, anchor=call.name, scope=call.scope)
