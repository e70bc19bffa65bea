"""Which torch versions apply to a file, and how TL403 and TL404 grade their findings.

The pins come from the nearest folder at or above a file whose pin files name torch, within
its repository; TL403's ``torch.load`` finding says which range it holds for and drops to low
where only torch >= 2.6 can run. The fixtures in ``tests/fixtures/rules/TL403`` hold one
folder per case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tunelint.api import Options, lint
from tunelint.facts import FileFacts, FileKind, Requirement, Span
from tunelint.findings import Finding
from tunelint.project.index import ProjectIndex
from tunelint.project.pins import version_range
from tunelint.sources.config import extract_yaml
from tunelint.sources.pins import extract_pins
from tunelint.sources.python import extract_python

RULES = Path(__file__).parent / "fixtures" / "rules"
TORCH_26 = (2, 6)


def findings(directory: Path, rule: str, **policy: object) -> dict[str, list[Finding]]:
    options = Options(policy_path=RULES / "tunelint.yaml", select=[rule], cwd=directory)
    options.use_cache = False
    if policy:
        path = directory.parent / f"{directory.name}-policy.yaml"
        path.write_text((RULES / "tunelint.yaml").read_text() + policy_text(rule, policy))
        options.policy_path = path
    found: dict[str, list[Finding]] = {}
    for finding in lint(["."], options).active:
        found.setdefault(finding.span.path, []).append(finding)
    return found


def policy_text(rule: str, options: dict[str, object]) -> str:
    lines = "".join(f"        {key}: {value}\n" for key, value in options.items())
    return f"rules:\n  {rule}:\n    options:\n{lines}"


@pytest.fixture(scope="module")
def tl403() -> dict[str, list[Finding]]:
    return findings(RULES / "TL403", "TL403")


@pytest.mark.parametrize(
    ("path", "severity", "words"),
    [
        ("bandit_b614_risky.py", "high", "the default is unsafe before torch 2.6"),
        ("pinned_old/load_risky.py", "high", "torch==2.5.1 in pinned_old/requirements.txt:2"),
        ("pinned_open/load_risky.py", "high", "torch (any version) in pinned_open/requirements"),
        ("pinned_includes/load_risky.py", "high", "torch~=2.5.0 in pinned_includes/requirements/"),
        ("pinned_new/load_risky.py", "low", "torch>=2.6,<3 in pinned_new/pyproject.toml:5"),
        ("conda_new/load_risky.py", "low", "pytorch=2.6 in conda_new/environment.yml:7"),
        ("setup_new/pkg/load_risky.py", "low", "torch>=2.7 in setup_new/setup.py"),
        (
            "pinned_forced/train_risky.py",
            "high",
            "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD in pinned_forced/",
        ),
    ],
)
def test_torch_load_is_graded_by_the_pins(
    tl403: dict[str, list[Finding]], path: str, severity: str, words: str
) -> None:
    loads = [f for f in tl403[path] if "torch.load` without" in f.message]
    assert {f.severity.label for f in loads} == {severity}
    assert all(words in f.message for f in loads), loads[0].message


def test_admitted_range_is_stated(tl403: dict[str, list[Finding]]) -> None:
    (old,) = tl403["pinned_old/load_risky.py"]
    assert "holds for torch < 2.6" in old.message
    assert old.properties["torch_pins"] == ["torch==2.5.1 in pinned_old/requirements.txt:2"]


def test_object_collectives_are_medium_and_named(tl403: dict[str, list[Finding]]) -> None:
    found = {f.span.line: f for f in tl403["collectives_risky.py"]}
    assert sorted(found) == [9, 10, 11, 13, 14, 15]
    assert {f.severity.label for f in found.values()} == {"medium"}
    assert found[14].message.startswith(
        "`torch.distributed.recv_object_list` unpickles what other ranks send"
    )


def test_policy_option_wins_over_the_pins(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("torch==2.5.1\n")
    (project / "train.py").write_text('import torch\nstate = torch.load("ckpt.pt")\n')
    assert findings(project, "TL403", torch_min_version='"2.6"') == {}
    (only,) = findings(project, "TL403", torch_min_version='"2.4"')["train.py"]
    assert only.severity.label == "high" and "(the default is unsafe" in only.message


@pytest.mark.parametrize(
    ("specifier", "below", "from_26"),
    [
        ("", True, True),
        ("==2.5.1", True, False),
        ("==2.6.0", False, True),
        (">=2.6,<3", False, True),
        (">=2.5", True, True),
        ("<2.6", True, False),
        ("<=2.6", True, True),
        (">2.5.9", True, True),
        ("~=2.5.0", True, False),
        ("~=2.6", False, True),
        ("==2.5.*", True, False),
        ("==2.6.*", False, True),
        ("^2.5", True, True),
        ("^2.6", False, True),
        ("~2.5", True, False),
        ("=2.5", True, False),
        ("=2.6", False, True),
        ("=2.5.1=py311_cuda12.1_0", True, False),
        ("==2.5.1+cu121", True, False),
        ("==2.6.0rc1", False, True),
        ("!=2.5.0", True, True),
        (">=2.6|<1.0", True, True),
        ("@ https://download.pytorch.org/whl/torch-2.5.1.whl", True, True),
    ],
)
def test_version_ranges(specifier: str, below: bool, from_26: bool) -> None:
    found = version_range(specifier)
    assert (found.admits_below(TORCH_26), found.admits_from(TORCH_26)) == (below, from_26)


def _index(files: dict[str, FileFacts], repositories: tuple[str, ...] = ()) -> ProjectIndex:
    return ProjectIndex(files, repositories)


def test_nearest_folder_with_torch_pins_within_the_repository() -> None:
    files = {
        "requirements.txt": extract_pins("torch==2.5.1\n", "requirements.txt"),
        "sub/requirements.txt": extract_pins("wandb\n", "sub/requirements.txt"),
        "sub/deep/train.py": extract_python("import torch\n", "sub/deep/train.py"),
        "new/pyproject.toml": extract_pins(
            '[project]\ndependencies = ["torch>=2.6"]\n', "new/pyproject.toml"
        ),
        "new/src/train.py": extract_python("import torch\n", "new/src/train.py"),
        "vendored/repo/train.py": extract_python("import torch\n", "vendored/repo/train.py"),
    }
    index = _index(files, ("", "vendored/repo"))
    assert [r.specifier for r in index.torch_versions("sub/deep/train.py")] == ["==2.5.1"]
    assert [r.specifier for r in index.torch_versions("new/src/train.py")] == [">=2.6"]
    assert index.torch_versions("vendored/repo/train.py") == ()  # a repository of its own


def test_conda_items_and_setup_py_are_pins() -> None:
    conda = extract_yaml(
        "dependencies:\n  - pytorch::pytorch 2.5.*\n  - pip:\n      - torch>=2.6\n",
        "environment.yml",
    )
    setup = extract_python(
        'from setuptools import setup\nsetup(extras_require={"gpu": ["torch==2.7.0"]})\n',
        "pkg/setup.py",
    )
    index = _index({"environment.yml": conda, "pkg/setup.py": setup})
    assert [(r.name, r.specifier) for r in index.torch_versions("train.py")] == [
        ("pytorch", "=2.5.*"),
        ("torch", ">=2.6"),
    ]
    assert [(r.name, r.specifier) for r in index.torch_versions("pkg/train.py")] == [
        ("torch", "==2.7.0")
    ]


def test_include_cycles_end() -> None:
    files = {
        "requirements/a.txt": extract_pins(
            "-r ../requirements.txt\ntorch==2.5.1\n", "requirements/a.txt"
        ),
        "requirements.txt": extract_pins("-r requirements/a.txt\n", "requirements.txt"),
    }
    index = _index(files)
    assert [r.specifier for r in index.torch_versions("train.py")] == ["==2.5.1"]


def test_requirement_fact_is_small_and_ordered() -> None:
    one = Requirement("torch", "==2.5.1", Span("requirements.txt", 1))
    assert one == Requirement("torch", "==2.5.1", Span("requirements.txt", 1))
    assert FileFacts("requirements.txt", FileKind.PINS, requirements=[one]).requirements == [one]


@pytest.fixture(scope="module")
def tl404() -> dict[str, list[Finding]]:
    return findings(RULES / "TL404", "TL404")


def test_torch_save_grades(tl404: dict[str, list[Finding]]) -> None:
    graded = {(f.span.line, f.severity.label) for f in tl404["torch_save_risky.py"]}
    assert graded == {
        (12, "medium"),
        (13, "medium"),
        (14, "low"),
        (15, "low"),
        (16, "low"),
        (18, "low"),
        (26, "medium"),
        (28, "medium"),
        (30, "low"),
    }
    (final,) = [f for f in tl404["torch_save_risky.py"] if f.span.line == 14]
    assert "`final.bin`" in final.message and "weights_only=True" in final.message
    (module,) = [f for f in tl404["torch_save_risky.py"] if f.span.line == 12]
    assert "weights_only=False" in module.message


def test_settings_keep_their_message(tl404: dict[str, list[Finding]]) -> None:
    (first, *_) = tl404["save_risky.py"]
    assert first.message.startswith("`save_safetensors` is false")
    assert first.severity.label == "medium"
