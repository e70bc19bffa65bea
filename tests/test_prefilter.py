"""The prefilter: never skips a file with something a rule reads; skips plain library code.

The central property is checked against real facts: for every file, if the sources produce a
fact that anything reads (``prefilter.relevant``), the prefilter must have let the file through.
"""

from __future__ import annotations

import json
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from tunelint.api import Options, extract_all, lint
from tunelint.discover import discover
from tunelint.extract.prefilter import Prefilter, glob_pieces, name_clause
from tunelint.facts import FileFacts, FileKind
from tunelint.findings import Severity
from tunelint.report import render
from tunelint.rules.loader import load_rules
from tunelint.rules.model import RuleMeta
from tunelint.rules.needs import prefilter_for as build
from tunelint.rules.needs import relevant

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
STDLIB = Path(sysconfig.get_paths()["stdlib"])
sys.path.insert(0, str(TESTS.parent / "bench"))

from gen_corpus import generate  # noqa: E402

RULES = load_rules()
PREFILTER = build(RULES)


def _kind(path: Path) -> FileKind | None:
    return {".py": FileKind.PYTHON, ".ipynb": FileKind.NOTEBOOK}.get(path.suffix)


def _extract(path: Path, shown: str) -> FileFacts:
    from tunelint.sources import extractor

    kind = _kind(path)
    assert kind is not None
    return extractor(kind)(path.read_text(encoding="utf-8-sig"), shown)


def _rule(match: dict[str, Any] | None = None, check: str | None = None) -> RuleMeta:
    return RuleMeta(
        id="TL999",
        name="test-rule",
        title="t",
        severity=Severity.HIGH,
        confidence="high",
        category="test",
        message="m",
        why="w",
        fix="f",
        match=match,
        check=check,
    )


def _wanted(
    source: str, prefilter: Prefilter = PREFILTER, kind: FileKind = FileKind.PYTHON
) -> bool:
    return prefilter.wanted(kind, source.encode())


# -- what is never skipped --------------------------------------------------------------------

FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and _kind(p) is not None)
RULE_DIRS = sorted(
    p for p in (FIXTURES / "rules").iterdir() if p.is_dir() and not p.name.startswith(".")
)


@pytest.mark.parametrize(
    "path", FIXTURE_FILES, ids=[p.relative_to(FIXTURES).as_posix() for p in FIXTURE_FILES]
)
def test_every_fixture_with_relevant_facts_passes(path: Path) -> None:
    kind = _kind(path)
    assert kind is not None
    facts = _extract(path, path.name)
    reasons = relevant(facts, RULES)
    if reasons:
        assert PREFILTER.wanted(kind, path.read_bytes()), (path, reasons)


def test_no_fixture_with_findings_is_skipped() -> None:
    """Every file a built-in rule reports in its fixtures is parsed."""
    skipped = []
    for directory in RULE_DIRS:
        policy = directory / "tunelint.yaml"
        options = Options(
            policy_path=policy if policy.exists() else FIXTURES / "rules" / "tunelint.yaml",
            cwd=directory,
            use_cache=False,
            jobs=1,
        )
        report = lint(["."], options)
        paths = {f.span.path for f in report.findings}
        assert paths, directory
        for shown in sorted(paths):
            path = directory / shown
            kind = _kind(path)
            if kind is not None and not PREFILTER.wanted(kind, path.read_bytes()):
                skipped.append(path)
    assert skipped == []


def test_fixture_reports_are_the_same_with_and_without_prefilter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for directory in RULE_DIRS:
        policy = directory / "tunelint.yaml"
        options = Options(
            policy_path=policy if policy.exists() else FIXTURES / "rules" / "tunelint.yaml",
            cwd=directory,
            use_cache=False,
            jobs=1,
        )
        monkeypatch.setenv("TUNELINT_PREFILTER", "1")
        with_prefilter = render(lint(["."], options), "json")
        monkeypatch.setenv("TUNELINT_PREFILTER", "0")
        without = render(lint(["."], options), "json")
        assert with_prefilter == without, directory


def test_generated_corpus_loses_nothing(tmp_path: Path) -> None:
    generate(tmp_path, projects=6, seed=3)
    passed = skipped = 0
    for path in sorted(tmp_path.rglob("*")):
        kind = _kind(path)
        if kind is None:
            continue
        data = path.read_bytes()
        if PREFILTER.wanted(kind, data):
            passed += 1
            continue
        skipped += 1
        facts = _extract(path, path.relative_to(tmp_path).as_posix())
        assert relevant(facts, RULES) == [], path
    assert passed and skipped


