"""The project index: which file a module or path names, who launches whom, which files
train, and how much work that takes as a project grows."""

from __future__ import annotations

import json
from pathlib import Path

from tunelint.discover import discover
from tunelint.extract.parallel import extract_files
from tunelint.project.index import ProjectIndex


def _index(root: Path, files: dict[str, str]) -> ProjectIndex:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    found = discover(["."], root=root, cwd=root)
    facts = extract_files(found.files, 1_000_000).facts
    return ProjectIndex(facts, found.repositories)


TRAINS = "from transformers import Trainer\nTrainer(model=m, args=a).train()\n"


def test_a_local_folder_without_init_never_shadows_an_installed_package(tmp_path: Path) -> None:
    index = _index(
        tmp_path,
        {
            "accelerate/launch_helper.py": "import subprocess\n",
            "accelerate/default.yaml": "compute_environment: LOCAL_MACHINE\n",
            "train.py": "from accelerate import Accelerator\nimport accelerate.launch_helper\n",
        },
    )
    assert index.imports_of("train.py") == ()
    assert index.resolve_module("accelerate", "train.py") is None
    assert index.resolve_module("accelerate.launch_helper", "train.py") is None


def test_a_packages_own_source_tree_resolves_without_its_top_init(tmp_path: Path) -> None:
    """A checkout of ``ray``'s own sources missing ``ray/__init__.py``: the regular
    subpackage below says the folder is that package, not a folder of configs."""
    index = _index(
        tmp_path,
        {
            "ray/job/__init__.py": "",
            "ray/job/submit.py": "x = 1\n",
            "ray/configs/base.py": "x = 2\n",
            "run.py": "import ray.job.submit\nimport ray.configs.base\n",
        },
    )
    assert index.resolve_module("ray.job.submit", "run.py") == "ray/job/submit.py"
    assert index.resolve_module("ray.configs.base", "run.py") is None  # no regular package
    assert index.resolve_module("ray", "run.py") is None


def test_a_local_namespace_folder_beside_the_script_is_imported(tmp_path: Path) -> None:
    index = _index(tmp_path, {"helpers/io.py": "x = 1\n", "train.py": "from helpers.io import x\n"})
    assert index.imports_of("train.py") == ("helpers/io.py",)


def test_a_regular_package_wins_over_a_namespace_portion(tmp_path: Path) -> None:
    index = _index(
        tmp_path,
        {
            "scripts/utils/io.py": "x = 1\n",
            "utils/__init__.py": "",
            "utils/io.py": "x = 2\n",
            "scripts/train.py": "from utils.io import x\n",
        },
    )
    assert index.imports_of("scripts/train.py") == ("utils/__init__.py", "utils/io.py")


def test_two_repositories_each_with_utils_stay_apart(tmp_path: Path) -> None:
    index = _index(
        tmp_path,
        {
            "alpha/pyproject.toml": "",
            "alpha/utils/__init__.py": "",
            "alpha/utils/thermal.py": "import pynvml\n",
            "alpha/train.py": "from utils.thermal import watch\n",
            "beta/pyproject.toml": "",
            "beta/utils/__init__.py": "",
            "beta/utils/thermal.py": "import pynvml\n",
            "beta/train.py": "import utils.thermal\n",
            "gamma/train.py": "from utils.thermal import watch\n",
        },
    )
    assert index.imports_of("alpha/train.py") == (
        "alpha/utils/__init__.py",
        "alpha/utils/thermal.py",
    )
    assert index.imports_of("beta/train.py") == ("beta/utils/__init__.py", "beta/utils/thermal.py")
    assert index.imports_of("gamma/train.py") == ()


def test_src_layout(tmp_path: Path) -> None:
    index = _index(
        tmp_path,
        {
            "src/tuner/__init__.py": "",
            "src/tuner/loop.py": "def run(m):\n    m(x).loss.backward()\n",
            "scripts/finetune.py": "from tuner.loop import run\nrun(model)\n",
        },
    )
    assert "src/tuner/loop.py" in index.imports_of("scripts/finetune.py")
    assert index.trains("scripts/finetune.py")
    assert not index.trains("src/tuner/loop.py")  # a library function, called by the script


