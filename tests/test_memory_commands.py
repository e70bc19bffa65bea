"""The estimate and gpu commands, called through run() with a parsed Namespace."""

from __future__ import annotations

import argparse
import json
from types import SimpleNamespace
from typing import Any

import pytest

from tunelint.commands import estimate as estimate_cmd
from tunelint.commands import gpu as gpu_cmd


class NoDriver:
    def nvmlInit(self) -> None:
        raise RuntimeError("Driver Not Loaded")

    def nvmlShutdown(self) -> None:
        return None


class OneGpu:
    NVML_TEMPERATURE_GPU = 0

    def nvmlInit(self) -> None: ...
    def nvmlShutdown(self) -> None: ...
    def nvmlSystemGetDriverVersion(self) -> str:
        return "550.54"

    def nvmlDeviceGetCount(self) -> int:
        return 1

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, handle: int) -> str:
        return "NVIDIA L4"

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        return SimpleNamespace(total=23034 << 20, free=20 << 30, used=(23034 << 20) - (20 << 30))

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:
        return 55

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        return 30_000

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: int) -> int:
        return 72_000


def parse(module: Any, argv: list[str], nvml: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tunelint")
    module.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    args.nvml = nvml
    return args


def run_estimate(
    argv: list[str], capsys: pytest.CaptureFixture[str], nvml: Any = None
) -> tuple[int, str]:
    args = parse(estimate_cmd, ["estimate", *argv], nvml or NoDriver())
    code = args.func(args)
    return code, capsys.readouterr().out


def test_estimate_json_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "meta-llama/Llama-3.1-8B",
        "--method",
        "qlora",
        "--batch",
        "2",
        "--seq",
        "2048",
        "--grad-checkpointing",
        "--format",
        "json",
    ]
    code, out = run_estimate(argv, capsys)
    assert code == 0
    data = json.loads(out)
    for key in (
        "estimate_bytes",
        "optimistic_bytes",
        "conservative_bytes",
        "breakdown",
        "params",
        "params_source",
        "assumptions",
        "budget_bytes",
        "verdict",
    ):
        assert key in data
    assert data["params"] == 8_030_261_248 and data["params_source"] == "table"
    assert data["budget_bytes"] == 24564 << 20  # RTX 4090 fallback, no driver
    assert data["budget_source"] == "fallback"
    assert data["optimistic_bytes"] <= data["estimate_bytes"] <= data["conservative_bytes"]
    assert data["verdict"] == "fits"


def test_estimate_text_shows_breakdown_verdict_and_fixes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run_estimate(
        ["meta-llama/Llama-2-13b-hf", "--gpu", "rtx-4090", "--batch", "4"], capsys
    )
    assert code == 0
    assert "weights" in out and "optimizer" in out and "activations" in out
    assert "verdict: does not fit" in out
    assert "what would make it fit" in out
    assert "QLoRA" in out
    # full fine-tuning peaks at the optimizer step: checkpointing would not lower it
    assert "gradient checkpointing:" not in out


def test_estimate_uses_detected_gpu(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_estimate(["gpt2", "--format", "json"], capsys, nvml=OneGpu())
    assert code == 0
    data = json.loads(out)
    assert data["budget_source"] == "nvml" and data["budget_bytes"] == 23034 << 20
    assert data["verdict"] == "fits" and data["suggestions"] == []


def test_estimate_vram_flag_wins(capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run_estimate(["gpt2", "--vram", "1GB", "--gpu", "h100", "--format", "json"], capsys)
    data = json.loads(out)
    assert data["budget_bytes"] == 10**9 and data["budget_source"] == "cli --vram"
    assert data["verdict"] != "fits"
    assert data["suggestions"]


def test_estimate_unknown_model_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(estimate_cmd, ["estimate", "acme/mystery"], NoDriver())
    assert args.func(args) == 2
    assert "cannot size model" in capsys.readouterr().err


def test_gpu_without_driver(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(gpu_cmd, ["gpu"], NoDriver())
    assert args.func(args) == 0
    assert "no NVIDIA driver found" in capsys.readouterr().out


def test_gpu_lists_devices(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(gpu_cmd, ["gpu"], OneGpu())
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "NVIDIA L4" in out and "22.5 GiB" in out and "55 C" in out and "30 / 72 W" in out


def test_gpu_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(gpu_cmd, ["gpu", "--format", "json"], OneGpu())
    assert args.func(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["available"] and data["devices"][0]["total_bytes"] == 23034 << 20
