"""The policy file: discovery, schema errors with file and line, presets, extends and origins."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tunelint.policy import (
    PRESETS,
    PolicyError,
    find_policy,
    load_policy,
    policy_schema,
    preset_data,
    schema_problems,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> str:
    with pytest.raises(PolicyError) as caught:
        load_policy(path, path.parent)
    return str(caught.value)


# --------------------------------------------------------------------------- discovery


@pytest.mark.parametrize("name", ["tunelint.yaml", ".tunelint.yaml", "tunelint.yml"])
def test_found_walking_up_from_the_checked_path(tmp_path: Path, name: str) -> None:
    policy = write(tmp_path / name, "version: 1\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_policy(deep) == policy.resolve()
    assert find_policy(deep / "train.py") == policy.resolve()


def test_pyproject_table_is_found_and_read(tmp_path: Path) -> None:
    toml = '[project]\nname = "x"\n\n[tool.tunelint]\nfail_on = "high"\n'
    write(tmp_path / "pyproject.toml", toml + '[tool.tunelint.rules]\nTL402 = "off"\n')
    policy = load_policy(None, tmp_path)
    assert policy.path == (tmp_path / "pyproject.toml").resolve()
    assert policy.fail_on.label == "high"
    assert policy.rule_setting("TL402", "unpinned-hub-revision") == {"enabled": False}


def test_pyproject_without_the_table_is_not_a_policy(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert find_policy(tmp_path) is None or find_policy(tmp_path) != tmp_path / "pyproject.toml"


def test_nearest_wins(tmp_path: Path) -> None:
    write(tmp_path / "tunelint.yaml", "fail_on: low\n")
    inner = write(tmp_path / "team" / "tunelint.yaml", "fail_on: high\n")
    assert find_policy(tmp_path / "team") == inner.resolve()


def test_no_policy_means_the_recommended_preset(tmp_path: Path) -> None:
    policy = load_policy(None, tmp_path)
    assert policy.path is None
    assert policy.layers == ["preset:recommended"]
    assert policy.get("hardware.max_temperature_c") == 85
    assert policy.origins["fail_on"] == "preset:recommended"


# --------------------------------------------------------------------------- errors


def test_unknown_key_names_file_line_and_the_likely_key(tmp_path: Path) -> None:
    path = write(tmp_path / "tunelint.yaml", "version: 1\nfail_on: medium\ndata_protecton: {}\n")
    message = errors_of(path)
    assert f"{path}:3: (top level): unknown key 'data_protecton'" in message
    assert "did you mean 'data_protection'?" in message


def test_nested_unknown_key_points_at_its_own_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "tunelint.yaml",
        "residency:\n  allowed_hosts: [a]\n  alowed_regions: [eu-west-1]\n",
    )
    message = errors_of(path)
    assert f"{path}:3: residency: unknown key 'alowed_regions'" in message
    assert "did you mean 'allowed_regions'?" in message


def test_bad_values_say_what_was_expected(tmp_path: Path) -> None:
    path = write(
        tmp_path / "tunelint.yaml",
        "fail_on: hihg\n"
        "paths:\n  exclude: third_party/**\n"
        "hardware:\n  vram: 24 gigs\n  max_temperature_c: 200\n"
        "rules:\n  TL201: {severity: hgh, enabld: true}\n  TL402: sometimes\n",
    )
    lines = errors_of(path).splitlines()
    assert any(
        line.startswith(f"{path}:1: fail_on: 'hihg' is not allowed (did you mean 'high'?)")
        for line in lines
    )
    assert any(line.startswith(f"{path}:3: paths.exclude: expected a list, got") for line in lines)
    assert any(f"{path}:5: hardware.vram" in line and "24GiB" in line for line in lines)
    assert any(f"{path}:6: hardware.max_temperature_c" in line for line in lines)
    assert any("rules.TL201: unknown key 'enabld' (did you mean 'enabled'?)" in x for x in lines)
    assert any(
        "rules.TL201.severity: 'hgh' is not allowed (did you mean 'high'?)" in x for x in lines
    )
    assert any(
        line.startswith(f"{path}:9: rules.TL402: 'sometimes' is not allowed") for line in lines
    )


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path / "tunelint.yaml", "fail_on: x\nfoo: 1\nbar: 2\n")
    assert len(errors_of(path).splitlines()) == 3


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "tunelint.yaml", "fail_on: low\nrules:\n  TL402: off\nfail_on: high\n")
    assert f"{path}:4: fail_on: duplicate key (first written on line 1)" in errors_of(path)


def test_invalid_yaml_and_non_mapping(tmp_path: Path) -> None:
    broken = write(tmp_path / "a" / "tunelint.yaml", "rules: [\n")
    assert "invalid YAML" in errors_of(broken)
    listing = write(tmp_path / "b" / "tunelint.yaml", "- a\n- b\n")
    assert ":1: a policy must be a mapping" in errors_of(listing)


def test_pyproject_errors_say_line_numbers_are_not_available(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[tool.tunelint]\nfail_on = "hihg"\nfial_on = 1\n')
    message = errors_of(path)
    assert f"{path} [tool.tunelint] (TOML: line numbers are not available): fail_on:" in message
    assert "unknown key 'fial_on' (did you mean 'fail_on'?)" in message


def test_unknown_rule_ids_and_names_are_refused_with_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path / "tunelint.yaml", "rules:\n  TL999: off\n  trust-remote-cod: high\n")
    message = errors_of(path)
    assert "rules.TL999: no rule named 'TL999'" in message
    assert "rules.trust-remote-cod: no rule named 'trust-remote-cod'" in message
    assert "did you mean 'trust-remote-code'?" in message
    select = write(tmp_path / "s" / "tunelint.yaml", "rules:\n  select: [TL4, TL9]\n")
    assert "rules.select: no rule matches 'TL9'" in errors_of(select)


def test_unknown_preset_and_missing_parent(tmp_path: Path) -> None:
    path = write(tmp_path / "tunelint.yaml", "version: 1\nextends: [strcit]\n")
    message = errors_of(path)
    assert f"{path}:2: extends: unknown preset 'strcit' (did you mean 'strict'?)" in message
    missing = write(tmp_path / "m" / "tunelint.yaml", "extends: [../org/policy.yaml]\n")
    assert "extends: policy file '../org/policy.yaml' not found" in errors_of(missing)


def test_a_cycle_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "extends: [./b.yaml]\n")
    write(tmp_path / "b.yaml", "extends: [./a.yaml]\n")
    assert "policy extends itself" in errors_of(tmp_path / "a.yaml")


# --------------------------------------------------------------------------- merging


def test_merge_order_presets_then_parents_then_the_file(tmp_path: Path) -> None:
    write(
        tmp_path / "org" / "base.yaml",
        "extends: [strict]\n"
        "residency:\n  allowed_hosts: [mlflow.org.example]\n  allowed_regions: [eu-west-1]\n"
        "paths:\n  exclude: [vendor/**]\n"
        "rules:\n  TL104: {severity: high}\n",
    )
    path = write(
        tmp_path / "project" / "tunelint.yaml",
        "extends: [../org/base.yaml]\n"
        "residency:\n  allowed_regions: [eu-central-1]\n"
        "paths:\n  exclude: [third_party/**]\n"
        "rules:\n  TL104: off\n  TL402: low\n"
        "fail_on: medium\n",
    )
    policy = load_policy(path, path.parent)
    base = str((tmp_path / "org" / "base.yaml").resolve())
    names = [Path(layer).name for layer in policy.layers]
    assert names == ["preset:strict", "base.yaml", "tunelint.yaml"]
    # mappings merge key by key
    assert policy.get("residency.allowed_hosts") == ["mlflow.org.example"]
    # lists are replaced whole, never appended
    assert policy.get("residency.allowed_regions") == ["eu-central-1"]
    assert policy.excludes == ["third_party/**"]
    # rule entries merge too: the file turns TL104 off, the parent's severity stays
    assert policy.rule_setting("TL104", "no-thermal-guard") == {
        "severity": "high",
        "enabled": False,
    }
    assert policy.rule_setting("TL402", "unpinned-hub-revision") == {"severity": "low"}
    # the file wins over the preset
    assert policy.fail_on.label == "medium"
    assert policy.require_reason is True  # from strict, untouched
    origins = policy.origins
    assert origins["fail_on"].endswith("tunelint.yaml")
    assert origins["suppressions.require_reason"] == "preset:strict"
    assert origins["hardware.max_temperature_c"] == "preset:strict"
    assert Path(origins["residency.allowed_hosts"]).resolve() == Path(base)
    assert origins["residency.allowed_regions"].endswith("tunelint.yaml")
    assert origins["rules.TL104.severity"].endswith("base.yaml")
    assert origins["rules.TL104.enabled"].endswith("tunelint.yaml")
    assert origins["rules.TL402.severity"].endswith("tunelint.yaml")


def test_recommended_is_the_base_when_no_layer_names_a_preset(tmp_path: Path) -> None:
    write(tmp_path / "team.yaml", "fail_on: high\n")
    path = write(tmp_path / "tunelint.yaml", "extends: [./team.yaml]\n")
    policy = load_policy(path, tmp_path)
    assert policy.layers[0] == "preset:recommended"
    assert policy.fail_on.label == "high"
    assert policy.get("hardware.max_temperature_c") == 85


def test_a_later_preset_overrides_an_earlier_one(tmp_path: Path) -> None:
    path = write(tmp_path / "tunelint.yaml", "extends: [strict, recommended]\n")
    policy = load_policy(path, tmp_path)
    assert policy.fail_on.label == "medium"
    assert policy.origins["fail_on"] == "preset:recommended"
    # a key only strict sets stays
    assert policy.require_reason is False  # recommended sets it too
    assert policy.rule_setting("TL201", "unencrypted-offload") == {"severity": "critical"}


def test_rule_names_become_ids_and_bare_off_is_read_as_off(tmp_path: Path) -> None:
    # YAML 1.1 reads a bare `off` as false: it must still switch the rule off
    path = write(
        tmp_path / "tunelint.yaml",
        "rules:\n  no-thermal-guard: off\n  TL402: on\n  unencrypted-offload: critical\n"
        "hardware:\n  detect: off\n",
    )
    policy = load_policy(path, tmp_path)
    assert policy.data["rules"]["TL104"] == {"enabled": False}
    assert policy.data["rules"]["TL402"] == {"enabled": True}
    assert policy.rule_setting("TL201", "unencrypted-offload") == {"severity": "critical"}
    assert policy.get("hardware.detect") == "off"


def test_custom_paths_are_relative_to_the_file_that_names_them(tmp_path: Path) -> None:
    rules = tmp_path / "org" / "rules"
    rules.mkdir(parents=True)
    write(tmp_path / "org" / "base.yaml", "rules:\n  custom: [./rules]\n")
    path = write(tmp_path / "project" / "tunelint.yaml", "extends: [../org/base.yaml]\n")
    policy = load_policy(path, path.parent)
    assert policy.custom_rule_paths == [rules.resolve()]


def test_a_missing_custom_directory_names_the_policy(tmp_path: Path) -> None:
    path = write(tmp_path / "tunelint.yaml", "rules:\n  custom: [./policy/rules]\n")
    message = errors_of(path)
    assert "rules.custom" in message and "does not exist" in message


# --------------------------------------------------------------------------- shipped data


@pytest.mark.parametrize("name", PRESETS)
def test_presets_validate_against_the_schema(name: str) -> None:
    data = preset_data(name)
    assert schema_problems(data, Path(f"preset:{name}"), None) == []


def test_strict_is_stricter_than_recommended() -> None:
    strict, recommended = preset_data("strict"), preset_data("recommended")
    order = ["info", "low", "medium", "high", "critical"]
    assert order.index(strict["fail_on"]) < order.index(recommended["fail_on"])
    assert strict["suppressions"]["require_reason"] is True
    assert strict["hardware"]["max_temperature_c"] <= recommended["hardware"]["max_temperature_c"]
    assert strict["rules"]


def test_schema_describes_every_top_level_key() -> None:
    schema = policy_schema()
    for key, spec in schema["properties"].items():
        assert spec.get("description"), key


def test_the_design_sketch_is_a_valid_policy(tmp_path: Path) -> None:
    sketch = """\
