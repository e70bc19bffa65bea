"""Python source: call names through imports, and static value resolution."""

from __future__ import annotations

import textwrap

from tunelint.facts import UNKNOWN, Call, FileFacts
from tunelint.sources.python import extract_python


def facts_of(code: str) -> FileFacts:
    return extract_python(textwrap.dedent(code), "script.py")


def calls(facts: FileFacts, name: str) -> list[Call]:
    return [call for call in facts.calls if call.name == name]


def test_aliased_imports_resolve_to_qualified_names() -> None:
    facts = facts_of(
        """
        import transformers as tf
        from transformers import AutoModelForCausalLM as LM
        import torch.nn
        tf.AutoModelForCausalLM.from_pretrained("a")
        LM.from_pretrained("b")
        torch.nn.Linear(2, 2)
        """
    )
    names = [call.name for call in facts.calls]
    assert names == [
        "transformers.AutoModelForCausalLM.from_pretrained",
        "transformers.AutoModelForCausalLM.from_pretrained",
        "torch.nn.Linear",
    ]
    assert all(call.resolved for call in facts.calls)
    assert "transformers" in facts.imports and "torch" in facts.imports


def test_methods_resolve_through_the_constructed_class() -> None:
    facts = facts_of(
        """
        from transformers import Trainer
        import wandb
        trainer = Trainer(model=None)
        trainer.train()
        run = wandb.init()
        run.log_artifact("x")
        artifact = wandb.Artifact("d", type="dataset")
        artifact.add_file("data/a.csv")
        loss = compute()
        loss.backward()
        """
    )
    names = {call.name for call in facts.calls}
    assert "transformers.Trainer.train" in names
    assert "wandb.init().log_artifact" in names
    assert "wandb.Artifact.add_file" in names
    backward = [call for call in facts.calls if call.short_name == "backward"]
    assert backward and not backward[0].resolved


def test_module_constants_and_single_assignments_resolve() -> None:
    facts = facts_of(
        """
        from transformers import AutoModelForCausalLM
        NAME = "org/model"
        def load():
            local = "/mnt/secure"
            return AutoModelForCausalLM.from_pretrained(NAME, offload_folder=local)
        """
    )
    call = calls(facts, "transformers.AutoModelForCausalLM.from_pretrained")[0]
    assert call.args[0].raw == "org/model" and call.args[0].origin == "constant"
    assert call.kwarg("offload_folder").raw == "/mnt/secure"  # type: ignore[union-attr]
    assert call.scope == "load"


def test_reassigned_names_and_parameters_are_unknown() -> None:
    facts = facts_of(
        """
        from transformers import AutoModelForCausalLM
        NAME = "a"
        NAME = "b"
        def load(path="x"):
            AutoModelForCausalLM.from_pretrained(NAME, offload_folder=path)
        """
    )
    call = facts.calls[0]
    assert call.args[0].raw is UNKNOWN
    assert call.kwarg("offload_folder").raw is UNKNOWN  # type: ignore[union-attr]


def test_fstrings_joins_paths_and_env_defaults() -> None:
    facts = facts_of(
        """
        import os
        from pathlib import Path
        from transformers import AutoModelForCausalLM as M
        BASE = "/data"
        M.from_pretrained("m", offload_folder=f"{BASE}/off")
        M.from_pretrained("m", offload_folder=os.path.join(BASE, "x", "y"))
        M.from_pretrained("m", offload_folder=str(Path(BASE) / "z"))
        M.from_pretrained("m", offload_folder=os.getenv("OFF", "/tmp/o"))
        M.from_pretrained("m", offload_folder=os.environ.get("OFF", default="/tmp/p"))
        M.from_pretrained("m", offload_folder=os.environ["OFF"])
        M.from_pretrained("m", offload_folder=f"{os.getpid()}/x")
        """
    )
    values = [
        call.kwarg("offload_folder") for call in facts.calls if call.short_name == "from_pretrained"
    ]
    raws = [value.raw if value else None for value in values]
    assert raws == ["/data/off", "/data/x/y", "/data/z", "/tmp/o", "/tmp/p", UNKNOWN, UNKNOWN]
    origins = [value.origin for value in values if value]
    assert origins[:5] == ["fstring", "join", "join", "env-default", "env-default"]


