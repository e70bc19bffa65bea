"""The security review checklist: Markdown for a pull-request comment or a review ticket.

It answers what a reviewer of a fine-tuning job asks, in this order: does the job fit the
hardware, what data leaves the machine and to where, where data rests and whether that is
encrypted, what runs remote code; then every rule as a checkbox with its control mapping,
and what was suppressed and why. Everything comes from the Report (findings, jobs,
destinations, policy) and is sorted, so the same input gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import SplitResult, urlsplit

from tunelint.facts import Setting, Span
from tunelint.findings import Destination, Finding, Report, Severity
from tunelint.project.jobs import Job
from tunelint.report._common import plural, rule_index, sorted_findings, summarise, tool_version
from tunelint.report._markdown import code as _code
from tunelint.report._markdown import inline as _inline
from tunelint.report._markdown import table as _table
from tunelint.report._markdown import where as _where
from tunelint.report.checklist_jobs import jobs_section, report_jobs
from tunelint.rules.match import path_under
from tunelint.rules.model import RuleMeta

DESTINATION_RULES = ("TL203", "TL205", "TL301", "TL302", "TL303")
REMOTE_CODE_RULES = {"TL401": "`trust_remote_code`", "TL403": "unsafe deserialization"}
REST_RULES = ("TL201", "TL202")
REST_KINDS = {
    "offload": "offloaded weights and optimizer state",
    "output": "checkpoints and the trained model",
}
RULE_KINDS = {
    "TL203": "tracking artifact",
    "TL205": "cleartext endpoint",
    "TL301": "tracking",
    "TL302": "storage",
    "TL303": "hub upload",
}
WHAT_LEAVES = {
    "tracking": "run parameters, metrics and logged artifacts",
    "hub": "model weights and files on upload",
    "storage": "whatever is read from or written to the bucket",
    "region": "data stored through this client",
}
NONE = "—"


# --------------------------------------------------------------------------- policy


def _codes(items: Iterable[str]) -> str:
    return ", ".join(_code(item) for item in items) or "none declared"


_MISSING = object()


def _policy_node(report: Report, dotted: str) -> Any:
    node: Any = report.policy
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _policy(report: Report, dotted: str) -> list[str]:
    node = _policy_node(report, dotted)
    return [str(item) for item in node] if isinstance(node, list | tuple) else []


def _split(target: str) -> SplitResult:
    """``urlsplit`` that takes a malformed URI ("http://[x") as one with no host."""
    try:
        return urlsplit(target)
    except ValueError:
        return SplitResult("", "", target, "", "")


# The rule that judges each kind of place: what its silence and its finding say.
DECIDING_RULES = {
    "tracking": ("TL301", "approved", "**not approved**"),
    "storage": ("TL302", "approved", "**not approved**"),
    "region": ("TL302", "approved", "**not approved**"),
    "hub": ("TL303", "private or not made public here", "**public**"),
}


def _enabled(report: Report, rule_id: str) -> bool:
    return any(getattr(rule, "id", None) == rule_id for rule in report.rules)


def _decided(report: Report, here: Sequence[Finding], kind: str) -> str:
    """The deciding rule's verdict on one place, read from its findings on that place
    (never worked out again here): a finding is a "no", or a listing when the policy has no
    allow-list (info); silence from an enabled rule is a "yes"."""
    if kind not in DECIDING_RULES:
        return NONE
    rule_id, yes, no = DECIDING_RULES[kind]
    if not _enabled(report, rule_id):
        return f"not checked ({rule_id} is off)"
    found = [f for f in here if f.rule_id == rule_id]
    if not found:
        return f"{yes} ({rule_id})"
    if all(f.severity is Severity.INFO for f in found):
        return f"listed for review: the policy has no allow-list ({rule_id})"
    return f"{no} ({rule_id})"


def _destination_policy(report: Report, here: Sequence[Finding], destination: Destination) -> str:
    """``here``: the findings on this destination's row."""
    if not destination.resolved:
        return "not resolved statically: review by hand"
    return _decided(report, here, destination.kind)


