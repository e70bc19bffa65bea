"""Fine-tune a 7B causal LM with QLoRA on one 24 GiB GPU."""

import argparse

import pynvml
import torch
from datasets import load_dataset
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    BitsAndBytesConfig,
    DataCollatorForLanguageModeling,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

MODEL_REVISION = "4f8a1c9e2b7d3f6a0c5e8b1d4f7a2c9e6b3d0f5a"
MAX_GPU_TEMPERATURE_C = 83

parser = argparse.ArgumentParser()
parser.add_argument("--model_name_or_path", default="bigscience/bloom-7b1")
parser.add_argument("--train_file", default="./data/train.jsonl")
parser.add_argument("--output_dir", default="./output")
parser.add_argument("--per_device_train_batch_size", type=int, default=1)
parser.add_argument("--gradient_accumulation_steps", type=int, default=8)
parser.add_argument("--learning_rate", type=float, default=2e-4)
parser.add_argument("--max_steps", type=int, default=500)
args = parser.parse_args()


class TemperatureGuard(TrainerCallback):
    """Stop cleanly (a checkpoint is saved) before the GPU reaches its throttling point."""

    def __init__(self) -> None:
        pynvml.nvmlInit()
        self.handle = pynvml.nvmlDeviceGetHandleByIndex(0)

    def on_step_end(self, args, state, control, **kwargs):
        temperature = pynvml.nvmlDeviceGetTemperature(self.handle, pynvml.NVML_TEMPERATURE_GPU)
        if temperature >= MAX_GPU_TEMPERATURE_C:
            control.should_save = True
            control.should_training_stop = True
        return control


tokenizer = AutoTokenizer.from_pretrained(args.model_name_or_path, revision=MODEL_REVISION)
quantization = BitsAndBytesConfig(
    load_in_4bit=True,
    bnb_4bit_quant_type="nf4",
    bnb_4bit_compute_dtype=torch.bfloat16,
)
model = AutoModelForCausalLM.from_pretrained(
    args.model_name_or_path,
    revision=MODEL_REVISION,
    quantization_config=quantization,
    device_map={"": 0},
)
model = prepare_model_for_kbit_training(model)
model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, task_type="CAUSAL_LM"))

dataset = load_dataset("json", data_files=args.train_file)["train"]
dataset = dataset.map(lambda row: tokenizer(row["text"], truncation=True, max_length=512))

training_args = TrainingArguments(
    output_dir=args.output_dir,
    per_device_train_batch_size=args.per_device_train_batch_size,
    gradient_accumulation_steps=args.gradient_accumulation_steps,
    gradient_checkpointing=True,
    learning_rate=args.learning_rate,
    max_steps=args.max_steps,
    bf16=True,
    optim="paged_adamw_8bit",
    save_strategy="steps",
    save_steps=100,
    report_to="none",
)
trainer = Trainer(
    model=model,
    args=training_args,
    train_dataset=dataset,
    data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
    callbacks=[TemperatureGuard()],
)
trainer.train()
