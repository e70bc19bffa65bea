"""The run cache: an unchanged project reuses the last run's results; any input that decides
them (a file, the policy, the rules, the GPUs) makes the run check again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tunelint import api
from tunelint.api import Options, lint
from tunelint.extract.run_cache import ENTRY
from tunelint.findings import Report

TRAIN = """\
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

model = AutoModelForCausalLM.from_pretrained("org/model", trust_remote_code=True)
args = TrainingArguments(output_dir="/tmp/out", report_to="wandb")
Trainer(model=model, args=args).train()
"""
LAUNCH = "accelerate launch train.py --num_train_epochs 1\n"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNELINT_CACHE_KEY_FILE", str(tmp_path_factory.mktemp("key") / "key"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))
    monkeypatch.delenv("TUNELINT_NO_CACHE", raising=False)
    monkeypatch.delenv("TUNELINT_CACHE_DIR", raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "run.sh").write_text(LAUNCH)
    (tmp_path / "tunelint.yaml").write_text("hardware:\n  gpus: [rtx-4090]\n")
    return tmp_path


class Counter:
    """Counts how often the rules stage really runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.runs = 0
        real = api._check

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.runs += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(api, "_check", counted)


def _summary(report: Report) -> object:
    return (
        [(f.rule_id, f.span, f.message, f.related, f.fingerprint) for f in report.findings],
        report.files_checked,
        [job.id for job in report.jobs],
        report.notes,
        report.destinations,
        report.diagnostics,
    )


def _options(project: Path, **changes: Any) -> Options:
    return Options(cwd=project, jobs=1, **changes)


def test_an_unchanged_project_reuses_the_last_run(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter(monkeypatch)
    first = lint(["."], _options(project))
    second = lint(["."], _options(project))
    assert counter.runs == 1
    assert first.findings, "the project has findings to reuse"
    assert _summary(second) == _summary(first)
    # every report renders the same from reused results (the checklist reads the jobs)
    from tunelint.report.checklist import render_checklist
    from tunelint.report.json_report import render_json
    from tunelint.report.sarif import render_sarif

    for render in (render_checklist, render_json, render_sarif):
        assert render(second) == render(first)


@pytest.mark.parametrize(
    "change",
    ["file", "new file", "policy", "rules", "budget", "gpus"],
)
def test_what_decides_the_results_makes_the_run_check_again(
    project: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    counter = Counter(monkeypatch)
    before = lint(["."], _options(project))
    options = _options(project)
    if change == "file":
        (project / "train.py").write_text(TRAIN.replace(", trust_remote_code=True", ""))
    elif change == "new file":
        (project / "other.py").write_text("import torch\ntorch.load('x.pt')\n")
    elif change == "policy":
        (project / "tunelint.yaml").write_text("hardware:\n  gpus: [a100-80gb]\n")
    elif change == "rules":
        options = _options(project, ignore=["TL301"])
    elif change == "budget":
        options = _options(project, gpu="a100-80gb")
    else:
        monkeypatch.setattr(api, "_detected_gpus", lambda policy: (("NVIDIA H100", 80 << 30),))
    after = lint(["."], options)
    assert counter.runs == 2
    if change == "file":
        assert {f.rule_id for f in before.findings} - {f.rule_id for f in after.findings} == {
            "TL401"
        }
    if change == "new file":
        assert "other.py" in after.files_checked
    if change == "rules":
        assert "TL301" not in {f.rule_id for f in after.findings}


def test_the_baseline_applies_to_reused_results(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tunelint.cli import main

    counter = Counter(monkeypatch)
    monkeypatch.chdir(project)
    baseline = tmp_path_factory.mktemp("outside") / "baseline.json"
    assert main(["check", ".", "--write-baseline", str(baseline)]) == 0
    reused = lint(["."], _options(project, baseline=baseline))
    assert counter.runs == 1  # the baseline file is no input of the rules stage
    assert reused.findings and reused.active == []


def test_a_damaged_entry_is_not_used(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = Counter(monkeypatch)
    first = lint(["."], _options(project))
    entry = _entry()
    data = bytearray(entry.read_bytes())
    data[-1] ^= 0xFF
    entry.write_bytes(bytes(data))
    second = lint(["."], _options(project))
    assert counter.runs == 2
    assert _summary(second) == _summary(first)


def test_no_cache_means_no_reuse(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = Counter(monkeypatch)
    lint(["."], _options(project, use_cache=False))
    lint(["."], _options(project, use_cache=False))
    assert counter.runs == 2


def _entry() -> Path:
    import os

    (found,) = Path(os.environ["XDG_CACHE_HOME"]).rglob(ENTRY)
    return found


CALLS: list[str] = []


def _record() -> str:
    CALLS.append("ran")
    return "boom"


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_record, ())


def test_a_signed_entry_that_names_other_code_is_not_run(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even under a valid signature (a stolen key), only facts and findings are built."""
    import pickle

    from tunelint.extract.run_cache import MAGIC, RunCache

    counter = Counter(monkeypatch)
    lint(["."], _options(project))
    entry = _entry()
    store = RunCache.open(entry.parent.parent)
    assert store is not None
    captured: list[str] = []
    real_get = RunCache.get

    def spy(self: RunCache, key: str) -> Any:
        captured.append(key)
        return real_get(self, key)

    monkeypatch.setattr(RunCache, "get", spy)
    lint(["."], _options(project))
    assert counter.runs == 1 and captured
    payload = pickle.dumps(_Evil())
    entry.write_bytes(MAGIC + store._store.mac(captured[-1], payload) + payload)
    lint(["."], _options(project))
    assert CALLS == [] and counter.runs == 2
