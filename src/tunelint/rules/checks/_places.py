"""Helpers shared by the endpoint and residency checks (TL205, TL301, TL302)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from tunelint.globs import matches_any

# Loggers that only write files next to the run: not a destination. (trackio is not one:
# through the Trainer it deploys to a Hugging Face Space, ``trackio_space_id`` defaulting to
# "trackio", public unless the hub repo is private; transformers' TrainingArguments, read
# 2026-12-04.)
LOCAL_SERVICES = frozenset(
    {"", "none", "no", "false", "off", "null", "tensorboard", "csv", "disk", "stdout", "dvclive"}
    | {"codecarbon", "disklogger", "stdoutlogger", "csvlogger", "tensorboardlogger"}
)
# Logger class names (torchtune, litgpt) to the service they send to.
SERVICE_ALIASES = {
    "wandblogger": "wandb",
    "cometlogger": "comet_ml",
    "comet": "comet_ml",
    "mlflowlogger": "mlflow",
    "neptunelogger": "neptune",
    "clearmllogger": "clearml",
}
# Printing or logging a string sends it nowhere.
LOGGING_CALLS = ("print", "logging.*", "logger.*", "log.*", "*.info", "*.debug", "*.warning")


def scheme_of(url: str) -> str:
    try:
        return urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return ""


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed(name: str, patterns: Iterable[object]) -> bool:
    """``name`` equals one of the policy's entries, or matches one as a glob (any case)."""
    lowered = name.strip().lower()
    return any(fnmatchcase(lowered, str(pattern).strip().lower()) for pattern in patterns)


def policy_list(value: object) -> list[str] | None:
    """A policy allow-list, or None when the policy does not declare one."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]


def service_name(text: str) -> str:
    lowered = text.strip().lower()
    return SERVICE_ALIASES.get(lowered, lowered)


def is_logging(name: str) -> bool:
    return matches_any(name, tuple(LOGGING_CALLS))
