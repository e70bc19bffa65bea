"""Shell source: launch lines, continuations, env assignments, quoting and positions."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tunelint.facts import UNKNOWN, FileFacts, FileKind, Launch, Setting
from tunelint.sources.shell import extract_shell

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def shell_of(text: str) -> FileFacts:
    return extract_shell(textwrap.dedent(text).lstrip("\n"), "run.sh")


def only_launch(facts: FileFacts) -> Launch:
    assert len(facts.launches) == 1, facts.launches
    return facts.launches[0]


def settings_of(facts: FileFacts) -> list[tuple[str, object, str]]:
    return [(s.name, s.value.raw, s.dialect) for s in facts.settings]


def named(facts: FileFacts, name: str) -> Setting:
    found = facts.setting(name)
    assert found is not None, name
    return found


def fixture() -> FileFacts:
    return extract_shell((FIXTURES / "train_multi.sh").read_text(), "train_multi.sh")


def test_fixture_launchers_in_order() -> None:
    facts = fixture()
    assert facts.kind is FileKind.SHELL
    assert [launch.launcher for launch in facts.launches] == [
        "torchrun",
        "accelerate",
        "deepspeed",
        "llamafactory-cli",
        "axolotl",
        "tune",
        "python",
    ]
    assert facts.diagnostics == []


def test_torchrun_with_continuations_env_and_redirects() -> None:
    launch = fixture().launches[0]
    assert (launch.span.line, launch.span.column) == (11, 1)
    assert (launch.span.end_line, launch.span.end_column) == (19, 23)
    assert launch.script is not None
    assert launch.script.raw == "train.py"
    assert (launch.script.span.line, launch.script.span.column) == (11, 78)
    assert [config.raw for config in launch.configs] == ["configs/ds_zero3_nvme.json"]
    args = dict(launch.args)
    assert args["model_name_or_path"].raw == "meta-llama/Llama-3.1-8B"
    assert args["output_dir"].raw == "/scratch/runs/llama/ckpt"
    assert args["gradient_accumulation_steps"].raw is UNKNOWN  # $ACCUM never assigned
    assert args["bf16"].raw is True
    assert args["report_to"].raw == "wandb"  # `2>&1 | tee train.log` is not an argument
    env = dict(launch.env)
    assert list(env) == ["MODEL", "WANDB_PROJECT", "MLFLOW_TRACKING_URI", "CUDA_VISIBLE_DEVICES"]
    assert env["CUDA_VISIBLE_DEVICES"].raw == "0,1,2,3"


def test_fixture_settings_with_positions() -> None:
    facts = fixture()
    torchrun = [s for s in facts.settings if s.key_span.line in range(11, 20)]
    assert [(s.name, s.value.raw, s.dialect) for s in torchrun] == [
        ("num_gpus", 4, "torchrun"),
        ("model", "meta-llama/Llama-3.1-8B", "trainer"),
        ("output_dir", "/scratch/runs/llama/ckpt", "trainer"),
        ("batch_size", 4, "trainer"),
        ("grad_accum", UNKNOWN, "trainer"),
        ("mixed_precision", "bf16", "trainer"),
        ("grad_checkpointing", True, "trainer"),
        ("report_to", "wandb", "trainer"),
    ]
    assert list(facts.launches[0].settings) == torchrun
    model = torchrun[1]
    assert (model.key_span.line, model.key_span.column, model.key_span.end_column) == (12, 5, 24)
    # "$MODEL" is the value of `export MODEL=...`: decided there, used here
    assert (model.span.line, model.span.column, model.span.end_column) == (4, 14, 38)
    assert model.value.via is not None
    assert (model.value.via.line, model.value.via.column, model.value.via.end_column) == (
        12,
        26,
        33,
    )
    assert model.value.origin == "env" and model.value.text == '"meta-llama/Llama-3.1-8B"'
    output = torchrun[2]
    assert output.value.origin == "env-default"  # OUT=${OUT_DIR:-/scratch/runs/llama}
    assert (output.span.line, output.value.text) == (5, '"${OUT}/ckpt"')
    assert output.value.via is not None and output.value.via.line == 13
    assert torchrun[0].key == "nproc_per_node"


def test_fixture_other_launchers() -> None:
    facts = fixture()
    by_line = {s.span.line: [] for s in facts.settings}  # type: dict[int, list[tuple[str, object, str]]]
    for s in facts.settings:
        by_line[s.span.line].append((s.name, s.value.raw, s.dialect))
    assert by_line[21] == [
        ("num_gpus", 8, "accelerate"),
        ("mixed_precision", "fp16", "accelerate"),
        ("dataset", "my org/data # not a comment", "trainer"),
    ]
    assert by_line[22] == [("num_gpus", 2, "deepspeed"), ("dataset", "data/train.jsonl", "trainer")]
    assert by_line[23] == [("seq_len", 4096, "llamafactory")]
    assert by_line[24] == [("batch_size", 1, "axolotl")]
    assert by_line[25] == [
        ("num_gpus", 2, "torchrun"),
        ("batch_size", 4, "torchtune"),
        ("grad_checkpointing", False, "torchtune"),
    ]
    assert by_line[26] == [("max_steps", 1000, "trainer")]
    # heredoc bodies are data: `python not_a_launch.py --bf16` there is no launch
    assert all(launch.span.line < 28 for launch in facts.launches)


def test_fixture_references() -> None:
    refs = [(ref.role, ref.target.raw) for ref in fixture().references]
    assert refs == [
        ("script", "train.py"),
        ("config", "configs/ds_zero3_nvme.json"),
        ("script", "sft.py"),
        ("config", "accelerate_ds.yaml"),
        ("script", "pretrain.py"),
        ("config", "ds.json"),
        ("data", "data/train.jsonl"),
        ("config", "llamafactory_lora_sft.yaml"),
        ("config", "axolotl_qlora.yml"),
        ("config", "torchtune_llama3_1_8b_lora.yaml"),
        ("script", "finetune.py"),
    ]


def test_fixture_env_assignments_and_suppression() -> None:
    facts = fixture()
    got = [(a.target, a.value.raw, a.kind, a.span.line, a.span.column) for a in facts.assignments]
    assert got == [
        ("MODEL", "meta-llama/Llama-3.1-8B", "env", 4, 8),
        ("OUT", "/scratch/runs/llama", "env", 5, 1),
        ("WANDB_PROJECT", "llama-sft", "env", 6, 8),
        ("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000", "env", 7, 8),
        ("CUDA_VISIBLE_DEVICES", "0,1,2,3", "env", 11, 1),
    ]
    assert facts.assignments[0].value.origin == "env"
    assert named(facts, "tracking_uri").value.raw == "http://mlflow.internal:5000"
    [suppression] = facts.suppressions
    assert suppression.codes == ("TL202",)
    assert suppression.reason == "scratch is node-local"
    assert (suppression.first_line, suppression.last_line) == (11, 19)
    output = named(facts, "output_dir")
    assert output.value.via is not None and suppression.covers(output.value.via)  # the use
    assert not suppression.covers(output.span)  # `OUT=...` above the comment decides it


def test_commented_out_launch_is_ignored() -> None:
    facts = shell_of(
        """
        # python train.py --bf16
        echo "python train.py --fp16"  # python x.py
        """
    )
    assert facts.launches == [] and facts.settings == []


def test_quoted_values_and_equals_flags() -> None:
    facts = shell_of(
        """
        python train.py --output_dir='/data/my runs' --report_to "wandb" --hub_model_id=org/m\\#1
        """
    )
    args = dict(only_launch(facts).args)
    assert args["output_dir"].raw == "/data/my runs"
    assert args["output_dir"].text == "'/data/my runs'"
    assert (args["output_dir"].span.column, args["output_dir"].span.end_column) == (30, 44)
    assert args["report_to"].raw == "wandb"
    assert args["hub_model_id"].raw == "org/m#1"


def test_an_option_with_an_unknown_value_stays_an_option() -> None:
    """``--nnodes=${WORLD_SIZE}``: the value is not known, the word is still an option, so
    the program after it is found and the flags after it are read."""
    facts = shell_of(
        """
        torchrun --nproc_per_node=8 --nnodes=${WORLD_SIZE} --node_rank=$RANK train.py \\
            --output_dir=$OUT --model acme/base-7b
        """
    )
    launch = only_launch(facts)
    assert launch.script is not None and launch.script.raw == "train.py"
    args = dict(launch.args)
    assert args["output_dir"].raw is UNKNOWN
    assert args["model"].raw == "acme/base-7b"


def test_single_quotes_do_not_expand() -> None:
    facts = shell_of(
        """
        OUT=/data
        python train.py --output_dir '$OUT/x' --logging_dir "$OUT/logs" --run_name "$(date)"
        """
    )
    args = dict(only_launch(facts).args)
    assert args["output_dir"].raw == "$OUT/x"
    assert args["logging_dir"].raw == "/data/logs"
    assert args["run_name"].raw is UNKNOWN


def test_variables_resolve_only_after_assignment() -> None:
    facts = shell_of(
        """
        python a.py --output_dir $OUT
        OUT=/first
        python b.py --output_dir ${OUT}
        OUT=/second
        unset OUT
        python c.py --output_dir ${OUT:-/fallback} --logging_dir $1
        """
    )
    outputs = [dict(launch.args)["output_dir"] for launch in facts.launches]
    assert [value.raw for value in outputs] == [UNKNOWN, "/first", "/fallback"]
    assert [value.origin for value in outputs] == ["env", "env", "env-default"]
    assert dict(facts.launches[2].args)["logging_dir"].raw is UNKNOWN


def test_separators_and_prefixes() -> None:
    facts = shell_of(
        """
        cd /w && CUDA_VISIBLE_DEVICES=0 python3.11 -u a.py --bf16; time python b.py --fp16|tee x
        env WANDB_MODE=offline nohup python -m trainer.main --max_steps 5 &
        if python c.py --save_steps 10; then echo ok; fi
        """
    )
    launches = facts.launches
    assert [(launch.script.raw if launch.script else launch.module) for launch in launches] == [
        "a.py",
        "b.py",
        "trainer.main",
        "c.py",
    ]
    assert dict(launches[0].env)["CUDA_VISIBLE_DEVICES"].raw == "0"
    assert dict(launches[2].env)["WANDB_MODE"].raw == "offline"
    assert launches[2].module == "trainer.main" and launches[2].script is None
    assert settings_of(facts) == [
        ("mixed_precision", "bf16", "trainer"),
        ("mixed_precision", "fp16", "trainer"),
        ("max_steps", 5, "trainer"),
        ("save_steps", 10, "trainer"),
    ]
    assert launches[1].span.column == 60
    assert launches[1].span.end_column == 82


def test_not_launches() -> None:
    facts = shell_of(
        """
        python -c "import torch"
        python -m pip install -U transformers
        python
        pip install torch
        echo python train.py
        """
    )
    assert facts.launches == []


def test_accelerate_launch_options_and_module() -> None:
    facts = shell_of(
        """
        accelerate launch --config_file acc.yaml --multi_gpu --num_processes=4 \\
          --zero_stage 3 --offload_param_device nvme -m axolotl.cli.train qlora.yml --load_in_8bit
        """
    )
    launch = only_launch(facts)
    assert launch.launcher == "accelerate"
    assert launch.module == "axolotl.cli.train"
    assert [config.raw for config in launch.configs] == ["acc.yaml", "qlora.yml"]
    assert settings_of(facts) == [
        ("num_gpus", 4, "accelerate"),
        ("zero_stage", 3, "accelerate"),
        ("offload_param_device", "nvme", "accelerate"),
        ("load_in_8bit", True, "axolotl"),
    ]
    assert (named(facts, "num_gpus").span.line, named(facts, "num_gpus").span.column) == (1, 70)
    assert named(facts, "offload_param_device").span.line == 2


def test_torchrun_as_python_module_and_nproc_gpu() -> None:
    facts = shell_of(
        """
        python -m torch.distributed.run --nproc-per-node gpu --standalone train.py --fp16
        """
    )
    launch = only_launch(facts)
    assert launch.launcher == "torchrun"
    assert launch.script is not None and launch.script.raw == "train.py"
    assert settings_of(facts) == [
        ("num_gpus", UNKNOWN, "torchrun"),
        ("mixed_precision", "fp16", "trainer"),
    ]


def test_tune_run_overrides_and_builtin_config() -> None:
    facts = shell_of(
        """
        tune run lora_finetune_single_device --config llama3_1/8B_lora \\
          model._component_=torchtune.models.llama3_1.qlora_llama3_1_8b batch_size=8
        """
    )
    launch = only_launch(facts)
    assert launch.script is not None and launch.script.raw == "lora_finetune_single_device"
    assert [config.raw for config in launch.configs] == ["llama3_1/8B_lora"]
    assert facts.references == []  # neither the recipe nor the built-in config is a file
    assert settings_of(facts) == [
        ("model", "meta-llama/Llama-3.1-8B", "torchtune"),
        ("adapter", "qlora", "torchtune"),
        ("load_in_4bit", True, "torchtune"),
        ("batch_size", 8, "torchtune"),
    ]
    assert named(facts, "batch_size").key_span.line == 2


def test_litgpt_finetune() -> None:
    facts = shell_of(
        """
        litgpt finetune lora checkpoints/mistralai/Mistral-7B-v0.1 --quantize bnb.nf4 --devices 2
        """
    )
    assert only_launch(facts).launcher == "litgpt"
    assert settings_of(facts) == [
        ("adapter", "lora", "litgpt"),
        ("load_in_4bit", True, "litgpt"),
        ("num_gpus", 2, "litgpt"),
        ("model", "mistralai/Mistral-7B-v0.1", "litgpt"),
    ]


def test_trl_cli_and_multi_value_flags() -> None:
    facts = shell_of(
        """
        trl sft --config sft.yaml --report_to wandb tensorboard --lora_target_modules q_proj v_proj
        """
    )
    launch = only_launch(facts)
    assert launch.launcher == "trl"
    assert [(ref.role, ref.target.raw) for ref in facts.references] == [("config", "sft.yaml")]
    assert settings_of(facts) == [
        ("report_to", ["wandb", "tensorboard"], "trainer"),
        ("lora_targets", ["q_proj", "v_proj"], "trainer"),
    ]


def test_export_forms() -> None:
    facts = shell_of(
        """
        declare -x HF_HOME=/cache
        export A=1 B="two words"
        C=3
        export C
        python x.py
        """
    )
    assert [(a.target, a.value.raw) for a in facts.assignments] == [
        ("HF_HOME", "/cache"),
        ("A", "1"),
        ("B", "two words"),
        ("C", "3"),
    ]
    assert [name for name, _ in only_launch(facts).env] == ["HF_HOME", "A", "B", "C"]


def test_unbalanced_quote_is_a_diagnostic_and_reading_goes_on() -> None:
    facts = shell_of(
        """
        python a.py --bf16
        echo "oops
        """
    )
    [diagnostic] = facts.diagnostics
    assert diagnostic.code == "parse-error"
    assert diagnostic.line == 2
    assert len(facts.launches) == 1


def test_multiline_quoted_string_spans_lines() -> None:
    facts = shell_of(
        """
        python a.py --run_name "first
        second" --save_steps 5
        python b.py
        """
    )
    assert [launch.span.line for launch in facts.launches] == [1, 3]
    assert named(facts, "save_steps").span.line == 2


def test_suppression_on_the_line_covers_the_logical_line() -> None:
    facts = shell_of(
        """
        deepspeed train.py \\
          --deepspeed ds.json  # tunelint: ignore[TL103] -- test rig
        python other.py
        """
    )
    [suppression] = facts.suppressions
    assert (suppression.first_line, suppression.last_line) == (1, 2)
    assert (suppression.span.line, suppression.span.column) == (2, 24)
    assert suppression.reason == "test rig"


def test_line_map_for_notebook_cells() -> None:
    facts = extract_shell(
        "\n torchrun --nproc_per_node 2 t.py\n", "nb.ipynb", cell=3, line_map=[40, 41]
    )
    launch = only_launch(facts)
    assert (launch.span.cell, launch.span.line, launch.span.column, launch.span.file_line) == (
        3,
        2,
        2,
        41,
    )
    assert named(facts, "num_gpus").key_span.file_line == 41


def test_empty_assignment_value() -> None:
    facts = shell_of("EMPTY=\nexport OTHER=\n")
    assert [(a.target, a.value.raw) for a in facts.assignments] == [("EMPTY", ""), ("OTHER", "")]
    assert facts.assignments[0].value.span.column == 7


_SHELL_TOKENS = [
    "python", "-m", "-c", "torchrun", "accelerate", "launch", "tune", "run", "litgpt",
    "finetune", "--config", "--x=", "a=b", "A=", "$A", "${A:-b}", "${A", "'q'", '"q', "\\\n",
    "\n", "#", "# tunelint: ignore[X]", ";", "&&", "|", "&", "2>&1", "<<EOF", "EOF", "x.py",
    "export", "env", "srun", "-", "--", "k.v=1", "$(", ")", "`", "(", "{", " ",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_SHELL_TOKENS), max_size=25), st.sampled_from(["", " "]))
def test_any_input_gives_facts_not_exceptions(tokens: list[str], joiner: str) -> None:
    facts = extract_shell(joiner.join(tokens), "fuzz.sh")
    for launch in facts.launches:
        assert launch.span.line >= 1


def built(name: str = "launch_built.sh") -> FileFacts:
    return extract_shell((FIXTURES / name).read_text(), name)


def launch_rows(launch: Launch) -> list[tuple[str, object, str, int, int]]:
    """(name, value, key, value line, key line) of each setting the launch sets."""
    return [(s.name, s.value.raw, s.key, s.span.line, s.key_span.line) for s in launch.settings]


def test_heredoc_command_is_spliced_into_its_launch() -> None:
    facts = built()
    launch = facts.launches[0]
    assert (launch.launcher, launch.module, launch.span.line) == (
        "deepspeed",
        "openrlhf.cli.train_sft",
        13,
    )
    assert launch_rows(launch) == [
        ("model", "Acme/Base-7B", "model.model_name_or_path", 3, 7),  # ${BASE}: decided on 3
        ("output_dir", "/tmp/sft-ckpt", "ckpt.output_dir", 8, 8),
        ("zero_stage", 3, "ds.zero_stage", 9, 9),
    ]  # `# --ds.adam_offload` after the heredoc is a comment
    output = launch.settings[1]
    assert output.value.via is not None and output.value.via.line == 13  # where it runs
    assert (output.span.column, output.span.end_column) == (22, 34)
    assert list(launch.settings) == [s for s in facts.settings if s.key_span.line in range(5, 11)]


def test_array_items_are_spliced_and_its_comment_lines_are_dead() -> None:
    launch = built().launches[1]
    assert (launch.launcher, launch.module) == ("python", "openrlhf.cli.train_ppo_ray")
    assert (launch.span.line, launch.span.end_line) == (22, 22)  # `ray job submit ... --`
    assert launch_rows(launch) == [
        ("model", "Acme/Policy-1B", "actor.model_name_or_path", 16, 16),
        ("helper_model", "Acme/Reward-1B", "reward.model_name_or_path", 18, 18),  # frozen
        ("offload_optimizer_device", "cpu", "ds.adam_offload", 19, 19),
        ("report_to", "wandb", "logger.wandb.key", 20, 20),  # a key, even a placeholder
    ]
    assert "Acme/Judge-1B" not in str(built().settings)  # line 17 is a comment


def test_commented_continuation_ends_the_command() -> None:
    launch = built().launches[2]
    assert (launch.span.line, launch.span.end_line) == (24, 27)
    assert [(name, s.raw) for name, s in launch.args] == [
        ("report_to", "wandb"),
        ("data_output_path", "/tmp/ds-chat-data"),
        ("offload", True),
    ]  # `#--push_to_hub` on line 28 is a comment, not a flag
    assert launch_rows(launch)[1:] == [
        ("report_to", "wandb", "report_to", 25, 25),
        ("output_dir", "/tmp/ds-chat-data", "data_output_path", 26, 26),  # DeepSpeed-Chat
        ("offload_optimizer_device", "cpu", "offload", 27, 27),
        ("offload_param_device", "cpu", "offload", 27, 27),
    ]


def test_srun_bash_c_runs_the_command_built_in_variables() -> None:
    launch = built().launches[3]
    assert (launch.launcher, launch.module) == ("torchrun", "torch.distributed.run")
    assert launch.script is not None and launch.script.raw == "pretrain.py"
    assert launch.script.span.line == 31  # written in `export CMD=...`
    assert (launch.span.line, launch.text) == (32, "$LAUNCHER $CMD")
    assert launch_rows(launch) == [
        ("num_gpus", 8, "nproc_per_node", 30, 30),
        ("output_dir", "/scratch/pt", "output_dir", 31, 31),
        ("zero_stage", 2, "zero_stage", 31, 31),
    ]
    assert all(s.value.via is not None and s.value.via.line == 32 for s in launch.settings)


def test_srun_tune_run_and_olmo_core_overrides() -> None:
    facts = built()
    tune, olmo = facts.launches[4], facts.launches[5]
    assert (tune.launcher, [c.raw for c in tune.configs], tune.span.line) == (
        "tune",
        ["guard.yaml"],
        33,
    )
    assert launch_rows(olmo) == [
        ("report_to", "wandb", "trainer.callbacks.wandb.enabled", 34, 34)
    ]  # --model_name=olmo3-7b is the script's preset: no model
    assert len(facts.launches) == 6 and facts.diagnostics == []


def test_built_launch_lookalikes_start_nothing() -> None:
    facts = built("launch_built_lookalike.sh")
    assert [(launch.launcher, launch.span.line) for launch in facts.launches] == [("python", 16)]
    assert facts.settings == [] and facts.diagnostics == []


def test_splicing_is_bounded() -> None:
    # a variable that expands into itself, and an array doubling at each step
    text = "A=(x $A)\nA=($A $A)\nB=(${B[@]} ${B[@]})\n" + "C=(${C[@]} ${C[@]})\n" * 40
    text += "python t.py ${A[@]} ${C[@]}\nbash -c 'bash -c \"bash -c x\"'\n"
    facts = extract_shell(text, "loop.sh")
    assert [launch.launcher for launch in facts.launches] == ["python"]


def test_swift_launch_line_is_the_config() -> None:
    facts = built("swift_launch.sh")
    sft, rlhf, from_file, direct = facts.launches
    assert (sft.launcher, sft.module, sft.span.line, sft.span.end_line) == (
        "swift",
        "swift.cli.sft",
        2,
        13,
    )
    assert [(s.name, s.value.raw, s.key, s.span.line) for s in sft.settings] == [
        ("model", "Acme/Chat-7B", "model", 4),
        ("adapter", "lora", "train_type", 5),
        ("zero_stage", 3, "deepspeed", 6),  # built-in config: ZeRO-3, offloading both
        ("offload_optimizer_device", "cpu", "deepspeed", 6),
        ("offload_param_device", "cpu", "deepspeed", 6),
        ("report_to", ["tensorboard"], "report_to", 7),  # swanlab runs in local mode
        ("push_to_hub", True, "push_to_hub", 11),
        ("hub_model_id", "acme/chat-7b-lora", "hub_model_id", 12),
    ]  # --model_name / --model_author name the model in its answers: no setting
    assert sft.configs == ()  # `zero3_offload` names a built-in config, not a file
    assert [(s.name, s.value.raw) for s in rlhf.settings][:2] == [
        ("model", "Acme/Chat-7B"),
        ("helper_model", "Acme/Chat-7B-ref"),  # the DPO reference model is frozen
    ]
    assert [c.raw for c in from_file.configs] == ["swift_args.yaml"]
    assert [(s.name, s.value.raw, s.dialect) for s in direct.settings][1:] == [
        ("model", "Acme/Other-1B", "swift"),
        ("adapter", "none", "swift"),
    ]  # `torchrun swift/cli/sft.py` runs the same entry point


def test_swift_commands_that_do_not_train_keep_only_uploads() -> None:
    facts = built("swift_lookalike.sh")
    assert [launch.module for launch in facts.launches] == [
        "swift.cli.infer",
        "swift.cli.export",
        "swift.cli.deploy",
    ]
    assert [(s.name, s.value.raw) for s in facts.settings] == [
        ("push_to_hub", True),
        ("hub_model_id", UNKNOWN),  # '<model-id>' is a placeholder
    ]


def test_template_uris_on_a_launch_line_are_unknown() -> None:
    launch = only_launch(shell_of("python t.py --a s3://<bucket>/x --b s3://acme/x\n"))
    assert [(name, value.raw) for name, value in launch.args] == [
        ("a", UNKNOWN),
        ("b", "s3://acme/x"),
    ]


def test_a_variable_set_from_an_argument_keeps_the_script_default() -> None:
    from tunelint.sources.shell import extract_shell

    text = (
        'MODEL="acme/base-7b"\n'
        'while [[ "$1" != "" ]]; do\n'
        "    case $1 in\n"
        "        -m ) shift\n"
        "            MODEL=$1\n"
        "            ;;\n"
        "    esac\n"
        "    shift\n"
        "done\n"
        "python finetune.py --model_name_or_path $MODEL\n"
    )
    facts = extract_shell(text, "run.sh")
    (model,) = [s for s in facts.settings if s.name == "model"]
    assert (model.value.raw, model.span.line) == ("acme/base-7b", 1)
    # with no default before it, an argument stays unknown
    facts = extract_shell("MODEL=$1\npython finetune.py --model_name_or_path $MODEL\n", "run.sh")
    (model,) = [s for s in facts.settings if s.name == "model"]
    assert not model.value.known


def calls_of(facts: FileFacts) -> list[tuple[str, list[object], list[tuple[str, object]]]]:
    return [
        (c.name, [a.raw for a in c.args], [(k, v.raw) for k, v in c.kwargs]) for c in facts.calls
    ]


def test_hub_download_commands_are_calls_not_launches() -> None:
    facts = shell_of(
        """
        tune download meta-llama/Llama-3.2-1B --output-dir /tmp/llama --hf-token "$T" \\
            --ignore-patterns "original/consolidated.00.pth"
        huggingface-cli download google/gemma-2-2b config.json --revision main --local-dir ./g
        hf download --repo-type dataset tatsu-lab/alpaca --include "*.json" "*.md" --cache-dir=/c
        nohup hf download openai-community/gpt2 --quiet --local-dir ./gpt2 &
        """
    )
    assert facts.launches == []  # a download starts no job
    assert calls_of(facts) == [
        ("tune download", ["meta-llama/Llama-3.2-1B"], [("local_dir", "/tmp/llama")]),
        (
            "huggingface-cli download",
            ["google/gemma-2-2b"],  # config.json names a file of the repository
            [("revision", "main"), ("local_dir", "./g")],
        ),
        ("hf download", ["tatsu-lab/alpaca"], [("repo_type", "dataset"), ("cache_dir", "/c")]),
        ("hf download", ["openai-community/gpt2"], [("local_dir", "./gpt2")]),
    ]
    assert [(s.name, s.key, s.value.raw, s.dialect) for s in facts.settings] == [
        ("download_dir", "output-dir", "/tmp/llama", "hub-download"),
        ("download_dir", "local-dir", "./g", "hub-download"),
        ("download_dir", "cache-dir", "/c", "hub-download"),
        ("download_dir", "local-dir", "./gpt2", "hub-download"),
    ]
    tune = facts.calls[0]
    assert (tune.span.line, tune.span.end_line) == (1, 2)  # the whole command
    assert tune.text.startswith("tune download meta-llama/Llama-3.2-1B")
    repo = tune.args[0]
    assert (repo.span.line, repo.span.column, repo.span.end_column) == (1, 15, 37)
    output = facts.settings[0]
    assert (output.key_span.column, output.span.column) == (39, 52)


def test_modelscope_download_model_dataset_and_positional_ids() -> None:
    facts = shell_of(
        """
        modelscope download --model Qwen/Qwen2.5-7B --revision v1.0 --local_dir /tmp/q a.json
        modelscope download --dataset AI-ModelScope/alpaca-gpt4 train.jsonl
        modelscope download internlm/internlm2-chat-7b --repo-type model --cache_dir ./c
        """
    )
    assert calls_of(facts) == [
        (
            "modelscope download",
            ["Qwen/Qwen2.5-7B"],  # with --model, a positional word names a file
            [("repo_type", "model"), ("revision", "v1.0"), ("local_dir", "/tmp/q")],
        ),
        ("modelscope download", ["AI-ModelScope/alpaca-gpt4"], [("repo_type", "dataset")]),
        (
            "modelscope download",
            ["internlm/internlm2-chat-7b"],
            [("repo_type", "model"), ("cache_dir", "./c")],
        ),
    ]
    assert [(s.key, s.value.raw) for s in facts.settings] == [
        ("local_dir", "/tmp/q"),
        ("cache_dir", "./c"),
    ]


def test_download_values_resolve_through_variables() -> None:
    facts = shell_of(
        """
        MODEL=org/x; OUT=/tmp/x
        huggingface-cli download $MODEL --local-dir "$OUT" --revision "${REV:-main}"
        hf download "$1" --local-dir ./arg
        """
    )
    first, second = facts.calls
    repo = first.args[0]
    assert repo.raw == "org/x" and (repo.span.line, repo.span.column) == (1, 7)  # `MODEL=`
    assert repo.via is not None and repo.via.line == 2  # where it is used
    revision = first.kwarg("revision")
    assert revision is not None and (revision.raw, revision.origin) == ("main", "env-default")
    folder = facts.settings[0]
    assert folder.span.line == 1 and folder.key_span.line == 2  # decided where OUT= is written
    assert not second.args[0].known  # the caller's argument


def test_download_lookalikes_download_nothing() -> None:
    """Uploads, logins, echoed and commented commands beside one real download."""
    facts = shell_of(
        """
        huggingface-cli upload acme/chat-7b /tmp/merged
        huggingface-cli login --token "$HF_TOKEN"
        hf auth login
        echo huggingface-cli download acme/chat-7b --local-dir /tmp/x
        modelscope login --token abc
        tune ls
        # huggingface-cli download acme/chat-7b --local-dir /tmp/x
        hf download acme/chat-7b --local-dir /tmp/real
        """
    )
    assert [(c.name, c.span.line) for c in facts.calls] == [("hf download", 8)]
    assert [(s.name, s.value.raw) for s in facts.settings] == [("download_dir", "/tmp/real")]
    assert facts.launches == []


def test_a_wrapped_download_is_read() -> None:
    facts = shell_of(
        """
        srun --ntasks=1 huggingface-cli download acme/chat-7b --local-dir /tmp/x
        bash -c "tune download acme/base-1b --output-dir /tmp/y"
        """
    )
    assert [(c.name, c.args[0].raw) for c in facts.calls] == [
        ("huggingface-cli download", "acme/chat-7b"),
        ("tune download", "acme/base-1b"),
    ]


def test_a_download_is_no_training_job(tmp_path: Path) -> None:
    """Downloading a model neither starts a job nor makes its file one that trains."""
    from tunelint.discover import discover
    from tunelint.extract.parallel import extract_files
    from tunelint.project.index import ProjectIndex

    (tmp_path / "get.sh").write_text(
        "tune download meta-llama/Llama-3.2-1B --output-dir /tmp/llama\n"
        "huggingface-cli download acme/chat-7b --local-dir ./models/chat\n"
    )
    found = discover(["."], root=tmp_path, cwd=tmp_path)
    index = ProjectIndex(extract_files(found.files, 1_000_000).facts, found.repositories)
    facts = index.facts("get.sh")
    assert facts is not None and len(facts.calls) == 2 and facts.launches == []
    assert index.jobs == () and not index.trains("get.sh")
