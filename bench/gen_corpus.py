"""Write a synthetic repository of fine-tuning projects, for benchmarks and tests.

Each project is what a team keeps next to a fine-tuning run: a training entry point (a
Hugging Face Trainer script, a TRL SFT script or a hand-written PyTorch loop), sometimes a
notebook, framework configs (axolotl, LLaMA-Factory, torchtune, accelerate, DeepSpeed), a
launch script, a data preparation script, and ordinary library code and tests that have
nothing to do with training. Some projects carry the risky patterns tunelint reports
(``trust_remote_code=True``, ``torch.load`` without ``weights_only``, ``/tmp`` output
directories, data uploaded to a tracking server, NVMe offload), most do not.

Deterministic: the same ``--seed`` and ``--projects`` give byte-identical files.

    python bench/gen_corpus.py OUT_DIR [--projects 45] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import textwrap
from pathlib import Path

MODELS = (
    "meta-llama/Llama-2-7b-hf",
    "meta-llama/Meta-Llama-3-8B",
    "mistralai/Mistral-7B-v0.1",
    "Qwen/Qwen2-1.5B",
    "EleutherAI/pythia-1.4b",
    "microsoft/phi-2",
    "google/gemma-2b",
    "tiiuae/falcon-7b",
    "bigscience/bloom-560m",
)
DATASETS = ("tatsu-lab/alpaca", "OpenAssistant/oasst1", "databricks/databricks-dolly-15k")
WORDS = (
    "alpha", "beta", "gamma", "delta", "record", "batch", "window", "cursor", "ledger",
    "bucket", "segment", "vertex", "shard", "token", "queue", "frame", "sample", "metric",
    "report", "invoice", "customer", "order", "parcel", "route", "sensor", "reading",
)  # fmt: skip
FILES_PER_PROJECT = 12
DEFAULT_PROJECTS = 45


def _ident(rng: random.Random, parts: int = 2) -> str:
    return "_".join(rng.choice(WORDS) for _ in range(parts))


def _camel(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS).capitalize() for _ in range(2))


# -- training entry points ---------------------------------------------------------------------


def trainer_script(rng: random.Random, risky: bool) -> str:
    model = rng.choice(MODELS)
    output = "/tmp/run-out" if risky and rng.random() < 0.5 else "checkpoints/run"
    remote = "True" if risky and rng.random() < 0.6 else "False"
    return textwrap.dedent(f'''\
        """Supervised fine-tuning with the Hugging Face Trainer."""

        import argparse
        import os

        import torch
        from datasets import load_dataset
        from transformers import (
            AutoModelForCausalLM,
            AutoTokenizer,
            DataCollatorForLanguageModeling,
            Trainer,
            TrainingArguments,
        )

        MODEL_NAME = "{model}"
        MAX_LENGTH = {rng.choice((512, 1024, 2048, 4096))}


        def parse_args() -> argparse.Namespace:
            parser = argparse.ArgumentParser(description=__doc__)
            parser.add_argument("--model_name_or_path", default=MODEL_NAME)
            parser.add_argument("--output_dir", default="{output}")
            parser.add_argument(
                "--per_device_train_batch_size", type=int, default={rng.choice((1, 2, 4, 8))}
            )
            parser.add_argument(
                "--gradient_accumulation_steps", type=int, default={rng.choice((1, 4, 8, 16))}
            )
            parser.add_argument("--num_train_epochs", type=float, default=3.0)
            parser.add_argument("--learning_rate", type=float, default=2e-5)
            return parser.parse_args()


        def tokenize(batch, tokenizer):
            return tokenizer(batch["text"], truncation=True, max_length=MAX_LENGTH)


        def main() -> None:
            args = parse_args()
            tokenizer = AutoTokenizer.from_pretrained(args.model_name_or_path)
            tokenizer.pad_token = tokenizer.eos_token
            model = AutoModelForCausalLM.from_pretrained(
                args.model_name_or_path,
                torch_dtype=torch.bfloat16,
                trust_remote_code={remote},
            )
            data = load_dataset("{rng.choice(DATASETS)}", split="train")
            data = data.map(lambda b: tokenize(b, tokenizer), batched=True)
            training_args = TrainingArguments(
                output_dir=args.output_dir,
                per_device_train_batch_size=args.per_device_train_batch_size,
                gradient_accumulation_steps=args.gradient_accumulation_steps,
                num_train_epochs=args.num_train_epochs,
                learning_rate=args.learning_rate,
                bf16=True,
                gradient_checkpointing={rng.choice(("True", "False"))},
                save_strategy="steps",
                save_steps={rng.choice((200, 500, 1000))},
                logging_steps=10,
                report_to="{rng.choice(("none", "wandb", "mlflow", "tensorboard"))}",
            )
            trainer = Trainer(
                model=model,
                args=training_args,
                train_dataset=data,
                data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
            )
            trainer.train()
            trainer.save_model(os.path.join(args.output_dir, "final"))


        if __name__ == "__main__":
            main()
        ''')


def trl_script(rng: random.Random, risky: bool) -> str:
    model = rng.choice(MODELS)
    uri = "http://10.0.0.12:5000" if risky else "https://mlflow.internal.example.com"
    artifact = "data/train.jsonl" if risky else "reports/summary.md"
    return textwrap.dedent(f'''\
        """QLoRA supervised fine-tuning with TRL."""

        import mlflow
        import torch
        from datasets import load_dataset
        from peft import LoraConfig
        from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
        from trl import SFTConfig, SFTTrainer

        mlflow.set_tracking_uri("{uri}")

        bnb = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        model = AutoModelForCausalLM.from_pretrained(
            "{model}", quantization_config=bnb, device_map={{"": 0}}
        )
        tokenizer = AutoTokenizer.from_pretrained("{model}")
        peft_config = LoraConfig(
            r={rng.choice((8, 16, 32, 64))},
            lora_alpha=16,
            lora_dropout=0.05,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
            task_type="CAUSAL_LM",
        )
        config = SFTConfig(
            output_dir="outputs/sft",
            per_device_train_batch_size={rng.choice((1, 2, 4))},
            gradient_accumulation_steps={rng.choice((4, 8, 16))},
            max_seq_length={rng.choice((1024, 2048))},
            gradient_checkpointing=True,
            optim="paged_adamw_8bit",
            report_to="mlflow",
        )
        dataset = load_dataset("json", data_files="data/train.jsonl", split="train")
        trainer = SFTTrainer(
            model=model,
            args=config,
            train_dataset=dataset,
            peft_config=peft_config,
            tokenizer=tokenizer,
        )
        with mlflow.start_run():
            trainer.train()
            mlflow.log_artifact("{artifact}")
        trainer.save_model("outputs/sft/final")
        ''')


def loop_script(rng: random.Random, risky: bool) -> str:
    model = rng.choice(MODELS)
    load = (
        'torch.load("checkpoints/optimizer.pt")'
        if risky
        else ('torch.load("checkpoints/optimizer.pt", weights_only=True)')
    )
    return textwrap.dedent(f'''\
        """A hand-written training loop with gradient accumulation."""

        import math
        import os

        import torch
        from torch.utils.data import DataLoader
        from transformers import AutoModelForCausalLM, get_cosine_schedule_with_warmup

        ACCUMULATE = {rng.choice((2, 4, 8))}
        EPOCHS = {rng.choice((1, 2, 3))}


        def batches(path, size):
            rows = [line for line in open(path, encoding="utf-8")]
            return DataLoader(rows, batch_size=size, shuffle=True)


        def main() -> None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
            model = AutoModelForCausalLM.from_pretrained("{model}").to(device)
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
            if os.path.exists("checkpoints/optimizer.pt"):
                optimizer.load_state_dict({load})
            loader = batches("data/train.txt", {rng.choice((2, 4, 8))})
            steps = math.ceil(len(loader) / ACCUMULATE) * EPOCHS
            scheduler = get_cosine_schedule_with_warmup(optimizer, 100, steps)
            model.train()
            for epoch in range(EPOCHS):
                for step, batch in enumerate(loader):
                    outputs = model(**batch)
                    loss = outputs.loss / ACCUMULATE
                    loss.backward()
                    if (step + 1) % ACCUMULATE == 0:
                        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                        optimizer.step()
                        scheduler.step()
                        optimizer.zero_grad()
                torch.save(model.state_dict(), f"checkpoints/epoch-{{epoch}}.pt")


        if __name__ == "__main__":
            main()
        ''')


def prepare_script(rng: random.Random, risky: bool) -> str:
    loader = "pickle.load(handle)" if risky else "json.load(handle)"
    return textwrap.dedent(f'''\
        """Turn raw exports into a JSONL training file."""

        import csv
        import json
        import pickle
        from pathlib import Path

        RAW = Path("raw")
        OUT = Path("data/train.jsonl")


        def rows():
            for path in sorted(RAW.glob("*.csv")):
                with path.open(newline="", encoding="utf-8") as handle:
                    yield from csv.DictReader(handle)


        def cached_vocabulary(path):
            with open(path, "rb") as handle:
                return {loader}


        def main() -> None:
            OUT.parent.mkdir(parents=True, exist_ok=True)
            with OUT.open("w", encoding="utf-8") as out:
                for row in rows():
                    text = row.get("{rng.choice(WORDS)}", "").strip()
                    if text:
                        out.write(json.dumps({{"text": text}}) + "\\n")


        if __name__ == "__main__":
            main()
        ''')


# -- ordinary code ----------------------------------------------------------------------------


def library_module(rng: random.Random) -> str:
    """Plain application code: dataclasses-free helpers, parsing, arithmetic, text."""
    parts = [f'"""Helpers for {rng.choice(WORDS)} {rng.choice(WORDS)} handling."""\n']
    parts.append("from __future__ import annotations\n\nimport itertools\nimport re\n")
    parts.append("from collections import Counter, defaultdict\n\n")
    parts.append(f'_PATTERN = re.compile(r"[a-z]+_{rng.randint(1, 99)}")\n\n')
    for _ in range(rng.randint(4, 9)):
        kind = rng.randrange(4)
        name = _ident(rng)
        if kind == 0:
            parts.append(
                textwrap.dedent(f'''

                def {name}(items, width={rng.randint(2, 9)}):
                    """Group items into rows of at most ``width``."""
                    rows = []
                    current = []
                    for item in items:
                        current.append(item)
                        if len(current) == width:
                            rows.append(tuple(current))
                            current = []
                    if current:
                        rows.append(tuple(current))
                    return rows
                ''')
            )
        elif kind == 1:
            parts.append(
                textwrap.dedent(f'''

                def {name}(text):
                    """Count the words of ``text`` that look like identifiers."""
                    counts = Counter(word.lower() for word in _PATTERN.findall(text))
                    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
                    return [word for word, _ in ranked[:{rng.randint(3, 20)}]]
                ''')
            )
        elif kind == 2:
            cls = _camel(rng)
            parts.append(
                textwrap.dedent(f'''

                class {cls}:
                    """A small in-memory index of {rng.choice(WORDS)} values."""

                    def __init__(self):
                        self._by_key = defaultdict(list)
                        self._size = 0

                    def add(self, key, value):
                        self._by_key[key].append(value)
                        self._size += 1

                    def get(self, key, default=None):
                        values = self._by_key.get(key)
                        return values[-1] if values else default

                    def pairs(self):
                        for key in sorted(self._by_key):
                            for value in self._by_key[key]:
                                yield key, value

                    def __len__(self):
                        return self._size
                ''')
            )
        else:
            parts.append(
                textwrap.dedent(f'''

                def {name}(values, step={rng.randint(1, 5)}):
                    """Moving sums over ``values`` with the given step."""
                    sums = []
                    for start in range(0, len(values), step):
                        window = values[start : start + step]
                        sums.append(sum(window))
                    return list(itertools.accumulate(sums))
                ''')
            )
    return "".join(parts)


def test_module(rng: random.Random, module: str) -> str:
    name = _ident(rng)
    return textwrap.dedent(f"""\
        import pytest

        from {module} import *  # noqa: F403


        @pytest.mark.parametrize("size", [1, 2, 3, {rng.randint(4, 9)}])
        def test_{name}(size):
            values = list(range(size))
            assert len(values) == size
            assert sum(values) == size * (size - 1) // 2
        """)


# -- configs, launchers, notebooks ------------------------------------------------------------


def axolotl_yaml(rng: random.Random, risky: bool) -> str:
    return textwrap.dedent(f"""\
        base_model: {rng.choice(MODELS)}
        load_in_4bit: true
        adapter: qlora
        lora_r: {rng.choice((8, 16, 32))}
        lora_alpha: 16
        lora_target_linear: true
        datasets:
          - path: data/train.jsonl
            type: alpaca
        sequence_len: {rng.choice((1024, 2048, 4096))}
        micro_batch_size: {rng.choice((1, 2, 4))}
        gradient_accumulation_steps: {rng.choice((4, 8))}
        num_epochs: 3
        optimizer: paged_adamw_8bit
        gradient_checkpointing: true
        bf16: auto
        output_dir: {"/tmp/axolotl-out" if risky else "./outputs/qlora"}
        trust_remote_code: {"true" if risky else "false"}
        wandb_project: {_ident(rng)}
        """)


def llamafactory_yaml(rng: random.Random, risky: bool) -> str:
    return textwrap.dedent(f"""\
        model_name_or_path: {rng.choice(MODELS)}
        stage: sft
        do_train: true
        finetuning_type: lora
        lora_rank: {rng.choice((8, 16))}
        lora_target: all
        dataset: alpaca_en_demo
        template: llama3
        cutoff_len: {rng.choice((1024, 2048))}
        output_dir: saves/lora/sft
        per_device_train_batch_size: {rng.choice((1, 2))}
        gradient_accumulation_steps: 8
        learning_rate: 1.0e-4
        num_train_epochs: 3.0
        bf16: true
        deepspeed: ds_zero{"3_nvme" if risky else "2"}.json
        """)


def torchtune_yaml(rng: random.Random) -> str:
    return textwrap.dedent(f"""\
        output_dir: /scratch/torchtune/lora
        model:
          _component_: torchtune.models.llama3.lora_llama3_8b
          lora_attn_modules: ['q_proj', 'v_proj']
          lora_rank: {rng.choice((8, 16))}
        tokenizer:
          _component_: torchtune.models.llama3.llama3_tokenizer
          path: /models/llama3/tokenizer.model
          max_seq_len: {rng.choice((1024, 2048))}
        batch_size: {rng.choice((1, 2, 4))}
        gradient_accumulation_steps: 8
        epochs: 1
        optimizer:
          _component_: torch.optim.AdamW
          lr: 3e-4
        dtype: bf16
        enable_activation_checkpointing: true
        """)


def deepspeed_json(rng: random.Random, nvme: bool) -> str:
    offload = {"device": "nvme", "nvme_path": "/local_nvme"} if nvme else {"device": "cpu"}
    config = {
        "train_micro_batch_size_per_gpu": "auto",
        "gradient_accumulation_steps": "auto",
        "bf16": {"enabled": True},
        "zero_optimization": {
            "stage": 3 if nvme else 2,
            "offload_optimizer": offload,
            "overlap_comm": True,
            "contiguous_gradients": True,
        },
        "gradient_clipping": 1.0,
        "steps_per_print": rng.choice((10, 100)),
    }
    return json.dumps(config, indent=2) + "\n"


def accelerate_yaml(rng: random.Random) -> str:
    return textwrap.dedent(f"""\
        compute_environment: LOCAL_MACHINE
        distributed_type: DEEPSPEED
        deepspeed_config:
          zero_stage: 2
          offload_optimizer_device: cpu
          gradient_accumulation_steps: 8
        mixed_precision: bf16
        num_machines: 1
        num_processes: {rng.choice((1, 2, 4, 8))}
        """)


def launch_script(rng: random.Random, entry: str, configs: list[str]) -> str:
    lines = ["#!/usr/bin/env bash", "set -euo pipefail", ""]
    lines.append(f"export WANDB_PROJECT={_ident(rng)}")
    if "ds_zero3_nvme.json" in configs or "ds_zero2.json" in configs:
        ds = next(c for c in configs if c.startswith("ds_"))
        lines.append(
            f"torchrun --nproc_per_node {rng.choice((2, 4, 8))} {entry} "
            f"--deepspeed {ds} --bf16 --per_device_train_batch_size {rng.choice((1, 2, 4))}"
        )
    if "accelerate.yaml" in configs:
        lines.append(f"accelerate launch --config_file accelerate.yaml {entry}")
    for config in configs:
        if config == "axolotl.yml":
            lines.append("python -m axolotl.cli.train axolotl.yml")
        elif config == "llamafactory.yaml":
            lines.append("llamafactory-cli train llamafactory.yaml")
        elif config == "torchtune.yaml":
            lines.append(
                "tune run --nproc_per_node 2 lora_finetune_distributed --config torchtune.yaml"
            )
    return "\n".join(lines) + "\n"


def notebook(rng: random.Random, risky: bool) -> str:
    model = rng.choice(MODELS)
    cells = [
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": ["# Fine-tuning notes\n", "Run in order."],
        },
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": ["!pip install -q transformers peft datasets"],
        },
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": [
                "import torch\n",
                "from transformers import AutoModelForCausalLM\n",
                "\n",
                "model = AutoModelForCausalLM.from_pretrained(\n",
                f'    "{model}",\n',
                f"    trust_remote_code={'True' if risky else 'False'},\n",
                '    device_map="auto",\n',
                ")\n",
            ],
        },
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": [
                "%%writefile ds_config.json\n",
                '{"zero_optimization": {"stage": 2}, "train_micro_batch_size_per_gpu": 2}\n',
            ],
        },
    ]
    document = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1) + "\n"


def analysis_notebook(rng: random.Random) -> str:
    """A notebook with nothing to do with training: plotting some numbers."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "outputs": [],
            "source": [
                "values = [1, 2, 3, 5, 8, 13]\n",
                f"{_ident(rng)} = sum(values) / len(values)\n",
            ],
        }
    ]
    document = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1) + "\n"


