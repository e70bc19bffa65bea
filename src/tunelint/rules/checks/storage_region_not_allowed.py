"""TL302: buckets and cloud regions outside the policy's approved ones.

Storage URIs (``s3://``, ``gs://``, ``az://``, ``abfs(s)://``, ``oci://``, ...) and regions
(``region_name=``, ``AWS_DEFAULT_REGION``, ``storage_options={"client_kwargs":
{"region_name": ...}}``) come from ``tunelint.project.destinations``. A URI's bucket (or Azure
container / storage account) is judged against ``residency.allowed_buckets``, a region against
``residency.allowed_regions``; without the list, each is reported at ``info``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from tunelint.facts import FileFacts
from tunelint.findings import Destination, Severity
from tunelint.redact import url_without_password
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.checks._places import allowed, is_logging, policy_list
from tunelint.rules.match import Hit

TEMPLATE_MARKS = ("$", "{", "}", "<", ">")
# AWS / GCP / OCI style (us-east-1, europe-west4, eu-frankfurt-1) and Azure names (westeurope,
# eastus2, uksouth): a ``region`` key holding anything else ("auto", "face") is not a region.
CLOUD_REGION = re.compile(
    r"^[a-z]{2,}(-[a-z]+)*-?\d+[a-z]?$"
    r"|^(east|west|north|south|central|uk|france|germany|switzerland|norway|sweden|uae|japan"
    r"|korea|australia|brazil|canada|india|qatar|israel|italy|poland|mexico|spain|asia|europe)"
    r"[a-z]*\d?$"
)


def bucket_names(uri: str) -> list[str]:
    """The names a bucket URI can be approved by: bucket, container, account, both."""
    try:
        netloc = urlsplit(uri.strip()).netloc.lower()
    except ValueError:
        return []
    if "@" not in netloc:
        return [netloc] if netloc else []
    container, host = netloc.split("@", 1)
    account = host.split(".", 1)[0]
    return [netloc, container, account, f"{container}@{account}"]


def _judge(
    destination: Destination, buckets: list[str] | None, regions: list[str] | None
) -> tuple[str, Severity | None] | None:
    target = destination.target.strip()
    via = destination.via
    if any(mark in target for mark in TEMPLATE_MARKS):
        return None
    if destination.kind == "storage":
        names = bucket_names(target)
        if not names:
            return None
        shown = url_without_password(target)
        if buckets is None:
            return (
                f"storage location `{shown}` via `{via}`: the policy approves no buckets "
                "(residency.allowed_buckets), so it is listed for review",
                Severity.INFO,
            )
        approved = [entry.split("://", 1)[-1].strip("/") for entry in buckets]
        if any(allowed(name, approved) for name in names):
            return None
        return (
            f"storage location `{shown}` via `{via}` is not in an approved bucket "
            f"(residency.allowed_buckets: {', '.join(buckets) or 'none'}); data written or "
            "read there may sit outside the approved region and account",
            None,
        )
    if CLOUD_REGION.match(target.lower()) is None:
        return None
    if regions is None:
        return (
            f"cloud region `{target}` via `{via}`: the policy approves no regions "
            "(residency.allowed_regions), so it is listed for review",
            Severity.INFO,
        )
    if allowed(target, regions):
        return None
    return (
        f"cloud region `{target}` via `{via}` is not approved "
        f"(residency.allowed_regions: {', '.join(regions) or 'none'}); data stored or "
        "processed there leaves the approved jurisdiction",
        None,
    )


@register("storage-region-not-allowed", needles={"call": ["boto3.*"]})
def check(facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    buckets = policy_list(context.policy("residency.allowed_buckets"))
    regions = policy_list(context.policy("residency.allowed_regions"))
    seen: set[tuple[str, int | None, int, int]] = set()
    for destination in context.project.destinations_in(facts.path):
        if destination.kind not in {"storage", "region"} or not destination.resolved:
            continue
        if is_logging(destination.via.split("(", 1)[0]):
            continue
        judged = _judge(destination, buckets, regions)
        span = destination.span
        key = (span.path, span.cell, span.line, span.column)
        if judged is None or key in seen:
            continue
        seen.add(key)
        message, severity = judged
        anchor = f"{destination.kind}:{destination.via}:{url_without_password(destination.target)}"
        yield Hit(span, {"detail": message}, anchor=anchor, severity=severity)
