"""``lint(paths, options) -> Report``: the library entry point the command line calls.

files -> sources -> facts -> jobs -> rules -> findings -> suppressions/baseline -> Report.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunelint.discover import SourceFile, Walk, discover
from tunelint.facts import FileFacts
from tunelint.findings import Finding, Report, Severity
from tunelint.policy import Policy, load_policy
from tunelint.project.index import ProjectIndex
from tunelint.rules.engine import effective_rule, run_rules
from tunelint.rules.loader import RuleError, load_rules
from tunelint.rules.model import RuleMeta

if TYPE_CHECKING:
    from tunelint.discover import Discovery
    from tunelint.extract.run_cache import RunCache, RunResult
    from tunelint.sources.config_limits import ConfigLimits

DEFAULT_MAX_FILE_BYTES = 5_000_000


@dataclass(slots=True)
class Options:
    """What the command line (or a library caller) can change about one run."""

    policy_path: Path | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    fail_on: Severity | None = None
    vram: str | None = None
    gpu: str | None = None
    baseline: Path | None = None
    jobs: int = 0
    use_cache: bool = True
    cwd: Path = field(default_factory=Path.cwd)
    max_file_bytes: int | None = None
    default_excludes: bool = True  # False: walk into virtual environments, build folders
    follow_symlinks: bool = False  # True: enter directory symlinks that stay in the root
    # Told (stage, done, total) as a long run goes on; the command line draws a bar with it.
    progress: Callable[[str, int, int], None] | None = None


class ConfigurationError(ValueError):
    """Policy, rules, baseline or options are invalid: exit code 2, never a partial run."""


def extract_all(
    files: Sequence[SourceFile],
    max_bytes: int,
    options: Options,
    *,
    root: Path | None = None,
    rules: Sequence[RuleMeta] | None = None,
    limits: ConfigLimits | None = None,
) -> dict[str, FileFacts]:
    """Facts per file, in the order given.

    Files that cannot hold anything ``rules`` read are not parsed (without ``rules``, every
    file is; ``TUNELINT_PREFILTER=0`` turns the prefilter off). Facts are cached in
    the user's cache directory, keyed by ``root``, unless ``options.use_cache`` is off or
    ``TUNELINT_NO_CACHE`` is set (``TUNELINT_CACHE_DIR`` moves it), and files are parsed on
    ``options.jobs`` processes (0: every core).
    """
    from tunelint.extract.cache import cache_dir
    from tunelint.extract.parallel import extract_files
    from tunelint.extract.prefilter import PASS_ALL
    from tunelint.rules.needs import prefilter_for

    prefilter = PASS_ALL
    if rules is not None and os.environ.get("TUNELINT_PREFILTER", "1").lower() not in {
        "0",
        "off",
        "no",
        "false",
    }:
        prefilter = prefilter_for(rules)
    where = cache_dir(root) if options.use_cache and root is not None else None
    extraction = extract_files(
        files,
        max_bytes,
        jobs=options.jobs,
        prefilter=prefilter,
        cache_dir=where,
        limits=limits,
        progress=options.progress,
    )
    return extraction.facts


def config_limits(policy: Policy, max_bytes: int) -> ConfigLimits:
    """The policy's ``limits:`` for the YAML/JSON source (defaults where it says nothing)."""
    from tunelint.sources.config_limits import ConfigLimits

    defaults = ConfigLimits()
    return ConfigLimits(
        max_bytes=max_bytes,
        max_depth=int(policy.get("limits.max_depth", defaults.max_depth)),
        max_nodes=int(policy.get("limits.max_yaml_nodes", defaults.max_nodes)),
    )


def active_rules(policy: Policy, options: Options) -> list[RuleMeta]:
    """The rules this run evaluates; a selector on the command line that names no rule is a
    configuration error (a typo would otherwise check nothing and pass)."""
    from tunelint.rules.select import picks, selected, unknown

    try:
        rules = load_rules(policy.custom_rule_paths)
    except RuleError as error:
        raise ConfigurationError(str(error)) from None
    pairs = [(rule.id, rule.name) for rule in rules]
    problems = unknown(options.select, pairs, "--select")
    problems += unknown(options.ignore, pairs, "--ignore")
    if problems:
        raise ConfigurationError("\n".join(problems))
    enabled = []
    select = [*(policy.get("rules.select", []) or []), *options.select]
    ignore = [*(policy.get("rules.ignore", []) or []), *options.ignore]
    for rule in rules:
        is_on, effective = effective_rule(rule, policy)
        explicitly = bool(options.select) and picks(rule.id, rule.name, options.select)
        if (is_on or explicitly) and selected(effective.id, effective.name, select, ignore):
            enabled.append(effective)
    return enabled


