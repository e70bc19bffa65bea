"""Which tracking services a fix keeps in ``report_to``: local loggers, and the services the
policy approves (judged as the residency rule judges them)."""

from __future__ import annotations

from collections.abc import Sequence

from tunelint.fix.model import FixContext


def keep_services(names: Sequence[str], context: FixContext) -> list[str] | None:
    """The names to keep, as written; None when the policy approves no list of services
    (the finding is only shown for review) or when every name may stay."""
    from tunelint.rules.checks._places import LOCAL_SERVICES, allowed, policy_list, service_name

    approved = policy_list(context.get("residency.allowed_services"))
    if approved is None:
        return None
    kept = [
        name
        for name in names
        if service_name(name) in LOCAL_SERVICES or allowed(service_name(name), approved)
    ]
    return kept if len(kept) < len(names) else None
