"""Record the run on the team's tracking server."""

import mlflow

mlflow.set_tracking_uri("https://mlflow.example.com")
mlflow.set_experiment("remote_fine_tune")

with mlflow.start_run() as run:
    mlflow.log_artifact("train.py")
    mlflow.log_artifact("data/train.jsonl")
    mlflow.log_param("max_steps", 500)
