#!/usr/bin/env bash
# Start the fine-tuning run on the local GPU.
set -euo pipefail

python train.py \
  --model_name_or_path bigscience/bloom-30b \
  --train_file ./data/train.jsonl \
  --output_dir ./output \
  --per_device_train_batch_size 1 \
  --gradient_accumulation_steps 8 \
  --learning_rate 2e-5 \
  --max_steps 500
