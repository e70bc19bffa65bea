"""``tunelint policy validate | init | schema | show``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tunelint.cli import main
from tunelint.policy import load_policy, policy_schema


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_validate_valid_policy_exits_0(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (here / "tunelint.yaml").write_text("version: 1\nextends: [strict]\nfail_on: high\n")
    assert main(["policy", "validate"]) == 0
    assert "tunelint.yaml: valid" in capsys.readouterr().out
    assert main(["policy", "validate", "tunelint.yaml"]) == 0


def test_validate_invalid_policy_exits_2_with_every_message(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "bad.yaml").write_text("version: 2\nfail_on: hihg\nrules:\n  TL999: off\n")
    assert main(["policy", "validate", "bad.yaml"]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:1: version: expected 1, got 2" in err
    assert "bad.yaml:2: fail_on: 'hihg' is not allowed (did you mean 'high'?)" in err
    assert "invalid policy" in err


def test_validate_reports_unknown_rules_and_broken_custom_rules(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "rules").mkdir()
    (here / "rules" / "ORG001.yaml").write_text("id: ORG001\nname: broken\n")
    (here / "tunelint.yaml").write_text("rules:\n  custom: [./rules]\n  TL999: off\n")
    assert main(["policy", "validate"]) == 2
    err = capsys.readouterr().err
    assert "ORG001.yaml" in err and "required" in err


def test_validate_without_any_policy_is_a_usage_error(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policy", "validate"]) == 2
    assert "no policy found" in capsys.readouterr().err
    assert main(["policy", "validate", "missing.yaml"]) == 2


def test_init_writes_a_commented_valid_starter_and_refuses_to_overwrite(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policy", "init"]) == 0
    written = (here / "tunelint.yaml").read_text()
    assert written.count("#") > 10
    policy = load_policy(here / "tunelint.yaml", here)
    assert policy.layers[0] == "preset:recommended"
    assert main(["policy", "validate"]) == 0
    before = written
    assert main(["policy", "init"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (here / "tunelint.yaml").read_text() == before


def test_init_refuses_when_any_policy_name_exists(here: Path) -> None:
    (here / ".tunelint.yaml").write_text("version: 1\n")
    assert main(["policy", "init"]) == 2
    assert not (here / "tunelint.yaml").exists()


def test_init_with_the_strict_preset_into_a_directory(here: Path) -> None:
    assert main(["policy", "init", "sub", "--preset", "strict"]) == 0
    policy = load_policy(here / "sub" / "tunelint.yaml", here / "sub")
    assert policy.layers[0] == "preset:strict"
    assert policy.require_reason is True


def test_schema_prints_the_shipped_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "schema"]) == 0
    assert json.loads(capsys.readouterr().out) == policy_schema()


def test_show_prints_the_merged_policy_with_origins(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "org.yaml").write_text(
        "extends: [strict]\nresidency:\n  allowed_hosts: [mlflow.org.example]\n"
    )
    (here / "tunelint.yaml").write_text(
        "extends: [./org.yaml]\nfail_on: medium\nrules:\n  TL104: off\n"
        'paths:\n  per_file_ignores: {"*.ipynb": [TL104], "notebooks/**": [TL105]}\n'
    )
    assert main(["policy", "show"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "# Effective tunelint policy. Layers, lowest first: preset:strict < org.yaml < "
        "tunelint.yaml"
    )
    lines = out.splitlines()
    assert "fail_on: medium  # tunelint.yaml" in lines
    assert "  require_reason: true  # preset:strict" in lines
    assert "  allowed_hosts: [mlflow.org.example]  # org.yaml" in lines
    assert "    enabled: false  # tunelint.yaml" in lines
    assert "    severity: medium  # preset:strict" in lines
    assert '    "*.ipynb": [TL104]  # tunelint.yaml' in lines or (
        "    '*.ipynb': [TL104]  # tunelint.yaml" in lines
    )
    # the output is YAML for the effective policy, the same data the run uses
    assert yaml.safe_load(out) == load_policy(here / "tunelint.yaml", here).data


def test_show_without_a_policy_is_the_recommended_preset(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policy", "show"]) == 0
    out = capsys.readouterr().out
    assert "fail_on: medium  # preset:recommended" in out.splitlines()


def test_show_of_an_invalid_policy_is_exit_2(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "tunelint.yaml").write_text("fail_on: nope\n")
    assert main(["policy", "show"]) == 2
    assert "tunelint.yaml:1: fail_on" in capsys.readouterr().err


def test_policy_without_action_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy"]) == 2
