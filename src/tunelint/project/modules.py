"""Which project file is module X: import resolution as Python does it, from paths alone.

Python searches ``sys.path`` in order: the running script's own directory first, then the
installed packages. In a repository that is also where its own package is installed from
(``pip install -e .``), a package at the repository root (or under ``src/``) is importable
from any script in it. So an absolute import ``a.b`` is looked for, from the importer's
directory upwards, in each ancestor directory and its ``src/``; the nearest regular package
(a directory with ``__init__.py``) or module (``a.py``) wins.

A directory without ``__init__.py`` is only a namespace portion: Python takes it when no
regular package or module of that name exists anywhere on the path, installed ones included.
Static reading cannot see what is installed, so a namespace portion is taken only after every
regular package has been looked for, nearest directory first, and never for a name that the
standard library or a well-known distribution provides: a folder of example configs named
``accelerate/`` is not the ``accelerate`` that ``from accelerate import Accelerator`` loads.
The one exception is a distribution's own source tree checked without its top
``__init__.py`` (a partial checkout, or only some files named on the command line):
``openrlhf/cli/__init__.py`` beside ``openrlhf/cli/train.py`` says that ``openrlhf.cli.train``
is this file, since a regular subpackage is no folder of configs.

Relative imports resolve from the importer's package. Nothing here reads the disk: the index
knows the discovered files, and directories are what those paths imply.
"""

from __future__ import annotations

import posixpath
import sys
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

# Top-level names that an installed distribution provides in a fine-tuning environment: a
# local directory without ``__init__.py`` never shadows them (see the module docstring).
INSTALLED: Final = frozenset(sys.stdlib_module_names) | frozenset(
    {"accelerate", "transformers", "torch", "torchvision", "torchaudio", "datasets", "peft"}
    | {"trl", "deepspeed", "bitsandbytes", "numpy", "pandas", "scipy", "sklearn", "tokenizers"}
    | {"huggingface_hub", "safetensors", "evaluate", "wandb", "mlflow", "tensorboard", "yaml"}
    | {"omegaconf", "hydra", "lightning", "pytorch_lightning", "sentencepiece", "fire", "tqdm"}
    | {"vllm", "flash_attn", "xformers", "triton", "optimum", "unsloth", "axolotl", "torchtune"}
    | {"llamafactory", "litgpt", "swift", "modelscope", "mmengine", "xtuner", "openrlhf", "ray"}
    | {"einops", "jsonlines", "requests", "boto3", "google", "azure", "click", "typer", "rich"}
    | {"PIL", "cv2", "matplotlib", "seaborn", "pydantic", "packaging", "psutil", "pynvml"}
)


def _parent(path: str) -> str:
    return posixpath.dirname(path)


def ancestors(directory: str) -> list[str]:
    """``directory`` and every directory above it, nearest first ('' is the top)."""
    found = [directory]
    while directory not in {"", "/", "."}:
        directory = _parent(directory)
        found.append(directory)
    if found[-1] == ".":
        found[-1] = ""
    return list(dict.fromkeys(found))


@lru_cache(maxsize=65536)
def _join(*parts: str) -> str:
    """Paths joined and normalised; every import of every file asks for the same few."""
    return posixpath.normpath(posixpath.join(*[p for p in parts if p])) if any(parts) else ""


class Modules:
    """Resolves dotted module names to project files (``a/b.py`` or ``a/b/__init__.py``)."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.files: frozenset[str] = frozenset(posixpath.normpath(p) for p in paths)
        packages: set[str] = set()
        directories: set[str] = set()
        for path in self.files:
            directory = _parent(path)
            if posixpath.basename(path) == "__init__.py":
                packages.add(directory)
            while directory and directory not in directories:
                directories.add(directory)
                directory = _parent(directory)
        self.packages = frozenset(packages)
        self.directories = frozenset(directories)
        self._resolved: dict[tuple[str, str], str | None] = {}

    # -- one directory -------------------------------------------------------------------
    def _in(self, root: str, parts: list[str], namespace_ok: bool) -> str | None:
        """The file of ``parts`` under ``root``, following packages segment by segment."""
        base = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            here = _join(base, part)
            if last and here + ".py" in self.files:
                return here + ".py"
            if here in self.packages:
                base = here
                continue
            if not last and here + ".py" in self.files:
                return None  # ``a.b`` where ``a`` is a module: b is an attribute
            if here in self.directories and (namespace_ok or index > 0):
                base = here
                continue
            return None
        init = _join(base, "__init__.py")
        return init if init in self.files else None

    def _found_as_regular(self, root: str, head: str) -> bool:
        here = _join(root, head)
        return here + ".py" in self.files or here in self.packages

    # -- resolution ----------------------------------------------------------------------
    def resolve(self, module: str, importer: str) -> str | None:
        """The project file ``module`` names when imported from ``importer``, or None."""
        if not module:
            return None
        directory = _parent(posixpath.normpath(importer))
        key = (module, directory)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(module, importer, directory)
        return self._resolved[key]

    def _resolve(self, module: str, importer: str, directory: str) -> str | None:
        if module.startswith("."):
            return self._relative(module, importer)
        parts = module.split(".")
        for root in ancestors(directory):
            for base in (root, _join(root, "src")):
                if self._found_as_regular(base, parts[0]):
                    return self._in(base, parts, namespace_ok=False)
        # a namespace portion, only for a name nothing installs: beside the importer first,
        # then in a directory above it (a PEP 420 package at the repository root or in src/)
        for root in ancestors(directory):
            for base in (root, _join(root, "src")):
                top = _join(base, parts[0])
                if parts[0] in INSTALLED and not (
                    len(parts) > 1 and _join(top, parts[1]) in self.packages
                ):
                    continue  # a well-known name: only its source tree (docstring)
                if top in self.directories:
                    found = self._in(base, parts, namespace_ok=True)
                    if found is not None:
                        return found
        return None

    def _relative(self, module: str, importer: str) -> str | None:
        level = len(module) - len(module.lstrip("."))
        rest = module[level:]
        base = _parent(posixpath.normpath(importer))
        for _ in range(level - 1):
            base = _parent(base)
        if not rest:
            init = _join(base, "__init__.py")
            return init if init in self.files else None
        return self._in(base, rest.split("."), namespace_ok=True)

    def module_name(self, path: str) -> str | None:
        """The dotted name ``python -m`` would run ``path`` as, from its package root."""
        path = posixpath.normpath(path)
        if not path.endswith(".py"):
            return None
        parts = [posixpath.basename(path)[:-3]]
        directory = _parent(path)
        while directory in self.packages:
            parts.insert(0, posixpath.basename(directory))
            directory = _parent(directory)
        if parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts) or None
