"""Where a job runs: on which accelerator, and on which kind of machine.

Rules about local hardware (memory, offload, temperature) only make sense for jobs that can
run on a local NVIDIA GPU. A job says otherwise through what its files import (Gaudi's
``optimum.habana``, ``torch_xla`` for TPUs, Apple's ``mlx``, Ascend's ``torch_npu``), through
a hosted notebook runtime (``google.colab``, Kaggle, a Colab badge or a note to run it in
Colab, a Databricks notebook), or through a cluster scheduler that launches it
(``#SBATCH``, ``srun``, ``sbatch``, ``ray job submit``, ``sky launch``, ``kubectl``).
Without such evidence a job is taken to run on CUDA, locally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final

from tunelint.facts import FileFacts, FileKind

CUDA: Final = "cuda"
LOCAL: Final = "local"
CLUSTER: Final = "cluster"
HOSTED: Final = "hosted"
# Top-level modules (or dotted prefixes) whose import means another accelerator.
ACCELERATOR_IMPORTS: Final = {
    "optimum.habana": "hpu",
    "habana_frameworks": "hpu",
    "torch_xla": "xla",
    "mlx": "mps",
    "torch_npu": "npu",
    "intel_extension_for_pytorch": "xpu",
}
HOSTED_IMPORTS: Final = ("google.colab", "kaggle_secrets", "kaggle_datasets")
# What the notebook source records when a hosted runtime saved the notebook (its metadata).
HOSTED_RUNTIMES: Final = frozenset({"colab", "kaggle"})
HOSTED_TEXT: Final = re.compile(
    r"colab\.research\.google\.com|google colab|kaggle\.com/kernels|/kaggle/", re.IGNORECASE
)
# A Databricks notebook exported as a Python file starts with this line.
DATABRICKS: Final = "# Databricks notebook source"
CLUSTER_DIRECTIVE: Final = re.compile(r"^\s*#(?:SBATCH|PBS|BSUB)\b|^\s*#\$\s")
CLUSTER_COMMAND: Final = re.compile(
    r"(?:^|[\s;&|(`])(?:sbatch|srun|qsub|bsub)\s"
    r"|\bray\s+job\s+submit\b|\bsky\s+(?:launch|jobs|exec)\b|\bkubectl\s+(?:apply|create|run)\b"
)
CLUSTER_SUFFIXES: Final = frozenset({".slurm", ".sbatch", ".pbs"})


@dataclass(frozen=True, slots=True)
class Environment:
    """What one file says about where its job runs (None: it says nothing)."""

    accelerator: str | None = None
    hosted: bool = False
    cluster: bool = False


def accelerator_of(imports: tuple[str, ...]) -> str | None:
    for module in imports:
        for prefix, accelerator in ACCELERATOR_IMPORTS.items():
            if module == prefix or module.startswith(prefix + "."):
                return accelerator
    return None


def environment_of(facts: FileFacts) -> Environment:
    """The evidence in one file (computed once per file by the project index)."""
    accelerator = accelerator_of(facts.imports)
    hosted = bool(facts.lines) and facts.lines[0].startswith(DATABRICKS)
    if facts.kind in {FileKind.NOTEBOOK, FileKind.PYTHON}:
        hosted = hosted or any(
            module == name or module.startswith(name + ".")
            for module in facts.imports
            for name in HOSTED_IMPORTS
        )
        if facts.kind is FileKind.NOTEBOOK and not hosted:
            hosted = bool(set(facts.dialects) & HOSTED_RUNTIMES) or any(
                HOSTED_TEXT.search(line) for cell in facts.cell_lines for line in cell
            )
    return Environment(accelerator, hosted, _cluster(facts))


def _cluster(facts: FileFacts) -> bool:
    """Submitted to, or run by, a cluster scheduler."""
    if PurePosixPath(facts.path).suffix in CLUSTER_SUFFIXES:
        return True
    if facts.kind is not FileKind.SHELL:
        return False
    for line in facts.lines:
        if CLUSTER_DIRECTIVE.search(line):
            return True
        if CLUSTER_COMMAND.search(line.split("#", 1)[0]):
            return True
    return False
