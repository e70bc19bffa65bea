"""Peak GPU memory per device for one training run, for three quantities.

- **allocated** (``torch.cuda.max_memory_allocated``): the tensors alive at the peak;
- **reserved** (``max_memory_reserved``): allocated plus what the caching allocator holds
  in blocks it cannot hand out (rounding to 2 MiB segments, split large blocks);
- **device** (what ``nvidia-smi`` shows for the process): reserved plus the CUDA context
  (driver state and loaded kernels), which lives outside the allocator.

The peak is the larger of two moments: the backward pass (activations and logits alive,
gradients being produced) and the optimizer step (activations freed, a state-sized
temporary allocated). Each term is named in ``Estimate.breakdown`` and the terms add up to
the device figure. Sources for every term are cited in ``activations.py``, ``states.py``
and docs/memory.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tunelint.memory import activations as act
from tunelint.memory import states
from tunelint.memory.setup import QUANTITIES, TrainingSetup
from tunelint.memory.states import lora_params

__all__ = ["Estimate", "TrainingSetup", "estimate", "lora_params"]

GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Estimate:
    """Peak memory per GPU, in bytes, with its breakdown and the assumptions behind it.

    ``total_bytes`` / ``optimistic_bytes`` / ``conservative_bytes`` are the device figure
    (what nvidia-smi shows); ``quantities`` holds (optimistic, point, conservative) for
    each of allocated, reserved and device.
    """

    model_id: str
    total_bytes: int
    optimistic_bytes: int
    conservative_bytes: int
    allocated_bytes: int
    breakdown: dict[str, int]
    params: int
    trainable_params: int
    params_source: str
    confidence: str
    num_gpus: int = 1
    assumptions: list[str] = field(default_factory=list)
    reserved_bytes: int = 0
    quantities: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    uncertain: list[str] = field(default_factory=list)

    def figure(self, quantity: str = "device") -> int:
        """The point estimate of one quantity."""
        return self.quantities[quantity][1] if quantity in self.quantities else self.total_bytes


@dataclass(frozen=True)
class _Scenario:
    context: int
    frag_share: float  # of the allocated peak
    frag_blocks: float  # largest transient blocks kept reserved
    nf4_extra: float  # bytes per 4-bit weight beyond the storage format
    logits_hf: float
    activation_factor: float
    count_paged: bool
    set_to_none: bool  # gradients produced during backward, not alive all along
    loading: bool  # count the peak of loading an unsharded checkpoint when unknown


# optimistic / point / conservative
OPTIMISTIC = _Scenario(128 * MiB, 0.02, 0.5, 0.0, 8.0, 0.92, False, True, False)
POINT = _Scenario(384 * MiB, 0.04, 1.0, 0.0, 12.0, 1.0, False, True, False)
CONSERVATIVE = _Scenario(1300 * MiB, 0.10, 2.0, 0.05, 14.0, 1.15, True, False, True)
CUBLAS_WORKSPACE = 8 * MiB  # ":4096:8" default, torch.backends.cuda docs (CUBLAS_WORKSPACE_CONFIG)
UNCERTAIN_SPREAD = 0.25  # widening of the range for each unmodelled option or generic model


def _allocated_terms(setup: TrainingSetup, sc: _Scenario, loading: bool) -> dict[str, float]:
    """Tensor terms at the peak moment (before allocator overhead and context)."""
    nf4 = (states.NF4_DQ_BYTES if setup.double_quant else states.NF4_BYTES) + sc.nf4_extra
    ms = states.model_states(setup, nf4, sc.count_paged)
    kept, transient = act.activation_parts(setup, sc.activation_factor)
    logits = float(act.logits_bytes(setup, sc.logits_hf))
    if setup.grad_checkpointing:  # the logits are freed before the first block is recomputed
        transient = max(0.0, transient - logits)
    acts = kept + transient
    names = ("weights", "gathered_params", "quant_workspace", "adapters")
    fixed = {k: ms[k] for k in names if k in ms}
    fixed["optimizer"] = ms["optimizer"]
    fixed["comm_buffers"] = ms["comm_buffers"]
    fixed["cublas_workspace"] = float(CUBLAS_WORKSPACE)
    grads, temp = ms["gradients"], ms["optimizer_step_temp"]
    accumulate = setup.grad_accum > 1 or not sc.set_to_none or setup.grads_persist
    if accumulate:
        backward = {"gradients": grads, "activations": acts, "logits": logits}
    else:  # zero_grad(set_to_none): gradients appear while activations are freed
        layer_grads = grads / max(1, setup.model.arch.total_layers)
        backward = {"gradients": layer_grads, "activations": acts, "logits": logits}
        if grads > acts + logits:
            backward = {"gradients": grads, "activations": 0.0, "logits": 0.0}
    step = {"gradients": grads, "optimizer_step_temp": temp}
    phase = backward if sum(backward.values()) >= sum(step.values()) else step
    # every term is named; those freed before the peak moment are zero
    idle = {"gradients": 0.0, "activations": 0.0, "logits": 0.0, "optimizer_step_temp": 0.0}
    terms = {**fixed, **idle, **phase}
    load = states.loading_peak(setup) if loading else 0.0
    if load > sum(terms.values()):
        terms["loading_peak"] = load - sum(terms.values())
    return terms


def _scenario(setup: TrainingSetup, sc: _Scenario) -> tuple[dict[str, float], float, float]:
    """(allocated terms, fragmentation, context) for one scenario."""
    loading = (not setup.sharded_loading) or sc.loading or bool(setup.quant_bits)
    terms = _allocated_terms(setup, sc, loading)
    alloc = sum(terms.values())
    frag = sc.frag_share * alloc + sc.frag_blocks * act.largest_transient(setup)
    # gathered parameters live on the all-gather stream: the allocator caches those blocks
    # per stream, so they are held twice in reserved memory (FSDP notes, record_stream)
    frag += terms.get("gathered_params", 0.0)
    context = float(setup.cuda_context or sc.context)
    return terms, frag, context


def _confidence(setup: TrainingSetup, assumed: int) -> str:
    if setup.model.confidence == "low" or setup.unmodelled:
        return "low"
    return "high" if assumed == 0 else "medium"


def estimate(setup: TrainingSetup, assumptions: list[str] | None = None) -> Estimate:
    """Estimate peak memory per GPU for `setup` (optimistic, point and conservative)."""
    notes = list(assumptions or [])
    notes += list(setup.model.notes)
    uncertain = [f"not modelled: {what}" for what in setup.unmodelled]
    if setup.model.source == "name":
        uncertain.append("architecture unknown: a generic Llama-shaped model of that size")
    spread = UNCERTAIN_SPREAD * len(uncertain)
    figures: dict[str, list[int]] = {q: [] for q in QUANTITIES}
    breakdown: dict[str, int] = {}
    for sc in (OPTIMISTIC, POINT, CONSERVATIVE):
        terms, frag, context = _scenario(setup, sc)
        alloc = sum(terms.values())
        values = {"allocated": alloc, "reserved": alloc + frag, "device": alloc + frag + context}
        widen = 1.0 - spread if sc is OPTIMISTIC else 1.0 + spread if sc is CONSERVATIVE else 1.0
        for q, v in values.items():
            figures[q].append(int(v * max(0.3, widen)))
        if sc is POINT:
            breakdown = {"cuda_context": int(context)}
            breakdown.update({k: int(v) for k, v in terms.items()})
            breakdown["allocator_fragmentation"] = int(frag)
    quantities = {q: (min(v), v[1], max(v)) for q, v in figures.items()}
    device = quantities["device"]
    # the breakdown adds up to the device point figure exactly
    breakdown["allocator_fragmentation"] += device[1] - sum(breakdown.values())
    assumed = sum(1 for n in notes if "assumed" in n)
    return Estimate(
        model_id=setup.model.model_id,
        total_bytes=device[1],
        optimistic_bytes=device[0],
        conservative_bytes=device[2],
        allocated_bytes=quantities["allocated"][1],
        breakdown=breakdown,
        params=setup.model.params,
        trainable_params=states.trainable_params(setup),
        params_source=setup.model.source,
        confidence=_confidence(setup, len(uncertain) + assumed),
        num_gpus=max(1, setup.num_gpus),
        assumptions=notes,
        reserved_bytes=quantities["reserved"][1],
        quantities=quantities,
        uncertain=uncertain,
    )