def _stdlib_sample(limit: int, max_bytes: int) -> list[Path]:
    candidates = sorted(
        p
        for p in STDLIB.glob("*.py")
        if p.stat().st_size <= max_bytes and not p.name.startswith("_")
    )
    return candidates[:limit]


def test_skipped_stdlib_files_hold_nothing_relevant() -> None:
    checked = 0
    for path in _stdlib_sample(limit=80, max_bytes=12_000):
        data = path.read_bytes()
        if PREFILTER.wanted(FileKind.PYTHON, data):
            continue
        facts = _extract(path, path.name)
        assert relevant(facts, RULES) == [], path
        checked += 1
    assert checked >= 20


# -- what is skipped ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module",
    ["colorsys.py", "heapq.py", "bisect.py", "string.py", "difflib.py", "json/decoder.py"],
)
def test_plain_library_code_is_skipped(module: str) -> None:
    assert not PREFILTER.wanted(FileKind.PYTHON, (STDLIB / module).read_bytes())


def test_most_of_the_stdlib_is_skipped() -> None:
    files = [p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts]
    skipped = sum(1 for p in files if not PREFILTER.wanted(FileKind.PYTHON, p.read_bytes()))
    assert skipped / len(files) > 0.8


# -- the needles ------------------------------------------------------------------------------


def test_glob_pieces_and_tokens() -> None:
    assert glob_pieces("transformers.*.from_pretrained") == ["transformers", "from_pretrained"]
    assert glob_pieces("accelerate.*dispatch*") == ["accelerate", "dispatch"]
    assert glob_pieces("mlflow.start_run().log_artifact") == ["mlflow", "start_run", "log_artifact"]
    assert glob_pieces("*") == []
    clause = name_clause("*Trainer.push_to_hub")
    assert clause is not None
    modes = {n.text: n.mode for group in clause for n in group}
    assert modes == {b"Trainer": "substring", b"push_to_hub": "token"}


@pytest.mark.parametrize(
    ("source", "wanted"),
    [
        ("import pickle\nrows = pickle.load(handle)\n", True),
        ("from pickle import load\nrows = load(handle)\n", True),
        ("import pickle as pk\nrows = pk.loads(blob)\n", True),
        ("# pickle is mentioned, and the payload downloaded\nx = 1\n", False),
        ("import torch\nstate = torch.load('a.pt')\n", True),
        ("x = torch_load_helper()\n", False),
        ("model = AutoModel.from_pretrained('gpt2')\n", True),
        ("def f(**kw):\n    return g(trust_remote_code=True)\n", True),
        ("opts = {'trust_remote_code': True}\n", True),
        ("loss.backward()\n", True),
        ("loss.backward \\\n  ()\n", True),
        ("# read it backwards\nx = 1\n", False),
        ("x = 1  # TuneLint: IGNORE[TL201]\n", True),
        ("uri = 'S3://bucket/key'\n", True),
        ("url = 'https://example.com'\n", False),
        ("os.environ['HF_HOME'] = '/tmp/hf'\n", True),
        ("parser.add_argument('--per-device-train-batch-size', type=int)\n", True),
        ("parser.add_argument('--verbose', action='store_true')\n", False),
        ("@dataclass\nclass A:\n    output_dir: str = 'out'\n", True),
        ("@dataclass\nclass A:\n    name: str = 'out'\n", False),
        ("import wandb\nwandb.init(project='x')\n", True),
        ("mlflow.set_tracking_uri(URI)\n", True),
        ("client = boto3.client('s3', region_name='eu-west-1')\n", True),
    ],
)
def test_needles(source: str, wanted: bool) -> None:
    assert _wanted(source) is wanted


def test_utf16_files_are_always_parsed() -> None:
    assert PREFILTER.wanted(FileKind.PYTHON, "x = 1\n".encode("utf-16"))


