"""``tunelint estimate --cost``: the JSON object, the table, flags and the policy's prices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunelint.cli import main

MODEL = "meta-llama/Llama-2-7b-hf"


@pytest.fixture(autouse=True)
def _no_gpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    import sys

    monkeypatch.setitem(sys.modules, "pynvml", None)  # detection finds no driver


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["estimate", MODEL, "--format", "json", *argv]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_json_cost_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--gpu", "a100-80gb", "--cost", "--tokens", "2T", "--gpus", "8")
    cost = data["cost"]
    assert isinstance(cost, dict)
    for key in ("tokens", "flops", "gpu_hours", "wall_hours", "energy_kwh", "local", "cloud",
                "currency", "prices_as_of", "assumptions"):  # fmt: skip
        assert key in cost, key
    assert set(cost["local"]) == {"electricity", "depreciation", "total"}
    assert {"provider", "gpu", "on_demand", "spot"} <= set(cost["cloud"][0])
    assert cost["tokens"] == 2 * 10**12 and cost["currency"] == "USD"
    assert cost["wall_hours"] == pytest.approx(cost["gpu_hours"] / 8)
    assert 0.75 * 184320 < cost["gpu_hours"] < 1.25 * 184320  # Llama 2 7B's published hours


def test_no_cost_key_without_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert "cost" not in run_json(capsys, "--gpu", "rtx-4090")


def test_dataset_tokens_times_epochs(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys, "--gpu", "rtx-4090", "--cost", "--dataset-tokens", "20M", "--epochs", "3"
    )
    assert data["cost"]["tokens"] == 60_000_000  # type: ignore[index]


def test_lora_with_checkpointing_costs_as_much_compute_as_full_without(
    capsys: pytest.CaptureFixture[str],
) -> None:
    full = run_json(capsys, "--gpu", "rtx-4090", "--cost", "--tokens", "1B")
    lora = run_json(capsys, "--gpu", "rtx-4090", "--cost", "--tokens", "1B",
                    "--method", "lora", "--grad-checkpointing")  # fmt: skip
    assert lora["cost"]["flops"] == pytest.approx(full["cost"]["flops"])  # type: ignore[index]


def test_policy_prices_apply_and_flags_win(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tunelint.yaml").write_text(
        "cost:\n  electricity_per_kwh: 0.25\n  purchase_price: 2000\n  service_life_years: 2\n"
    )
    cost = run_json(capsys, "--gpu", "rtx-4090", "--cost", "--tokens", "100M")["cost"]
    assert cost["local"]["electricity"] == pytest.approx(cost["energy_kwh"] * 0.25)  # type: ignore[index]
    per_hour = 2000 / (2 * 8760 * 0.5)
    assert cost["local"]["depreciation"] == pytest.approx(per_hour * cost["gpu_hours"])  # type: ignore[index]
    cost = run_json(
        capsys, "--gpu", "rtx-4090", "--cost", "--tokens", "100M", "--kwh-price", "0.5"
    )["cost"]
    assert cost["local"]["electricity"] == pytest.approx(cost["energy_kwh"] * 0.5)  # type: ignore[index]


def test_text_output_is_a_table_with_the_date(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["estimate", MODEL, "--gpu", "rtx-4090", "--method", "qlora", "--cost",
                 "--tokens", "50M", "--kwh-price", "0.3"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "run cost" in out and "local: electricity" in out and "RunPod" in out
    assert "2026-03-10" in out and "assumption:" in out


def test_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", MODEL, "--cost"]) == 2
    assert "--tokens" in capsys.readouterr().err
    assert main(["estimate", MODEL, "--cost", "--tokens", "lots"]) == 2
    assert main(["estimate", MODEL, "--cost", "--tokens", "1B", "--mfu", "1.5"]) == 2
    assert main(["estimate", MODEL, "--cost", "--tokens", "1B", "--gpu", "t4"]) == 2
    assert "--tflops" in capsys.readouterr().err
    assert (
        main(["estimate", MODEL, "--cost", "--tokens", "1B", "--gpu", "t4", "--tflops", "65"]) == 0
    )


def test_unnamed_gpu_is_assumed_and_said(capsys: pytest.CaptureFixture[str]) -> None:
    cost = run_json(capsys, "--cost", "--tokens", "1B")["cost"]
    assert "rtx-4090 assumed" in cost["assumptions"][0]  # type: ignore[index]
