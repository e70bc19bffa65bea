"""Placeholders: text in a config or launch line that stands for a value the user fills in.

Examples and templates name places that do not exist: ``oci://my-bucket``, ``<model-id>``,
``your-org/your-model``, ``PATH/to/Model``, ``{wandb_token}``, ``xxx.xxx.xxx.xxx``,
``output/vx-xxx/checkpoint-xxx``, ``REPLACE_ME``, ``YOUR_TOKEN``, ``hf_xxx``, ``...``,
``${VAR}``. A finding about such a value would be about the template, not about the job,
so sources turn the place-like values they read (model and dataset ids, paths, URIs,
buckets, Spaces) into Unknown when :func:`is_placeholder` says so, keeping the text.

This is one predicate for every source and rule. It is deliberately strict, because a
placeholder read as real loses one finding while a real value read as a placeholder
hides one: chat-template tokens (``<image>``, ``<|im_end|>``, ``<tool_call>``), ``0.0.0.0``
and ``Mixtral-8x7B`` are values. Secrets have looser conventions (``test``, ``dummy``,
``sample``...): a credential check may treat more as a placeholder on top of this.

Every test is a scan over the text or its segments: linear in its length.
"""

from __future__ import annotations

import re
from typing import Final

# Segment separators: paths, URIs, ids, file names, dotted quads.
_SEPARATORS: Final = re.compile(r"[/\\:.@=_\-\s]+")
# ``<model-id>``, ``<YOUR_PATH>``: no nesting, no quantifier inside a quantifier.
_ANGLE: Final = re.compile(r"<([A-Za-z][A-Za-z0-9 _.\-]{0,60})>")
# ``{wandb_token}``, ``{{ project }}``, ``{ partition }``.
_BRACE: Final = re.compile(r"\{\{?\s?([A-Za-z_][A-Za-z0-9_.\-]{0,60})\s?\}\}?")
# ``$VAR``, ``${VAR}``, ``${VAR:-x}``, ``%VAR%``: a reference nothing here expanded.
_REFERENCE: Final = re.compile(r"\$\{?[A-Za-z_]|%[A-Za-z_][A-Za-z0-9_]{0,60}%")
# Words that make an angle-bracket name a placeholder when it has no separator of its own
# (``<path>``, ``<token>``), as opposed to a chat-template token (``<image>``, ``<think>``).
_ANGLE_WORDS: Final = frozenset(
    {"path", "dir", "directory", "folder", "name", "id", "token", "key", "secret", "password"}
    | {"bucket", "user", "username", "org", "organization", "model", "project", "account"}
    | {"host", "hostname", "ip", "port", "root", "repo", "url", "uri", "workspace", "your"}
    | {"entity", "region", "endpoint", "value", "here", "dataset", "checkpoint", "output"}
)
# A whole segment that is only a fill-in word.
_WORDS: Final = frozenset(
    {"todo", "fixme", "tbd", "changeme", "placeholder", "redacted", "username", "yourname"}
)
# ``my-bucket``, ``my_org``: "my" joined to a word naming a place the reader is meant to own.
_MY: Final = re.compile(
    r"(?<![a-z0-9])my[-_](bucket|org|organization|user|username|project|account|storage"
    r"|container|space|team|workspace|namespace|entity|registry|repo)(?![a-z0-9])"
)


def is_placeholder(text: str) -> bool:
    """Does ``text`` (a value as written, quotes removed) stand for a value to fill in?

    Meant for values that name a place or an identity: a model or dataset id, a path, a URI,
    a bucket, a host, a Space, a token. An empty string is not a placeholder (it is a value,
    often "none").
    """
    core = text.strip()
    if not core:
        return False
    if "..." in core or "\u2026" in core or "***" in core:
        return True
    if _REFERENCE.search(core) is not None or _BRACE.search(core) is not None:
        return True
    for match in _ANGLE.finditer(core):
        if _angle_placeholder(match.group(1)):
            return True
    return _segments_placeholder(core)


def is_placeholder_uri(text: str) -> bool:
    """A URI that is a template (``oci://my-bucket/ckpt``, ``http://xxx.xxx.xxx.xxx:5000``):
    what sources turn into Unknown wherever they read it (config keys, launch words)."""
    return "://" in text and is_placeholder(text)


def _angle_placeholder(inner: str) -> bool:
    """``<model-id>``, ``<SDK_TOKEN>``, ``<path>`` but not ``<image>`` or ``<tool_call>``."""
    words = [word for word in re.split(r"[ _.\-]+", inner.lower()) if word]
    if not words:
        return False
    if any(word in _ANGLE_WORDS for word in words):
        return True
    if "-" in inner or " " in inner:
        return True  # chat-template tokens use "_" or "|", never "-" or spaces
    return len(inner) >= 3 and inner.isupper()


def _segments_placeholder(core: str) -> bool:
    """Segment tests: ``xxx`` runs, ``YOUR_``/``REPLACE`` words, ``path/to``; ``my-bucket``."""
    parts = [part for part in _SEPARATORS.split(core) if part]
    lowered = [part.lower() for part in parts]
    for index, (part, low) in enumerate(zip(parts, lowered, strict=True)):
        if len(low) >= 3 and set(low) == {"x"}:
            return True
        if low in _WORDS or low in {"your", "replace"}:
            return True
        if low.startswith(("replace", "your")) and part.isupper():
            return True  # REPLACEME, YOURTOKEN
        if low.startswith("your") and low[4:] in _ANGLE_WORDS:
            return True  # yourname, yourorg
        following = lowered[index + 1] if index + 1 < len(lowered) else ""
        if low == "path" and following == "to":
            return True
    return _MY.search(core.lower()) is not None


__all__ = ["is_placeholder", "is_placeholder_uri"]
