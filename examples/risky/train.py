"""Fine-tune a causal LM with the Trainer (the common tutorial set-up)."""

import argparse

from datasets import load_dataset
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DataCollatorForLanguageModeling,
    Trainer,
    TrainingArguments,
)

parser = argparse.ArgumentParser()
parser.add_argument("--model_name_or_path", default="bigscience/bloom-30b")
parser.add_argument("--train_file", default="./data/train.jsonl")
parser.add_argument("--output_dir", default="./output")
parser.add_argument("--per_device_train_batch_size", type=int, default=1)
parser.add_argument("--gradient_accumulation_steps", type=int, default=8)
parser.add_argument("--learning_rate", type=float, default=2e-5)
parser.add_argument("--max_steps", type=int, default=500)
args = parser.parse_args()

tokenizer = AutoTokenizer.from_pretrained(args.model_name_or_path)
model = AutoModelForCausalLM.from_pretrained(
    args.model_name_or_path,
    device_map="auto",  # auto-sharding between GPU and CPU
    offload_folder="./offload",  # temporary storage for CPU tensors
)

dataset = load_dataset("json", data_files=args.train_file)["train"]
dataset = dataset.map(lambda row: tokenizer(row["text"], truncation=True, max_length=512))

training_args = TrainingArguments(
    output_dir=args.output_dir,
    per_device_train_batch_size=args.per_device_train_batch_size,
    gradient_accumulation_steps=args.gradient_accumulation_steps,
    learning_rate=args.learning_rate,
    max_steps=args.max_steps,
)
trainer = Trainer(
    model=model,
    args=training_args,
    train_dataset=dataset,
    data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
)
trainer.train()
