"""TL301: tracking servers and services outside the policy's approved hosts and services.

Destinations come from ``tunelint.project.destinations`` (the same list the review checklist shows):
tracking URIs (``mlflow.set_tracking_uri``, ``MLFLOW_TRACKING_URI``, ``WANDB_BASE_URL``,
``tracking_uri`` settings), ``report_to`` / ``log_with`` services and tracking clients started
in code (``wandb.init``, ``comet_ml.Experiment``, ...). A URI is judged by its host against
``residency.allowed_hosts``; a service by name against ``residency.allowed_services``. Without
the list it would be judged by, a destination is still reported, at ``info``.
"""

from __future__ import annotations

from collections.abc import Iterator

from tunelint.facts import FileFacts, Span
from tunelint.findings import Destination, Related, Severity
from tunelint.redact import url_without_password
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.checks._places import (
    LOCAL_SERVICES,
    allowed,
    is_loopback,
    policy_list,
    service_name,
)
from tunelint.rules.match import Hit, host_of


def _judge(
    destination: Destination, hosts: list[str] | None, services: list[str] | None
) -> tuple[str, Severity | None] | None:
    """(what to say, severity override) for a destination that is not approved."""
    host = host_of(destination.target)
    via = destination.via
    if host is not None:
        if is_loopback(host):
            return None
        shown = url_without_password(destination.target)
        if hosts is None:
            return (
                f"tracking server `{shown}` via `{via}`: the policy approves no hosts "
                "(residency.allowed_hosts), so it is listed for review",
                Severity.INFO,
            )
        approved = [host_of(entry) or entry for entry in hosts]
        if allowed(host, approved):
            return None
        return (
            f"tracking server `{shown}` via `{via}` is not an approved host "
            f"(residency.allowed_hosts: {', '.join(hosts) or 'none'}); run data would be "
            "sent there",
            None,
        )
    service = service_name(destination.target)
    if service in LOCAL_SERVICES:
        return None
    what = f"`{service}` via `{via}`"
    if service == "all":
        what += " (every installed integration: W&B, Comet, MLflow, Neptune, ...)"
    if services is None:
        return (
            f"tracking service {what}: the policy approves no services "
            "(residency.allowed_services), so it is listed for review",
            Severity.INFO,
        )
    if allowed(service, services):
        return None
    return (
        f"tracking service {what} is not approved "
        f"(residency.allowed_services: {', '.join(services) or 'none'}); metrics, "
        "parameters and often artifacts would be sent there",
        None,
    )


# destinations are always read (see extract.prefilter)
@register("tracking-destination-not-allowed", needles={"any": []})
def check(facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    hosts = policy_list(context.policy("residency.allowed_hosts"))
    services = policy_list(context.policy("residency.allowed_services"))
    grouped: dict[Span, list[tuple[str, Severity | None, str]]] = {}
    for destination in context.project.destinations_in(facts.path):
        if destination.kind != "tracking" or not destination.resolved:
            continue
        judged = _judge(destination, hosts, services)
        if judged is None:
            continue
        anchor = f"{destination.via}:{url_without_password(destination.target)}"
        grouped.setdefault(destination.span, []).append((*judged, anchor))
    switches = _tracking_switches(facts)
    for span, problems in sorted(grouped.items()):
        detail = "; ".join(message for message, _, _ in problems)
        severities = [severity for _, severity, _ in problems]
        severity = None if None in severities else Severity.INFO
        anchor = " ".join(anchor for _, _, anchor in problems)
        related = tuple(r for r in switches if r.span != span)
        yield Hit(span, {"detail": detail}, anchor=anchor, severity=severity, related=related)


def _tracking_switches(facts: FileFacts) -> tuple[Related, ...]:
    """``with_tracking`` turned on in the same file: it is what starts the named trackers."""
    found = [
        assignment.value.span
        for assignment in facts.assignments
        if assignment.target.rsplit(".", 1)[-1] == "with_tracking"
        and assignment.value.as_bool() is True
    ]
    for launch in facts.launches:
        found.extend(
            value.span
            for key, value in launch.args
            if key.lstrip("-") == "with_tracking" and value.as_bool() is not False
        )
    return tuple(Related(span, "`with_tracking` turns the trackers on") for span in found)
