"""Realistic fine-tuning projects, each in a risky and a fixed variant, under one policy.

``tests/fixtures/projects/{risky,clean}/<project>/`` hold a Trainer QLoRA script with a
DeepSpeed launch, a TRL SFT script with an accelerate config, an axolotl config, a
LLaMA-Factory config with its DeepSpeed JSON, a notebook, and a hand-written accelerate loop.
Every project is checked on its own, as `tunelint check .` would in its directory, against
``tests/fixtures/projects/tunelint.yaml``. The risky variant must report exactly the listed
(rule, path, line) triples, every rule included; the clean variant must report nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tunelint.api import Options, lint

PROJECTS = Path(__file__).parent / "fixtures" / "projects"
POLICY = PROJECTS / "tunelint.yaml"

Expected = set[tuple[str, str, int]]

RISKY: dict[str, Expected] = {
    "trainer-qlora": {
        ("TL103", "ds_zero3.json", 8),  # offload_param to nvme
        ("TL201", "ds_zero3.json", 8),  # ... at /tmp/nvme_offload, not encrypted
        ("TL202", "ds_zero3.json", 8),  # ... and shared
        ("TL204", "launch.sh", 5),  # WANDB_API_KEY
        ("TL205", "launch.sh", 6),  # MLFLOW_TRACKING_URI over http://
        ("TL301", "launch.sh", 6),  # ... to a host the policy does not approve
        ("TL204", "train.py", 17),  # HF_TOKEN = "hf_..." (its uses are not reported again)
        # model without revision (line 28); its tokenizer (line 26) loads the same repository:
        # one finding, at the model, with the tokenizer as a related location
        ("TL402", "train.py", 28),
        ("TL102", "train.py", 34),  # device_map="auto" while training
        ("TL105", "train.py", 52),  # save_strategy="no" on 5 epochs (the launch line's)
        ("TL301", "train.py", 53),  # report_to="wandb"
        ("TL303", "train.py", 54),  # push_to_hub without hub_private_repo
        ("TL104", "train.py", 63),  # trainer.train() with no thermal watch
    },
    "trl-sft": {
        ("TL302", "launch.sh", 3),  # AWS_DEFAULT_REGION=us-east-1
        # not reported: `aws s3 sync ... s3://acme-raw-us/...` on launch.sh:5, since the
        # shell source reads launch lines and assignments, not other commands
        ("TL402", "sft.py", 11),
        ("TL401", "sft.py", 12),
        ("TL401", "sft.py", 14),
        ("TL402", "sft.py", 15),  # load_dataset of a hub dataset without revision
        ("TL105", "sft.py", 23),  # save_steps 10000 > max_steps 6000
        ("TL404", "sft.py", 24),  # save_safetensors=False
        ("TL403", "sft.py", 35),  # torch.load without weights_only
        ("TL104", "sft.py", 36),
    },
    "axolotl": {
        ("TL402", "qlora.yml", 1),  # base_model without revision_of_model
        ("TL402", "qlora.yml", 13),  # datasets[0].path without revision
        ("TL202", "qlora.yml", 17),  # output_dir under /tmp
        ("TL301", "qlora.yml", 29),  # wandb_project
        ("TL105", "qlora.yml", 32),  # save_strategy "no" on 4 epochs
        ("TL404", "qlora.yml", 33),  # save_safetensors: false
        ("TL204", "train.sh", 3),  # export HF_TOKEN=hf_...
        # not reported: hub_model_id (axolotl always creates a private repository)
    },
    "llamafactory": {
        ("TL103", "ds_z2_offload.json", 7),
        ("TL201", "ds_z2_offload.json", 7),
        ("TL402", "qwen_lora_sft.yaml", 2),
        ("TL401", "qwen_lora_sft.yaml", 3),
        ("TL301", "qwen_lora_sft.yaml", 27),  # report_to: wandb
        ("TL303", "qwen_lora_sft.yaml", 28),  # push_to_hub: true, no hub_private_repo
    },
    "notebook": {
        ("TL204", "finetune_gemma.ipynb[3]", 2),  # login(token="hf_...")
        ("TL205", "finetune_gemma.ipynb[4]", 2),  # %env MLFLOW_TRACKING_URI=http://...
        ("TL301", "finetune_gemma.ipynb[4]", 2),
        # the model (line 8) and its tokenizer (line 7) load one repository: one finding
        ("TL402", "finetune_gemma.ipynb[5]", 8),
        ("TL202", "finetune_gemma.ipynb[5]", 11),  # output_dir under /dev/shm
        ("TL105", "finetune_gemma.ipynb[5]", 17),
        ("TL301", "finetune_gemma.ipynb[5]", 18),
        ("TL104", "finetune_gemma.ipynb[5]", 27),
        ("TL303", "finetune_gemma.ipynb[5]", 28),  # trainer.model.push_to_hub(...)
        ("TL203", "finetune_gemma.ipynb[6]", 2),  # mlflow.log_artifact of the data
    },
    "accelerate-loop": {
        ("TL105", "run.sh", 3),  # --max_steps 50000 decides the length; no checkpoint call
        ("TL302", "train_loop.py", 19),  # region_name="us-west-2"
        ("TL204", "train_loop.py", 20),  # AWS access key id
        ("TL204", "train_loop.py", 21),  # AWS secret access key
        ("TL302", "train_loop.py", 23),  # download_file("acme-raw-us", ...)
        ("TL403", "train_loop.py", 24),
        ("TL301", "train_loop.py", 26),  # Accelerator(log_with="comet_ml")
        ("TL402", "train_loop.py", 27),
        ("TL104", "train_loop.py", 35),  # accelerator.backward() with no thermal watch
    },
}


def check(directory: Path) -> tuple[Expected, list[str]]:
    report = lint(["."], Options(policy_path=POLICY, cwd=directory, use_cache=False))
    found = set()
    for finding in report.active:
        span = finding.span
        where = f"{span.path}[{span.cell}]" if span.cell is not None else span.path
        found.add((finding.rule_id, where, span.line))
    diagnostics = [f"{d.path}: {d.code}: {d.message}" for d in report.diagnostics]
    return found, diagnostics


def test_every_project_has_both_variants() -> None:
    names = {p.name for p in (PROJECTS / "risky").iterdir() if p.is_dir()}
    assert names == set(RISKY)
    assert {p.name for p in (PROJECTS / "clean").iterdir() if p.is_dir()} == names


@pytest.mark.parametrize("name", sorted(RISKY))
def test_risky_project_reports_exactly(name: str) -> None:
    found, diagnostics = check(PROJECTS / "risky" / name)
    assert diagnostics == []
    assert sorted(found - RISKY[name]) == [], "reported but not expected"
    assert sorted(RISKY[name] - found) == [], "expected but not reported"


@pytest.mark.parametrize("name", sorted(RISKY))
def test_clean_project_reports_nothing(name: str) -> None:
    found, diagnostics = check(PROJECTS / "clean" / name)
    assert diagnostics == []
    assert sorted(found) == []
