"""tunelint: a policy-as-code compliance linter for ML fine-tuning jobs."""

__version__ = "0.1.0"
