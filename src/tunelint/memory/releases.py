"""Library releases that changed what a training step keeps on the GPU.

Jobs (and the ``torch_version``, ``transformers_version`` and ``bitsandbytes_version``
settings) may name the releases they run with; an unknown version is taken as a current
release, where none of the older behaviours applies.
"""

from __future__ import annotations

from collections.abc import Mapping

# Releases that changed what a training step keeps alive (accessed 2026-12-04):
# - torch 2.0: ``zero_grad`` sets gradients to None by default, and AdamW defaults to the
#   foreach implementation on CUDA (https://github.com/pytorch/pytorch/releases/tag/v2.0.0);
#   before, zeroed gradient tensors stayed allocated between steps.
# - bitsandbytes 0.43.2: ``MatMul4Bit`` stops keeping its input for backward (PR #1270,
#   https://github.com/bitsandbytes-foundation/bitsandbytes/pull/1270).
# - transformers 4.46: causal-LM models return 16-bit logits and upcast inside the loss
#   (``loss/loss_utils.py``); before, ``logits.float()`` in the model's forward returned an
#   fp32 copy that the output kept alive through backward.
TORCH_ZERO_GRAD_NONE = (2, 0)
BNB_DROPS_INPUT = (0, 43, 2)
TRANSFORMERS_LOSS_UPCAST = (4, 46)


def parse_version(value: object) -> tuple[int, ...] | None:
    """(2, 1, 0) from "2.1.0+cu121", "==0.42.0", "v4.37"; None when no number is given.

    Versions are read as text: a YAML float such as 4.50 has already lost its zero.
    """
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().lstrip("=<>~!^v ")
    numbers: list[int] = []
    for part in text.split("."):
        digits = ""
        for ch in part:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        numbers.append(int(digits))
        if len(digits) < len(part):
            break
    return tuple(numbers) or None


def older_than(settings: Mapping[str, object], key: str, release: tuple[int, ...]) -> bool:
    """True when the job names a version of ``key`` below ``release`` (unknown: False)."""
    version = parse_version(settings.get(key))
    return version is not None and version < release