def test_relative_imports(tmp_path: Path) -> None:
    index = _index(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/common.py": "y = 1\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/a.py": "from .b import x\nfrom ..common import y\nfrom . import c\n",
            "pkg/sub/b.py": "x = 1\n",
            "pkg/sub/c.py": "z = 1\n",
        },
    )
    assert set(index.imports_of("pkg/sub/a.py")) >= {
        "pkg/sub/b.py",
        "pkg/common.py",
        "pkg/sub/c.py",
    }


def test_a_notebook_that_runs_a_script(tmp_path: Path) -> None:
    notebook = {
        "cells": [{"cell_type": "code", "source": ["%run finetune.py --bf16\n"]}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    index = _index(tmp_path, {"run.ipynb": json.dumps(notebook), "finetune.py": TRAINS})
    (job,) = index.jobs
    assert job.entry == "run.ipynb" and "finetune.py" in job.members


def test_a_shell_script_that_runs_a_module(tmp_path: Path) -> None:
    index = _index(
        tmp_path,
        {
            "tuner/__init__.py": "",
            "tuner/cli/__init__.py": "",
            "tuner/cli/sft.py": "if __name__ == '__main__':\n    "
            + TRAINS.splitlines()[1]
            + "\n"
            + "from transformers import Trainer\n",
            "scripts/sft.sh": "deepspeed --module tuner.cli.sft --bf16\n",
        },
    )
    (job,) = [job for job in index.jobs if job.launch is not None]
    assert job.members == ("scripts/sft.sh", "tuner/cli/sft.py")
    assert job.trains


def test_a_launcher_chain_reaches_the_job(tmp_path: Path) -> None:
    index = _index(
        tmp_path,
        {
            "submit.slurm": "#SBATCH --gpus=8\nsrun bash run.sh\n",
            "run.sh": "torchrun --nproc_per_node 8 train.py\n",
            "train.py": TRAINS,
        },
    )
    (job,) = index.jobs
    assert job.entry == "run.sh" and job.launchers == ("run.sh", "submit.slurm")
    assert index.runs_on(job) == ("cuda", "cluster")


def test_a_library_that_only_defines_training_is_not_a_job(tmp_path: Path) -> None:
    index = _index(
        tmp_path,
        {
            "lib/__init__.py": "from .trainer import fit\n",
            "lib/trainer.py": "def fit(trainer):\n    trainer.train()\n",
            "infer.py": "from lib import fit\nprint('no training here')\n",
        },
    )
    assert [job.entry for job in index.jobs] == []


def test_training_reached_through_a_function_passed_to_a_runner(tmp_path: Path) -> None:
    index = _index(
        tmp_path,
        {
            "main.py": "import fire\n\ndef main():\n    "
            + TRAINS.splitlines()[1]
            + "\n\nfire.Fire(main)\n"
        },
    )
    assert index.trains("main.py")


def test_training_started_on_a_ray_actor(tmp_path: Path) -> None:
    actor = (
        "import ray\nfrom lib.ppo import PPOTrainer\n\ndef train(args):\n"
        "    trainer = PPOTrainer.remote(args)\n    ray.get(trainer.fit.remote())\n\n"
        "train(None)\n"
    )
    index = _index(
        tmp_path,
        {"cli/ppo.py": actor, "cli/serve.py": actor.replace(".fit.remote", ".score.remote")},
    )
    assert index.trains("cli/ppo.py")
    assert not index.trains("cli/serve.py")  # a Ray call that is not a trainer's fit


def test_a_cluster_wrapper_runs_the_command_after_its_double_dash(tmp_path: Path) -> None:
    """``mason.py ... -- setup.sh '&&' python train.py``: the wrapper hands the command,
    separators escaped, to the machine it books; both programs run."""
    index = _index(
        tmp_path,
        {
            "mason.py": "import sys\nprint(sys.argv)\n",
            "train.py": TRAINS,
            "run.sh": "python mason.py --gpus 8 -- source setup.sh \\&\\& "
            "python train.py --model_name_or_path org/base\n",
            "uv.sh": "uv run mason.py --gpus 1 -- \\\nuv run train.py --lr 1e-5\n",
        },
    )
    training = {job.entry for job in index.jobs if job.trains and "train.py" in job.members}
    assert training == {"run.sh", "uv.sh"}


def _copies(root: Path, copies: int) -> ProjectIndex:
    files: dict[str, str] = {}
    for n in range(copies):
        files[f"p{n}/pyproject.toml"] = ""
        files[f"p{n}/utils/__init__.py"] = ""
        files[f"p{n}/utils/io.py"] = "import json\n"
        files[f"p{n}/train.py"] = "from utils.io import x\n" + TRAINS
    return _index(root, files)


def test_the_index_grows_with_files_and_imports(tmp_path: Path) -> None:
    """Counted, not timed: module resolutions are memoised per (module, directory), so four
    copies of a project cost four times the resolutions of one, not sixteen."""
    one = _copies(tmp_path / "one", 1)
    four = _copies(tmp_path / "four", 4)
    assert len(four.jobs) == 4 * len(one.jobs) == 4
    assert len(four.modules._resolved) == 4 * len(one.modules._resolved)
    for n in range(4):
        assert four.imports_of(f"p{n}/train.py") == (f"p{n}/utils/__init__.py", f"p{n}/utils/io.py")


def test_a_path_with_folders_only_matches_a_file_under_those_folders(tmp_path: Path) -> None:
    index = _index(
        tmp_path,
        {
            "tool/pipelines/sft.py": TRAINS,
            "examples/run.sh": "torchrun --nproc_per_node 2 tool/cli/sft.py --bf16\n",
            "examples/run_bare.sh": "torchrun --nproc_per_node 2 sft.py --bf16\n",
        },
    )
    assert index.resolve_path("tool/cli/sft.py", "examples/run.sh") is None
    assert index.resolve_path("sft.py", "examples/run_bare.sh") == "tool/pipelines/sft.py"
    assert index.resolve_path("pipelines/sft.py", "examples/run.sh") == "tool/pipelines/sft.py"


def test_a_namespace_package_at_the_root_is_imported_from_a_subfolder(tmp_path: Path) -> None:
    index = _index(
        tmp_path,
        {
            "src/recipes_lib/utils/loop.py": "def run(m):\n    m(x).loss.backward()\n",
            "examples/nb_train.py": "from recipes_lib.utils.loop import run\nrun(model)\n",
        },
    )
    assert index.imports_of("examples/nb_train.py") == ("src/recipes_lib/utils/loop.py",)
    assert index.trains_in_process("examples/nb_train.py")


def test_with_tracking_is_related_to_the_tracker_it_turns_on(tmp_path: Path) -> None:
    from tunelint.api import Options, lint

    (tmp_path / "sft.yaml").write_text(
        "per_device_train_batch_size: 2\nwith_tracking: true\nreport_to:\n  - wandb\n"
    )
    (tmp_path / "tunelint.yaml").write_text("version: 1\n")
    report = lint(["."], Options(cwd=tmp_path, use_cache=False, select=["TL301"]))
    (finding,) = report.active
    assert finding.span.line == 4
    assert [(r.span.line, r.message) for r in finding.related] == [
        (2, "`with_tracking` turns the trackers on")
    ]


MMENGINE_MODEL = (
    "from transformers import AutoModelForCausalLM\n"
    "from xtuner.model import SupervisedFinetune\n"
    "model = dict(type=SupervisedFinetune, llm=dict(type=AutoModelForCausalLM.from_pretrained,"
    " pretrained_model_name_or_path='org/m'))\n"
)


def test_an_mmengine_config_with_a_training_loop_trains(tmp_path: Path) -> None:
    index = _index(
        tmp_path,
        {
            "train_config.py": MMENGINE_MODEL + "train_cfg = dict(by_epoch=True, max_epochs=3)\n",
            # xtuner's Hugging Face framework: a TrainingArguments object, no train_cfg
            "hf_config.py": MMENGINE_MODEL
            + "from transformers import TrainingArguments\n"
            + "training_args = dict(type=TrainingArguments, num_train_epochs=1)\n",
            "eval_config.py": MMENGINE_MODEL + "test_cfg = dict(type=TestLoop)\n",
        },
    )
    assert index.trains("train_config.py") and index.trains_in_process("train_config.py")
    assert index.trains("hf_config.py")
    assert not index.trains("eval_config.py") and not index.trains_in_process("eval_config.py")
    assert sorted(job.entry for job in index.jobs) == ["hf_config.py", "train_config.py"]
