"""TL403: loads that unpickle, with torch's change of default in 2.6 taken into account.

``torch.load`` without ``weights_only`` unpickles by default before torch 2.6 only. Which
torch runs a file is read from the project's pins (``project.pins``, through
``Lookups.torch_versions``): the finding says which range it holds for, and drops to ``low``
where the pins admit only 2.6 or later (unsafe there only when ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``
is set, which the finding reports when the project sets it). The rule option
``torch_min_version`` is the policy's word on the version and wins over the pins.

Also reported: pickle, dill, cloudpickle and joblib loads, ``pandas.read_pickle``,
``numpy.load(allow_pickle=True)``, ``torch.distributed``'s object collectives (they unpickle
what other ranks send, and a process group has no authentication) and ``torch.package``
archives (``PackageImporter.load_pickle`` unpickles, ``import_module`` runs the archive's code).
"""

from __future__ import annotations

from collections.abc import Iterator

from tunelint.facts import Call, FileFacts, Requirement, Span
from tunelint.findings import Severity
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
# torch.distributed calls that unpickle objects other ranks send (send_object_list only
# pickles; dist.broadcast / dist.scatter move tensors and unpickle nothing).
OBJECT_COLLECTIVES = {
    "broadcast_object_list": "every rank but `src` loads the list rank `src` sends",
    "all_gather_object": "every rank loads the object of every other rank",
    "gather_object": "rank `dst` loads the object of every other rank",
    "scatter_object_list": "every rank but `src` loads the object rank `src` sends it",
    "recv_object_list": "this rank loads the objects rank `src` sends",
}
DISTRIBUTED = ("torch.distributed.", "torch.distributed.distributed_c10d.")
IMPORTER = "torch.package.PackageImporter"
IMPORTER_USES = {
    f"{IMPORTER}.load_pickle": "unpickles an object from the archive",
    f"{IMPORTER}.import_module": "runs Python code stored in the archive",
}
TORCH_SAFE_DEFAULT = (2, 6)
FORCE_UNSAFE_ENV = "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"
TRUTHY = frozenset({"1", "y", "yes", "true"})


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


NEEDLES = {
    "call": [
        "torch.load",
        "numpy.load",
        *PICKLE_LOADERS,
        *(f"torch.distributed.{name}" for name in OBJECT_COLLECTIVES),
        IMPORTER,
        # not findings: setup.py's install_requires, read for the torch pins
        "setuptools.setup",
        "distutils.core.setup",
    ]
}


@register("unsafe-deserialization", needles=NEEDLES)
def check(facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    for call in facts.calls:
        if call.name == "torch.load":
            yield from _torch_load(call, facts, context)
        elif call.name in PICKLE_LOADERS:
            detail = f"`{PICKLE_LOADERS[call.name]}` runs code from the file while loading it"
            yield Hit(call.span, {"detail": detail}, call.name, call.scope)
        elif call.name == "numpy.load":
            allow = call.kwarg("allow_pickle")
            if allow is not None and allow.as_bool() is True:
                detail = "`numpy.load(allow_pickle=True)` unpickles object arrays"
                yield Hit(allow.span, {"detail": detail}, "numpy.load", call.scope)
        elif call.name.startswith(DISTRIBUTED) and call.short_name in OBJECT_COLLECTIVES:
            yield _collective(call)
    yield from _package(facts)


def _collective(call: Call) -> Hit:
    name = call.short_name
    detail = (
        f"`torch.distributed.{name}` unpickles what other ranks send ({OBJECT_COLLECTIVES[name]}): "
        "any process that joins the process group (its store and backend do not authenticate "
        "peers) can run code in this one; send tensors (`broadcast`, `all_gather`) or "
        "JSON-encoded bytes instead"
    )
    anchor = f"torch.distributed.{name}"
    return Hit(call.span, {"detail": detail}, anchor, call.scope, severity=Severity.MEDIUM)


def _package(facts: FileFacts) -> Iterator[Hit]:
    """``PackageImporter`` uses; the constructor itself when no use is visible here."""
    uses = [call for call in facts.calls if call.name in IMPORTER_USES]
    for call in uses:
        detail = (
            f"`PackageImporter.{call.short_name}` {IMPORTER_USES[call.name]}: a torch.package "
            "archive is code, and opening one from outside the project runs it"
        )
        yield Hit(call.span, {"detail": detail}, call.name, call.scope)
    if uses:
        return
    for call in facts.calls:
        if call.name == IMPORTER:
            detail = (
                "`torch.package.PackageImporter` opens an archive whose objects are unpickled "
                "and whose modules run when loaded: only open archives the project built"
            )
            yield Hit(call.span, {"detail": detail}, IMPORTER, call.scope)


def _torch_load(call: Call, facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    weights_only = call.kwarg("weights_only")
    if weights_only is not None:
        if weights_only.as_bool() is False:
            detail = "`torch.load(weights_only=False)` unpickles the file and can run code"
            yield Hit(weights_only.span, {"detail": detail}, "torch.load", call.scope)
        return
    if call.star_args:
        return
    anchor = "torch.load:weights_only"
    policy_version = _version(context.options.get("torch_min_version"))
    if policy_version is not None and policy_version >= TORCH_SAFE_DEFAULT:
        return
    base = "`torch.load` without `weights_only=True` unpickles the file, running any code inside it"
    pins = () if policy_version is not None else context.project.torch_versions(facts.path)
    if not pins:
        detail = f"{base} (the default is unsafe before torch 2.6)"
        yield Hit(call.span, {"detail": detail}, anchor, call.scope)
        return
    from tunelint.project.pins import describe

    named = "; ".join(describe(pin) for pin in pins)
    properties: dict[str, object] = {"torch_pins": [describe(pin) for pin in pins]}
    if _admits_unsafe_default(pins):
        detail = f"{base}: holds for torch < 2.6, which the project's pins admit ({named})"
        yield Hit(call.span, {"detail": detail}, anchor, call.scope, properties=properties)
        return
    forced = _forced_unsafe(facts, context)
    if forced is not None:
        detail = (
            f"{base}: the project pins torch >= 2.6 ({named}), where the default is safe, but "
            f"sets {FORCE_UNSAFE_ENV} in {forced.path}:{forced.line}, which restores the old one"
        )
        yield Hit(call.span, {"detail": detail}, anchor, call.scope, properties=properties)
        return
    detail = (
        f"`torch.load` without `weights_only`: safe by default with the torch the project pins "
        f"({named}); it unpickles only where torch < 2.6 is installed after all or "
        f"{FORCE_UNSAFE_ENV}=1 is set, so pass `weights_only=True` to keep it safe everywhere"
    )
    low = Severity.LOW
    yield Hit(
        call.span, {"detail": detail}, anchor, call.scope, severity=low, properties=properties
    )


def _admits_unsafe_default(pins: tuple[Requirement, ...]) -> bool:
    from tunelint.project.pins import version_range

    return any(version_range(pin.specifier).admits_below(TORCH_SAFE_DEFAULT) for pin in pins)


def _forced_unsafe(facts: FileFacts, context: CheckContext) -> Span | None:
    """Where the file or a job it belongs to sets ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` on."""
    related = [facts]
    for job in context.project.jobs_of(facts.path):
        for path in context.project.scope(job):
            found = context.project.facts(path)
            if found is not None and found is not facts:
                related.append(found)
    for each in related:
        for assignment in each.assignments:
            text = assignment.value.as_str() if assignment.kind == "env" else None
            if assignment.target == FORCE_UNSAFE_ENV and (text or "").lower() in TRUTHY:
                return assignment.span
    return None
