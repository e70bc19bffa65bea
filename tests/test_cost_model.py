"""Cost model units: token counts, FLOPs by method, spot rework, depreciation, the tables."""

from __future__ import annotations

import re

import pytest

from tunelint.memory.cost import (
    CostInputs,
    cloud_prices,
    estimate_cost,
    flops_per_token,
    gpu_specs,
    parse_hours,
    parse_tokens,
    spot_overhead,
)
from tunelint.memory.gpus import find_profile


@pytest.mark.parametrize(
    ("text", "tokens"),
    [("50M", 50_000_000), ("2T", 2 * 10**12), ("1.5B", 1_500_000_000), ("120k", 120_000),
     ("1e9", 10**9), ("1_000", 1000), (" 7 ", 7), (42, 42)],
)  # fmt: skip
def test_parse_tokens(text: str | int, tokens: int) -> None:
    assert parse_tokens(text) == tokens


@pytest.mark.parametrize("text", ["", "lots", "5 GB", "0.1", "-3M"])
def test_parse_tokens_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_tokens(text)


@pytest.mark.parametrize(
    ("text", "hours"), [("30m", 0.5), ("2h", 2.0), ("90s", 0.025), ("1.5", 1.5)]
)
def test_parse_hours(text: str, hours: float) -> None:
    assert parse_hours(text) == pytest.approx(hours)


def test_flops_per_token_by_method() -> None:
    n = 1_000
    assert flops_per_token(n, "full", False) == 6 * n
    assert flops_per_token(n, "full", True) == 8 * n
    assert flops_per_token(n, "lora", False) == 4 * n
    assert flops_per_token(n, "qlora", True) == 6 * n


def test_spot_overhead() -> None:
    assert spot_overhead(0.0, 1.0, 0.25) == 1.0
    # 0.1 pre-emptions an hour, each losing half of a 2 h interval plus 0 h: 1 / (1 - 0.1)
    assert spot_overhead(0.1, 2.0, 0.0) == pytest.approx(1 / 0.9)
    assert spot_overhead(1.0, 2.0, 0.5) is None  # never finishes


def inputs(**changes: object) -> CostInputs:
    base: dict[str, object] = {
        "params": 7_000_000_000,
        "method": "full",
        "grad_checkpointing": False,
        "tokens": 10**9,
        "gpus": 2,
        "profile": "a100-80gb",
    }
    base.update(changes)
    return CostInputs(**base)  # type: ignore[arg-type]


def test_time_energy_and_local_cost_follow_the_formulas() -> None:
    cost = estimate_cost(inputs(kwh_price=0.2, purchase_price=17520.0, duty_cycle=0.5))
    flops = 6 * 7e9 * 1e9
    gpu_hours = flops / (312e12 * 0.40) / 3600
    assert cost.flops == pytest.approx(flops)
    assert cost.gpu_hours == pytest.approx(gpu_hours)
    assert cost.wall_hours == pytest.approx(gpu_hours / 2)
    assert cost.energy_kwh == pytest.approx((400 + 237) * gpu_hours / 1000)
    assert cost.local["electricity"] == pytest.approx(cost.energy_kwh * 0.2)
    # 17520 over 4 years x 8760 h x 50%: exactly 1 per GPU-hour
    assert cost.local["depreciation"] == pytest.approx(gpu_hours)
    assert cost.local["total"] == pytest.approx(cost.energy_kwh * 0.2 + gpu_hours)


def test_a_card_used_less_costs_more_per_hour() -> None:
    daily = estimate_cost(inputs(purchase_price=10_000.0, duty_cycle=1.0))
    monthly = estimate_cost(inputs(purchase_price=10_000.0, duty_cycle=1 / 30))
    assert monthly.local["depreciation"] == pytest.approx(30 * daily.local["depreciation"])


def test_cloud_rows_price_the_same_gpu_hours() -> None:
    cost = estimate_cost(inputs(profile="a100-80gb", preemptions_per_hour=0.0))
    runpod = next(row for row in cost.cloud if row["provider"] == "RunPod")
    assert runpod["on_demand"] == pytest.approx(2.45 * cost.gpu_hours)
    assert runpod["spot"] == pytest.approx(1.39 * cost.gpu_hours)
    preempted = estimate_cost(inputs(profile="a100-80gb", preemptions_per_hour=0.2))
    runpod_preempted = next(row for row in preempted.cloud if row["provider"] == "RunPod")
    assert runpod_preempted["spot"] > runpod["spot"]
    assert cost.prices_as_of == "2026-03-10"


def test_unknown_peak_needs_tflops() -> None:
    with pytest.raises(ValueError, match="--tflops"):
        estimate_cost(inputs(profile="t4"))
    cost = estimate_cost(inputs(profile="t4", tflops=65.0))
    assert cost.energy_kwh is None and "board power" in " ".join(cost.assumptions)


def test_tables_cite_a_source_and_a_date_for_every_row() -> None:
    date = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    for spec in gpu_specs().values():
        assert find_profile(spec.profile) is not None, spec.profile
        assert spec.sources.startswith("https://") and date.match(spec.as_of), spec.profile
    for price in cloud_prices():
        assert find_profile(price.profile) is not None, price.profile
        assert price.source.startswith("https://") and date.match(price.as_of), price.gpu
        assert price.on_demand is not None or price.spot is not None
        if price.on_demand is not None and price.spot is not None:
            assert price.spot < price.on_demand
