"""Pin files source: requirements files, pyproject.toml and setup.cfg, read as text.

Also how discovery recognises pin files by name, and that bad input gives a diagnostic.
"""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tunelint.discover import discover, kind_of_name
from tunelint.extract.cache import dumps, loads
from tunelint.facts import FileFacts, FileKind
from tunelint.sources import parse
from tunelint.sources.pins import extract_pins, is_pin_file, parse_requirement


def pins_of(text: str, path: str = "requirements.txt") -> FileFacts:
    return extract_pins(textwrap.dedent(text).lstrip("\n"), path)


def table(facts: FileFacts) -> list[tuple[str, str, int, str]]:
    return [(r.name, r.specifier, r.span.line, r.marker) for r in facts.requirements]


def test_requirements_file_lines_comments_continuations_and_markers() -> None:
    facts = pins_of(
        """
        # the training environment
        torch==2.5.1 \\
            --hash=sha256:0000  # pinned for the cluster
        Transformers[torch] >= 4.46 ; python_version >= "3.10"
        numpy
        peft (>=0.13)
        -e .
        --extra-index-url https://download.pytorch.org/whl/cu121
        https://example.com/wheels/flash_attn-2.6.3-cp311-linux_x86_64.whl
        see the README for details
        """
    )
    assert table(facts) == [
        ("torch", "==2.5.1", 2, ""),
        ("transformers", ">= 4.46", 4, 'python_version >= "3.10"'),
        ("numpy", "", 5, ""),
        ("peft", ">=0.13", 6, ""),
    ]
    assert facts.kind is FileKind.PINS and facts.diagnostics == []
    assert facts.lines[1].startswith("torch==2.5.1")


def test_includes_and_constraints_become_references() -> None:
    facts = pins_of("-r requirements/base.txt\n--constraint=constraints.txt\n-c pins.txt\n")
    found = [(r.role, r.key, r.target.raw, r.target.span.line) for r in facts.references]
    assert found == [
        ("requirements", "-r", "requirements/base.txt", 1),
        ("requirements", "-c", "constraints.txt", 2),
        ("requirements", "-c", "pins.txt", 3),
    ]
    assert facts.requirements == []


def test_pyproject_project_extras_groups_and_poetry() -> None:
    facts = pins_of(
        """
        [project]
        name = "torch-finetune"
        dependencies = ["torch>=2.6,<3", "peft"]

        [project.optional-dependencies]
        gpu = ["flash-attn==2.6.3"]

        [dependency-groups]
        dev = ["pytest>=8", {include-group = "docs"}]

        [tool.poetry.dependencies]
        python = "^3.11"
        torchvision = "^0.21"
        "Torch" = {version = "2.6.0", source = "pytorch"}
        accelerate = "*"
        """,
        "pyproject.toml",
    )
    assert table(facts) == [
        ("torch", ">=2.6,<3", 3, ""),
        ("peft", "", 3, ""),
        ("flash-attn", "==2.6.3", 6, ""),
        ("pytest", ">=8", 9, ""),
        ("torchvision", "^0.21", 13, ""),
        ("torch", "==2.6.0", 14, ""),
        ("accelerate", "", 15, ""),
    ]


def test_setup_cfg_install_requires_and_extras() -> None:
    facts = pins_of(
        """
        [metadata]
        name = finetune

        [options]
        install_requires =
            torch~=2.5.0
            numpy

        [options.extras_require]
        dev = pytest>=8
        """,
        "setup.cfg",
    )
    assert table(facts) == [
        ("torch", "~=2.5.0", 6, ""),
        ("numpy", "", 7, ""),
        ("pytest", ">=8", 10, ""),
    ]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pyproject.toml", "[project\ndependencies = ["),
        ("setup.cfg", "install_requires = torch\n[options"),
    ],
)
def test_invalid_files_give_a_diagnostic(name: str, text: str) -> None:
    facts = parse(name, FileKind.PINS, text)
    assert [d.code for d in facts.diagnostics] == ["parse-error"]
    assert facts.requirements == []


def test_deep_toml_nesting_is_a_diagnostic_not_a_crash() -> None:
    facts = parse("pyproject.toml", FileKind.PINS, "a = " + "[" * 50_000)
    assert facts.diagnostics and facts.diagnostics[0].code in {"parse-error", "too-deep"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("torch==2.5.1", ("torch", "==2.5.1", "")),
        ("pytorch=2.5", ("pytorch", "=2.5", "")),
        (
            "torch @ https://download.pytorch.org/whl/torch.whl",
            ("torch", "@ https://download.pytorch.org/whl/torch.whl", ""),
        ),
        ("torch; sys_platform == 'linux'", ("torch", "", "sys_platform == 'linux'")),
        ("torch 2.5", None),
        ("./local/package", None),
        ("", None),
    ],
)
def test_parse_requirement(text: str, expected: tuple[str, str, str] | None) -> None:
    assert parse_requirement(text) == expected


@pytest.mark.parametrize(
    ("name", "parent", "expected"),
    [
        ("requirements.txt", "", True),
        ("requirements-dev.txt", "", True),
        ("dev_requirements.txt", "", True),
        ("requirements.in", "", True),
        ("base.txt", "requirements", True),
        ("pyproject.toml", "", True),
        ("setup.cfg", "", True),
        ("notes.txt", "", False),
        ("requirements.md", "", False),
        ("setup.py", "", False),
    ],
)
def test_pin_file_names(name: str, parent: str, expected: bool) -> None:
    assert is_pin_file(name, parent) is expected


def test_discovery_gives_pin_files_their_kind(tmp_path: Path) -> None:
    (tmp_path / "requirements").mkdir()
    for name in ("requirements.txt", "requirements/base.txt", "pyproject.toml", "notes.txt"):
        (tmp_path / name).write_text("torch\n")
    found = discover(["."], root=tmp_path, cwd=tmp_path)
    kinds = {file.path: file.kind for file in found.files}
    assert kinds == {
        "pyproject.toml": FileKind.PINS,
        "requirements.txt": FileKind.PINS,
        "requirements/base.txt": FileKind.PINS,
    }
    assert kind_of_name(tmp_path / "environment.yml") is FileKind.YAML  # conda files stay YAML


def test_facts_survive_pickle_and_the_cache_allow_list() -> None:
    facts = pins_of("-r base.txt\ntorch==2.5.1\n")
    assert repr(pickle.loads(pickle.dumps(facts))) == repr(facts)
    assert repr(loads(dumps(facts))) == repr(facts)


@given(st.text(max_size=300))
def test_any_text_gives_facts_or_diagnostics(text: str) -> None:
    for name in ("requirements.txt", "pyproject.toml", "setup.cfg"):
        facts = parse(name, FileKind.PINS, text)
        assert facts.path == name
        assert all(r.span.line >= 1 and r.name for r in facts.requirements)
        assert all(d.code != "internal-error" for d in facts.diagnostics), facts.diagnostics


def test_requirements_past_the_limit_are_a_diagnostic() -> None:
    text = "".join(f"package-{n}==1.0\n" for n in range(1_005))
    facts = pins_of(text)
    assert len(facts.requirements) == 1_000
    assert [d.code for d in facts.diagnostics] == ["limit"]
    listed = ", ".join(f'"package-{n}==1.0"' for n in range(1_005))
    facts = pins_of(f"[project]\ndependencies = [{listed}]\n", "pyproject.toml")
    assert len(facts.requirements) == 1_000 and facts.requirements[-1].span.line == 2