def _per_file_filter(
    patterns: Mapping[str, list[str]], root: Path, cwd: Path
) -> Callable[[Finding], bool]:
    """``paths.per_file_ignores``: gitignore-style globs relative to the policy's directory,
    like ``paths.exclude``, so the result does not depend on where tunelint runs."""
    if not patterns:
        return lambda finding: False
    import pathspec

    from tunelint.rules.select import picks

    specs = [
        (pathspec.GitIgnoreSpec.from_lines([glob]), [str(code) for code in codes or []])
        for glob, codes in patterns.items()
    ]
    resolved_root = root.resolve()

    def ignored(finding: Finding) -> bool:
        absolute = (cwd / finding.span.path).resolve()
        try:
            relative = absolute.relative_to(resolved_root).as_posix()
        except ValueError:
            relative = finding.span.path
        for spec, codes in specs:
            if spec.match_file(relative) and picks(finding.rule_id, finding.rule_name, codes):
                return True
        return False

    return ignored


def lint(paths: Iterable[str], options: Options | None = None) -> Report:
    """Check ``paths`` against the policy; raises ConfigurationError for bad configuration."""
    from tunelint.policy import PolicyError
    from tunelint.suppress import BaselineError, apply_baseline

    options = options or Options()
    given = list(paths) or ["."]
    try:
        policy = load_policy(options.policy_path, (options.cwd / given[0]))
    except PolicyError as error:
        raise ConfigurationError(str(error)) from None
    _check_budget_options(options)
    rules = active_rules(policy, options)
    walk = Walk(default_excludes=options.default_excludes, follow_symlinks=options.follow_symlinks)
    found = discover(
        given,
        root=policy.root,
        cwd=options.cwd,
        excludes=policy.excludes,
        respect_gitignore=policy.respect_gitignore,
        walk=walk,
    )
    max_bytes = options.max_file_bytes or int(
        policy.get("limits.max_file_bytes", DEFAULT_MAX_FILE_BYTES)
    )
    limits = config_limits(policy, max_bytes)
    budget = {"cli_vram": options.vram, "cli_gpu": options.gpu}
    store, key = _run_cache(found, max_bytes, options, policy, rules, budget)
    result = store.get(key) if store is not None else None
    if result is None:
        result = _check(found, max_bytes, options, policy, rules, budget, limits)
        if store is not None:
            store.put(key, result)
    findings = result.findings
    if options.baseline is not None:
        try:
            apply_baseline(findings, options.baseline)
        except BaselineError as error:
            raise ConfigurationError(str(error)) from None
    diagnostics = [*result.diagnostics, *found.diagnostics]
    report = Report(
        findings=findings,
        diagnostics=diagnostics,
        files_checked=result.files_checked,
        files_skipped=list(found.excluded),
        jobs=result.jobs,
        rules=list(rules),
        fail_on=options.fail_on or policy.fail_on,
        root=str(repository_root(given, options.cwd, policy)),
        cwd=os.path.abspath(options.cwd),
        notes=result.notes,
        skipped_directories=list(found.skipped_directories),
        docs_url=str(policy.get("docs_url", "") or ""),
        paths=list(given),
        destinations=result.destinations,
        policy=dict(policy.data),
    )
    report.sort()
    return report


