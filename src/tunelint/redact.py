"""Keeping secrets out of reports.

The engine copies the source line into every finding's snippet. A line holding a token would
carry it into JSON, SARIF (uploaded to code scanning) and CI logs, so every finding's message,
snippet and anchor pass through :func:`scrub`: credentials that identify themselves (Hugging
Face tokens, AWS access key ids, private key blocks, Azure account keys, passwords in URLs)
are masked wherever they appear, and a rule can name more through ``Hit.redact``.
Masks keep the length, so columns and carets still line up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

KEEP: Final = 4  # characters shown at the start of a masked secret
MIN_SECRET: Final = 6  # shorter strings are never masked (they would mask ordinary text)

# Credentials recognisable by their own shape, wherever they appear.
SELF_IDENTIFYING: Final[tuple[re.Pattern[str], ...]] = (
    re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"(?<=AccountKey=)[A-Za-z0-9+/]{20,}={0,2}"),
    re.compile(r"(?<=SharedAccessSignature=)[^;\s'\"]{8,}"),
    re.compile(r"(?<=PRIVATE KEY-----)(?:\\n|\s)*[A-Za-z0-9+/=\\\s]{16,}?(?=-----END)"),
)
# ``scheme://user:password@host``: the password part.
URL_PASSWORD: Final = re.compile(
    r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'\"]*:)(?P<password>[^\s/@'\"]+)(?=@)"
)


def mask(secret: str) -> str:
    """``hf_A*****...``: the first characters, the rest starred, same length."""
    if len(secret) <= KEEP:
        return "*" * len(secret)
    return secret[:KEEP] + "*" * (len(secret) - KEEP)


def describe(secret: str) -> str:
    """For messages: ``hf_A… (37 chars)``, never the secret itself."""
    return f"{secret[:KEEP]}… ({len(secret)} chars)"


def _pieces(secrets: Iterable[str]) -> list[str]:
    """Each secret, and each line of a multi-line one (a PEM block spans lines)."""
    found: set[str] = set()
    for secret in secrets:
        for piece in [secret, *re.split(r"\\n|\n", secret)]:
            piece = piece.strip()
            if len(piece) >= MIN_SECRET:
                found.add(piece)
    return sorted(found, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets and every self-identifying credential masked."""
    if not text:
        return text
    for piece in _pieces(secrets):
        text = text.replace(piece, mask(piece))
    for pattern in SELF_IDENTIFYING:
        text = pattern.sub(lambda m: mask(m.group(0)), text)
    return URL_PASSWORD.sub(lambda m: m.group("head") + "*" * len(m.group("password")), text)


def url_without_password(url: str) -> str:
    """``https://user:***@host/x`` for messages about endpoints."""
    return URL_PASSWORD.sub(lambda m: m.group("head") + "***", url)
