"""Notebook source: cells by kind, magics, cell-relative and file line positions, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tunelint.facts import FileFacts, FileKind, Setting
from tunelint.sources.notebook import extract_notebook

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def load(name: str) -> FileFacts:
    return extract_notebook((FIXTURES / name).read_text(), name)


def named(facts: FileFacts, name: str) -> Setting:
    found = facts.setting(name)
    assert found is not None, name
    return found


def place(setting: Setting) -> tuple[int | None, int, int, int | None]:
    span = setting.span
    return (span.cell, span.line, span.column, span.file_line)


def notebook(*cells: object, indent: int | None = 1) -> str:
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4}, indent=indent)


def code(source: object) -> dict[str, object]:
    return {"cell_type": "code", "metadata": {}, "outputs": [], "source": source}


def test_fixture_cells_and_lines() -> None:
    facts = load("finetune.ipynb")
    assert facts.kind is FileKind.NOTEBOOK
    assert facts.diagnostics == []
    assert [len(lines) for lines in facts.cell_lines] == [2, 2, 10, 4, 5, 1, 4, 2]
    assert facts.cell_lines[2][4] == "model = AutoModelForCausalLM.from_pretrained("
    assert facts.lines == ()


def test_python_cells_with_positions() -> None:
    facts = load("finetune.ipynb")
    [call] = [c for c in facts.calls if c.name.endswith("from_pretrained")]
    assert call.name == "transformers.AutoModelForCausalLM.from_pretrained"
    assert (call.span.cell, call.span.line, call.span.file_line) == (3, 5, 42)
    assert place(named(facts, "trust_remote_code")) == (3, 7, 23, 44)
    assert place(named(facts, "model")) == (3, 6, 5, 43)
    # `%time model.eval()` was blanked, not parsed as Python
    assert "transformers" in facts.imports


def test_writefile_config_cell() -> None:
    facts = load("finetune.ipynb")
    assert "deepspeed" in facts.dialects
    assert place(named(facts, "zero_stage")) == (4, 3, 34, 59)
    assert named(facts, "offload_param_device").value.raw == "nvme"
    assert named(facts, "offload_dir").value.raw == "/tmp/nvme"
    assert named(facts, "zero_stage").span.path == "finetune.ipynb"


def test_shell_escapes_env_magic_and_continuations() -> None:
    facts = load("finetune.ipynb")
    deepspeed = [launch for launch in facts.launches if launch.launcher == "deepspeed"]
    [launch] = deepspeed
    assert (launch.span.cell, launch.span.line, launch.span.column) == (5, 3, 6)
    assert (launch.span.end_line, launch.span.file_line) == (4, 72)
    assert [config.raw for config in launch.configs] == ["ds_config.json"]
    assert dict(launch.env)["MLFLOW_TRACKING_URI"].raw == "http://tracking.example.com"
    assert place(named(facts, "tracking_uri")) == (5, 1, 26, 70)
    bf16 = [s for s in facts.settings if s.name == "mixed_precision"]
    assert [place(s) for s in bf16] == [(5, 4, 36, 73)]
    # the Python around the `!` lines still parses: the loop body call is seen
    assert any(c.name == "print" and c.span.cell == 5 and c.span.line == 5 for c in facts.calls)


def test_bash_cell_and_raw_cells() -> None:
    facts = load("finetune.ipynb")
    [accelerate] = [launch for launch in facts.launches if launch.launcher == "accelerate"]
    assert (accelerate.span.cell, accelerate.span.line, accelerate.span.file_line) == (7, 4, 95)
    assert named(facts, "output_dir").value.raw == "/data/out"
    # the raw cell's `!python not_code.py` is not code; `!nvidia-smi` starts nothing
    assert sorted(launch.launcher for launch in facts.launches) == ["accelerate", "deepspeed"]


def test_suppressions_per_cell() -> None:
    facts = load("finetune.ipynb")
    got = sorted(
        (s.codes, s.cell, s.span.line, s.first_line, s.last_line, s.span.file_line)
        for s in facts.suppressions
    )
    assert got == [
        (("TL103",), 5, 4, 3, 4, 73),
        (("TL202",), 7, 3, 4, 4, 94),
        (("TL401",), 3, 4, 5, 9, 41),
    ]
    trust = named(facts, "trust_remote_code")
    assert any(s.covers(trust.span) for s in facts.suppressions)
    assert not any(s.covers(named(facts, "zero_stage").span) for s in facts.suppressions)


def test_output_text_never_confuses_line_mapping() -> None:
    # cell 2 has an output that contains the text `"source": [`
    facts = load("finetune.ipynb")
    assert facts.calls[0].span.file_line is not None
    assert place(named(facts, "model"))[3] == 43


def test_nbformat3_worksheets_and_input() -> None:
    facts = load("legacy_v3.ipynb")
    assert facts.diagnostics == []
    assert [len(lines) for lines in facts.cell_lines] == [1, 2]
    assert place(named(facts, "batch_size")) == (2, 1, 48, 22)
    assert [a.target for a in facts.assignments if a.kind == "variable"] == ["model_id"]


def test_string_source_and_compact_json() -> None:
    text = notebook(
        {"cell_type": "markdown", "metadata": {}, "source": "# t"},
        code("import os\n!python train.py --save_steps 7\n"),
        indent=None,
    )
    facts = extract_notebook(text, "nb.ipynb")
    assert place(named(facts, "save_steps")) == (2, 2, 31, 1)


def test_comment_above_a_shell_line_is_not_a_python_suppression() -> None:
    text = notebook(code(["# tunelint: ignore[TL103]\n", "!deepspeed t.py --bf16\n", "x = 1\n"]))
    facts = extract_notebook(text, "nb.ipynb")
    [suppression] = facts.suppressions
    assert (suppression.cell, suppression.first_line, suppression.last_line) == (1, 2, 2)


def test_capture_assignment_and_indented_magic_keep_python_parsable() -> None:
    text = notebook(
        code(
            [
                "files = !ls data\n",
                "for f in files:\n",
                "    %time print(f)\n",
                "import torch\n",
            ]
        )
    )
    facts = extract_notebook(text, "nb.ipynb")
    assert facts.diagnostics == []
    assert "torch" in facts.imports


def test_invalid_json_is_a_parse_error() -> None:
    facts = extract_notebook('{"cells": [\n  {"cell_type": "code",\n}', "nb.ipynb")
    [diagnostic] = facts.diagnostics
    assert (diagnostic.code, diagnostic.line) == ("parse-error", 3)


def test_json_that_is_not_a_notebook() -> None:
    for text in ("[1, 2]", '{"name": "x"}'):
        [diagnostic] = extract_notebook(text, "nb.ipynb").diagnostics
        assert diagnostic.code == "bad-notebook"


def test_bad_cells_are_skipped_and_others_kept() -> None:
    text = notebook(
        "not a cell",
        code(42),
        {"cell_type": "code", "metadata": {}},
        code(["!torchrun --nproc_per_node 4 t.py\n"]),
    )
    facts = extract_notebook(text, "nb.ipynb")
    assert [d.code for d in facts.diagnostics] == ["bad-notebook"] * 3
    assert [d.message.split(" ")[1] for d in facts.diagnostics] == ["1", "2", "3"]
    assert place(named(facts, "num_gpus"))[:2] == (4, 1)
    assert facts.cell_lines[:3] == ((), (), ())


def test_python_syntax_error_in_a_cell_names_the_cell() -> None:
    text = notebook(code(["x = 1\n"]), code(["def broken(:\n"]))
    facts = extract_notebook(text, "nb.ipynb")
    [diagnostic] = facts.diagnostics
    assert diagnostic.code == "parse-error"
    assert diagnostic.message.startswith("cell 2")


def test_kernel_environment_carries_to_later_cells() -> None:
    text = notebook(
        code(["%env OUT=/data/out\n"]),
        code(["import os\n", 'os.environ["MODEL"] = "org/model"\n']),
        code(["!python train.py --output_dir $OUT --model_name_or_path $MODEL\n"]),
    )
    facts = extract_notebook(text, "nb.ipynb")
    [launch] = facts.launches
    env = dict(launch.env)
    assert env["OUT"].raw == "/data/out"
    assert env["MODEL"].raw == "org/model"
    assert named(facts, "output_dir").value.raw == "/data/out"
    assert named(facts, "model").value.raw == "org/model"
    [out] = [a for a in facts.assignments if a.target == "OUT"]
    assert (out.kind, out.span.cell, out.span.line, out.span.column) == ("env", 1, 1, 6)
    assert (out.value.span.column, out.value.span.end_column) == (10, 18)


_CELL_LINES = [
    "!ls", "%env A=1", "x = !ls", "%%bash", "%%writefile a.yaml", "%%time", "%sx ls",
    "  !torchrun --nproc_per_node 2 t.py \\", "if x:", "    pass", "# tunelint: ignore[A]",
    "import os", "os.environ['A'] = 'b'", "a: 1", "\\", "", "def f(:",
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_CELL_LINES), max_size=6), max_size=4), st.booleans())
def test_any_cells_give_facts_not_exceptions(cells: list[list[str]], as_list: bool) -> None:
    sources = [[line + "\n" for line in cell] if as_list else "\n".join(cell) for cell in cells]
    facts = extract_notebook(notebook(*(code(source) for source in sources)), "fuzz.ipynb")
    assert len(facts.cell_lines) == len(cells)
    assert all(setting.span.cell is not None for setting in facts.settings)


def test_names_bound_in_one_cell_resolve_in_later_cells() -> None:
    text = notebook(
        code("from transformers import AutoModelForCausalLM, Trainer\nNAME = 'org/model'\n"),
        {"cell_type": "markdown", "metadata": {}, "source": "Load the model"},
        code("model = AutoModelForCausalLM.from_pretrained(NAME, trust_remote_code=True)\n"),
        code("trainer = Trainer(model=model)\n\ntrainer.train()\n"),
    )
    facts = extract_notebook(text, "nb.ipynb")
    load_call = next(c for c in facts.calls if c.short_name == "from_pretrained")
    assert load_call.name == "transformers.AutoModelForCausalLM.from_pretrained"
    assert load_call.args[0].raw == "org/model"
    assert (load_call.span.cell, load_call.span.line) == (3, 1)
    train = next(c for c in facts.calls if c.short_name == "train")
    assert train.name == "transformers.Trainer.train"
    assert (train.span.cell, train.span.line) == (4, 3)


def test_a_cell_that_does_not_parse_leaves_the_others_their_facts() -> None:
    text = notebook(
        code("import torch\nstate = torch.load('a.pt')\n"),
        code("def broken(:\n"),
        code("import pickle\nrows = pickle.load(open('r.pkl', 'rb'))\n"),
    )
    facts = extract_notebook(text, "nb.ipynb")
    assert {c.name for c in facts.calls} >= {"torch.load", "pickle.load"}
    assert [d.code for d in facts.diagnostics] == ["parse-error"]
    assert "cell 2" in facts.diagnostics[0].message


def test_python_exports_reach_shell_lines_of_later_cells_only() -> None:
    text = notebook(
        code("!python train.py --output_dir $OUT\n"),
        code("import os\nos.environ['OUT'] = '/tmp/run'\n!python train.py --output_dir $OUT\n"),
        code("!python train.py --output_dir $OUT\n"),
    )
    facts = extract_notebook(text, "nb.ipynb")
    outputs = sorted((s.span.cell, s.value.raw) for s in facts.settings if s.name == "output_dir")
    assert [cell for cell, _ in outputs] == [1, 2, 3]
    assert outputs[2][1] == "/tmp/run"
    assert outputs[0][1] != "/tmp/run" and outputs[1][1] != "/tmp/run"
