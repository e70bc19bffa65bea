"""TL105: long training runs that cannot be resumed, judged per job on its merged settings.

A job's length comes from ``max_steps`` (else ``num_epochs``): above the policy's
``training.long_run_steps`` (``long_run_epochs``) it is long, at or below it short, and with
neither known it is of unknown length. Reported, unless the run is known to be short:
``save_strategy: no``; ``save_steps`` larger than ``max_steps`` (nothing is saved before the
end); ``save_steps`` above ``training.max_steps_without_checkpoint``; and, on long runs, a
hand-written loop (a ``backward()`` pass, no Trainer) with no checkpoint call in the job's files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tunelint.facts import FileFacts, FileKind, Setting, Span
from tunelint.project.jobs import Job, merge_settings
from tunelint.project.training import TRAINING_DIALECTS, training_call
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.match import Hit

STATE_KEYS = frozenset({"global_step", "log_history", "best_model_checkpoint"})
DEFAULT_LONG_STEPS = 1000
DEFAULT_LONG_EPOCHS = 3.0
SAVE_CALLS = frozenset(
    {"save", "save_pretrained", "save_model", "save_state", "save_checkpoint", "save_file"}
    | {"save_weights", "save_lora_weights", "save_adapter", "save_to_disk"}
)


@dataclass(frozen=True, slots=True)
class Length:
    steps: float | None
    epochs: float | None
    long_steps: float
    long_epochs: float

    @property
    def short(self) -> bool:
        if self.steps is not None:
            return self.steps <= self.long_steps
        return self.epochs is not None and self.epochs <= self.long_epochs

    @property
    def long(self) -> bool:
        if self.steps is not None:
            return self.steps > self.long_steps
        return self.epochs is not None and self.epochs > self.long_epochs

    def describe(self) -> str:
        if self.steps is not None:
            return f"{self.steps:g} steps"
        if self.epochs is not None:
            return f"{self.epochs:g} epochs"
        return "an unknown number of steps"


def _number(setting: Setting | None) -> float | None:
    if setting is None or not setting.value.known:
        return None
    number = setting.value.as_number()
    return number if number is not None and number > 0 else None


def _trainer_based(files: list[FileFacts]) -> bool:
    for facts in files:
        if any(dialect in TRAINING_DIALECTS for dialect in facts.dialects):
            return True
        if any(training_call(c) and c.short_name != "backward" for c in facts.calls):
            return True
    return False


def _hand_loop(files: list[FileFacts]) -> bool:
    return any(call.short_name == "backward" for facts in files for call in facts.calls)


def _saves(files: list[FileFacts]) -> bool:
    return any(
        call.short_name in SAVE_CALLS or call.name == "torch.save"
        for facts in files
        for call in facts.calls
    )


def _judge(
    settings: dict[str, Setting],
    files: list[FileFacts],
    length: Length,
    gap: float | None,
    entry: Span,
) -> Iterator[Hit]:
    if length.short:
        return
    strategy = settings.get("save_strategy")
    steps = settings.get("save_steps")
    save_steps = _number(steps)
    how_long = length.describe()
    if strategy is not None and (strategy.value.as_str() or "").strip().lower() == "no":
        detail = (
            f"`{strategy.key}` is `no` on a run of {how_long}: no checkpoint is ever written, "
            "so a crash, preemption or out-of-memory error loses the whole run"
        )
        yield Hit(strategy.span, {"detail": detail}, anchor=f"save_strategy:{strategy.key}")
        return
    by_steps = strategy is None or (strategy.value.as_str() or "steps").lower() == "steps"
    if steps is not None and save_steps is not None and by_steps:
        if length.steps is not None and save_steps > length.steps:
            detail = (
                f"`{steps.key}` is {save_steps:g}, more than the run's {length.steps:g} steps: "
                "no checkpoint is written before the run ends, so a failure loses all of it"
            )
            yield Hit(steps.span, {"detail": detail}, anchor=f"save_steps:{steps.key}")
            return
        if gap is not None and save_steps > gap:
            detail = (
                f"`{steps.key}` is {save_steps:g}: more steps between checkpoints than the "
                f"policy allows (training.max_steps_without_checkpoint: {gap:g})"
            )
            yield Hit(steps.span, {"detail": detail}, anchor=f"save_steps:{steps.key}")
            return
    if not length.long or _trainer_based(files) or not _hand_loop(files) or _saves(files):
        return
    decided = settings.get("max_steps") if length.steps is not None else settings.get("num_epochs")
    span = decided.span if decided is not None else entry
    detail = (
        f"a training loop of {how_long} with no checkpoint call (`save_pretrained`, "
        "`torch.save`, `accelerator.save_state`) in any of the job's files: a failure loses "
        "the whole run"
    )
    yield Hit(span, {"detail": detail}, anchor="no-checkpoint")


def _options(context: CheckContext) -> tuple[float, float, float | None]:
    long_steps = float(context.policy("training.long_run_steps", DEFAULT_LONG_STEPS))
    long_epochs = float(context.policy("training.long_run_epochs", DEFAULT_LONG_EPOCHS))
    gap = context.policy("training.max_steps_without_checkpoint")
    return long_steps, long_epochs, float(gap) if gap is not None else None


def _entry_span(job: Job) -> Span:
    return job.launch.span if job.launch is not None else Span(job.entry, 1)


# job settings are always read; the saves it looks for matter only in job members, which are
# parsed (training files by their markers, launched scripts by name)
@register("no-checkpointing", per="job", needles={"any": []})
def check_job(job: Job, context: CheckContext) -> Iterator[Hit]:
    if not job.trains:
        return
    long_steps, long_epochs, gap = _options(context)
    files = context.project.member_facts(job)
    settings = job.settings
    length = Length(
        _number(settings.get("max_steps")),
        _number(settings.get("num_epochs")),
        long_steps,
        long_epochs,
    )
    yield from _judge(settings, files, length, gap, _entry_span(job))


@register("no-checkpointing", per="file")
def check_config(facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    """A config no training job starts (a Trainer YAML read by a script outside the project),
    judged on its own."""
    if facts.kind not in {FileKind.YAML, FileKind.JSON}:
        return
    if any(job.trains and facts.path in job.members for job in context.project.jobs_of(facts.path)):
        return
    settings = merge_settings(facts.settings)
    if "save_strategy" not in settings and "save_steps" not in settings:
        return
    if any(a.target in STATE_KEYS for a in facts.assignments):
        return  # a checkpoint's trainer_state.json records a run, it configures none
    long_steps, long_epochs, gap = _options(context)
    length = Length(
        _number(settings.get("max_steps")),
        _number(settings.get("num_epochs")),
        long_steps,
        long_epochs,
    )
    yield from _judge(settings, [facts], length, gap, Span(facts.path, 1))
