"""TL403: loads that unpickle, with torch's change of default in 2.6 taken into account."""

from __future__ import annotations

from collections.abc import Iterator

from tunelint.facts import FileFacts
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.match import Hit

# Loaders that unpickle whatever they are given.
PICKLE_LOADERS = {
    "pickle.load": "pickle.load",
    "pickle.loads": "pickle.loads",
    "_pickle.load": "pickle.load",
    "dill.load": "dill.load",
    "dill.loads": "dill.loads",
    "cloudpickle.load": "cloudpickle.load",
    "cloudpickle.loads": "cloudpickle.loads",
    "joblib.load": "joblib.load",
    "pandas.read_pickle": "pandas.read_pickle",
}
TORCH_SAFE_DEFAULT = (2, 6)


def _version(text: object) -> tuple[int, ...] | None:
    if text is None:
        return None
    parts = []
    for piece in str(text).split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) or None


NEEDLES = {"call": ["torch.load", "numpy.load", *PICKLE_LOADERS]}


@register("unsafe-deserialization", needles=NEEDLES)
def check(facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    torch_version = _version(context.options.get("torch_min_version"))
    safe_default = torch_version is not None and torch_version >= TORCH_SAFE_DEFAULT
    for call in facts.calls:
        if call.name == "torch.load":
            weights_only = call.kwarg("weights_only")
            if weights_only is None:
                if safe_default or call.star_args:
                    continue
                detail = (
                    "`torch.load` without `weights_only=True` unpickles the file, running any "
                    "code inside it (the default is unsafe before torch 2.6)"
                )
                yield Hit(call.span, {"detail": detail}, "torch.load:weights_only", call.scope)
            elif weights_only.as_bool() is False:
                detail = "`torch.load(weights_only=False)` unpickles the file and can run code"
                yield Hit(weights_only.span, {"detail": detail}, "torch.load", call.scope)
        elif call.name in PICKLE_LOADERS:
            detail = f"`{PICKLE_LOADERS[call.name]}` runs code from the file while loading it"
            yield Hit(call.span, {"detail": detail}, call.name, call.scope)
        elif call.name == "numpy.load":
            allow = call.kwarg("allow_pickle")
            if allow is not None and allow.as_bool() is True:
                detail = "`numpy.load(allow_pickle=True)` unpickles object arrays"
                yield Hit(allow.span, {"detail": detail}, "numpy.load", call.scope)
