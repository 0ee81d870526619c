"""`cfglint lint` over files and trees: find the configs, lint each on its own, in parallel.

Each file is independent (its own bases are read with it), so files are spread over worker
processes; a handful of files is linted in-process, where start-up would cost more than it saves.
A file that cannot be read becomes an error report and the others continue.

Detectron2 refuses a YACS key its defaults lack. For `lint` that refusal is a finding (L601), and
the rest of the file is still linted as with --allow-new-keys, so one typo does not hide every
other problem of the file. The resolver collects every unknown key of the file (with its closest
known key) in a structured error: a key with a close known key is a typo, one error each; the keys
with none are what a project add-on cfglint did not find would define (`add_densepose_config`
adds MODEL.DENSEPOSE_ON, MODEL.ROI_DENSEPOSE_HEAD...), so they make ONE finding per file naming the
unknown subtrees, at info level: cfglint cannot judge keys whose definition it has not seen.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Tuple

from cfglint.engine.config import EngineConfig
from cfglint.engine.context import render
from cfglint.engine.finding import Finding, sort_key
from cfglint.errors import CfglintError, UnknownKeyError
from cfglint.model import Location

#: Below this many files, linting in-process beats starting worker processes (measured: about
#: 0.4 s per worker to import cfglint against 10-20 ms per config).
MIN_FILES_FOR_PROCESSES = 24
_SKIPPED_DIRS = {"__pycache__", ".git", ".hg", ".svn", ".tox", ".venv", "node_modules"}


@dataclass
class FileReport:
    path: str
    findings: List[Finding] = field(default_factory=list)
    error: Optional[CfglintError] = None      # the file could not be read


def discover(paths: Sequence[str], framework: Optional[str] = None) -> Tuple[List[str], List[str]]:
    """(configs to lint, files skipped as not being detection configs), in a stable order.

    A named file that does not exist is kept, so that linting it reports "no such file"; with
    `framework` given, every named file is linted as a config of that framework."""
    from cfglint.adapters import CONFIG_SUFFIXES, detect_framework

    found: List[str] = []
    skipped: List[str] = []
    for path in paths:
        if not os.path.isdir(path):
            if os.path.exists(path) and framework is None and _config_kind(path, detect_framework) is None \
                    and not _feeds_a_detector(path):
                skipped.append(path)
            else:
                found.append(path)
            continue
        for candidate in _walk(path):
            if candidate.endswith(CONFIG_SUFFIXES):
                (found if _config_kind(candidate, detect_framework) or _feeds_a_detector(candidate)
                 else skipped).append(candidate)
    return found, skipped


def _config_kind(path: str, detect_framework) -> Optional[str]:
    """The kind of a config file, or None for Python that only carries framework marks: a training
    entry point, dataset registration, registered modules, a package `__init__` (see
    adapters/script/detect.py `is_not_a_config`; a script that builds a config is its own kind)."""
    if not path.endswith(".py"):
        return detect_framework(path)
    from cfglint.adapters.limits import read_config_text
    try:
        text = read_config_text(path)      # read once, for detection and the not-a-config test
    except CfglintError:
        return None                        # as detect_framework says of a file it cannot read
    kind = detect_framework(path, text)
    if kind is not None:
        from cfglint.adapters.script.detect import is_not_a_config
        if is_not_a_config(path, text):
            return None
    return kind


def _walk(root: str) -> Iterable[str]:
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            yield os.path.join(directory, name)


def lint_file(path: str, config: EngineConfig, allow_new_keys: bool = False,
              framework: Optional[str] = None, rules=None) -> FileReport:
    """One config's findings, or the reason it cannot be read (`rules`: the run's RuleSet, loaded
    once for a tree rather than per file)."""
    from cfglint import engine
    from cfglint.adapters import detect_framework, kinds, load

    rules = rules or engine.load_rules(config.rule_files)
    extra: List[Finding] = []
    try:
        model = load(path, framework=framework, allow_new_keys=allow_new_keys)
    except UnknownKeyError as err:
        if allow_new_keys:
            return FileReport(path, error=err)
        rule = rules.for_check("model", "unknown_key")
        if rule.id in rules.enabled(config.select, config.ignore):
            extra.extend(_unknown_key_findings(err, rule))
        try:
            model = load(path, framework=framework, allow_new_keys=True)
        except CfglintError as again:
            return FileReport(path, error=again)
    except CfglintError as err:
        if _feeds_a_detector(path) and _config_kind(path, detect_framework) is None:
            return FileReport(path, _script_image_flow(path, config, rules))   # not a config: image flow only
        return FileReport(path, _script_image_flow(path, config, rules), error=err)
    findings = engine.lint(model, config, rules)
    if kinds.of(model).is_partial(path):
        findings = [f for f in findings if f.left_location is not None]
    return FileReport(path, sorted(extra + findings, key=sort_key))


def _unknown_key_findings(err: UnknownKeyError, rule) -> List[Finding]:
    """One error per typo (a close known key, a renamed or COMPUTED_ key); the keys without any
    close known key in one finding for the file, naming their subtrees (a missing add-on).
    A resolver that reports one key only (no `keys`) gives that one finding."""
    if not hasattr(err, "keys"):
        return [_unknown_key_finding(err, rule)]
    typos = [k for k in err.keys if k.suggestion or k.kind != "unknown"]
    addon = [k for k in err.keys if not (k.suggestion or k.kind != "unknown")]
    out = [_finding(rule, k.key, k.message[:1].upper() + k.message[1:], k.location, k.suggestion) for k in typos]
    if addon:
        out.append(_finding(rule, addon[0].key, _addon_message(addon), addon[0].location, None, severity="info"))
    return out


def _addon_message(keys) -> str:
    subtrees = [(k.key + ".*") if k.subtree else k.key for k in keys]
    shown = ", ".join(subtrees[:6]) + (f" and {len(subtrees) - 6} more" if len(subtrees) > 6 else "")
    count = f"{len(keys)} keys" if len(keys) != 1 else "1 key"
    return (f"{count} unknown to Detectron2's get_cfg(), with no close known key: {shown}. They look "
            "like the keys of a project add-on that cfglint did not find (a function such as "
            "add_<project>_config(cfg) that the project's train_net.py calls before merge_from_file); "
            "plain get_cfg().merge_from_file refuses the file. The rest of the file was linted as with "
            "--allow-new-keys; pass it to silence this.")


def _finding(rule, key: str, message: str, where: Location, suggestion: Optional[str],
             severity: Optional[str] = None) -> Finding:
    return Finding(rule=rule.id, name=rule.name, severity=severity or rule.severity, field=key, left=key, right=None,
                   message=render(rule, message=message, key=key, suggestion=suggestion or ""),
                   left_location=where if where.file else None, why=rule.why_line)


def _feeds_a_detector(path: str) -> bool:
    """A Python file that may hand images to a detector (rules P*), config or not."""
    if not path.endswith(".py"):
        return False
    from cfglint.engine.checks.image_flow import feeds_a_detector
    return feeds_a_detector(path)


def _script_image_flow(path: str, config: EngineConfig, rules) -> List[Finding]:
    """A Python file no adapter reads as a config may still hand images to a detector (rules P*)."""
    if not path.endswith(".py"):
        return []
    from cfglint.engine.checks.image_flow import lint_script
    return lint_script(path, config, rules)


def _unknown_key_finding(err: UnknownKeyError, rule) -> Finding:
    return Finding(rule=rule.id, name=rule.name, severity=rule.severity, field=err.key, left=err.key, right=None,
                   message=render(rule, message=err.message[:1].upper() + err.message[1:], key=err.key,
                                  suggestion=err.suggestion or ""),
                   left_location=Location(err.file, err.line) if err.file else None, why=rule.why_line)


def lint_paths(files: Sequence[str], config: EngineConfig, jobs: Optional[int] = None,
               allow_new_keys: bool = False, framework: Optional[str] = None) -> List[FileReport]:
    """Reports in the order of `files`; `jobs` worker processes (default: one per CPU)."""
    jobs = jobs or os.cpu_count() or 1
    from cfglint.adapters import roots
    if roots.env_allowed():   # --env: the values read must be masked by this process's output guard
        jobs = 1
    from cfglint.engine import load_rules
    one = functools.partial(lint_file, config=config, allow_new_keys=allow_new_keys, framework=framework,
                            rules=load_rules(config.rule_files))
    if jobs <= 1 or len(files) < MIN_FILES_FOR_PROCESSES:
        return [one(path) for path in files]
    chunk = max(1, len(files) // (jobs * 8))
    from concurrent.futures import ProcessPoolExecutor   # only trees pay for multiprocessing's import
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, files, chunksize=chunk))
