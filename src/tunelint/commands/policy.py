"""``tunelint policy``: validate, create, explain and show the organisation's policy."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tunelint.commands import EXIT_OK, EXIT_USAGE

STARTER = """\
# tunelint policy: what this project's fine-tuning jobs must respect.
# docs/policy.md describes every key. Check this file with `tunelint policy validate`
# and see the merged result, each value with its source, with `tunelint policy show`.
version: 1

# Layers, lowest first: presets and other policy files (paths relative to this file),
# then this file. Mappings merge key by key; lists and single values are replaced.
extends: [{preset}]

# Everything below is commented out: the preset decides until you uncomment a line.

# hardware:
#   gpus: [rtx-4090]              # built-in GPU profiles (rtx-4090, a100-80gb, ...), or
#   vram: 24GiB                   # an explicit per-GPU memory budget (TL101)
#   detect: auto                  # read the local GPUs through NVML when a driver is present
#   max_temperature_c: 85         # highest temperature a thermal guard may allow (TL104)

# data_protection:
#   encrypted_paths: ["/mnt/secure/**"]   # where offloaded tensors may rest (TL201)
#   shared_paths: ["/scratch/shared/**"]  # shared scratch besides /tmp and /dev/shm (TL202)

# Approved destinations. While a list is absent, what it would judge is reported at info
# so reviewers still see it; an empty list approves nothing (TL301, TL302).
# residency:
#   allowed_hosts: [mlflow.internal.example.com]
#   allowed_services: [mlflow, tensorboard]
#   allowed_regions: [eu-west-1]
#   allowed_buckets: [acme-training-eu]

# training:
#   long_run_steps: 1000          # longer runs must checkpoint (TL105)
#   max_steps_without_checkpoint: 500

# rules:
#   TL104: off                    # switch a rule off (or on), by id or name
#   TL402: high                   # or change its severity
#   custom: [./policy/rules]      # directories of your own rule YAML files

# paths:
#   exclude: ["third_party/**"]
#   per_file_ignores: {{"notebooks/**": [TL104]}}

# suppressions:
#   require_reason: true          # every `# tunelint: ignore[...]` needs `-- reason`

# fail_on: medium                 # lowest severity that makes `tunelint check` exit 1

