"""Secrets never reach a report: not in messages, snippets, anchors or any output format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunelint.cli import main
from tunelint.redact import describe, mask, scrub

HF = "hf_Rk3vQ9xLmT2wYp7ZcN4bJs8dHf6gAe1uVo"
WANDB = "5d1e9b0c7a3f28e64b9d0c2a7e1f3b5d8c6a4e20"
AWS_SECRET = "Qm7xZ2pL9vT4kW8rN3sJ6hB1cF5gD0aE/yU+iO7P"
PASSWORD = "Vq7rT2mK9xW4"
API_KEY = "pMMLWjoYEWUpAw0zXYPzCrC3"
SECRETS = (HF, WANDB, AWS_SECRET, PASSWORD, API_KEY)

FILES = {
    "train.py": (
        "import comet_ml\n"
        "import mlflow\n"
        "from huggingface_hub import login\n"
        f'login(token="{HF}")\n'
        f'mlflow.set_tracking_uri("http://ci-bot:{PASSWORD}@mlflow.vendor.example.com")\n'
        f'experiment = comet_ml.Experiment(api_key="{API_KEY}")\n'
    ),
    "launch.sh": f"export WANDB_API_KEY={WANDB}\naccelerate launch train.py\n",
    "config.yaml": f"storage:\n  aws_secret_access_key: {AWS_SECRET}\n",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize("form", ["text", "json", "sarif", "github", "checklist"])
def test_no_output_format_contains_a_secret(
    project: Path, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    code = main(["check", ".", "--format", form, "--no-cache", "--color", "always"])
    out = capsys.readouterr().out
    assert code == 1
    assert "TL204" in out
    for secret in SECRETS:
        assert secret not in out, (form, secret)


def test_every_secret_is_found_and_described_without_the_secret(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check", ".", "--format", "json", "--no-cache", "--select", "TL204"])
    report = json.loads(capsys.readouterr().out)
    found = {(f["path"], f["line"]) for f in report["findings"]}
    assert found == {
        ("train.py", 4),
        ("train.py", 5),
        ("train.py", 6),
        ("launch.sh", 1),
        ("config.yaml", 2),
    }
    messages = " ".join(f["message"] for f in report["findings"])
    assert describe(HF) in messages  # first characters and the length only
    assert "hf_R… (37 chars)" in messages
    snippets = {f["path"]: f["snippet"] for f in report["findings"]}
    assert mask(AWS_SECRET) in snippets["config.yaml"]
    assert len(snippets["config.yaml"]) == len(FILES["config.yaml"].splitlines()[1])


def test_other_rules_on_a_secret_line_are_masked_too(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check", ".", "--format", "json", "--no-cache", "--ignore", "TL204"])
    report = json.loads(capsys.readouterr().out)
    on_line_5 = [f for f in report["findings"] if (f["path"], f["line"]) == ("train.py", 5)]
    assert {f["rule_id"] for f in on_line_5} >= {"TL205", "TL301"}
    for finding in on_line_5:
        text = json.dumps(finding)
        assert PASSWORD not in text
        assert "ci-bot:" in finding["snippet"]


def test_scrub_masks_self_identifying_credentials_keeping_columns() -> None:
    line = f'token = "{HF}"; url = "https://u:{PASSWORD}@h.example.com"'
    cleaned = scrub(line)
    assert HF not in cleaned and PASSWORD not in cleaned
    assert len(cleaned) == len(line)
    assert cleaned.startswith('token = "hf_R****')
    assert scrub("nothing secret here") == "nothing secret here"
    assert scrub(f"key={WANDB}", [WANDB]) == f"key={mask(WANDB)}"
