"""What a fix must never do: write through a symbolic link or outside the checked paths,
touch a suppressed finding, clobber a file that changed since it was read, lose the file's
permission bits, or break the run on a file it cannot make sense of."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from fix_support import copy_case, files_of, run_cli

from tunelint.api import Options, lint
from tunelint.fix import plan_fixes, write_fixes
from tunelint.fix.write import refusal, write_atomically

RISKY = 'import torch\n\nstate = torch.load("ckpt.pt")\n'
FIXED = 'import torch\n\nstate = torch.load("ckpt.pt", weights_only=True)\n'


def test_a_suppressed_finding_is_left_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_case("torch_load", tmp_path)
    run_cli(project, monkeypatch, capsys, "--fix", "--unsafe-fixes")
    text = (project / "load.py").read_text(encoding="utf-8")
    assert 'ours = torch.load("mine.pt")  # tunelint: ignore[TL403]' in text
    assert 'state = torch.load("checkpoint/optimizer.pt", weights_only=True)' in text


def test_symbolic_links_are_never_written_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    (project / "real").mkdir(parents=True)
    (project / ".git").mkdir()
    (project / "real" / "train.py").write_text(RISKY)
    (project / "link.py").symlink_to(project / "real" / "train.py")
    (project / "linked").symlink_to(project / "real", target_is_directory=True)
    code, _, err = run_cli(
        project, monkeypatch, capsys, "--fix", "--unsafe-fixes", paths=("link.py",)
    )
    assert "not fixed: link.py: it is a symbolic link" in err
    assert (project / "real" / "train.py").read_text() == RISKY
    assert (project / "link.py").is_symlink()
    assert code == 1  # the finding remains
    paths = ("linked/train.py",)
    code, _, err = run_cli(project, monkeypatch, capsys, "--fix", "--unsafe-fixes", paths=paths)
    assert "linked/train.py: it lies in a symbolically linked directory" in err
    assert (project / "real" / "train.py").read_text() == RISKY
    run_cli(project, monkeypatch, capsys, "--fix", "--unsafe-fixes", "--follow-symlinks")
    assert (project / "real" / "train.py").read_text() == FIXED  # by its own path
    assert (project / "linked").is_symlink() and (project / "link.py").is_symlink()


def test_refusal_names_what_is_wrong(tmp_path: Path) -> None:
    inside = tmp_path / "project" / "src"
    inside.mkdir(parents=True)
    (inside / "train.py").write_text(RISKY)
    (tmp_path / "other.py").write_text(RISKY)
    cwd = str(tmp_path / "project")
    assert refusal(str(inside / "train.py"), ["src"], cwd) is None
    assert refusal(str(inside / "train.py"), ["src/train.py"], cwd) is None
    assert refusal(str(tmp_path / "other.py"), ["src"], cwd) == "it lies outside the checked paths"
    assert refusal(str(inside / "train.py"), ["src/other"], cwd) == (
        "it lies outside the checked paths"
    )
    os.mkfifo(inside / "pipe.py")
    assert refusal(str(inside / "pipe.py"), ["."], cwd) == "it is not a regular file"
    assert refusal(str(inside / "gone.py"), ["."], cwd).startswith("cannot read it")  # type: ignore[union-attr]


def test_writes_are_atomic_and_keep_the_permission_bits(tmp_path: Path) -> None:
    target = tmp_path / "train.py"
    target.write_text(RISKY)
    target.chmod(0o640)
    assert write_atomically(str(target), RISKY.encode(), FIXED.encode()) is None
    assert target.read_text() == FIXED
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.py"], "a temporary file stayed"
    # the file changed since it was read: left alone
    assert write_atomically(str(target), RISKY.encode(), b"x") == "it changed since it was read"
    assert target.read_text() == FIXED


def test_a_file_edited_after_the_check_is_not_fixed(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()
    (project / "train.py").write_text(RISKY)
    report = lint(["."], Options(cwd=project, use_cache=False))
    (project / "train.py").write_text("import torch\n\nstate = torch.load(other)\n")
    plan = plan_fixes(report, unsafe=True)
    assert plan.files == []  # the line the finding names is not what it was
    (project / "train.py").write_text(RISKY)
    plan = plan_fixes(report, unsafe=True)
    (project / "train.py").write_text(RISKY + "# edited meanwhile\n")
    assert write_fixes(plan) == [("train.py", "it changed since it was read")]
    assert (project / "train.py").read_text().endswith("# edited meanwhile\n")


def test_files_fixes_cannot_make_sense_of_stay_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()
    weird = {
        "star.py": "import torch\nstate = torch.load(*args)\n",
        "kwargs.py": "import torch\nstate = torch.load('x.pt', **options)\n",
        "computed.py": (
            "from transformers import AutoModelForCausalLM\n"
            "m = AutoModelForCausalLM.from_pretrained('gpt2', device_map=f'{where}')\n"
        ),
        "block.yaml": "output_dir: |\n  /tmp/run\nper_device_train_batch_size: 1\n",
        "anchor.yaml": (
            "defaults: &d /tmp/run\noutput_dir: *d\nlogging_dir: *d\n"
            "per_device_train_batch_size: 1\n"
        ),
    }
    for name, text in weird.items():
        (project / name).write_text(text)
    before = files_of(project)
    code, _, err = run_cli(project, monkeypatch, capsys, "--fix", "--unsafe-fixes")
    assert "internal error" not in err and code in (0, 1)
    assert files_of(project) == before


def test_diff_exit_codes_follow_ruff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_case("torch_load", tmp_path)
    code, diff, err = run_cli(project, monkeypatch, capsys, "--diff")
    assert (code, diff) == (0, "")  # TL403's fix is unsafe: nothing without --unsafe-fixes
    assert "No fixes to apply (3 more with --unsafe-fixes)." in err
    code, diff, _ = run_cli(project, monkeypatch, capsys, "--diff", "--unsafe-fixes")
    assert code == 1 and "+state = torch.load(" in diff
    code, _, _ = run_cli(project, monkeypatch, capsys, "--fix", "--unsafe-fixes")
    assert code == 1  # pickle.load remains, high: the exit code follows what remains


def test_a_fix_that_would_break_the_file_or_fails_is_not_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tunelint.fix import python_rules
    from tunelint.fix.model import Change

    project = copy_case("torch_load", tmp_path)
    before = files_of(project)
    monkeypatch.setattr(
        python_rules,
        "fix_torch_load",
        lambda text, finding, context: Change(text + "def (:\n", "x"),
    )
    code, _, err = run_cli(project, monkeypatch, capsys, "--fix", "--unsafe-fixes")
    assert "not fixed: load.py: the fixed file would not parse" in err
    assert files_of(project) == before and code == 1

    def failing(text: str, finding: object, context: object) -> None:
        raise ValueError("a fixer that fails")

    monkeypatch.setattr(python_rules, "fix_torch_load", failing)
    code, out, err = run_cli(project, monkeypatch, capsys, "--fix", "--unsafe-fixes")
    assert files_of(project) == before and code == 1
    assert "internal error" not in err and "TL403" in out  # still reported