# -- the repository ---------------------------------------------------------------------------


def project(rng: random.Random, index: int) -> dict[str, str]:
    """One project's files, about FILES_PER_PROJECT of them, by path."""
    risky = rng.random() < 0.35
    name = f"project_{index:03d}_{rng.choice(WORDS)}"
    files: dict[str, str] = {}
    flavour = index % 3
    entry = ("train.py", "sft.py", "loop.py")[flavour]
    script = (trainer_script, trl_script, loop_script)[flavour](rng, risky)
    files[f"{name}/{entry}"] = script
    files[f"{name}/prepare_data.py"] = prepare_script(rng, risky)
    configs: list[str] = []
    nvme = risky and rng.random() < 0.5
    ds_name = "ds_zero3_nvme.json" if nvme else "ds_zero2.json"
    files[f"{name}/{ds_name}"] = deepspeed_json(rng, nvme)
    configs.append(ds_name)
    framework = rng.randrange(4)
    if framework == 0:
        files[f"{name}/axolotl.yml"] = axolotl_yaml(rng, risky)
        configs.append("axolotl.yml")
    elif framework == 1:
        files[f"{name}/llamafactory.yaml"] = llamafactory_yaml(rng, risky)
        configs.append("llamafactory.yaml")
    elif framework == 2:
        files[f"{name}/torchtune.yaml"] = torchtune_yaml(rng)
        configs.append("torchtune.yaml")
    else:
        files[f"{name}/accelerate.yaml"] = accelerate_yaml(rng)
        configs.append("accelerate.yaml")
    files[f"{name}/launch.sh"] = launch_script(rng, entry, configs)
    if index % 3 == 0:
        files[f"{name}/notebooks/explore.ipynb"] = notebook(rng, risky)
    else:
        files[f"{name}/notebooks/analysis.ipynb"] = analysis_notebook(rng)
    modules = []
    while len(files) < FILES_PER_PROJECT - 1:
        module = f"{_ident(rng)}_{len(files)}"
        modules.append(module)
        files[f"{name}/{name}/{module}.py"] = library_module(rng)
    files[f"{name}/{name}/__init__.py"] = '"""Project package."""\n'
    files[f"{name}/tests/test_{modules[0]}.py"] = test_module(rng, f"{name}.{modules[0]}")
    return files


def generate(out: Path, projects: int = DEFAULT_PROJECTS, seed: int = 7) -> list[Path]:
    """Write the repository under ``out``; returns the files written, sorted."""
    rng = random.Random(seed)
    written = []
    for index in range(projects):
        for relative, text in sorted(project(rng, index).items()):
            path = out / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return sorted(written)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="directory to write the repository into")
    parser.add_argument("--projects", type=int, default=DEFAULT_PROJECTS)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    written = generate(args.out, args.projects, args.seed)
    print(f"wrote {len(written)} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
