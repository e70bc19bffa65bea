"""Accuracy of the memory estimator against published measurements, beside two peers.

Run: ``python bench/accuracy.py`` (``--rows`` also lists every row). While the model is
being worked on, ``--fit-only`` prints the fit rows and their scores only, so residuals of
held-out rows are not seen until the constants are settled. Each row of
``bench/memory_cases.csv`` cites its source, says which quantity it measured and gives
the settings as published; the estimate of that same quantity is compared:

- ``allocated`` (``torch.cuda.max_memory_allocated``), ``reserved``
  (``max_memory_reserved``), ``device`` (what nvidia-smi shows for the process).

The ``split`` column is fixed by a hash of the row id (``heldout`` when the first eight
hex digits of its SHA-256, mod 100, are below 40); no constant is fitted on held-out rows
and the script refuses a file whose split does not follow the rule. Rows with a GPU are
also classified: a run went out of memory exactly when the device figure exceeds the
GPU's NVML total. Peers (``bench/peers_memory.py``) are scored on the same rows.
Exits 1 when tunelint misses a target on the held-out split.
"""

from __future__ import annotations

import csv
import hashlib
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers_memory import accelerate_estimate, fitcheck_estimate

from tunelint.memory.gpus import find_profile
from tunelint.memory.settings import estimate_from_settings, setup_from_settings

CASES = Path(__file__).with_name("memory_cases.csv")
UNITS = {"GB": 1e9, "GiB": float(1 << 30), "MiB": float(1 << 20)}
TARGET_MEDIAN = 0.10
TARGET_WITHIN_20 = 0.85
TOOLS = ("tunelint", "accelerate", "fitcheck")


def parse_settings(text: str) -> dict[str, object]:
    """``key=value;key=value`` -> settings with booleans and numbers converted."""
    settings: dict[str, object] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        key, _, raw = part.partition("=")
        raw = raw.strip()
        value: object = raw
        if raw in ("true", "false"):
            value = raw == "true"
        elif raw.isdigit():
            value = int(raw)
        else:
            try:
                value = float(raw)
            except ValueError:
                value = raw
        settings[key.strip()] = value
    return settings


def split_of(row_id: str) -> str:
    digest = int(hashlib.sha256(row_id.encode()).hexdigest()[:8], 16)
    return "heldout" if digest % 100 < 40 else "fit"


@dataclass
class Score:
    errors: list[float] = field(default_factory=list)
    bounds: list[bool] = field(default_factory=list)

    def line(self, name: str) -> str:
        if not self.errors:
            return f"  {name:11s} no rows"
        absolute = sorted(abs(e) for e in self.errors)
        median = statistics.median(absolute)
        within = sum(e <= 0.20 for e in absolute) / len(absolute)
        right = sum(self.bounds)
        return (
            f"  {name:11s} rows {len(absolute):3d}  median |error| {median * 100:5.1f}%  "
            f"within 20% {within * 100:5.1f}%  bounds right {right}/{len(self.bounds)}"
        )


def _predictions(row: dict[str, str]) -> dict[str, tuple[float, float]]:
    """tool -> (figure for the row's quantity, device figure for the OOM bound)."""
    settings = parse_settings(row["settings"])
    settings["model"] = row["model"]
    est = estimate_from_settings(settings, cache_dirs=[])
    setup, _ = setup_from_settings(settings, cache_dirs=[])
    metric = row["metric"]
    acc = accelerate_estimate(setup)
    tensors, total = fitcheck_estimate(setup, row["gpu"])
    return {
        "tunelint": (float(est.figure(metric)), float(est.total_bytes)),
        "accelerate": (acc, acc),
        "fitcheck": (tensors if metric == "allocated" else total, total),
    }


def main(argv: list[str]) -> int:
    with CASES.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    bad = [r["id"] for r in rows if r["split"] != split_of(r["id"])]
    if bad:
        print(f"split column does not follow the hash rule for: {', '.join(bad)}")
        return 2
    fit_only = "--fit-only" in argv
    if fit_only:
        rows = [r for r in rows if r["split"] == "fit"]
    scores: dict[tuple[str, str], Score] = {}
    listing = "--rows" in argv or fit_only
    show: Callable[[str], None] = print if listing else (lambda _line: None)
    show(f"{'case':46s} {'split':7s} {'metric':9s} {'measured':>9s} " + " ".join(TOOLS))
    for row in rows:
        preds = _predictions(row)
        measured = row["measured"].strip()
        unit = UNITS[row["unit"]]
        profile = find_profile(row["gpu"]) if row["gpu"] else None
        cells = []
        for tool, (figure, device) in preds.items():
            for part in (row["split"], "all"):
                score = scores.setdefault((part, tool), Score())
                if measured.upper() != "OOM":
                    value = float(measured) * unit
                    score.errors.append((figure - value) / value)
                if profile is not None:
                    oom = measured.upper() == "OOM"
                    score.bounds.append(oom == (device > profile.total_bytes))
            if measured.upper() == "OOM":
                cells.append(f"{figure / unit:9.2f}")
            else:
                cells.append(
                    f"{(figure - float(measured) * unit) / (float(measured) * unit):+8.1%}"
                )
        show(
            f"{row['id']:46s} {row['split']:7s} {row['metric']:9s} {measured:>9s} "
            + " ".join(cells)
        )
    counts = {part: sum(r["split"] == part for r in rows) for part in ("heldout", "fit")}
    print(f"rows: {len(rows)} ({counts['heldout']} held out, {counts['fit']} fit)")
    if fit_only:
        print("fit rows:")
        for tool in TOOLS:
            print(scores[("fit", tool)].line(tool))
        return 0
    for part in ("heldout", "all"):
        print(f"{part} rows:")
        for tool in TOOLS:
            print(scores[(part, tool)].line(tool))
    held = scores[("heldout", "tunelint")]
    absolute = sorted(abs(e) for e in held.errors)
    median = statistics.median(absolute)
    within = sum(e <= 0.20 for e in absolute) / len(absolute)
    failed = []
    if median > TARGET_MEDIAN:
        failed.append(f"held-out median {median * 100:.1f}% > {TARGET_MEDIAN * 100:.0f}%")
    if within < TARGET_WITHIN_20:
        failed.append(f"held-out within 20% {within * 100:.0f}% < {TARGET_WITHIN_20 * 100:.0f}%")
    if not all(held.bounds):
        failed.append(f"{held.bounds.count(False)} held-out OOM/fits bound(s) wrong")
    print("targets (held out): " + ("met" if not failed else "MISSED: " + "; ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
