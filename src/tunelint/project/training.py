"""Is this call training? Does this file start training? One home for both questions.

A file starts training when its module-level code (also ``if __name__ == "__main__":`` and
notebook cells) reaches a training call: directly, through its own functions, through a
function passed to a runner (``fire.Fire(main)``, ``mp.spawn(train, ...)``), or through a
function of a project module it imports. A script that a launch line runs and that holds
training calls trains too (its ``main`` may be started in ways calls do not show, a click or
typer command). A library module that only *defines* a training function does not train by
itself: the scripts that call it do. A config that a training CLI runs as a whole job trains
(``config_trains``): an axolotl, LLaMA-Factory, torchtune or litgpt YAML, and an mmengine /
xtuner Python config that sets up a training loop.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Final

from tunelint.facts import Call, FileFacts, Launch

# Configs that a training CLI runs (each is a whole job on its own).
TRAINING_DIALECTS: Final = frozenset({"axolotl", "llamafactory", "torchtune", "litgpt"})
# A Python config that an mmengine runner builds (``xtuner train CONFIG``, ``mim train``):
# the Python source marks a module holding lazy objects (``dict(type=callable, ...)``). It
# trains when it configures a training loop: ``train_cfg = dict(...)`` (mmengine's runner
# trains only with one), a ``*TrainLoop`` object, or xtuner's Hugging Face framework
# (``training_args = dict(type=TrainingArguments, ...)``). An inference or evaluation config
# (``test_cfg``/``val_cfg`` only) does not.
MMENGINE: Final = "mmengine"
MMENGINE_TRAINING: Final = ("TrainLoop", "TrainingArguments")
# Launchers that start training (the launch-line reader only makes a Launch of a CLI's
# training commands: ``trl sft``, ``litgpt finetune``, ``llamafactory-cli train``).
TRAINING_LAUNCHERS: Final = frozenset(
    {"torchrun", "accelerate", "deepspeed", "llamafactory-cli", "axolotl", "tune", "trl"}
    | {"litgpt"}
)
# Entry points of training CLIs written in Python.
TRAINING_FUNCTIONS: Final = ("llamafactory.train.tuner.run_exp", "axolotl.train.train")
MODULE: Final = "<module>"
_IDENTIFIER = re.compile(r"[A-Za-z_][\w.]*")


# ms-swift commands that train (``swift sft|pt|rlhf``, and Megatron's)
SWIFT_TRAINING = ("swift.cli.sft", "swift.cli.pt", "swift.cli.rlhf", "swift.cli._megatron")


def launch_trains(launch: Launch) -> bool:
    """Does this launch line start training (not inference, export or a data step)?"""
    if launch.launcher == "swift":
        return (launch.module or "").startswith(SWIFT_TRAINING)
    return launch.launcher in TRAINING_LAUNCHERS


def training_call(call: Call) -> bool:
    """A call that runs training steps: ``Trainer.train()`` (also TRL's and wrapped trainers),
    Lightning's ``Trainer.fit()``, a ``backward()`` pass, a training CLI's entry function."""
    short = call.short_name
    if short == "backward":
        return True
    if short == "remote" and call.text.endswith((".fit.remote", ".train.remote")):
        # a Ray actor's method: ``ray.get(trainer.fit.remote())`` runs it on the actor
        receiver = call.text.rsplit(".", 2)[0]
        return "trainer" in receiver.lower()
    if short in {"train", "fit"}:
        if "Trainer" in call.name or call.name.startswith("trl."):
            return short == "train" or "lightning" in call.name
        receiver = call.text.rsplit(".", 1)[0] if "." in call.text else ""
        return short == "train" and not call.resolved and "trainer" in receiver.lower()
    return call.name.endswith(TRAINING_FUNCTIONS)


Node = tuple[str, str]  # (file, function scope)
Resolver = Callable[[str, str], str | None]  # (module, importer) -> file


class CallGraph:
    """Which (file, function) reaches a training call, through calls and imports.

    Built once from every file's calls; ``reaches`` is memoised and handles recursion, so
    the whole graph costs one visit per call site.
    """

    def __init__(self, files: Mapping[str, FileFacts], resolve: Resolver) -> None:
        self.edges: dict[Node, set[Node]] = {}
        self.training: set[Node] = set()
        self._memo: dict[Node, bool] = {}
        self._resolve = resolve
        for path, facts in files.items():
            self._add_file(path, facts)

    def _add_file(self, path: str, facts: FileFacts) -> None:
        scopes = {call.scope for call in facts.calls} | {MODULE}
        imported = _imported_names(facts.imports)
        for call in facts.calls:
            source = (path, call.scope)
            if training_call(call):
                self.training.add(source)
            targets = self._targets(path, call, scopes, imported)
            if targets:
                self.edges.setdefault(source, set()).update(targets)

    def _targets(
        self, path: str, call: Call, scopes: set[str], imported: Mapping[str, str]
    ) -> set[Node]:
        """The functions ``call`` runs: the callee, and functions passed to it by name."""
        targets: set[Node] = {
            (path, scope) for scope in _local_targets(call.name, call.scope, scopes, call.resolved)
        }
        if call.resolved:
            targets.update(_module_targets(call.name, path, self._resolve))
        for value in (*call.args, *(value for _, value in call.kwargs)):
            text = value.text.strip()
            if not _IDENTIFIER.fullmatch(text):
                continue
            targets.update((path, scope) for scope in _local_targets(text, "", scopes, False))
            if text in imported:
                targets.update(_module_targets(imported[text], path, self._resolve))
        return targets

    def call_trains(self, facts: FileFacts, call: Call) -> bool:
        """Does this call site run training, itself or through what it calls?"""
        if training_call(call):
            return True
        scopes = {other.scope for other in facts.calls} | {MODULE}
        targets = self._targets(facts.path, call, scopes, _imported_names(facts.imports))
        return any(self.reaches(target) for target in targets)

    def reaches(self, node: Node) -> bool:
        """Does ``node`` (or anything it calls, transitively) run a training call?"""
        if node in self._memo:
            return self._memo[node]
        # iterative depth-first search; nodes on the current path count as "no" for now
        seen: set[Node] = {node}
        stack: list[tuple[Node, Iterator[Node]]] = [(node, iter(self.edges.get(node, ())))]
        found = node in self.training
        while stack and not found:
            _, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                continue
            if child in seen:
                continue
            seen.add(child)
            if child in self.training or self._memo.get(child):
                found = True
                break
            if child in self._memo:  # known not to reach
                continue
            stack.append((child, iter(self.edges.get(child, ()))))
        if found:
            # every node on the current path reaches training through the one just found
            for on_path, _ in stack:
                self._memo[on_path] = True
            self._memo[node] = True
        else:
            # every node fully explored from here reaches nothing
            for explored in seen:
                self._memo[explored] = False
        return found


def _imported_names(imports: Iterable[str]) -> dict[str, str]:
    """``from pkg.mod import name`` -> {"name": "pkg.mod.name"} (absolute imports only)."""
    names: dict[str, str] = {}
    for module in imports:
        if "." in module and not module.startswith("."):
            names.setdefault(module.rsplit(".", 1)[1], module)
    return names


def _local_targets(name: str, scope: str, scopes: set[str], resolved: bool) -> Iterator[str]:
    """Functions of the same file that ``name`` calls: ``main()``, ``self.step()``."""
    if resolved:
        return
    if name in scopes:
        yield name
        return
    head, _, rest = name.partition(".")
    if head in {"self", "cls"} and rest and "." in scope:
        method = f"{scope.rsplit('.', 1)[0]}.{rest}"
        if method in scopes:
            yield method


def _module_targets(name: str, importer: str, resolve: Resolver) -> Iterator[Node]:
    """``pkg.mod.func`` -> (the file of ``pkg.mod``, ``func``), also for ``pkg.mod.Cls.method``."""
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        found = resolve(".".join(parts[:cut]), importer)
        if found is not None:
            yield (found, ".".join(parts[cut:]))
            return


def config_trains(facts: FileFacts) -> bool:
    """Is this file a config that a training CLI runs as a whole job (an axolotl,
    LLaMA-Factory, torchtune or litgpt YAML; an mmengine config with a training loop)?"""
    if any(dialect in TRAINING_DIALECTS for dialect in facts.dialects):
        return True
    return MMENGINE in facts.dialects and any(
        call.scope == MODULE
        and (
            (call.name == "dict" and call.bound_to == "train_cfg")
            or call.short_name.endswith(MMENGINE_TRAINING)
        )
        for call in facts.calls
    )


def file_trains(facts: FileFacts, graph: CallGraph, launched: bool) -> bool:
    """Does this file start training (see the module docstring)?"""
    if config_trains(facts):
        return True
    if any(launch_trains(launch) for launch in facts.launches):
        return True
    if graph.reaches((facts.path, MODULE)):
        return True
    # a script that a launch line runs is ``__main__``: its training functions are how it
    # is used, even when they are started in ways calls do not show (a click group)
    return launched and any(training_call(call) for call in facts.calls)


# What a Python file must hold for ``training_call`` or a training CLI entry to be found in it
# (in the vocabulary of a rule's ``match``, for the byte prefilter).
NEEDLES: Final = {
    "any": [
        # ``loss.backward()``, also split over a line continuation
        {"needles": [{"regex": [r"backward[\s\\]*\("]}]},
        {"needles": [{"substring": ["Trainer"]}, {"token": ["train", "fit"]}]},
        {"needles": [{"token": ["trl"]}, {"token": ["train"]}]},
        {"needles": [{"folded": ["trainer"]}, {"token": ["train"]}]},
        {"needles": [{"token": ["run_exp"]}]},
        {"needles": [{"token": ["axolotl"]}, {"token": ["train"]}]},
        # an mmengine config's training loop (``config_trains``)
        {"needles": [{"token": ["type"]}, {"token": ["train_cfg"]}]},
        {"needles": [{"token": ["type"]}, {"substring": list(MMENGINE_TRAINING)}]},
    ]
}