def test_argparse_defaults_flow_into_arguments_and_settings() -> None:
    facts = facts_of(
        """
        import argparse
        from transformers import AutoModelForCausalLM, TrainingArguments
        parser = argparse.ArgumentParser()
        parser.add_argument("--model-name", default="bigscience/bloom-560m")
        parser.add_argument("--bf16", action="store_true")
        parser.add_argument("--batch", dest="per_device_train_batch_size", default=4)
        args = parser.parse_args()
        AutoModelForCausalLM.from_pretrained(args.model_name)
        TrainingArguments(
            output_dir="o", per_device_train_batch_size=args.per_device_train_batch_size
        )
        """
    )
    load = calls(facts, "transformers.AutoModelForCausalLM.from_pretrained")[0]
    assert load.args[0].raw == "bigscience/bloom-560m"
    assert load.args[0].origin == "argparse-default"
    batch = [s for s in facts.settings if s.name == "batch_size"]
    assert batch and all(s.value.raw == 4 for s in batch)
    model = [s for s in facts.settings if s.name == "model"]
    assert {s.value.raw for s in model} == {"bigscience/bloom-560m"}


def test_dataclass_defaults_through_hf_argument_parser() -> None:
    facts = facts_of(
        """
        from dataclasses import dataclass, field
        from transformers import AutoModelForCausalLM, HfArgumentParser, TrainingArguments

        @dataclass
        class ModelArguments:
            model_name_or_path: str = field(default="meta-llama/Llama-2-7b-hf")
            trust_remote_code: bool = False
            lora_r: int = field(default_factory=lambda: 8)

        parser = HfArgumentParser((ModelArguments, TrainingArguments))
        model_args, training_args = parser.parse_args_into_dataclasses()
        AutoModelForCausalLM.from_pretrained(
            model_args.model_name_or_path, trust_remote_code=model_args.trust_remote_code
        )
        """
    )
    load = calls(facts, "transformers.AutoModelForCausalLM.from_pretrained")[0]
    assert load.args[0].raw == "meta-llama/Llama-2-7b-hf"
    assert load.args[0].origin == "dataclass-default"
    assert load.kwarg("trust_remote_code").raw is False  # type: ignore[union-attr]
    assert not [s for s in facts.settings if s.name == "lora_r"]  # default_factory: Unknown


def test_kwargs_dict_is_spread_into_keywords() -> None:
    facts = facts_of(
        """
        from transformers import AutoModelForCausalLM
        kwargs = dict(device_map="auto", torch_dtype="bfloat16")
        AutoModelForCausalLM.from_pretrained("m", **kwargs)
        AutoModelForCausalLM.from_pretrained("m", **unknown_kwargs)
        """
    )
    first, second = calls(facts, "transformers.AutoModelForCausalLM.from_pretrained")
    assert first.kwarg("device_map").raw == "auto"  # type: ignore[union-attr]
    assert not first.star_args
    assert second.star_args and second.kwarg("device_map") is None


def test_docstrings_comments_and_strings_are_never_facts() -> None:
    facts = facts_of(
        '''
        """model = AutoModelForCausalLM.from_pretrained("x", trust_remote_code=True)"""
        # torch.load("x.pt")
        text = "pickle.load(handle)"
        '''
    )
    assert facts.calls == []


def test_spans_are_one_based_and_point_at_the_value() -> None:
    facts = facts_of(
        """
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained(
            "m",
            device_map="auto",
        )
        """
    )
    call = facts.calls[0]
    assert (call.span.line, call.span.column) == (3, 9)
    value = call.kwarg("device_map")
    assert value is not None
    assert (value.span.line, value.span.column, value.span.end_column) == (5, 16, 21)
    assert value.text == '"auto"'


def test_suppressions_cover_the_whole_statement() -> None:
    facts = facts_of(
        """
        from transformers import AutoModelForCausalLM
        # tunelint: ignore[TL102] -- measured, fits
        model = AutoModelForCausalLM.from_pretrained(
            "m",
            device_map="auto",
        )
        other = AutoModelForCausalLM.from_pretrained(  # tunelint: ignore[TL401, TL402]
            "m", trust_remote_code=True
        )
        text = "# tunelint: ignore[TL999]"
        """
    )
    first, second = facts.suppressions
    assert first.codes == ("TL102",) and first.reason == "measured, fits"
    assert (first.first_line, first.last_line) == (4, 7)
    assert second.codes == ("TL401", "TL402") and second.reason == ""
    assert (second.first_line, second.last_line) == (8, 10)
    assert len(facts.suppressions) == 2


