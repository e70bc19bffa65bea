"""Precision and recall of tunelint's rules on a real, labelled corpus.

    python bench/precision.py CORPUS_DIR [--labels labels.jsonl] [--judged FILE] [--json OUT]

``CORPUS_DIR`` holds ``OWNER/NAME/PATH`` files (the development corpus is built by its own
``collect.py``; none of its files belong in this repository). ``--labels`` is the corpus'
ground truth: one JSON object per line with ``repo``, ``path``, ``line`` (physical, 1-based),
``pattern``, ``active`` and ``note``. tunelint runs once over the corpus with its default
policy (JSON report); each finding is then:

* **labelled**: its rule maps to a pattern (``RULE_PATTERNS``) and its primary location, or
  one of its related locations, is within one line of an active label of that pattern that
  the rule claims (labels in ``EXCLUDED`` do not make a finding right: it is judged);
* **judged**: listed in the judged file (``bench/precision_judged.txt``: ``repo/path:line
  RULE tp|fp  why``), a person's verdict on a finding no label covers;
  a line ``repo/path:line RULE outside  why`` there instead names a *label* the rule does not
  claim for a reason ``EXCLUDED`` states but the label's note does not spell out (an upload
  through a helper that creates the repository private): it leaves recall, shown with why;
* **unjudged**: printed, so that a person reads it and adds a verdict.

Precision = (labelled + judged true) / findings; unjudged findings count against it (a
finding nobody would defend is noise until shown otherwise). Recall = active labels of the
rule's pattern that some finding covers / active labels, leaving out labels marked
``uncertain`` and those a rule does not claim (``EXCLUDED``, with the reason). Exits 1 when a
rule with labels is under ``--target`` in either figure, or has unjudged findings.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
JUDGED = HERE / "precision_judged.txt"
DEFAULT_LABELS = HERE.parent.parent / "shared" / "dev-corpus" / "labels.jsonl"

# Which labelled pattern each rule answers for.
RULE_PATTERNS = {
    "TL102": "device_map_auto_train",
    "TL202": "tmp_dir",
    "TL301": "remote_tracker",
    "TL303": "push_to_hub",
    "TL401": "trust_remote_code",
    "TL402": "hub_model_trained",
    "TL403": "torch_load_unsafe",
}
# Labels a rule does not claim, by design: (rule, test on the label, why).
EXCLUDED: list[tuple[str, Callable[[dict[str, object]], bool], str]] = [
    (
        "TL301",
        lambda label: "local logger" in str(label["note"]).lower(),
        "TensorBoard and other loggers that write next to the run send nothing anywhere",
    ),
    (
        "TL303",
        lambda label: "private=true" in str(label["note"]).lower(),
        "an upload to a repository created private is not a public upload",
    ),
]
# Patterns no rule reports, and why.
UNCLAIMED = {
    "ds_offload": "CPU offload of optimizer state is a memory choice TL101 accounts for, "
    "not a finding on its own; TL103 reports offload to disk (NVMe)",
}


@dataclass
class Tally:
    findings: int = 0
    labelled: int = 0
    judged_tp: int = 0
    judged_fp: int = 0
    unjudged: list[str] = field(default_factory=list)
    labels: int = 0
    recalled: int = 0
    missed: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        if not self.findings:
            return None
        return (self.labelled + self.judged_tp) / self.findings

    @property
    def recall(self) -> float | None:
        return self.recalled / self.labels if self.labels else None


def run_tunelint(corpus: Path, extra: Iterable[str]) -> dict[str, object]:
    """One run over the corpus, default policy, JSON report (exit 1 means findings)."""
    command = [sys.executable, "-m", "tunelint", "check", ".", "--format", "json", *extra]
    done = subprocess.run(command, cwd=corpus, capture_output=True, text=True, check=False)
    if done.returncode not in {0, 1}:
        raise SystemExit(f"tunelint failed ({done.returncode}):\n{done.stderr}")
    report: dict[str, object] = json.loads(done.stdout)
    return report


def split(path: str) -> tuple[str, str]:
    """``owner/name/rest`` -> (``owner/name``, ``rest``)."""
    parts = path.split("/", 2)
    return "/".join(parts[:2]), parts[2] if len(parts) > 2 else ""


def places(finding: dict[str, object]) -> list[tuple[str, int]]:
    """(path, physical line) of the finding and of each related location."""
    found = [(str(finding["path"]), int(finding.get("file_line") or finding["line"]))]  # type: ignore[call-overload]
    for related in finding.get("related", []) or []:  # type: ignore[attr-defined]
        line = related.get("file_line") or related.get("line")
        if related.get("path") and line:
            found.append((str(related["path"]), int(line)))
    return found


def load_judged(path: Path) -> dict[tuple[str, int, str], tuple[str, str]]:
    judged: dict[tuple[str, int, str], tuple[str, str]] = {}
    if not path.exists():
        return judged
    for raw in path.read_text(encoding="utf-8").splitlines():
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        where, rule, verdict, *why = text.split(None, 3)
        file, _, line = where.rpartition(":")
        judged[(file, int(line), rule)] = (verdict.lower(), why[0] if why else "")
    return judged


def measure(
    report: dict[str, object],
    labels: list[dict[str, object]],
    judged: dict[tuple[str, int, str], tuple[str, str]],
) -> dict[str, Tally]:
    by_pattern: dict[str, dict[tuple[str, str], list[dict[str, object]]]] = defaultdict(dict)
    for label in labels:
        if label["active"]:
            key = (f"{label['repo']}/{label['path']}", "")
            by_pattern[str(label["pattern"])].setdefault(key, []).append(label)
    tallies: dict[str, Tally] = defaultdict(Tally)
    covered: set[tuple[str, str, int]] = set()
    for finding in report["findings"]:  # type: ignore[attr-defined]
        if finding.get("suppressed"):
            continue
        rule = str(finding["rule_id"])
        tally = tallies[rule]
        tally.findings += 1
        pattern = RULE_PATTERNS.get(rule)
        USED.add((*places(finding)[0], rule))
        hit = False
        for path, line in places(finding):
            for label in by_pattern.get(pattern or "", {}).get((path, ""), []):
                if abs(int(label["line"]) - line) > 1:  # type: ignore[call-overload]
                    continue
                covered.add((rule, path, int(label["line"])))  # type: ignore[call-overload]
                hit = hit or not _excluded(rule, label)
        if hit:
            tally.labelled += 1
            continue
        path, line = places(finding)[0]
        verdict = judged.get((path, line, rule))
        if verdict is None:
            tally.unjudged.append(f"{path}:{line} {rule} {finding['message']}")
        elif verdict[0] == "tp":
            tally.judged_tp += 1
        else:
            tally.judged_fp += 1
    for rule, pattern in RULE_PATTERNS.items():
        tally = tallies[rule]
        for (path, _), found in by_pattern.get(pattern, {}).items():
            for label in found:
                note = str(label["note"])
                if note.startswith("uncertain"):
                    continue
                if _excluded(rule, label):
                    continue
                tally.labels += 1
                if (rule, path, int(label["line"])) in covered:  # type: ignore[call-overload]
                    tally.recalled += 1
                else:
                    tally.missed.append(f"{path}:{label['line']} {note[:90]}")
    return tallies


# Judged places some finding of this run asked about: the others are stale verdicts.
USED: set[tuple[str, int, str]] = set()
# Labels the judged file places outside a rule (``outside`` verdicts), filled by main().
OUTSIDE: dict[tuple[str, int, str], str] = {}


def _excluded(rule: str, label: dict[str, object]) -> bool:
    key = (f"{label['repo']}/{label['path']}", int(label["line"]), rule)  # type: ignore[call-overload]
    return key in OUTSIDE or any(r == rule and test(label) for r, test, _ in EXCLUDED)


def percent(value: float | None) -> str:
    return "    -" if value is None else f"{100 * value:5.1f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="directory of OWNER/NAME/PATH files")
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--judged", type=Path, default=JUDGED)
    parser.add_argument("--report", type=Path, help="read this JSON report instead of running")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--target", type=float, default=0.90)
    parser.add_argument("--show-missed", action="store_true", help="list labels no finding covers")
    args = parser.parse_args(argv)
    labels = [json.loads(line) for line in args.labels.read_text().splitlines() if line.strip()]
    if args.report is not None:
        report = json.loads(args.report.read_text())
    else:
        report = run_tunelint(args.corpus, ["--no-cache", "--exit-zero"])
    judged = load_judged(args.judged)
    OUTSIDE.update({key: why for key, (verdict, why) in judged.items() if verdict == "outside"})
    tallies = measure(report, labels, judged)
    print(
        f"{'rule':6} {'findings':>8} {'labelled':>8} {'judged tp/fp':>12} {'unjudged':>8} "
        f"{'precision':>9} {'recall':>14}"
    )
    failed = False
    for rule in sorted(tallies):
        tally = tallies[rule]
        recall = f"{tally.recalled}/{tally.labels} {percent(tally.recall)}" if tally.labels else "-"
        print(
            f"{rule:6} {tally.findings:8d} {tally.labelled:8d} "
            f"{tally.judged_tp:>5d}/{tally.judged_fp:<6d} {len(tally.unjudged):8d} "
            f"{percent(tally.precision):>9} {recall:>14}"
        )
        low = [f for f in (tally.precision, tally.recall) if f is not None and f < args.target]
        failed = failed or bool(low) or bool(tally.unjudged)
    for pattern, why in UNCLAIMED.items():
        print(f"pattern {pattern}: no rule claims it ({why})")
    for rule, _, why in EXCLUDED:
        print(f"{rule} recall leaves out labels where: {why}")
    for (where, number, rule), why in sorted(OUTSIDE.items()):
        print(f"{rule} recall leaves out {where}:{number}: {why}")
    for (where, number, rule), (verdict, _) in sorted(judged.items()):
        if verdict in {"tp", "fp"} and (where, number, rule) not in USED:
            print(f"STALE verdict, no finding there now: {where}:{number} {rule} {verdict}")
    for rule in sorted(tallies):
        for line in tallies[rule].unjudged:
            print(f"UNJUDGED {line}")
        if args.show_missed:
            for line in tallies[rule].missed:
                print(f"MISSED {rule} {line}")
    if args.json is not None:
        rows = {
            rule: {
                "findings": t.findings,
                "labelled": t.labelled,
                "judged_tp": t.judged_tp,
                "judged_fp": t.judged_fp,
                "unjudged": len(t.unjudged),
                "precision": t.precision,
                "labels": t.labels,
                "recalled": t.recalled,
                "recall": t.recall,
            }
            for rule, t in sorted(tallies.items())
        }
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    counts = Counter(str(f["rule_id"]) for f in report["findings"])
    print(f"total findings: {sum(counts.values())}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
