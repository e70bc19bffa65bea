"""Custom rules from a policy directory, collisions, and Python checks from entry points.

The worked example of docs/policy.md is read from the page itself and run here, so the page
cannot drift from what tunelint does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tunelint.cli import main
from tunelint.project.jobs import Job
from tunelint.rules import checks
from tunelint.rules.checks import CheckContext
from tunelint.rules.match import Hit

DOCS = Path(__file__).resolve().parents[1] / "docs" / "policy.md"
EXAMPLE = re.compile(r"<!-- example: (?P<path>\S+) -->\n```\w*\n(?P<body>.*?)```", re.DOTALL)
ROW = re.compile(
    r"^\| (?P<rule>[A-Z]+\d{3}) \| (?P<severity>\w+) \| `(?P<path>[^:`]+):(?P<line>\d+)`"
)


def docs_example() -> tuple[dict[str, str], set[tuple[str, str, str, int]]]:
    """The files of the worked example, and its findings table (rule, severity, path, line)."""
    text = DOCS.read_text(encoding="utf-8")
    files = {m.group("path"): m.group("body") for m in EXAMPLE.finditer(text)}
    table = text.split("<!-- example-findings -->", 1)[1].strip().split("\n\n", 1)[0]
    rows = {
        (m.group("rule"), m.group("severity"), m.group("path"), int(m.group("line")))
        for m in map(ROW.match, table.splitlines())
        if m is not None
    }
    return files, rows


def write_project(root: Path, files: dict[str, str]) -> None:
    for relative, body in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")


ERRORS: dict[str, str] = {}


def run(root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["check", ".", "--format", "json", "--no-cache", *extra])
    captured = capsys.readouterr()
    ERRORS["last"] = captured.err
    return code, json.loads(captured.out) if captured.out.strip() else {}


def found(report: dict[str, Any]) -> set[tuple[str, str, str, int]]:
    return {
        (f["rule_id"], f["severity"], f["path"], f["line"])
        for f in report["findings"]
        if not f["suppressed"]
    }


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------- the docs example


def test_docs_worked_example_reports_exactly_the_documented_table(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, table = docs_example()
    assert {"tunelint.yaml", "policy/rules/ACME001.yaml", "train.py"} <= set(files)
    assert len(table) == 3
    write_project(project, files)
    code, report = run(project, capsys)
    assert found(report) == table
    assert code == 1
    assert report["diagnostics"] == []


def test_docs_example_per_file_ignore_preset_and_rule_switch_each_matter(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, table = docs_example()
    policy = files["tunelint.yaml"]

    # without the per-file ignore, the experiment is the fourth finding
    write_project(project, {**files, "tunelint.yaml": policy.replace('"experiments/**"', '"x/**"')})
    _, report = run(project, capsys)
    assert found(report) == table | {("ACME002", "medium", "experiments/try_qwen.py", 4)}

    # without strict, TL301 keeps its own severity
    write_project(project, {**files, "tunelint.yaml": policy.replace("extends: [strict]\n", "")})
    _, report = run(project, capsys)
    severities = {(rule, severity) for rule, severity, _, _ in found(report)}
    assert ("TL301", "medium") in severities and ("TL301", "high") not in severities

    # without `TL104: off`, the Trainer gets the thermal-guard finding
    write_project(
        project, {**files, "tunelint.yaml": policy.replace("  TL104: off", "  TL104: on")}
    )
    _, report = run(project, capsys)
    assert ("TL104", "medium", "train.py", 9) in found(report)


def test_custom_rules_can_be_switched_and_rerated_by_id_or_name(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, _ = docs_example()
    policy = files["tunelint.yaml"].replace(
        "  custom: [./policy/rules]\n",
        "  custom: [./policy/rules]\n  ACME001: off\n  models-from-acme-hub: low\n",
    )
    write_project(project, {**files, "tunelint.yaml": policy})
    _, report = run(project, capsys)
    rules = {(rule, severity) for rule, severity, _, _ in found(report)}
    assert ("ACME002", "low") in rules
    assert not any(rule == "ACME001" for rule, _ in rules)


# --------------------------------------------------------------------------- loading


RULE = """\
id: {id}
name: {name}
title: A custom rule for the tests
severity: medium
confidence: high
category: custom
message: "`{{callee}}` is not allowed here"
why: Because the organisation decided so, for reasons.
fix: Do something else.
match:
  call: "os.system"