def test_environment_assignments_are_recorded() -> None:
    facts = facts_of(
        """
        import os
        os.environ["WANDB_API_KEY"] = "abc"
        os.environ.setdefault("HF_HOME", "/tmp/hf")
        TOKEN = "hf_x"
        """
    )
    found = {(a.kind, a.target, a.value.raw) for a in facts.assignments}
    assert ("env", "WANDB_API_KEY", "abc") in found
    assert ("env", "HF_HOME", "/tmp/hf") in found
    assert ("variable", "TOKEN", "hf_x") in found


def test_cells_and_line_maps_give_notebook_positions() -> None:
    facts = extract_python(
        "import torch\n\ntorch.load('x.pt')\n", "nb.ipynb", cell=3, line_map=[20, 21, 22]
    )
    span = facts.calls[0].span
    assert (span.cell, span.line, span.file_line) == (3, 3, 22)


def test_syntax_error_becomes_a_diagnostic() -> None:
    facts = facts_of("def broken(:\n    pass\n")
    assert facts.calls == []
    assert [d.code for d in facts.diagnostics] == ["parse-error"]
    assert "syntax" in facts.diagnostics[0].message.lower()


def test_settings_come_from_config_constructors_not_trainers() -> None:
    facts = facts_of(
        """
        from transformers import BitsAndBytesConfig, Trainer, TrainingArguments
        from peft import LoraConfig
        from trl import SFTConfig
        bnb = BitsAndBytesConfig(load_in_4bit=True)
        lora = LoraConfig(r=16, target_modules=["q_proj", "v_proj"])
        cfg = SFTConfig(output_dir="o", gradient_checkpointing=True, max_seq_length=1024)
        Trainer(model=model, args=cfg, train_dataset=ds)
        """
    )
    names = {s.name: s.value.raw for s in facts.settings}
    assert names["load_in_4bit"] is True
    assert names["lora_r"] == 16
    assert names["grad_checkpointing"] is True
    assert names["output_dir"] == "o"
    assert "model" not in names


def test_torch_dtype_constants_resolve_by_name() -> None:
    facts = facts_of(
        """
        import torch
        from transformers import AutoModelForCausalLM
        AutoModelForCausalLM.from_pretrained("m", torch_dtype=torch.bfloat16)
        AutoModelForCausalLM.from_pretrained("m", torch_dtype=torch.some_future_dtype)
        """
    )
    first, second = facts.calls
    assert first.kwarg("torch_dtype").raw == "torch.bfloat16"  # type: ignore[union-attr]
    assert second.kwarg("torch_dtype").raw is UNKNOWN  # type: ignore[union-attr]
    dtypes = [s.value.raw for s in facts.settings if s.name == "torch_dtype"]
    assert "bfloat16" in dtypes  # the alias table normalises the spelling


MODEL = "internlm/internlm2-chat-7b"


def test_mmengine_lazy_objects_are_calls_of_the_callable_they_name() -> None:
    facts = facts_of(
        """
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from xtuner.model import SupervisedFinetune
        name = "internlm/internlm2-chat-7b"
        tokenizer = dict(type=AutoTokenizer.from_pretrained, pretrained_model_name_or_path=name)
        model = dict(
            type=SupervisedFinetune,
            llm=dict(
                type=AutoModelForCausalLM.from_pretrained,
                pretrained_model_name_or_path=name,
                trust_remote_code=True,
            ),
        )
        """
    )
    assert facts.dialects == ("mmengine",)
    load = calls(facts, "transformers.AutoModelForCausalLM.from_pretrained")[0]
    built = next(c for c in calls(facts, "dict") if c.span == load.span)
    assert load.span.line == 8 and load.resolved and not load.args
    assert load.text == "AutoModelForCausalLM.from_pretrained"
    assert [key for key, _ in load.kwargs] == ["pretrained_model_name_or_path", "trust_remote_code"]
    assert load.kwarg("pretrained_model_name_or_path").raw == MODEL  # type: ignore[union-attr]
    # the very values of the dict call, spans included: a rule reports each place once
    assert load.kwarg("trust_remote_code") is built.kwarg("trust_remote_code")
    tokenizer = calls(facts, "transformers.AutoTokenizer.from_pretrained")[0]
    assert tokenizer.bound_to == "tokenizer"
    outer = calls(facts, "xtuner.model.SupervisedFinetune")[0]
    assert outer.bound_to == "model" and outer.kwarg("llm") is not None
    models = [s for s in facts.settings if s.name == "model"]
    assert [(s.value.raw, s.dialect) for s in models] == [(MODEL, "hf-loader")]