def _encrypted(
    report: Report, findings: Sequence[Finding], kind: str, directory: str, span: Span
) -> str:
    """TL201 decides for offload folders; other folders are compared with the policy's
    encrypted paths by the same path test TL201 uses, since no rule judges them."""
    if "://" in directory:
        return "remote: see Where data goes"
    if kind != "offload":
        encrypted = _policy(report, "data_protection.encrypted_paths")
        if not encrypted:
            return "**no**: the policy declares no encrypted paths"
        if path_under(directory, encrypted):
            return "yes"
        relative = "" if directory.startswith(("/", "~")) else "relative path, "
        return f"**no**: {relative}not under {_codes(encrypted)}"
    if not _enabled(report, "TL201"):
        return "not checked (TL201 is off)"
    if _findings_at(findings, ("TL201",), span):
        return "**no** (TL201)"
    return "yes (TL201)"


# --------------------------------------------------------------------------- sections


def _findings_at(findings: Iterable[Finding], rules: Sequence[str], span: Span) -> list[Finding]:
    return [
        f
        for f in findings
        if f.rule_id in rules
        and f.span.path == span.path
        and f.span.cell == span.cell
        and f.span.line == span.line
    ]


def _labels(findings: Iterable[Finding]) -> str:
    labels = []
    for finding in findings:
        label = f"{finding.rule_id} {finding.severity.label}"
        labels.append(f"{label} (suppressed)" if finding.suppressed else label)
    return ", ".join(dict.fromkeys(labels)) or NONE


def _header(report: Report, findings: list[Finding]) -> list[str]:
    summary = summarise(report)
    paths = ", ".join(_code(path) for path in report.paths) or "the checked files"
    failing = report.failing()
    below = summary.findings - len(failing)
    fail_on = _code(report.fail_on.label)
    if failing:
        verdict = (
            f"**Verdict: FAIL.** {plural(len(failing), 'finding')} at or above {fail_on} "
            "(the policy's `fail_on`) must be fixed, or suppressed with a reason."
        )
    else:
        verdict = f"**Verdict: PASS.** No active finding at or above {fail_on}"
        verdict += f"; {plural(below, 'finding')} below it, listed under Rules." if below else "."
    errors = report.errors()
    if errors and not failing:
        verdict = (
            f"**Verdict: FAIL.** {plural(len(errors), 'error')}: a file that does not parse, "
            "or a rule that failed, was not checked (see Not checked and Rules)."
        )
    tally = report.tally()
    unread = len(tally.not_checked) + len(tally.partly_checked)
    if unread:
        verdict += (
            f" {plural(unread, 'file')} could not be checked in full "
            "(see Not checked): review them by hand."
        )
    not_evaluated = sorted(report.not_evaluated())
    if not_evaluated:
        verdict += (
            f" {plural(len(not_evaluated), 'rule')} not evaluated ({', '.join(not_evaluated)}): "
            "see Rules."
        )
    severities = ", ".join(f"{n} {label}" for label, n in summary.by_severity.items() if n)
    inline = sum(1 for f in findings if f.suppressed and f.suppression_kind == "inSource")
    return [
        f"# Security review checklist: {paths}",
        "",
        verdict,
        "",
        f"- **Checked:** {plural(summary.files_checked, 'file')}, "
        f"{summary.files_partly_checked} partly, {summary.files_not_checked} not checked",
        f"- **Findings:** {summary.findings} active"
        + (f" ({severities})" if severities else "")
        + f"; {summary.suppressed} suppressed ({inline} inline, {summary.baselined} baseline)",
        f"- **Jobs:** {len(report_jobs(report))}",
        f"- **Policy:** {_policy_line(report)}",
        "",
        f"Generated by tunelint {tool_version()} with `tunelint check --format checklist`. A "
        "rule's box is ticked when it ran and has no active finding.",
    ]