def _check(
    found: Discovery,
    max_bytes: int,
    options: Options,
    policy: Policy,
    rules: list[RuleMeta],
    budget: dict[str, Any],
    limits: ConfigLimits,
) -> RunResult:
    """Extraction, the project index and the rules: every finding, suppressions applied."""
    from tunelint.extract.run_cache import RunResult
    from tunelint.fingerprints import assign_fingerprints
    from tunelint.suppress import apply_inline

    files = extract_all(
        found.files, max_bytes, options, root=policy.root, rules=rules, limits=limits
    )
    if options.progress is not None:
        options.progress("assembling jobs", 0, 1)
    index = ProjectIndex(files, found.repositories)
    if options.progress is not None:
        options.progress("checking rules", 0, 1)
    findings, notes = run_rules(rules, index, policy, budget=budget)
    ignored = _per_file_filter(policy.per_file_ignores, policy.root, options.cwd)
    findings = [finding for finding in findings if not ignored(finding)]
    every_rule = load_rules(policy.custom_rule_paths)
    known = {rule.id: rule.id for rule in every_rule} | {rule.name: rule.id for rule in every_rule}
    enabled_ids = {rule.id for rule in rules}
    suppressions = {path: facts.suppressions for path, facts in files.items()}
    meta = apply_inline(
        findings,
        suppressions,
        known,
        require_reason=policy.require_reason,
        enabled=enabled_ids,
    )
    findings.extend(m for m in meta if m.rule_id in enabled_ids)
    assign_fingerprints(sorted(findings, key=Finding.sort_key))
    return RunResult(
        findings=findings,
        diagnostics=[d for facts in files.values() for d in facts.diagnostics],
        files_checked=[path for path, facts in files.items() if not _unread(facts)],
        jobs=list(index.jobs),
        notes=notes,
        destinations=index.all_destinations(),
    )


def _run_cache(
    found: Discovery,
    max_bytes: int,
    options: Options,
    policy: Policy,
    rules: list[RuleMeta],
    budget: dict[str, Any],
) -> tuple[RunCache | None, str]:
    """The last run's store for this project, and this run's key in it (no store when
    caching is off)."""
    from tunelint.extract.cache import cache_dir
    from tunelint.extract.run_cache import RunCache, run_key

    if not options.use_cache or policy.root is None:
        return None, ""
    store = RunCache.open(cache_dir(policy.root))
    if store is None:
        return None, ""
    key = run_key(
        found.files,
        max_bytes,
        repositories=list(found.repositories),
        policy=dict(policy.data),
        rules=rules,
        budget=budget,
        gpus=_detected_gpus(policy),
    )
    return store, key


def _detected_gpus(policy: Policy) -> object:
    """The GPUs rules would detect (their names and memory), or None when the policy keeps
    detection off: a run on another machine must not reuse this one's verdicts."""
    if policy.get("hardware.detect", "auto") not in ("auto", "on", True):
        return None
    from tunelint.memory.gpus import detect_gpus

    state = detect_gpus()
    return tuple((device.name, device.total_bytes) for device in state.devices)


def repository_root(given: Sequence[str], cwd: Path, policy: Policy) -> Path:
    """What SARIF paths are relative to (``%SRCROOT%``), wherever tunelint runs: the nearest
    directory holding ``.git`` above the checked paths, else the policy file's directory,
    else the working directory."""
    paths = [os.path.abspath(cwd / path) for path in given]
    try:
        common = Path(os.path.commonpath(paths))
    except ValueError:  # paths on different drives
        common = Path(os.path.abspath(cwd))
    start = common if common.is_dir() else common.parent
    for directory in (start, *start.parents):
        if os.path.lexists(directory / ".git"):
            return directory
    if policy.path is not None:
        return Path(os.path.abspath(policy.path)).parent
    return Path(os.path.abspath(cwd))


def _check_budget_options(options: Options) -> None:
    """A typo in --vram or --gpu is a configuration error, not a silent skip (the policy's
    hardware is checked with the same function when the policy is loaded)."""
    if options.vram is None and options.gpu is None:
        return
    from tunelint.memory.gpus import budget_problems

    problems = budget_problems([(options.vram, "--vram")], [(options.gpu, "--gpu")])
    if problems:
        raise ConfigurationError("\n".join(problems))


def _unread(facts: FileFacts) -> bool:
    """Nothing of the file was read: it counts as skipped, not as checked."""
    from tunelint.sources.read import UNREAD_CODES

    if any(d.code in UNREAD_CODES for d in facts.diagnostics):
        return True
    nothing = not (facts.calls or facts.settings or facts.assignments or facts.launches)
    nothing = nothing and not (facts.references or facts.imports or facts.suppressions)
    return nothing and any(d.code == "parse-error" for d in facts.diagnostics)
