"""The command line: exit codes, selection, formats, and bad input that never tracebacks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tunelint.cli import main

IMPORT = "from transformers import AutoModelForCausalLM\n"
RISKY = IMPORT + 'm = AutoModelForCausalLM.from_pretrained("x", trust_remote_code=True)\n'
CLEAN = IMPORT + 'm = AutoModelForCausalLM.from_pretrained("x")\n'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "risky.py").write_text(RISKY)
    (tmp_path / "clean.py").write_text(CLEAN)
    return tmp_path


def test_exit_codes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "risky.py"]) == 1
    assert main(["check", "clean.py"]) == 0
    assert main(["check", "risky.py", "--exit-zero"]) == 0
    assert main(["check", "risky.py", "--fail-on", "critical"]) == 0
    (project / "empty").mkdir()
    assert main(["check", "empty"]) == 3
    assert main(["check", "empty", "--allow-empty"]) == 0
    with pytest.raises(SystemExit) as excinfo:
        main(["check", "--format", "nope"])
    assert excinfo.value.code == 2
    assert main([]) == 2


def test_select_and_ignore(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "risky.py", "--ignore", "TL401"]) == 0
    assert main(["check", "risky.py", "--ignore", "trust-remote-code"]) == 0
    assert main(["check", "risky.py", "--select", "TL2"]) == 0
    assert main(["check", "risky.py", "--select", "TL4"]) == 1


def test_json_paths_are_relative_and_findings_complete(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check", ".", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    (finding,) = report["findings"]
    assert finding["path"] == "risky.py"
    assert (finding["rule_id"], finding["name"], finding["line"]) == (
        "TL401",
        "trust-remote-code",
        2,
    )
    for key in ("severity", "column", "message", "suppressed"):
        assert key in finding
    assert sorted(report["files_checked"]) == ["clean.py", "risky.py"]


def test_output_file_and_plain_text(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "risky.py", "--output", "out/report.txt"]) == 1
    text = (project / "out" / "report.txt").read_text()
    assert "\x1b[" not in text
    assert "risky.py:2:" in text and "TL401" in text
    assert capsys.readouterr().out == ""


def test_no_color_env_gives_plain_text(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    main(["check", "risky.py", "--color", "auto"])
    assert "\x1b[" not in capsys.readouterr().out
    main(["check", "risky.py", "--color", "always"])
    assert "\x1b[" in capsys.readouterr().out


def test_statistics(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", ".", "--statistics"])
    assert capsys.readouterr().out.split() == ["1", "TL401", "trust-remote-code"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("syntax.py", b"import torch\nstate = torch.load('a.pt'\ndef broken(:\n"),
        ("latin1.py", b"x = '\xe9t\xe9'\n"),
        ("binary.py", b"\x00\x01\x02\x03" * 100),
        ("broken.json", b'{"zero_optimization": {"stage": 3,,}'),
        ("broken.yaml", b"a: [1, 2\nb: }\n"),
    ],
)
def test_bad_input_becomes_a_diagnostic_and_others_are_still_checked(
    project: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes
) -> None:
    (project / name).write_bytes(content)
    code = main(["check", ".", "--format", "json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    report = json.loads(captured.out)
    assert [d["path"] for d in report["diagnostics"]] == [name]
    assert [f["path"] for f in report["findings"]] == ["risky.py"]
    assert code == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_is_reported(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = project / "secret.py"
    target.write_text(RISKY)
    target.chmod(0)
    main(["check", ".", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert [(d["path"], d["code"]) for d in report["diagnostics"]] == [("secret.py", "unreadable")]


def test_rules_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    listing = capsys.readouterr().out
    assert "TL201" in listing and "unencrypted-offload" in listing
    assert main(["explain", "unencrypted-offload"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("# TL201 unencrypted-offload")
    assert "## Why is this bad?" in page and "GDPR Art. 32" in page
    assert main(["explain", "TL999"]) == 2


def test_invalid_policy_is_exit_2_with_file_and_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "tunelint.yaml").write_text("version: 1\nfail_on: medium\ndata_protecton: {}\n")
    assert main(["check", "."]) == 2
    err = capsys.readouterr().err
    assert "tunelint.yaml:3" in err and "data_protection" in err


def test_budget_options_are_validated(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "risky.py", "--gpu", "rtx-9999"]) == 2
    assert "unknown GPU 'rtx-9999'" in capsys.readouterr().err
    assert main(["check", "risky.py", "--vram", "lots"]) == 2
    assert "--vram" in capsys.readouterr().err
    assert main(["check", "risky.py", "--gpu", "rtx-4090"]) == 1


def test_vram_option_overrides_the_policy_budget(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "tunelint.yaml").write_text(
        "version: 1\nhardware: {gpus: [rtx-4090], detect: 'off'}\n"
    )
    (project / "launch.sh").write_text(
        "python train.py --model_name_or_path meta-llama/Llama-2-7b-hf "
        "--per_device_train_batch_size 1 --gradient_checkpointing\n"
    )
    (project / "train.py").write_text(
        "from transformers import Trainer\nTrainer(model=None).train()\n"
    )
    main(["check", ".", "--select", "TL101", "--format", "json"])
    on_4090 = json.loads(capsys.readouterr().out)["findings"]
    assert [f["rule_id"] for f in on_4090] == ["TL101"]
    assert "RTX 4090" in on_4090[0]["message"]
    main(["check", ".", "--select", "TL101", "--format", "json", "--vram", "200GiB"])
    assert json.loads(capsys.readouterr().out)["findings"] == []
    main(["check", ".", "--select", "TL101", "--format", "json", "--gpu", "a100-40gb"])
    on_a100 = json.loads(capsys.readouterr().out)["findings"]
    assert on_a100 and "A100" in on_a100[0]["message"]


def test_a_file_outside_the_project_is_still_checked(
    project: Path, capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    (project / ".gitignore").write_text("*.log\n")
    outside = tmp_path_factory.mktemp("elsewhere") / "risky.py"
    outside.write_text(RISKY)
    code = main(["check", str(outside), "--format", "json", "--no-cache"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [f["rule_id"] for f in report["findings"]] == ["TL401"]


def test_an_internal_error_is_reported_without_a_traceback(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tunelint.api

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(tunelint.api, "ProjectIndex", broken)
    assert main(["check", "risky.py", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err
    monkeypatch.setenv("TUNELINT_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["check", "risky.py", "--no-cache"])