def test_lazy_objects_need_a_callable_resolved_through_imports() -> None:
    facts = facts_of(
        """
        def local(**kwargs):
            return kwargs
        a = dict(type="AutoModelForCausalLM", pretrained_model_name_or_path="org/a")
        b = dict(type=local, pretrained_model_name_or_path="org/b")
        c = dict(type=int, default=1)
        def build():
            from transformers import AutoModel
            return dict(type=AutoModel.from_pretrained, pretrained_model_name_or_path="org/d")
        """
    )
    assert {call.name for call in facts.calls} == {"dict", "transformers.AutoModel.from_pretrained"}
    assert facts.dialects == ()  # only module-level lazy objects make a config


def _alternatives(facts: FileFacts, index: int, key: str) -> list[tuple[object, int]]:
    value = [c for c in facts.calls if c.short_name == "from_pretrained"][index].kwarg(key)
    assert value is not None
    return [(alternative.raw, alternative.span.line) for alternative in value.alternatives]


def test_conditional_expressions_carry_their_alternatives() -> None:
    facts = facts_of(
        """
        from transformers import AutoModelForCausalLM as M
        M.from_pretrained("m", device_map=(
            "auto"
            if quantization and not fsdp
            else None
        ))
        MAP = "auto" if quantization else {"": 0}
        M.from_pretrained("m", device_map=MAP)
        M.from_pretrained("m", device_map="auto" if a else "auto")
        M.from_pretrained("m", device_map=chosen if a else None)
        """
    )
    first = next(c for c in facts.calls if c.short_name == "from_pretrained").kwarg("device_map")
    assert first is not None and first.raw is UNKNOWN
    assert _alternatives(facts, 0, "device_map") == [("auto", 4), (None, 6)]
    assert _alternatives(facts, 1, "device_map") == [("auto", 8), ({"": 0}, 8)]
    same = [c for c in facts.calls if c.short_name == "from_pretrained"][2].kwarg("device_map")
    assert same is not None and same.raw == "auto" and same.alternatives == ()
    # a branch that is not written stays Unknown: it is never left out, never guessed
    assert _alternatives(facts, 3, "device_map") == [(UNKNOWN, 11), (None, 11)]


def test_a_name_bound_in_branches_carries_the_bindings_that_reach_the_read() -> None:
    facts = facts_of(
        """
        import os
        from transformers import AutoModelForCausalLM as M
        def train(q_lora, ddp, rank):
            device_map = None
            if q_lora:
                device_map = {"": int(os.environ.get("LOCAL_RANK") or 0)} if ddp else "auto"
            M.from_pretrained("m", device_map=device_map)
            placement = "auto"
            placement = {"": rank}
            M.from_pretrained("m", device_map=placement)
            if q_lora:
                chosen = "auto"
            else:
                chosen = "auto"
                M.from_pretrained("m", device_map=chosen)
            M.from_pretrained("m", device_map=chosen)
            mapping = {"": rank}
            for _ in range(2):
                M.from_pretrained("m", device_map=mapping)
                mapping = "auto"
            mapping = mapping + ""
            M.from_pretrained("m", device_map=mapping)
        """
    )
    loads = [c for c in facts.calls if c.short_name == "from_pretrained"]
    assert loads[0].kwarg("device_map").raw is UNKNOWN  # type: ignore[union-attr]
    assert _alternatives(facts, 0, "device_map") == [({"": UNKNOWN}, 7), ("auto", 7), (None, 5)]
    # overwritten before the read: only the last assignment reaches it
    assert loads[1].kwarg("device_map").raw == {"": UNKNOWN}  # type: ignore[union-attr]
    assert _alternatives(facts, 1, "device_map") == []
    # "auto" in every branch is "auto"; read in the else branch, only that branch's binding
    assert [load.kwarg("device_map").raw for load in loads[2:4]] == ["auto", "auto"]  # type: ignore[union-attr]
    assert _alternatives(facts, 2, "device_map") == []
    # in a loop, a binding later in the loop reaches the next pass
    assert _alternatives(facts, 4, "device_map") == [("auto", 21), ({"": UNKNOWN}, 18)]
    # ``x = x + ...`` reads the x bound before it; its own value is not known
    assert loads[5].kwarg("device_map").raw is UNKNOWN  # type: ignore[union-attr]


