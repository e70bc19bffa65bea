"""Where data goes and where it rests, read from facts, for the security review checklist.

Nothing here judges: it lists every tracking server or service, hub upload, bucket URI,
cloud region, offload and output directory that a file names, with the span that names
it. The rules (TL201, TL203, TL205, TL301-TL303) say which of them break the policy; the
checklist shows both side by side. Values that static reading cannot resolve are listed
too (``resolved=False``, with the source text), never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from urllib.parse import urlsplit

from tunelint.facts import Call, FileFacts, Span, Value
from tunelint.findings import Destination
from tunelint.globs import matches_any
from tunelint.redact import scrub

# Calls that point a tracking client at a server or start a run on a service:
# callee glob -> (service, positional index of the URI or host, its keyword).
TRACKING_CALLS: dict[str, tuple[str, int | None, str | None]] = {
    "mlflow.set_tracking_uri": ("mlflow", 0, "uri"),
    "mlflow.set_registry_uri": ("mlflow", 0, "uri"),
    "mlflow.MlflowClient": ("mlflow", 0, "tracking_uri"),
    "mlflow.tracking.MlflowClient": ("mlflow", 0, "tracking_uri"),
    "wandb.init": ("wandb", None, None),
    "wandb.login": ("wandb", None, "host"),
    "clearml.Task.init": ("clearml", None, None),
    "comet_ml.Experiment": ("comet_ml", None, None),
    "comet_ml.start": ("comet_ml", None, None),
    "neptune.init_run": ("neptune", None, None),
    "aim.Run": ("aim", None, "repo"),
}
# Hub uploads: callee glob -> (positional index of the repo id, its keyword).
# First match wins: a Trainer pushes to its ``hub_model_id``, its first argument is a message.
HUB_CALLS: dict[str, tuple[int | None, str | None]] = {
    "*Trainer.push_to_hub": (None, None),
    "*.push_to_hub": (0, "repo_id"),
    "huggingface_hub.upload_file": (None, "repo_id"),
    "huggingface_hub.upload_folder": (None, "repo_id"),
    "huggingface_hub.HfApi.upload_file": (None, "repo_id"),
    "huggingface_hub.HfApi.upload_folder": (None, "repo_id"),
    "huggingface_hub.HfApi.upload_large_folder": (None, "repo_id"),
    "huggingface_hub.HfApi.create_commit": (None, "repo_id"),
}
# Environment variables that send runs somewhere: name -> (kind, service).
DESTINATION_ENV: dict[str, tuple[str, str]] = {
    "MLFLOW_TRACKING_URI": ("tracking", "mlflow"),
    "MLFLOW_REGISTRY_URI": ("tracking", "mlflow"),
    "WANDB_BASE_URL": ("tracking", "wandb"),
    "COMET_URL_OVERRIDE": ("tracking", "comet_ml"),
    "CLEARML_API_HOST": ("tracking", "clearml"),
    "HF_ENDPOINT": ("hub", "huggingface"),
}
REGION_KEYS = frozenset({"region", "region_name", "aws_region", "AWS_REGION", "AWS_DEFAULT_REGION"})
NO_SERVICE = frozenset({"", "none", "no", "false", "off", "null"})
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
STORAGE_URI = re.compile(
    r"^(s3|s3a|s3n|gs|gcs|az|abfs|abfss|adl|wasb|wasbs|oss|oci|r2)://\S+$", re.I
)
REST_SETTINGS = {"offload_dir": "offload", "output_dir": "output"}
# boto3 S3 client methods that name a bucket without a URI: method -> position of Bucket.
BOTO3_BUCKET_ARGS = {
    "upload_file": 1,
    "upload_fileobj": 1,
    "download_file": 0,
    "download_fileobj": 0,
}
# ``wandb.init(mode="offline")`` and friends keep the run on this machine.
OFFLINE_MODES = frozenset({"offline", "disabled", "dryrun"})


def _strings(raw: object) -> Iterator[str]:
    """Every string inside a resolved value (lists, tuples and dict values, recursively)."""
    if isinstance(raw, str):
        yield raw
    elif isinstance(raw, list | tuple):
        for item in raw:
            yield from _strings(item)
    elif isinstance(raw, dict):
        for item in raw.values():
            yield from _strings(item)


def _regions(raw: object) -> Iterator[str]:
    """Values under region keys anywhere inside a dict (``storage_options``, client kwargs)."""
    if isinstance(raw, dict):
        for key, item in raw.items():
            if key in REGION_KEYS and isinstance(item, str) and item.strip():
                yield item.strip()
            else:
                yield from _regions(item)
    elif isinstance(raw, list | tuple):
        for item in raw:
            yield from _regions(item)


def _external(uri: str) -> bool:
    """A tracking URI that leaves the machine: not a path, ``file:`` or localhost."""
    try:
        parts = urlsplit(uri.strip())
    except ValueError:  # "http://[bad": not a path, so assume it leaves
        return "://" in uri
    if parts.scheme in {"", "file"} or len(parts.scheme) == 1:  # a path, or C:\\...
        return uri.strip().lower() in {"databricks", "databricks-uc"}
    return (parts.hostname or "") not in LOCAL_HOSTS


def _unresolved(kind: str, value: Value, via: str, service: str = "") -> Destination:
    text = value.text or "?"
    return Destination(value.span, kind, scrub(text), via, service, resolved=False)


class _Collector:
    def __init__(self) -> None:
        self.found: list[Destination] = []
        # URIs only bound to a Python variable: listed when no use of them is.
        self.bound: list[Destination] = []

    def add(self, span: Span, kind: str, target: str, via: str, service: str = "") -> None:
        # a password in a URL is masked here, before any report can show it
        self.found.append(Destination(span, kind, scrub(target.strip()), via, service))

    def tracking(self, value: Value, via: str, service: str) -> None:
        uri = value.as_str()
        if not value.known:
            self.found.append(_unresolved("tracking", value, via, service))
        elif uri is not None and _external(uri):
            self.add(value.span, "tracking", uri, via, service)

    def services(self, value: Value, via: str, decided: frozenset[str] = frozenset()) -> None:
        """Services named in ``report_to``; those in ``decided`` are judged elsewhere."""
        if not value.known:
            self.found.append(_unresolved("tracking", value, via))
            return
        for text in _strings(value.raw):
            for name in text.split(","):
                lowered = name.strip().lower()
                if lowered not in NO_SERVICE and lowered not in decided:
                    self.add(value.span, "tracking", name.strip(), via, lowered)

    def uris(self, value: Value, via: str) -> None:
        for text in _strings(value.raw):
            if STORAGE_URI.match(text.strip()):
                self.add(value.span, "storage", text, via)
        for region in _regions(value.raw):
            self.add(value.span, "region", region, via)


def _call_arg(call: Call, index: int | None, keyword: str | None) -> Value | None:
    if keyword is not None and call.kwarg(keyword) is not None:
        return call.kwarg(keyword)
    if index is not None and 0 <= index < len(call.args):
        return call.args[index]
    return None


def _offline(call: Call) -> bool:
    mode = call.kwarg("mode")
    return mode is not None and (mode.as_str() or "").strip().lower() in OFFLINE_MODES


def _boto3_bucket(call: Call, out: _Collector) -> None:
    """A bucket named to boto3 by name (``Bucket=``, ``download_file("b", ...)``): ``s3://b``."""
    value = call.kwarg("Bucket")
    if value is None and call.short_name in BOTO3_BUCKET_ARGS:
        value = call.arg(BOTO3_BUCKET_ARGS[call.short_name])
    bucket = value.as_str() if value is not None else None
    if value is not None and bucket:
        out.add(value.span, "storage", f"s3://{bucket.strip()}", f"{call.name}(Bucket=)")