def _policy_line(report: Report) -> str:
    parts = [f"fail_on {_code(report.fail_on.label)}"]
    gpus, vram = _policy(report, "hardware.gpus"), _policy_node(report, "hardware.vram")
    if gpus or vram is not _MISSING:
        parts.append("GPU budget " + (_codes(gpus) if gpus else _code(str(vram))))
    parts.append("encrypted paths " + _codes(_policy(report, "data_protection.encrypted_paths")))
    for key, label in (
        ("allowed_hosts", "approved hosts"),
        ("allowed_services", "services"),
        ("allowed_regions", "regions"),
        ("allowed_buckets", "buckets"),
    ):
        parts.append(f"{label} " + _codes(_policy(report, f"residency.{key}")))
    return "; ".join(parts)


def _source_for(
    finding: Finding, destinations: Sequence[Destination], jobs: Sequence[Job]
) -> list[Destination]:
    """Tracking destinations in the finding's file, else in the files of its job."""
    tracking = [d for d in destinations if d.kind == "tracking"]
    same_file = [d for d in tracking if d.span.path == finding.span.path]
    if same_file:
        return same_file
    members = {m for job in jobs if finding.span.path in job.members for m in job.members}
    return [d for d in tracking if d.span.path in members]


def _target(destination: Destination) -> str:
    if destination.kind == "hub":
        repo = _code(destination.target) if destination.target else "repository not named here"
        return f"Hugging Face Hub: {repo}"
    text = _code(destination.target)
    return text if destination.resolved else f"unresolved: {text}"


def _kind(destination: Destination) -> str:
    if destination.kind == "tracking":
        service = destination.service or "tracking"
        if service == destination.target.lower():
            return "tracking service"
        return f"{service} tracking server"
    return {"hub": "hub upload", "storage": "bucket", "region": "cloud region"}.get(
        destination.kind, destination.kind
    )


def _goes_section(report: Report, findings: list[Finding]) -> list[str]:
    lines = ["## Where data goes", ""]
    sending = [d for d in report.destinations if d.kind in WHAT_LEAVES]
    rows: list[tuple[tuple[object, ...], tuple[str, ...]]] = []
    placed: set[int] = set()
    for destination in sending:
        here = _findings_at(findings, DESTINATION_RULES, destination.span)
        neighbours = [d for d in sending if _order(d.span)[:3] == _order(destination.span)[:3]]
        if len(neighbours) > 1:  # report_to=["wandb", "tensorboard"]: whose finding is it?
            here = [f for f in here if _names(f, destination, neighbours)]
        placed.update(id(f) for f in here)
        row = (
            _target(destination),
            _kind(destination),
            WHAT_LEAVES[destination.kind] + f" (via {_code(destination.via)})",
            _code(_where(destination.span)),
            _destination_policy(report, here, destination),
            _labels(here),
        )
        rows.append((_order(destination.span), row))
    jobs = report_jobs(report)
    for finding in findings:
        if finding.rule_id not in DESTINATION_RULES or id(finding) in placed:
            continue
        targets = _source_for(finding, sending, jobs) if finding.rule_id == "TL203" else []
        where_to = ", ".join(sorted({_target(d) for d in targets}))
        if finding.rule_id == "TL203" and not where_to:
            where_to = "the tracking server set outside the checked files (environment, default)"
        row = (
            where_to or _named_in(finding),
            RULE_KINDS[finding.rule_id],
            finding.message,
            _code(_where(finding.span)),
            NONE,
            _labels([finding]),
        )
        rows.append((_order(finding.span), row))
    if not rows:
        return [
            *lines,
            "No tracking server, hub upload, bucket or region found in the checked files.",
        ]
    rows.sort(key=lambda item: item[0])
    header = ("Destination", "Kind", "What leaves", "Sent from", "Policy", "Findings")
    return [*lines, *_table(header, [row for _, row in rows])]