def test_a_function_reading_a_module_name_bound_twice_may_see_either() -> None:
    facts = facts_of(
        """
        from transformers import AutoModelForCausalLM as M
        MAP = "auto"
        def load():
            return M.from_pretrained("m", device_map=MAP)
        MAP = None
        """
    )
    assert facts.calls[0].kwarg("device_map").raw is UNKNOWN  # type: ignore[union-attr]
    assert _alternatives(facts, 0, "device_map") == [(None, 6), ("auto", 3)]


def test_try_bodies_handlers_and_match_cases_may_not_run() -> None:
    facts = facts_of(
        """
        from transformers import AutoModelForCausalLM as M
        where = None
        try:
            where = "auto"
        except ImportError:
            pass
        finally:
            done = {"": 0}
        M.from_pretrained("m", device_map=where, max_memory=done)
        match mode:
            case "big":
                placement = "auto"
            case _:
                placement = None
        M.from_pretrained("m", device_map=placement)
        """
    )
    assert _alternatives(facts, 0, "device_map") == [("auto", 5), (None, 3)]
    assert facts.calls[0].kwarg("max_memory").raw == {"": 0}  # type: ignore[union-attr]
    assert _alternatives(facts, 1, "device_map") == [(None, 15), ("auto", 13)]


def _keywords(call: Call) -> dict[str, tuple[object, int]]:
    return {key: (value.raw, value.span.line) for key, value in call.kwargs}


def test_splatted_dicts_pass_each_entry_where_it_is_written() -> None:
    facts = facts_of(
        """
        from transformers import AutoModelForCausalLM as M
        def save(model, path, hub_repo_id):
            if hub_repo_id:
                kwargs = {"push_to_hub": True, "repo_id": hub_repo_id}
            else:
                kwargs = {}
            model.save_pretrained(path, **kwargs)
        base = {"revision": "main"}
        M.from_pretrained("m", **{**base, "device_map": "auto"}, **dict(token=False))
        """
    )
    save = next(call for call in facts.calls if call.short_name == "save_pretrained")
    assert _keywords(save) == {"push_to_hub": (True, 5), "repo_id": (UNKNOWN, 5)}
    pushed = save.kwarg("push_to_hub")
    assert pushed is not None and pushed.via is not None and pushed.via.line == 8
    assert not save.star_args  # keys of one branch only: known, passed as written there
    load = calls(facts, "transformers.AutoModelForCausalLM.from_pretrained")[0]
    assert _keywords(load) == {
        "revision": ("main", 9),
        "device_map": ("auto", 10),
        "token": (False, 10),
    }


def test_changes_to_a_splatted_dict_before_the_call_are_read() -> None:
    facts = facts_of(
        """
        from accelerate import Accelerator
        from vllm import LLM
        def main(args, other):
            log_kwargs = {}
            if args.with_tracking:
                log_kwargs["log_with"] = "wandb"
            Accelerator(**log_kwargs)
            engine = {"model": "m", "seed": 1, "dtype": "auto"}
            engine.update({"dtype": "bfloat16"}, enforce_eager=True)
            engine["trust_remote_code"] = True
            engine.pop("seed")
            del engine["model"]
            engine.setdefault("dtype", "float16")
            LLM(**engine)
            engine["late"] = 1
            unknown = {"a": 1}
            unknown.update(other)
            LLM(**unknown)
        """
    )
    accelerator = calls(facts, "accelerate.Accelerator")[0]
    assert _keywords(accelerator) == {"log_with": ("wandb", 7)}
    assert [(s.name, s.value.raw, s.span.line) for s in facts.settings] == [
        ("report_to", "wandb", 7)
    ]
    first, second = calls(facts, "vllm.LLM")
    assert _keywords(first) == {
        "dtype": ("bfloat16", 10),
        "enforce_eager": (True, 10),
        "trust_remote_code": (True, 11),
    }
    assert second.star_args and second.kwargs == ()  # updated from something not known