@lru_cache(maxsize=8192)
def _tracking_call(name: str) -> tuple[str, int | None, str | None] | None:
    """(service, argument index, keyword) of the first tracking call ``name`` matches."""
    return next((v for p, v in TRACKING_CALLS.items() if matches_any(name, (p,))), None)


@lru_cache(maxsize=8192)
def _hub_call(name: str) -> tuple[int | None, str | None] | None:
    return next((v for p, v in HUB_CALLS.items() if matches_any(name, (p,))), None)


def _from_calls(facts: FileFacts, out: _Collector) -> None:
    for call in facts.calls:
        if call.name.startswith("boto3."):
            _boto3_bucket(call, out)
        tracking = _tracking_call(call.name)
        if tracking is not None and not _offline(call):
            service, index, keyword = tracking
            value = _call_arg(call, index, keyword)
            if value is None:
                out.add(call.span, "tracking", service, call.name, service)
            else:
                out.tracking(value, call.name, service)
        hub = _hub_call(call.name)
        if hub is not None:
            value = _call_arg(call, *hub)
            if value is not None and not value.known:
                out.found.append(_unresolved("hub", value, call.name, "huggingface"))
            else:
                repo = value.as_str() if value is not None else None
                out.add(call.span, "hub", repo or "", call.name, "huggingface")
        for name, value in call.kwargs:
            if name in REGION_KEYS and value.as_str():
                out.add(value.span, "region", value.as_str() or "", f"{call.name}({name}=)")
            out.uris(value, f"{call.name}({name}=)")
        for value in call.args:
            out.uris(value, call.name)