def _names(finding: Finding, destination: Destination, same_line: list[Destination]) -> bool:
    """Does a finding on a line with several destinations speak of this one?

    Targets quoted in the message (`wandb`) count first, then any mention; a finding that
    names none of them belongs to all.
    """
    text = finding.message.lower()
    named = [d for d in same_line if f"`{d.target.lower()}`" in text]
    named = named or [d for d in same_line if d.target.lower() in text]
    return destination in named or not named


def _named_in(finding: Finding) -> str:
    """What a destination finding names: a property the rule set, else its source line."""
    for key in ("uri", "url", "host", "bucket", "region", "repo", "value", "target"):
        value = finding.properties.get(key)
        if isinstance(value, str) and value:
            return _code(value)
    snippet = " ".join(finding.snippet.split())
    return _code(snippet) if snippet else "see the finding"


def _order(span: Span) -> tuple[str, int, int, int]:
    return (span.path, span.cell or 0, span.line, span.column)


def _rest_places(report: Report) -> list[tuple[str, str, Span, bool]]:
    """(kind, directory, span, resolved) per job from its merged settings, and from the
    files that belong to no job."""
    places: dict[tuple[str, str, Span, bool], None] = {}
    jobs = report_jobs(report)
    in_jobs = {member for job in jobs for member in job.members}
    for job in jobs:
        for name, kind in (("offload_dir", "offload"), ("output_dir", "output")):
            setting: Setting | None = job.settings.get(name)
            directory = setting.value.as_str() if setting is not None else None
            if setting is not None and directory:
                places[(kind, directory, setting.span, True)] = None
            elif setting is not None and not setting.value.known:
                places[(kind, setting.value.text or "?", setting.span, False)] = None
    for destination in report.destinations:
        if destination.kind in REST_KINDS and destination.span.path not in in_jobs:
            place = (destination.kind, destination.target, destination.span, destination.resolved)
            places[place] = None
    return sorted(places, key=lambda place: (_order(place[2]), place[0], place[1]))


def _rests_section(report: Report, findings: list[Finding]) -> list[str]:
    lines = ["## Where data rests", ""]
    places = _rest_places(report)
    if not places:
        return [*lines, "No offload, output or checkpoint directory found in the checked files."]
    rows = [
        (
            _code(directory) if resolved else f"unresolved: {_code(directory)}",
            REST_KINDS[kind],
            _code(_where(span)),
            _encrypted(report, findings, kind, directory, span)
            if resolved
            else "unknown: review by hand",
            _labels(_findings_at(findings, REST_RULES, span)),
        )
        for kind, directory, span, resolved in places
    ]
    header = ("Directory", "Holds", "Set at", "Encrypted (policy)", "Findings")
    return [*lines, *_table(header, rows)]


def _finding_item(finding: Finding) -> str:
    return f"{_code(_where(finding.span))} {_inline(finding.message)}"


def _remote_section(report: Report, findings: list[Finding]) -> list[str]:
    rules = rule_index(report)
    hits = [f for f in findings if f.rule_id in REMOTE_CODE_RULES and not f.suppressed]
    hidden = [f for f in findings if f.rule_id in REMOTE_CODE_RULES and f.suppressed]
    lines = [f"- **{f.rule_id}** ({f.severity.label}) {_finding_item(f)}" for f in hits]
    notes = []
    checked = [rule_id for rule_id in REMOTE_CODE_RULES if rule_id in rules]
    missing = [rule_id for rule_id in REMOTE_CODE_RULES if rule_id not in rules]
    if not hits and checked:
        what = " and no ".join(REMOTE_CODE_RULES[rule_id] for rule_id in checked)
        notes.append(f"Nothing found: no {what} ({', '.join(checked)} checked).")
    if hidden:
        notes.append(f"{plural(len(hidden), 'finding')} suppressed: see Suppressed.")
    if missing:
        notes.append(f"Not checked: {', '.join(missing)} not enabled by the policy.")
    blocks = ["\n".join(lines)] if lines else []
    return ["## What runs remote code", "", "\n\n".join(blocks + notes)]


