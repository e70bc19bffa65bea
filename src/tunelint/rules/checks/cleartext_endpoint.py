"""TL205: tracking and storage endpoints reached over plain ``http://``.

Reads tracking and hub destinations (``tunelint.project.destinations``: tracking URIs,
``WANDB_BASE_URL``, ``HF_ENDPOINT``) and storage endpoints: ``endpoint_url=`` arguments (also
inside ``storage_options`` / ``client_kwargs`` dicts), endpoint environment variables and
``*endpoint_url`` / ``*tracking_uri`` config keys. Loopback hosts are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tunelint.facts import FileFacts, Span
from tunelint.redact import url_without_password
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.checks._places import is_logging, is_loopback, scheme_of
from tunelint.rules.match import Hit, host_of

ENDPOINT_ENV = frozenset(
    {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "MLFLOW_S3_ENDPOINT_URL", "S3_ENDPOINT_URL"}
    | {"MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "WANDB_BASE_URL", "HF_ENDPOINT"}
    | {"MLFLOW_GATEWAY_URI", "CLEARML_API_HOST", "CLEARML_FILES_HOST", "COMET_URL_OVERRIDE"}
)
ENDPOINT_KEYS = ("endpoint_url", "tracking_uri", "registry_uri")
# Keywords that name the server of one client only.
CLIENT_KEYS = {"wandb.": ("base_url", "host"), "clearml.": ("api_host", "files_host")}
MAX_DEPTH = 6


def _cleartext(url: str) -> bool:
    host = host_of(url)
    return scheme_of(url) == "http" and host is not None and not is_loopback(host)


def _endpoint_key(callee: str, key: str) -> bool:
    if key.lower().endswith(ENDPOINT_KEYS):
        return True
    return any(callee.startswith(prefix) and key in keys for prefix, keys in CLIENT_KEYS.items())


def _nested(raw: object, depth: int = 0) -> Iterator[tuple[str, str]]:
    """``(key, url)`` for endpoint keys inside a dict argument."""
    if depth > MAX_DEPTH:
        return
    if isinstance(raw, dict):
        for key, item in raw.items():
            if isinstance(item, str) and str(key).lower().endswith(ENDPOINT_KEYS):
                yield str(key), item
            else:
                yield from _nested(item, depth + 1)
    elif isinstance(raw, list | tuple):
        for item in raw:
            yield from _nested(item, depth + 1)


def _endpoints(facts: FileFacts) -> Iterator[tuple[Span, str, str]]:
    """``(span, via, url)`` for every storage or tracking endpoint a file names."""
    for call in facts.calls:
        if is_logging(call.name):
            continue
        for key, value in call.kwargs:
            text = value.as_str()
            if text is not None and _endpoint_key(call.name, key):
                yield value.span, f"{call.name}({key}=)", text
            elif value.known:
                for inner, url in _nested(value.raw):
                    yield value.span, f"{call.name}({key}={{{inner}: ...}})", url
    for assignment in facts.assignments:
        text = assignment.value.as_str()
        if text is None:
            continue
        name = assignment.target
        env = assignment.kind == "env" and name in ENDPOINT_ENV
        if env or (assignment.kind == "key" and name.lower().endswith(ENDPOINT_KEYS)):
            yield assignment.value.span, name, text


def _hit(span: Span, via: str, url: str) -> Hit:
    shown = url_without_password(url)
    detail = (
        f"`{via}` is `{shown}`: plain HTTP sends credentials, run data, checkpoints and "
        "datasets across the network unencrypted, readable and alterable on the way"
    )
    return Hit(span, {"detail": detail, "value": shown}, anchor=f"{via}:{shown}")


def needles(options: dict[str, Any]) -> dict[str, Any]:
    """Destinations are always read; besides them, ``http:`` URLs under endpoint names."""
    names = sorted({n.lower() for n in (*ENDPOINT_KEYS, *ENDPOINT_ENV)})
    return {"needles": [{"folded": ["http:"]}, {"folded": names}]}


@register("cleartext-endpoint", needles=needles)
def check(facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    seen: set[tuple[str, int | None, int, int]] = set()

    def first(span: Span) -> bool:
        key = (span.path, span.cell, span.line, span.column)
        if key in seen:
            return False
        seen.add(key)
        return True

    for destination in context.project.destinations_in(facts.path):
        if destination.kind not in {"tracking", "hub"} or not destination.resolved:
            continue
        if _cleartext(destination.target) and first(destination.span):
            yield _hit(destination.span, destination.via, destination.target)
    for span, via, url in _endpoints(facts):
        if _cleartext(url) and first(span):
            yield _hit(span, via, url)
