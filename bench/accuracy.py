"""Accuracy of the memory estimator against published measurements.

Run: ``python bench/accuracy.py``. Each row of ``bench/memory_cases.csv`` cites its
source and says what was measured; the estimate is compared like with like:

- ``allocated`` (torch.cuda.max_memory_allocated): the sum of the terms, without CUDA
  context or allocator fragmentation;
- ``reserved`` (max_memory_reserved): the sum plus fragmentation, without context;
- ``nvidia-smi`` (memory used by the process): the full estimate.

Rows measured as OOM, and rows with a GPU named, are also classified: the point estimate
(context and fragmentation included) must exceed the GPU's NVML total exactly when the
run went out of memory. Exits 1 when a target is missed.
"""

from __future__ import annotations

import csv
import statistics
import sys
from pathlib import Path

from tunelint.memory.estimate import Estimate
from tunelint.memory.gpus import find_profile
from tunelint.memory.settings import estimate_from_settings

CASES = Path(__file__).with_name("memory_cases.csv")
UNITS = {"GB": 1e9, "GiB": float(1 << 30), "MiB": float(1 << 20)}
TARGET_MEDIAN = 0.10
TARGET_WITHIN_20 = 0.85


def parse_settings(text: str) -> dict[str, object]:
    """``key=value;key=value`` -> settings with booleans and integers converted."""
    settings: dict[str, object] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        key, _, raw = part.partition("=")
        value: object = raw.strip()
        if raw in ("true", "false"):
            value = raw == "true"
        elif raw.isdigit():
            value = int(raw)
        else:
            try:
                value = float(raw)
            except ValueError:
                value = raw.strip()
        settings[key.strip()] = value
    return settings


def comparable(est: Estimate, metric: str) -> int:
    """The part of the estimate that the row's metric measured."""
    if metric == "allocated":
        return est.allocated_bytes
    if metric == "reserved":
        return est.allocated_bytes + est.breakdown.get("fragmentation", 0)
    return est.total_bytes


def main() -> int:
    errors: list[float] = []
    classified: list[tuple[str, str, str]] = []
    print(f"{'case':44s} {'metric':10s} {'measured':>9s} {'estimate':>9s} {'error':>7s}")
    with CASES.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        settings = parse_settings(row["settings"])
        settings["model"] = row["model"]
        est = estimate_from_settings(settings, cache_dirs=[])
        unit = UNITS[row["unit"]]
        guess = comparable(est, row["metric"])
        measured = row["measured"].strip()
        if measured.upper() == "OOM":
            line = f"{row['id']:44s} {row['metric']:10s} {'OOM':>9s} {guess / unit:9.2f} {'':>7s}"
        else:
            value = float(measured) * unit
            err = (guess - value) / value
            errors.append(err)
            line = f"{row['id']:44s} {row['metric']:10s} {value / unit:9.2f} {guess / unit:9.2f}"
            line += f" {err * 100:+6.1f}%"
        print(f"{line}  {row['unit']}")
        if row["gpu"]:
            profile = find_profile(row["gpu"])
            assert profile is not None, row["gpu"]
            expected = "oom" if measured.upper() == "OOM" else "fits"
            predicted = "oom" if est.total_bytes > profile.total_bytes else "fits"
            classified.append((row["id"], profile.key, f"{expected}/{predicted}"))

    absolute = sorted(abs(e) for e in errors)
    median = statistics.median(absolute)
    worst = absolute[-1]
    within15 = sum(e <= 0.15 for e in absolute) / len(absolute)
    within20 = sum(e <= 0.20 for e in absolute) / len(absolute)
    print()
    print(f"rows with a figure: {len(errors)}")
    print(f"median |error|: {median * 100:.1f}%   worst: {worst * 100:.1f}%")
    print(f"within 15%: {within15 * 100:.0f}%   within 20%: {within20 * 100:.0f}%")
    print(f"signed mean error: {statistics.mean(errors) * 100:+.1f}%")
    print()
    print("out-of-memory / fits classification (expected/predicted):")
    wrong = 0
    for case, gpu, pair in classified:
        exp, pred = pair.split("/")
        ok = exp == pred
        wrong += not ok
        mark = "ok" if ok else "WRONG"
        print(f"  {case:44s} {gpu:10s} expected {exp:4s} predicted {pred:4s} {mark}")
    failed = []
    if median > TARGET_MEDIAN:
        failed.append(f"median error {median * 100:.1f}% > {TARGET_MEDIAN * 100:.0f}%")
    if within20 < TARGET_WITHIN_20:
        failed.append(f"only {within20 * 100:.0f}% of rows within 20%")
    if wrong:
        failed.append(f"{wrong} OOM/fits case(s) misclassified")
    print()
    print("targets: " + ("met" if not failed else "MISSED: " + "; ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