def _decided_services(facts: FileFacts, report_to: Value) -> frozenset[str]:
    """Services whose destination is stated next to ``report_to``: trackio with a
    ``trackio_space_id`` (a Space, listed as its ``tracking_uri``; null keeps it local), in the
    same config or the same call. Without one, the Trainer's default Space stands and
    ``trackio`` itself is listed."""
    keyed = any(a.target.rsplit(".", 1)[-1] == "trackio_space_id" for a in facts.assignments)
    for call in facts.calls:
        passed = call.kwarg("report_to")
        if passed is not None and passed.span == report_to.span:
            keyed = keyed or call.kwarg("trackio_space_id") is not None
    decided = {"trackio"} if keyed else set()
    # MLflow with its tracking URI set in the same file: the URI says where runs go (a
    # local ``file:`` store goes nowhere), listed on its own
    uri_set = any(s.name == "tracking_uri" for s in facts.settings) or any(
        a.target == "MLFLOW_TRACKING_URI" for a in facts.assignments
    )
    if uri_set or any(c.name == "mlflow.set_tracking_uri" for c in facts.calls):
        decided.add("mlflow")
    return frozenset(decided)


def _from_settings(facts: FileFacts, out: _Collector) -> None:
    hub_repo = facts.setting("hub_model_id")
    for setting in facts.settings:
        via = setting.key or setting.name
        if setting.name == "tracking_uri":
            service = "trackio" if setting.key.endswith("trackio_space_id") else "mlflow"
            out.tracking(setting.value, via, service)
        elif setting.name == "report_to":
            out.services(setting.value, via, _decided_services(facts, setting.value))
        elif setting.name == "push_to_hub" and setting.value.as_bool():
            repo = hub_repo.value.as_str() if hub_repo is not None else None
            out.add(setting.span, "hub", repo or "", via, "huggingface")
        elif setting.name in REST_SETTINGS:
            kind, directory = REST_SETTINGS[setting.name], setting.value.as_str()
            if directory:
                out.add(setting.span, kind, directory, via)
            elif not setting.value.known:
                out.found.append(_unresolved(kind, setting.value, via))
        out.uris(setting.value, via)


def _from_assignments(facts: FileFacts, out: _Collector) -> None:
    for assignment in facts.assignments:
        name = assignment.target.rsplit(".", 1)[-1]
        value = assignment.value
        before = len(out.found)
        if assignment.kind == "env" and name in DESTINATION_ENV:
            kind, service = DESTINATION_ENV[name]
            if kind == "tracking":
                out.tracking(value, name, service)
            elif value.as_str():
                out.add(value.span, kind, value.as_str() or "", name, service)
        elif name in REGION_KEYS and value.as_str():
            out.add(value.span, "region", value.as_str() or "", assignment.target)
        out.uris(value, assignment.target)
        if assignment.kind == "variable":  # a name, not a use: kept aside (see below)
            out.bound.extend(out.found[before:])
            del out.found[before:]


def _from_launches(facts: FileFacts, out: _Collector) -> None:
    for launch in facts.launches:
        for flag, value in (*launch.args, *launch.env):
            out.uris(value, flag)


def _dedupe(found: Iterable[Destination]) -> list[Destination]:
    """One entry per place: the same value reached twice (setting and call argument) once.

    Resting places keep one entry per (file, kind, directory): the last, as in a merge.
    """
    by_place: dict[tuple[object, ...], Destination] = {}
    for item in found:
        span = item.span
        if item.kind in REST_SETTINGS.values():
            key: tuple[object, ...] = (span.path, item.kind, item.target, item.resolved)
        else:
            key = (span.path, span.cell, span.line, span.column, item.kind, item.target)
        if key not in by_place or item.kind in REST_SETTINGS.values():
            by_place[key] = item
    return sorted(by_place.values(), key=Destination.sort_key)


def find_destinations(files: Mapping[str, FileFacts]) -> list[Destination]:
    """Every destination named in ``files``, sorted by place."""
    out = _Collector()
    for path in sorted(files):
        facts = files[path]
        _from_settings(facts, out)
        _from_calls(facts, out)
        _from_assignments(facts, out)
        _from_launches(facts, out)
    used = {(d.span.path, d.kind, d.target) for d in out.found}
    out.found.extend(d for d in out.bound if (d.span.path, d.kind, d.target) not in used)
    return _dedupe(out.found)


def needles() -> dict[str, object]:
    """What a Python file must hold to name a destination (for the byte prefilter, in the
    vocabulary of a rule's ``match``): a tracking or hub call, a region key or destination
    variable, or a storage URI scheme."""
    head, separator, _ = STORAGE_URI.pattern.partition("://")
    schemes = head.lstrip("^").removeprefix("(").removesuffix(")").split("|")
    uri: list[object] = [{"substring": ["://"]}]
    if separator and all(name.isalnum() for name in schemes):
        uri.append({"folded": [f"{name.lower()}://" for name in schemes]})
    return {
        "any": [
            {"call": [*TRACKING_CALLS, *HUB_CALLS, "boto3.*"]},
            {"needles": [{"token": sorted({*REGION_KEYS, *DESTINATION_ENV})}]},
            {"needles": uri},
        ]
    }
