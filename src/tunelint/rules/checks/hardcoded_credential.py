"""TL204: credentials written into code, configs, notebooks and launch lines.

Looks at every statically known string a file binds or passes: assignments (variables,
environment variables, config keys), call arguments (nested dicts included) and launch-line
flags. A value is a secret when its shape says so (``hf_...`` tokens, AWS access key ids,
private key blocks, Azure account keys, passwords in URLs) or when its name says so and the
value looks like one (a 40-hex W&B key in ``WANDB_API_KEY``, a random string in ``api_key=``).
Placeholders are not secrets. The secret itself never reaches the report: the hit names it
for redaction and the message shows only its first characters and length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from tunelint.facts import FileFacts, Span, Value
from tunelint.redact import URL_PASSWORD, describe
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.match import Hit

# Origins whose value is written at that very place (a name bound elsewhere is reported
# where it is bound, not at every use).
WRITTEN_HERE: Final = frozenset({"literal", "fstring", "join", "config", "cli", "env"})
MAX_DEPTH: Final = 6

HF_TOKEN: Final = re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")
AWS_KEY_ID: Final = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
PRIVATE_KEY: Final = re.compile(
    r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----(?P<body>.*?)-----END (?:[A-Z]+ )*PRIVATE KEY-----",
    re.DOTALL,
)
AZURE_ACCOUNT_KEY: Final = re.compile(r"AccountKey=(?P<key>[A-Za-z0-9+/]{40,}={0,2})")
HEX40: Final = re.compile(r"(?:local-)?[0-9a-f]{40,}")
AWS_SECRET: Final = re.compile(r"[A-Za-z0-9/+=]{40}")
AZURE_KEY: Final = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")
TOKENISH: Final = re.compile(r"[A-Za-z0-9_\-+/=.]{16,}")

WANDB_NAMES: Final = frozenset({"wandb_api_key", "wandb_key"})
AWS_SECRET_NAMES: Final = frozenset(
    {"aws_secret_access_key", "secret_access_key", "aws_secret_key", "aws_secret"}
)
MLFLOW_SECRET_NAMES: Final = frozenset({"mlflow_tracking_password", "mlflow_tracking_token"})
AZURE_KEY_NAMES: Final = frozenset(
    {"azure_storage_key", "azure_storage_account_key", "account_key", "accountkey"}
)
GENERIC_SUFFIXES: Final = (
    "api_key",
    "apikey",
    "api_token",
    "access_token",
    "auth_token",
    "secret_key",
    "client_secret",
    "password",
    "passwd",
    "_token",
    "authorization",
)
GENERIC_NAMES: Final = frozenset({"token", "secret", "pwd"})
PLACEHOLDER_WORDS: Final = (
    "your",
    "xxx",
    "...",
    "\u2026",
    "<",
    ">",
    "{",
    "}",
    "$",
    "%s",
    "%(",
    "changeme",
    "change_me",
    "change-me",
    "example",
    "dummy",
    "placeholder",
    "redacted",
    "fake",
    "sample",
    "insert",
    "replace",
    "todo",
    "fixme",
    "here",
    "test",
    "****",
    "abcdef",
    "123456",
    "qwerty",
)
PLACEHOLDER_PASSWORDS: Final = frozenset(
    {"password", "pass", "passwd", "pwd", "secret", "changeme", "admin", "root", "user"}
)


@dataclass(frozen=True, slots=True)
class Secret:
    kind: str  # what it is, for the message
    code: str  # stable short name, for the fingerprint anchor
    value: str  # the exact secret text, to redact


def is_placeholder(text: str) -> bool:
    """Template text, an environment reference, a run of one character, a docs example."""
    core = text.strip()
    if not core:
        return True
    lowered = core.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS):
        return True
    body = lowered.removeprefix("hf_").removeprefix("local-")
    return len(set(body)) < min(6, max(1, len(body) // 2))


def _normalise(name: str) -> str:
    last = re.split(r"[.\[\]]", name.strip("-").strip())
    parts = [part for part in last if part]
    return (parts[-1] if parts else "").lower().replace("-", "_")


def _random_looking(text: str) -> bool:
    if not TOKENISH.fullmatch(text) or is_placeholder(text):
        return False
    classes = sum(
        1 for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]") if re.search(pattern, text) is not None
    )
    return classes >= 2 and re.search(r"[0-9]", text) is not None and len(set(text)) >= 10


def classify(name: str, text: str, context: str = "") -> Secret | None:
    """The credential in ``text`` (bound to ``name``), or None."""
    if len(text) > 20_000:
        return None
    found = PRIVATE_KEY.search(text)
    if found is not None:
        body = found.group("body").replace("\\n", "\n").strip()
        if len("".join(body.split())) >= 40 and not is_placeholder(body):
            kind = "GCP service-account private key" if "private_key" in name else "private key"
            return Secret(kind, "private-key", body)
    for match in URL_PASSWORD.finditer(text):
        password = match.group("password")
        user = match.group("head").split("://", 1)[1].rstrip(":")
        if (
            not is_placeholder(password)
            and password.lower() not in PLACEHOLDER_PASSWORDS
            and password != user
        ):
            return Secret("password in a URL", "url-password", password)
    found = AZURE_ACCOUNT_KEY.search(text)
    if found is not None and not is_placeholder(found.group("key")):
        return Secret("Azure storage account key", "azure-key", found.group("key"))
    for match in HF_TOKEN.finditer(text):
        if not is_placeholder(match.group(0)):
            return Secret("Hugging Face token", "hf-token", match.group(0))
    for match in AWS_KEY_ID.finditer(text):
        if not is_placeholder(match.group(0)):
            return Secret("AWS access key id", "aws-key-id", match.group(0))
    return _by_name(_normalise(name), text.strip(), context)


def _by_name(name: str, text: str, context: str) -> Secret | None:
    if not name or is_placeholder(text):
        return None
    wandb = name in WANDB_NAMES or (context.startswith("wandb") and name in {"key", "api_key"})
    if wandb and HEX40.fullmatch(text):
        return Secret("W&B API key", "wandb-key", text)
    if name in AWS_SECRET_NAMES and AWS_SECRET.fullmatch(text):
        return Secret("AWS secret access key", "aws-secret", text)
    if name in MLFLOW_SECRET_NAMES and len(text) >= 4:
        return Secret("MLflow tracking credential", "mlflow-password", text)
    if name in AZURE_KEY_NAMES and AZURE_KEY.fullmatch(text):
        return Secret("Azure storage account key", "azure-key", text)
    generic = name in GENERIC_NAMES or name.endswith(GENERIC_SUFFIXES)
    candidate = text.removeprefix("Bearer ").removeprefix("bearer ").strip()
    if generic and _random_looking(candidate):
        return Secret(f"credential in `{name}`", "generic", candidate)
    return None


@dataclass(frozen=True, slots=True)
class _Candidate:
    name: str
    value: Value
    where: str  # "code", "config", "launch line", "environment"
    context: str = ""  # the callee, for wandb.login(key=...)
    scope: str = ""


def _strings(raw: object, name: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """Every string inside a value, with the nearest key naming it."""
    if depth > MAX_DEPTH:
        return
    if isinstance(raw, str):
        yield name, raw
    elif isinstance(raw, dict):
        for key, item in raw.items():
            yield from _strings(item, str(key), depth + 1)
    elif isinstance(raw, list | tuple):
        for item in raw:
            yield from _strings(item, name, depth + 1)


def _candidates(facts: FileFacts) -> Iterator[_Candidate]:
    code = facts.kind.value in {"python", "notebook"}
    for assignment in facts.assignments:
        if assignment.value.origin not in WRITTEN_HERE:
            continue
        where = {"env": "environment", "key": "config"}.get(assignment.kind, "code")
        if facts.kind.value == "shell" and assignment.kind == "env":
            where = "launch script"
        yield _Candidate(assignment.target, assignment.value, where)
    for call in facts.calls:
        flag = ""
        if call.short_name == "add_argument" and call.args:
            flag = call.args[0].as_str() or ""
        arguments = [("", value) for value in call.args]
        arguments += [(flag or key, value) for key, value in call.kwargs]
        for key, value in arguments:
            scalar = isinstance(value.raw, str)
            if scalar and value.origin not in WRITTEN_HERE:
                continue
            yield _Candidate(key, value, "code" if code else "config", call.name, call.scope)
    for launch in facts.launches:
        for key, value in launch.args:
            yield _Candidate(key, value, "launch line")


def needles(options: dict[str, Any]) -> dict[str, Any]:
    """Every string is read; a secret has a known shape, or a name that says secret holding a
    random-looking value (a digit in 16 or more key characters, or 40 of them)."""

    def spelt(names: Iterable[str]) -> list[str]:
        # names are compared in lower case, with dashes read as underscores
        return sorted({form for name in names for form in (name, name.replace("_", "-"))})

    random_value = {"random": ["16"]}
    named = spelt(
        {*WANDB_NAMES, *AWS_SECRET_NAMES, *AZURE_KEY_NAMES, *GENERIC_NAMES, *GENERIC_SUFFIXES}
    )
    return {
        "any": [
            # hf_..., AKIA/ASIA key ids, private key blocks, Azure connection strings
            {"needles": [{"substring": ["hf_", "AKIA", "ASIA", "PRIVATE KEY", "AccountKey="]}]},
            # user:password@ in a URL, also when the URL is put together on one line
            {"needles": [{"substring": ["://"]}, {"regex": [r"://[^\n/:]*+:[^\n/@]*+@"]}]},
            {
                "needles": [
                    {"folded": named},
                    {"suffix": ["|".join(sorted(n.replace("-", "_") for n in named))]},
                    random_value,
                ]
            },
            # MLflow credentials count at any length
            {"needles": [{"folded": spelt(MLFLOW_SECRET_NAMES)}]},
            {"needles": [{"token": ["wandb"]}, {"folded": ["key"]}, random_value]},
        ]
    }


@register("hardcoded-credential", needles=needles)
def check(facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    seen: set[tuple[str, int | None, int, str]] = set()
    for candidate in _candidates(facts):
        if not candidate.value.known:
            continue
        for name, text in _strings(candidate.value.raw, candidate.name):
            secret = classify(name, text, candidate.context)
            if secret is None:
                continue
            span: Span = candidate.value.span
            key = (span.path, span.cell, span.line, secret.value)
            if key in seen:
                continue
            seen.add(key)
            label = name or candidate.context or "value"
            detail = (
                f"{secret.kind} written in the {candidate.where}: `{label}` holds "
                f"`{describe(secret.value)}`; anyone who can read this file or its history "
                "can use it"
            )
            yield Hit(
                span,
                {"detail": detail, "key": label},
                anchor=f"{secret.code}:{label}",
                scope=candidate.scope,
                redact=(secret.value,),
            )