@pytest.mark.parametrize(
    ("cells", "wanted"),
    [
        ([["values = [1, 2]\n", "total = sum(values)\n"]], False),
        ([["!torchrun train.py\n"]], True),
        ([["%%writefile ds.json\n", "{}\n"]], True),
        ([["files = !ls\n"]], True),
        ([["import torch\n", "x = torch.load('a.pt')\n"]], True),
        (["x = 1\nimport torch\ny = torch.load('a')"], True),
    ],
)
def test_notebooks(cells: list[Any], wanted: bool) -> None:
    document = {
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": c} for c in cells],
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    data = json.dumps(document).encode()
    assert PREFILTER.wanted(FileKind.NOTEBOOK, data) is wanted


def test_other_kinds_are_always_parsed() -> None:
    for kind in (FileKind.YAML, FileKind.JSON, FileKind.SHELL):
        assert PREFILTER.wanted(kind, b"nothing: here\n")


def test_rule_call_globs_become_needles() -> None:
    prefilter = build([_rule({"call": "acme.frobnicate"})])
    assert _wanted("import acme\nacme.frobnicate(1)\n", prefilter)
    assert not _wanted("import acme\nacme.other(1)\n", prefilter)
    assert not _wanted("import acme\nacme.other(1)\n", PREFILTER)


def test_rule_keyword_needles_for_any_call() -> None:
    prefilter = build([_rule({"call": "*", "where": {"arg": "dangerous_flag", "equals": True}})])
    assert _wanted("f(dangerous_flag=True)\n", prefilter)
    assert not _wanted("f(safe=True)\n", prefilter)


@pytest.mark.parametrize(
    "match",
    [
        {"call": "*", "where": {"arg": "#0", "matches": "x"}},
        {"call": "*", "where": {"arg": "token", "missing": True}},
        {"call": "*", "where": {"not": {"arg": "token"}}},
        {"assignment": "*"},
        {"import": "torch"},
    ],
)
def test_unbounded_rules_turn_the_prefilter_off(match: dict[str, Any]) -> None:
    prefilter = build([_rule(match)])
    assert prefilter.reasons
    assert _wanted("x = 1\n", prefilter)


def test_kinds_restrict_needles() -> None:
    match = {"call": "acme.frobnicate", "when": {"kinds": ["notebook"]}}
    prefilter = build([_rule(match)])
    assert not _wanted("acme.frobnicate()\n", prefilter)
    notebook = json.dumps({"cells": [{"cell_type": "code", "source": ["acme.frobnicate()"]}]})
    assert prefilter.wanted(FileKind.NOTEBOOK, notebook.encode())


def test_check_without_declared_needs_turns_the_prefilter_off() -> None:
    prefilter = build([_rule(check="no-such-check-anywhere")])
    assert prefilter.reasons == [
        "rule TL999 (check no-such-check-anywhere) declares no prefilter needs"
    ]
    assert _wanted("x = 1\n", prefilter)


def test_plugin_checks_declare_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    from tunelint.rules import checks

    def plugin(facts: object, context: object) -> list[object]:
        return []

    plugin.prefilter_match = {"call": "acme.leak"}  # type: ignore[attr-defined]
    monkeypatch.setattr(checks, "_REGISTRY", dict(checks._REGISTRY))
    monkeypatch.setattr(
        checks,
        "entry_points",
        lambda group: [type("E", (), {"name": "acme-leak", "load": lambda self: plugin})()],
    )
    prefilter = build([_rule(check="acme-leak")])
    assert prefilter.reasons == []
    assert _wanted("import acme\nacme.leak()\n", prefilter)
    assert not _wanted("x = 1\n", prefilter)


def test_every_builtin_rule_is_understood() -> None:
    """A new check or match leaf must tell the prefilter what it reads (a check's needles)."""
    assert PREFILTER.reasons == []


def test_lint_marks_prefiltered_files(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "train.py").write_text("import torch\nstate = torch.load('x.pt')\n")
    (tmp_path / "tunelint.yaml").write_text("version: 1\n")
    options = Options(cwd=tmp_path, use_cache=False, jobs=1)
    report = lint(["."], options)
    assert report.files_checked == ["plain.py", "train.py", "tunelint.yaml"]
    assert [f.rule_id for f in report.findings] == ["TL403"]
    found = discover(["."], root=tmp_path, cwd=tmp_path)
    facts = extract_all(found.files, 10_000, options, rules=RULES)
    assert facts["plain.py"].prefiltered and not facts["plain.py"].calls
    assert not facts["train.py"].prefiltered and facts["train.py"].calls


def test_launched_scripts_are_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job member's absence of facts counts (TL105 looks for saves in every member)."""
    (tmp_path / "tunelint.yaml").write_text("version: 1\n")
    (tmp_path / "launch.sh").write_text("torchrun --nproc_per_node 2 entry.py --max_steps 50000\n")
    (tmp_path / "entry.py").write_text("from mylib import run\n\nmodel = run()\nmodel.save()\n")
    (tmp_path / "other.py").write_text("from mylib import run\n\nmodel = run()\nmodel.save()\n")
    options = Options(cwd=tmp_path, use_cache=False, jobs=1)
    found = discover(["."], root=tmp_path, cwd=tmp_path)
    facts = extract_all(found.files, 10_000, options, rules=RULES)
    assert not facts["entry.py"].prefiltered and facts["entry.py"].calls
    assert facts["other.py"].prefiltered
    monkeypatch.setenv("TUNELINT_PREFILTER", "1")
    with_prefilter = render(lint(["."], options), "json")
    monkeypatch.setenv("TUNELINT_PREFILTER", "0")
    assert render(lint(["."], options), "json") == with_prefilter