"""


def custom_project(root: Path, rule_id: str = "ORG001", name: str = "no-os-system") -> None:
    (root / "rules").mkdir(exist_ok=True)
    (root / "rules" / f"{rule_id}.yaml").write_text(RULE.format(id=rule_id, name=name))
    (root / "tunelint.yaml").write_text("version: 1\nrules:\n  custom: [./rules]\n")
    (root / "job.py").write_text("import os\n\nos.system('nvidia-smi')\n")


def test_custom_rule_fires_with_its_own_message(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    custom_project(project)
    code, report = run(project, capsys)
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "ORG001"]
    assert (finding["path"], finding["line"], finding["name"]) == ("job.py", 3, "no-os-system")
    assert finding["message"] == "`os.system` is not allowed here"
    assert code == 1


@pytest.mark.parametrize(("rule_id", "name"), [("TL201", "mine"), ("ORG001", "trust-remote-code")])
def test_a_custom_rule_may_not_shadow_a_builtin_one(
    project: Path, capsys: pytest.CaptureFixture[str], rule_id: str, name: str
) -> None:
    custom_project(project, rule_id, name)
    code, _ = run(project, capsys)
    err = ERRORS["last"]
    assert code == 2
    shadowed = rule_id if rule_id.startswith("TL") else name
    assert f"rule {shadowed!r} is already defined by builtin" in err or (
        f"'{shadowed}' is already defined" in err
    )


def test_two_custom_rules_with_one_id_are_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    custom_project(project)
    (project / "rules" / "again.yaml").write_text(RULE.format(id="ORG001", name="other-name"))
    assert run(project, capsys)[0] == 2
    assert "'ORG001' is already defined" in ERRORS["last"]


def test_an_invalid_custom_rule_names_its_file_and_problem(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    custom_project(project)
    (project / "rules" / "ORG002.yaml").write_text(
        RULE.format(id="ORG002", name="broken").replace("severity: medium", "severity: urgent")
    )
    assert run(project, capsys)[0] == 2
    err = ERRORS["last"]
    assert "ORG002.yaml" in err and "severity" in err and "urgent" in err


def test_policy_operands_in_custom_rules(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "rules").mkdir()
    (project / "rules" / "ORG010.yaml").write_text(
        RULE.format(id="ORG010", name="s3-endpoint-host").replace(
            'match:\n  call: "os.system"\n',
            'match:\n  call: "boto3.client"\n'
            "  where: {arg: endpoint_url, host_not_in: policy.residency.allowed_hosts}\n",
        )
    )
    (project / "tunelint.yaml").write_text(
        "rules:\n  custom: [./rules]\nresidency:\n  allowed_hosts: [minio.acme.internal]\n"
    )
    (project / "s3.py").write_text(
        "import boto3\n\n"
        's3 = boto3.client("s3", endpoint_url="https://minio.acme.internal:9000")\n'
        's3 = boto3.client("s3", endpoint_url="https://s3.vendor.example.com")\n'
    )
    _, report = run(project, capsys, "--select", "ORG010")
    assert [(f["rule_id"], f["line"]) for f in report["findings"]] == [("ORG010", 4)]


# --------------------------------------------------------------------------- entry points


class FakeEntryPoint:
    def __init__(self, name: str, target: Any) -> None:
        self.name = name
        self.target = target

    def load(self) -> Any:
        return self.target


def gpu_quota(job: Job, context: CheckContext) -> Iterator[Hit]:
    limit = float(context.options.get("max", 4))
    gpus = job.settings.get("num_gpus")
    number = gpus.value.as_number() if gpus is not None else None
    if gpus is not None and number is not None and number > limit:
        yield Hit(gpus.span, {"detail": f"{number:g} GPUs: book capacity first"})


gpu_quota.per = "job"  # type: ignore[attr-defined]


def test_python_check_from_an_entry_point(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def entry_points(group: str) -> list[FakeEntryPoint]:
        asked.append(group)
        return [FakeEntryPoint("acme-gpu-quota", gpu_quota)]

    monkeypatch.setattr(checks, "entry_points", entry_points)
    monkeypatch.setattr(checks, "_REGISTRY", dict(checks._REGISTRY))
    (project / "rules").mkdir()
    (project / "rules" / "ACME003.yaml").write_text(
        "id: ACME003\nname: gpu-quota\ntitle: Jobs above the GPU quota\nseverity: medium\n"
        "confidence: high\ncategory: custom\nmessage: '{detail}'\n"
        "why: Large jobs need a capacity booking first.\nfix: Book capacity.\n"
        "options: {max: 4}\ncheck: acme-gpu-quota\n"
    )
    (project / "tunelint.yaml").write_text(
        "rules:\n  custom: [./rules]\n  ACME003: {options: {max: 2}}\n"
    )
    (project / "launch.sh").write_text("torchrun --nproc_per_node 8 train.py\n")
    code, report = run(project, capsys, "--select", "ACME003")
    assert asked == ["tunelint.checks"]
    assert [(f["rule_id"], f["path"], f["line"], f["message"]) for f in report["findings"]] == [
        ("ACME003", "launch.sh", 1, "8 GPUs: book capacity first")
    ]
    assert code == 1


def test_an_unknown_check_is_a_rule_error_not_a_crash(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks, "entry_points", lambda group: [])
    (project / "rules").mkdir()
    (project / "rules" / "ACME004.yaml").write_text(
        "id: ACME004\nname: missing-plugin\ntitle: A check nobody installed\nseverity: low\n"
        "confidence: high\ncategory: custom\nmessage: from the plugin\n"
        "why: Needs a plugin package.\nfix: Install it.\ncheck: acme-not-installed\n"
    )
    (project / "tunelint.yaml").write_text("rules:\n  custom: [./rules]\n")
    (project / "a.py").write_text("x = 1\n")
    code, report = run(project, capsys)
    assert ERRORS["last"] == "", ERRORS["last"]
    assert any(
        n["code"] == "rule-error"
        and n["rule_id"] == "ACME004"
        and "acme-not-installed" in n["message"]
        for n in report["notes"]
    )
    assert code == 1  # the rule's work was not done: the run does not pass


def test_rules_and_explain_include_the_policy_custom_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tunelint.cli import main

    rules_dir = tmp_path / "policy" / "rules"
    rules_dir.mkdir(parents=True)
    (rules_dir / "ACME001.yaml").write_text(
        "id: ACME001\nname: no-wandb\ntitle: W&B is not approved at Acme\nseverity: high\n"
        "confidence: high\ncategory: custom\nmessage: wandb is not approved\n"
        "why: Acme keeps experiment data in its own MLflow.\nfix: Use mlflow.\n"
        "match:\n  call: 'wandb.init'\n"
    )
    (tmp_path / "tunelint.yaml").write_text("version: 1\nrules:\n  custom: [policy/rules]\n")
    monkeypatch.chdir(tmp_path)
    assert main(["rules"]) == 0
    assert "ACME001  no-wandb" in capsys.readouterr().out
    assert main(["explain", "no-wandb"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("# ACME001 no-wandb") and "Acme keeps" in page
    (tmp_path / "tunelint.yaml").write_text("version: 1\nrules:\n  custom: [missing/dir]\n")
    assert main(["rules"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_custom_rules_link_to_their_own_docs_not_tunelints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tunelint.cli import main

    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    body = (
        "name: {name}\ntitle: A rule of this organisation\nseverity: high\n"
        "confidence: high\ncategory: custom\nmessage: not approved\n"
        "why: Organisation policy says so.\nfix: Do the approved thing.\n"
        "match:\n  call: 'wandb.init'\n"
    )
    (rules_dir / "ACME001.yaml").write_text("id: ACME001\n" + body.format(name="no-wandb"))
    (rules_dir / "ACME002.yaml").write_text(
        "id: ACME002\n"
        + body.format(name="no-wandb-linked")
        + "references: ['https://wiki.example.com/ml-policy']\n"
    )
    (tmp_path / "tunelint.yaml").write_text("version: 1\nrules:\n  custom: [rules]\n")
    (tmp_path / "run.py").write_text("import wandb\nwandb.init()\n")
    monkeypatch.chdir(tmp_path)
    main(["check", "run.py", "--format", "sarif", "--no-cache"])
    driver = json.loads(capsys.readouterr().out)["runs"][0]["tool"]["driver"]
    by_id = {rule["id"]: rule for rule in driver["rules"]}
    assert "helpUri" not in by_id["ACME001"]
    assert by_id["ACME002"]["helpUri"] == "https://wiki.example.com/ml-policy"
    assert "helpUri" not in by_id["TL401"]  # built-in pages ship with tunelint: explain