version: 1
extends: [recommended]
hardware:
  gpus: [rtx-4090]
  vram: 24GiB
  detect: auto
  max_temperature_c: 85
data_protection:
  encrypted_paths: ["/mnt/secure/**"]
residency:
  allowed_hosts: ["mlflow.internal.example.com"]
  allowed_services: [mlflow, tensorboard]
  allowed_regions: [eu-west-1, europe-west4]
rules:
  TL104: {severity: low}
  TL402: off
  custom: [./policy/rules]
paths:
  exclude: ["third_party/**"]
  per_file_ignores: {"notebooks/**": [TL104]}
fail_on: medium
"""
    (tmp_path / "policy" / "rules").mkdir(parents=True)
    path = write(tmp_path / "tunelint.yaml", sketch)
    policy = load_policy(path, tmp_path)
    assert policy.rule_setting("TL402", "unpinned-hub-revision") == {"enabled": False}
    assert policy.per_file_ignores == {"notebooks/**": ["TL104"]}
    assert yaml.safe_load(sketch)["rules"]["TL402"] is False  # why normalising matters


def test_docs_url_is_a_web_link_with_the_rule_in_it(tmp_path: Path) -> None:
    good = write(tmp_path / "tunelint.yaml", "docs_url: https://wiki.example.com/t/{id}.html\n")
    assert load_policy(good, tmp_path).get("docs_url") == "https://wiki.example.com/t/{id}.html"
    bad = write(tmp_path / "b" / "tunelint.yaml", "docs_url: https://wiki.example.com/t/\n")
    message = errors_of(bad)
    assert "docs_url" in message and "{id} or {name}" in message


def test_hardware_names_and_sizes_are_checked_at_load(tmp_path: Path) -> None:
    path = write(tmp_path / "tunelint.yaml", "hardware: {gpus: [h100, rtx-4090x]}\n")
    assert "hardware.gpus: unknown GPU 'rtx-4090x' (did you mean 'rtx-4090'?)" in errors_of(path)
    # the schema takes only sizes the budget reader can read: a unit is required
    unitless = write(tmp_path / "u" / "tunelint.yaml", "hardware: {vram: '24'}\n")
    assert "hardware.vram" in errors_of(unitless)
    sized = write(tmp_path / "s" / "tunelint.yaml", "hardware: {vram: 24G}\n")
    assert load_policy(sized, sized.parent).get("hardware.vram") == "24G"
