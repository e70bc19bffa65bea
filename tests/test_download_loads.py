"""Hub download commands as loads: which repository TL402 reports, with which role, and where
TL202 finds the download folder (``tunelint.sources.downloads``)."""

from __future__ import annotations

from pathlib import Path

from tunelint.api import Options, lint
from tunelint.findings import Finding


def findings(root: Path, files: dict[str, str], rule: str) -> list[Finding]:
    for name, text in files.items():
        (root / name).write_text(text)
    report = lint(["."], Options(cwd=root, use_cache=False, select=[rule]))
    return sorted(report.active, key=lambda f: (f.span.path, f.span.line, f.span.column))


DOWNLOAD = "tune download meta-llama/Llama-3.2-1B-Instruct --output-dir ./models/llama\n"
RUN = "tune run lora_finetune_single_device --config {config}{override}\n"


def test_a_download_the_training_reads_is_what_the_job_trains_on(tmp_path: Path) -> None:
    override = " checkpointer.checkpoint_dir=models/llama/"
    run = RUN.format(config="llama3_2/1B_lora_single_device", override=override)
    [finding] = findings(tmp_path, {"run.sh": DOWNLOAD + run}, "TL402")
    assert (finding.span.path, finding.span.line, finding.span.column) == ("run.sh", 1, 15)
    assert "`meta-llama/Llama-3.2-1B-Instruct` is loaded without `revision`" in finding.message
    assert "is what the job trains on" in finding.message


def test_a_config_that_reads_the_download_folder_makes_it_trained(tmp_path: Path) -> None:
    config = "checkpointer:\n  _component_: torchtune.training.FullModelHFCheckpointer\n"
    config += "  checkpoint_dir: ./models/llama/\n"
    run = RUN.format(config="guard.yaml", override="")
    files = {"run.sh": DOWNLOAD + run, "guard.yaml": config}
    [finding] = findings(tmp_path, files, "TL402")
    assert finding.span.line == 1 and "is what the job trains on" in finding.message


def test_a_download_the_training_does_not_read_is_a_load(tmp_path: Path) -> None:
    override = " checkpointer.checkpoint_dir=./models/other"
    run = RUN.format(config="llama3_2/1B_lora_single_device", override=override)
    [finding] = findings(tmp_path, {"run.sh": DOWNLOAD + run}, "TL402")
    assert finding.span.line == 1 and "is what runs here" in finding.message


def test_a_script_that_only_downloads_is_judged_on_its_own(tmp_path: Path) -> None:
    [finding] = findings(tmp_path, {"get.sh": DOWNLOAD}, "TL402")
    assert finding.span.path == "get.sh" and "is what runs here" in finding.message


def test_a_variable_names_the_repository_and_the_folder(tmp_path: Path) -> None:
    text = "MODEL=org/x; huggingface-cli download $MODEL --local-dir /tmp/x\n"
    [pinning] = findings(tmp_path, {"get.sh": text}, "TL402")
    assert (pinning.span.line, pinning.span.column) == (1, 7)  # at `MODEL=`
    assert [r.span.column for r in pinning.related] == [39]  # where `$MODEL` is passed
    [shared] = findings(tmp_path, {"get.sh": text}, "TL202")
    assert (shared.span.line, shared.span.column) == (1, 58)
    assert shared.message.startswith("`local-dir` is `/tmp/x`, a shared location")


def test_loading_the_downloaded_folder_back_reads_local_files(tmp_path: Path) -> None:
    """``from_pretrained("chat7b")`` after ``--local-dir chat7b`` reads the folder the download
    wrote: only the download names the hub repository."""
    files = {
        "get.sh": "huggingface-cli download acme/chat-7b --local-dir chat7b\n",
        "infer.py": "from transformers import AutoModel\nAutoModel.from_pretrained('chat7b')\n",
    }
    found = findings(tmp_path, files, "TL402")
    assert [(f.span.path, f.span.line) for f in found] == [("get.sh", 1)]