def test_an_attribute_set_before_it_is_read_is_that_value_where_it_is_written() -> None:
    facts = facts_of(
        """
        import argparse
        from transformers import AutoModelForCausalLM as M
        from llama_cookbook.configs import train_config as TRAIN_CONFIG
        train_config = TRAIN_CONFIG()
        train_config.model_name = "meta-llama/Llama-3.1-8B"
        M.from_pretrained(train_config.model_name)
        parser = argparse.ArgumentParser()
        parser.add_argument("--model", default="org/default")
        args = parser.parse_args()
        if args.small:
            args.model = "org/small"
        M.from_pretrained(args.model)
        train_config = TRAIN_CONFIG()
        M.from_pretrained(train_config.model_name)
        M.from_pretrained(later.model_name)
        later.model_name = "org/later"
        """
    )
    first, second, third, fourth = [
        call.args[0] for call in facts.calls if call.short_name == "from_pretrained"
    ]
    assert (first.raw, first.origin, first.span.line) == ("meta-llama/Llama-3.1-8B", "constant", 6)
    assert first.via is not None and first.via.line == 7
    # set in one branch only: the option's default may still be read
    assert second.raw is UNKNOWN
    assert [(a.raw, a.span.line) for a in second.alternatives] == [
        ("org/small", 12),
        ("org/default", 13),
    ]
    # a new object, and a value set only after the read: not known
    assert third.raw is UNKNOWN and fourth.raw is UNKNOWN


def test_an_attribute_set_in_one_notebook_cell_is_read_in_the_next() -> None:
    cells = [
        "train_config = TRAIN_CONFIG()\ntrain_config.model_name = 'org/m'\n",
        "from transformers import AutoModelForCausalLM as M\n"
        "M.from_pretrained(train_config.model_name)\n",
    ]
    text = "".join(cells)
    line_cells = [(1, 1, 3), (1, 2, 4), (2, 1, 9), (2, 2, 10)]
    facts = extract_python(text, "nb.ipynb", line_cells=line_cells)
    value = facts.calls[-1].args[0]
    assert value.raw == "org/m"
    assert (value.span.cell, value.span.line, value.span.file_line) == (1, 2, 4)
    assert value.via is not None and (value.via.cell, value.via.line) == (2, 2)


def test_code_that_never_runs_yields_no_facts() -> None:
    facts = facts_of(
        """
        from transformers import AutoModelForCausalLM as M
        MODEL = "org/live"
        if False:
            import wandb
            MODEL = "org/dead"
            M.from_pretrained("org/in-if-false")
        if True:
            pass
        else:
            M.from_pretrained("org/in-else-of-if-true")
        while 0:
            M.from_pretrained("org/in-while-0")
        if TYPE_CHECKING:
            M.from_pretrained("org/type-checking")
        M.from_pretrained(MODEL)
        """
    )
    loaded = [call.args[0].raw for call in facts.calls if call.short_name == "from_pretrained"]
    assert loaded == ["org/type-checking", "org/live"]
    live = next(c for c in facts.calls if c.args and c.args[0].raw == "org/live").args[0]
    assert live.alternatives == ()  # the MODEL= that never runs is no alternative
    assert "wandb" not in facts.imports


def test_a_loader_that_takes_its_model_from_a_config_key_names_the_key() -> None:
    facts = facts_of(
        """
        import os
        from peft import PeftModel
        from transformers import AutoModelForCausalLM as M
        def load(config, cfg, models):
            model_id = config["base_model"]
            M.from_pretrained(model_id)
            M.from_pretrained(cfg.get("model_name_or_path", "gpt2"))
            M.from_pretrained(os.environ["MODEL"])
            M.from_pretrained(os.environ.get("MODEL"))
            M.from_pretrained(config[0])
            PeftModel.from_pretrained(models["base"], "org/adapter")
        """
    )
    keys = [(r.target.raw, r.target.span.line) for r in facts.references if r.role == "model-key"]
    assert keys == [("base_model", 7), ("model_name_or_path", 8)]
