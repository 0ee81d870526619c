"""`cfglint lint` over files and trees: find the configs, lint each on its own, in parallel.

Each file is independent (its own bases are read with it), so files are spread over worker
processes; a handful of files is linted in-process, where start-up would cost more than it saves.
A file that cannot be read becomes an error report and the others continue.

Detectron2 refuses a YACS key its defaults lack. For `lint` that refusal is a finding (L601, with
the did-you-mean of the resolver), and the rest of the file is still linted as with
--allow-new-keys, so one typo does not hide every other problem of the file.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Tuple

from cfglint.engine.config import EngineConfig
from cfglint.engine.context import render
from cfglint.engine.finding import Finding, sort_key
from cfglint.errors import CfglintError
from cfglint.model import Location

UNKNOWN_KEY = "L601"
#: Below this many files, linting in-process beats starting worker processes (measured: about
#: 0.4 s per worker to import cfglint against 10-20 ms per config).
MIN_FILES_FOR_PROCESSES = 24
_SKIPPED_DIRS = {"__pycache__", ".git", ".hg", ".svn", ".tox", ".venv", "node_modules"}


@dataclass
class FileReport:
    path: str
    findings: List[Finding] = field(default_factory=list)
    error: Optional[CfglintError] = None      # the file could not be read


def discover(paths: Sequence[str]) -> Tuple[List[str], List[str]]:
    """(configs to lint, files skipped as not being detection configs), in a stable order.

    A named file that does not exist is kept, so that linting it reports "no such file"."""
    from cfglint.adapters import CONFIG_SUFFIXES, detect_framework

    found: List[str] = []
    skipped: List[str] = []
    for path in paths:
        if not os.path.isdir(path):
            if os.path.exists(path) and not _is_config(path, detect_framework):
                skipped.append(path)
            else:
                found.append(path)
            continue
        for candidate in _walk(path):
            if candidate.endswith(CONFIG_SUFFIXES):
                (found if _is_config(candidate, detect_framework) else skipped).append(candidate)
    return found, skipped


def _is_config(path: str, detect_framework) -> bool:
    """A detection config, or a Python script that builds one; not a training loop, a helper module,
    setup.py or a test (those import the frameworks too, but build no config for a model)."""
    if not path.endswith(".py"):
        return detect_framework(path) is not None
    from cfglint.adapters.limits import read_config_text
    try:
        text = read_config_text(path)
    except CfglintError:
        return True   # linting it reports why it cannot be read
    if detect_framework(path, text) is None:
        from cfglint.adapters.script.detect import builds_config
        return builds_config(path, text)
    from cfglint.adapters.script.detect import is_not_a_config
    return not is_not_a_config(path, text)


def _walk(root: str) -> Iterable[str]:
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            yield os.path.join(directory, name)


def lint_file(path: str, config: EngineConfig, allow_new_keys: bool = False) -> FileReport:
    """One config's findings, or the reason it cannot be read."""
    from cfglint import engine
    from cfglint.adapters import load
    from cfglint.engine.checks.lint_partial import is_partial_config

    rules = engine.load_rules(config.rule_files)
    extra: List[Finding] = []
    try:
        model = load(path, allow_new_keys=allow_new_keys)
    except CfglintError as err:
        if allow_new_keys or not _is_unknown_key(err):
            return FileReport(path, error=err)
        if UNKNOWN_KEY in rules.enabled(config.select, config.ignore):
            extra.append(_unknown_key_finding(err, rules[UNKNOWN_KEY]))
        try:
            model = load(path, allow_new_keys=True)
        except CfglintError as again:
            return FileReport(path, error=again)
    findings = engine.lint(model, config, rules)
    if is_partial_config(path):
        findings = [f for f in findings if f.left_location is not None]
    return FileReport(path, sorted(extra + findings, key=sort_key))


def _is_unknown_key(err: CfglintError) -> bool:
    """The Detectron2 YACS resolver's refusal of a key (see adapters/detectron2/yacs.py)."""
    return err.message.startswith("unknown config key")


def _unknown_key_finding(err: CfglintError, rule) -> Finding:
    key = err.message[len("unknown config key"):].split(";")[0].split(":")[0].strip()
    return Finding(rule=rule.id, name=rule.name, severity=rule.severity, field=key, left=key, right=None,
                   message=render(rule, message=err.message[:1].upper() + err.message[1:]),
                   left_location=Location(err.file, err.line) if err.file else None, why=rule.why_line)


def lint_paths(files: Sequence[str], config: EngineConfig, jobs: Optional[int] = None,
               allow_new_keys: bool = False) -> List[FileReport]:
    """Reports in the order of `files`; `jobs` worker processes (default: one per CPU)."""
    jobs = jobs or os.cpu_count() or 1
    one = functools.partial(lint_file, config=config, allow_new_keys=allow_new_keys)
    if jobs <= 1 or len(files) < MIN_FILES_FOR_PROCESSES:
        return [one(path) for path in files]
    chunk = max(1, len(files) // (jobs * 8))
    from concurrent.futures import ProcessPoolExecutor   # only trees pay for multiprocessing's import
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, files, chunksize=chunk))