def _controls(rule: RuleMeta) -> str:
    parts = []
    if rule.controls:
        parts.append("Controls: " + ", ".join(rule.controls))
    if rule.cwe:
        parts.append(", ".join(f"CWE-{cwe}" for cwe in rule.cwe))
    return "; ".join(parts)


def _rules_section(report: Report, findings: list[Finding]) -> list[str]:
    rules = rule_index(report)
    active: dict[str, list[Finding]] = {}
    for finding in findings:
        if not finding.suppressed:
            active.setdefault(finding.rule_id, []).append(finding)
    # A rule that could not be evaluated, or failed, is never ticked: it said nothing.
    unjudged = {note.rule_id: note for note in report.notes}
    lines = ["## Rules", ""]
    for rule_id in sorted(set(rules) | set(active) | set(unjudged)):
        hits = active.get(rule_id, [])
        note = unjudged.get(rule_id)
        box = "[ ]" if hits or note is not None else "[x]"
        rule = rules.get(rule_id)
        if rule is None:
            name = hits[0].rule_name if hits else note.rule_name if note is not None else ""
            lines.append(f"- {box} **{rule_id}** {name}")
        else:
            text = (
                f"- {box} **{rule_id}** {rule.name} ({rule.severity.label}): {_inline(rule.title)}."
            )
            mapping = _controls(rule)
            lines.append(text + (f" {mapping}." if mapping else ""))
        if note is not None:
            state = "not evaluated" if note.code == "not-evaluated" else "failed"
            lines[-1] += f" **{state}**: {_inline(note.reason)}"
        for finding in hits:
            severity = (
                f" ({finding.severity.label})" if rule and finding.severity != rule.severity else ""
            )
            lines.append(f"  - {_finding_item(finding)}{severity}")
    if len(lines) == 2:
        lines.append("No rule ran.")
    return lines


def _suppressed_section(findings: list[Finding]) -> list[str]:
    lines = ["## Suppressed", ""]
    for finding in (f for f in findings if f.suppressed):
        if finding.suppression_kind == "external":
            why = "reason (baseline): recorded as a known finding in the baseline file"
        elif finding.suppression_reason:
            why = f"reason (inline): {_inline(finding.suppression_reason)}"
        else:
            why = "reason (inline): **none given**"
        lines.append(f"- **{finding.rule_id}** {_finding_item(finding)}")
        lines.append(f"  - {why}")
    if len(lines) == 2:
        lines.append("Nothing suppressed.")
    return lines


def _not_checked_section(report: Report) -> list[str]:
    if not report.diagnostics:
        return []
    partly = set(report.tally().partly_checked)
    lines = ["## Not checked", ""]
    for diagnostic in sorted(report.diagnostics):
        line = f":{diagnostic.line}" if diagnostic.line is not None else ""
        state = ", the rest of the file was checked" if diagnostic.path in partly else ""
        lines.append(
            f"- {_code(diagnostic.path + line)} ({diagnostic.code}, {diagnostic.level}{state}): "
            f"{_inline(diagnostic.message)}"
        )
    return lines


def render_checklist(report: Report) -> str:
    """The checklist as Markdown, ending with a newline."""
    findings = sorted_findings(report)
    sections = [
        _header(report, findings),
        jobs_section(report, findings),
        _goes_section(report, findings),
        _rests_section(report, findings),
        _remote_section(report, findings),
        _rules_section(report, findings),
        _suppressed_section(findings),
        _not_checked_section(report),
    ]
    return "\n\n".join("\n".join(section) for section in sections if section) + "\n"