# docs_url: https://wiki.example.com/tunelint/{{id}}  # where your team hosts the rule pages
"""


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "policy",
        help="validate, create, explain or show the policy",
        description="Validate, create, explain or show the organisation's policy file.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    validate = actions.add_parser("validate", help="check a policy file (exit 0 valid, 2 not)")
    validate.add_argument("file", nargs="?", type=Path, help="default: the nearest policy")
    validate.set_defaults(func=run_validate)

    init = actions.add_parser("init", help="write a commented starter tunelint.yaml")
    init.add_argument(
        "directory",
        nargs="?",
        type=Path,
        default=Path("."),
        help="where to write tunelint.yaml (default: .)",
    )
    init.add_argument(
        "--preset",
        choices=("recommended", "strict"),
        default="recommended",
        help="the preset the new policy extends (default: recommended)",
    )
    init.set_defaults(func=run_init)

    schema = actions.add_parser("schema", help="print the policy JSON Schema")
    schema.set_defaults(func=run_schema)

    show = actions.add_parser(
        "show", help="print the effective policy, each value with where it came from"
    )
    show.add_argument("path", nargs="?", type=Path, default=Path("."), help="checked path")
    show.add_argument("--policy", type=Path, help="policy file (default: nearest)")
    show.set_defaults(func=run_show)

    parser.set_defaults(func=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def run_validate(args: argparse.Namespace) -> int:
    from tunelint.policy import find_policy, validate_file

    path: Path | None = args.file
    if path is None:
        path = find_policy(Path.cwd())
        if path is None:
            sys.stderr.write(
                "tunelint: no policy found (tunelint.yaml, .tunelint.yaml or [tool.tunelint] "
                "in pyproject.toml, here or in a parent directory)\n"
            )
            return EXIT_USAGE
    if not path.is_file():
        sys.stderr.write(f"tunelint: {path}: policy file not found\n")
        return EXIT_USAGE
    problems = validate_file(path)
    if problems:
        sys.stderr.write("".join(f"{problem}\n" for problem in problems))
        count = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
        sys.stderr.write(f"tunelint: {path}: invalid policy ({count})\n")
        return EXIT_USAGE
    sys.stdout.write(f"{path}: valid\n")
    return EXIT_OK


def run_init(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    target = directory / "tunelint.yaml"
    existing = [directory / name for name in ("tunelint.yaml", ".tunelint.yaml", "tunelint.yml")]
    for path in existing:
        if path.exists():
            sys.stderr.write(f"tunelint: {path} already exists; not overwriting it\n")
            return EXIT_USAGE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as handle:
            handle.write(STARTER.format(preset=args.preset))
    except FileExistsError:
        sys.stderr.write(f"tunelint: {target} already exists; not overwriting it\n")
        return EXIT_USAGE
    except OSError as error:
        sys.stderr.write(f"tunelint: cannot write {target}: {error.strerror or error}\n")
        return EXIT_USAGE
    sys.stdout.write(f"wrote {target}\n")
    return EXIT_OK


def run_schema(args: argparse.Namespace) -> int:
    from tunelint.policy import policy_schema

    sys.stdout.write(json.dumps(policy_schema(), indent=2) + "\n")
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    from tunelint.policy import PolicyError, load_policy

    start = args.path if args.path.is_absolute() else Path.cwd() / args.path
    try:
        policy = load_policy(args.policy, start)
    except PolicyError as error:
        sys.stderr.write(f"tunelint: configuration error:\n{error}\n")
        return EXIT_USAGE
    sys.stdout.write(render_policy(policy.data, policy.origins, policy.layers))
    return EXIT_OK


# --- rendering ----------------------------------------------------------------------------

_TOP_ORDER = (
    "version",
    "hardware",
    "data_protection",
    "residency",
    "training",
    "rules",
    "paths",
    "suppressions",
    "limits",
    "fail_on",
    "docs_url",
)


def render_policy(data: Mapping[str, Any], origins: Mapping[str, str], layers: list[str]) -> str:
    """The merged policy as YAML, every value followed by ``# <layer that set it>``."""
    lines = [
        "# Effective tunelint policy. Layers, lowest first: "
        + " < ".join(_shown(layer) for layer in layers),
    ]
    ordered = sorted(data, key=lambda k: (_TOP_ORDER.index(k) if k in _TOP_ORDER else 99, k))
    _emit({key: data[key] for key in ordered}, (), 0, lines, origins)
    return "\n".join(lines) + "\n"


def _emit(
    node: Mapping[str, Any],
    prefix: tuple[str, ...],
    depth: int,
    lines: list[str],
    origins: Mapping[str, str],
) -> None:
    from tunelint.policy import RULE_LISTS, dotted_key

    keys = list(node)
    if prefix == ("rules",):
        keys = [k for k in RULE_LISTS if k in node] + sorted(k for k in node if k not in RULE_LISTS)
    indent = "  " * depth
    for key in keys:
        value = node[key]
        here = (*prefix, str(key))
        label = _flow(key)
        if isinstance(value, Mapping) and value:
            lines.append(f"{indent}{label}:")
            _emit(value, here, depth + 1, lines, origins)
            continue
        if prefix == ("rules",) and key == "custom" and isinstance(value, list):
            value = [_shown(str(item)) for item in value]
        origin = origins.get(dotted_key(list(here)), "")
        comment = f"  # {_shown(origin)}" if origin else ""
        lines.append(f"{indent}{label}: {_flow(value)}{comment}")


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False)
    text = text.strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    return text.removesuffix("...").strip()


def _shown(origin: str) -> str:
    if origin.startswith("preset:") or not os.path.isabs(origin):
        return origin
    try:
        return Path(origin).relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return origin
