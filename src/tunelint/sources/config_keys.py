"""Keys and file suffixes that make a config value a reference to another file of the job
(a DeepSpeed or accelerate config, a dataset file): shared by the config and launch-line
readers."""

from __future__ import annotations

CONFIG_KEYS = frozenset({"deepspeed", "deepspeed_config", "deepspeed_config_file", "fsdp_config"})
CONFIG_SUFFIXES = (".json", ".yaml", ".yml", ".conf")
DATA_KEYS = frozenset(
    {"path", "data_files", "train_file", "validation_file", "test_file", "dataset_path"}
    | {"data_path", "json_path", "train_data", "eval_data"}
)
DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".arrow", ".jsonl.gz")
