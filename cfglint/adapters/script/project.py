"""Detectron2 project add-ons found in the repository: what the project's `setup()` builds before
`merge_from_file`.

A project YAML (DensePose, PointSup, ...) only loads after the project's training entry point has
called its `add_*_config(cfg)` functions. From the YAML, walk up to the repository root; in each
directory the first entry point (`train_net.py`, `tools/train_net.py`, `tools/*train*.py`,
`*train*.py`) whose `setup()` calls an `add_*_config` before `merge_from_file` is interpreted
statically (:mod:`.interp`: its imports followed inside the repository, never run) up to that
`merge_from_file`; the config it has built then is the one the YAML is merged into.
`[tool.cfglint] d2-setup = "path/to/train_net.py:setup"` names the function for other layouts.
"""
from __future__ import annotations

import ast
import os
import re
from typing import Dict, List, Optional, Tuple

from cfglint.adapters.limits import read_config_text
from cfglint.errors import CfglintError

_SETUP_HINT = re.compile(r"\badd_\w*config\s*\(")
_CACHE: Dict[Tuple[str, str], object] = {}
MAX_LEVELS = 8


def project_defaults(yaml_path: str):
    """The `ProjectDefaults` of the project `yaml_path` belongs to, or None (plain get_cfg())."""
    explicit = _configured_setup(yaml_path)
    if explicit is not None:
        return setup_defaults(*explicit)
    for entry in entry_points(yaml_path):
        found = setup_defaults(entry, "setup")
        if found is not None:
            return found
    return None


def entry_points(yaml_path: str) -> List[str]:
    """Candidate training entry points, nearest the YAML first, up to the repository root."""
    directory = os.path.dirname(os.path.abspath(yaml_path))
    out: List[str] = []
    for _ in range(MAX_LEVELS):
        for candidate in _candidates(directory):
            if candidate not in out and _calls_addon_in_setup(candidate):
                out.append(candidate)
        if _is_root(directory):
            break
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return out


def _candidates(directory: str) -> List[str]:
    names = []
    for rel in ("train_net.py", os.path.join("tools", "train_net.py")):
        names.append(os.path.join(directory, rel))
    for sub in ("tools", ""):
        folder = os.path.join(directory, sub)
        try:
            files = sorted(os.listdir(folder))
        except OSError:
            continue
        names += [os.path.join(folder, f) for f in files if f.endswith(".py") and "train" in f]
    return [n for n in dict.fromkeys(names) if os.path.isfile(n)]


def _is_root(directory: str) -> bool:
    return any(os.path.exists(os.path.join(directory, m)) for m in (".git", ".hg", "pyproject.toml", "setup.py"))


def _calls_addon_in_setup(path: str) -> bool:
    try:
        text = read_config_text(path)
    except CfglintError:
        return False
    return "def setup" in text and "merge_from_file" in text and _SETUP_HINT.search(text) is not None


def setup_defaults(entry: str, function: str = "setup"):
    """Interpret `entry`'s `function(args)` up to its first `merge_from_file`: get_cfg() + add-ons."""
    key = (os.path.abspath(entry), function)
    if key in _CACHE:
        return _CACHE[key]
    _CACHE[key] = None   # a cycle (the entry point's imports reading a YAML of its own) finds nothing
    result = _interpret_setup(entry, function)
    _CACHE[key] = result
    return result


def _interpret_setup(entry: str, function: str):
    from cfglint.adapters.detectron2.yacs import ProjectDefaults, leaf_locations
    from cfglint.adapters.script.interp import Func, Interpreter, Namespace, StopScript
    from cfglint.adapters.script.values import Unknown
    from cfglint.model.location import Location

    shown = os.path.relpath(entry) if not os.path.isabs(entry) else entry
    interp = Interpreter(shown, stop_at_merge=True)
    try:
        module = interp.run_script(as_main=False)
        setup = module.env.get(function)
        if not isinstance(setup, Func):
            return None
        args = Namespace({})
        interp.call(setup, [args], {}, setup.node)
    except StopScript:
        pass
    except CfglintError:
        return None
    state = interp.stopped_state
    if state is None or not state.root:
        return None
    addons = [name for name, _ in interp.addon_calls]
    if not addons:
        return None
    from cfglint.adapters.script import _export
    unknown: dict = {}
    data = _export(state.root, (), unknown)
    if unknown:
        return None   # an add-on value that cannot be known: do not guess the project's defaults
    return ProjectDefaults(_as_nodes(state.root, data), leaf_locations(data, state.locations), addons, shown)


def _as_nodes(node, data):
    """Plain data keeping each `CN(new_allowed=True)` node's flag (a dict subclass)."""
    from cfglint.adapters.script.values import Node
    if isinstance(data, dict):
        out = Node(new_allowed=getattr(node, "new_allowed", False))
        for key, value in data.items():
            out[key] = _as_nodes(node.get(key) if isinstance(node, dict) else None, value)
        return out
    return data


def _configured_setup(yaml_path: str) -> Optional[Tuple[str, str]]:
    """`[tool.cfglint] d2-setup = "projects/X/train_net.py:setup"` of the nearest pyproject.toml."""
    from pathlib import Path
    start = Path(os.path.dirname(os.path.abspath(yaml_path)))
    pyproject = next((d / "pyproject.toml" for d in [start, *start.parents] if (d / "pyproject.toml").is_file()), None)
    if pyproject is None:
        return None
    text = read_config_text(str(pyproject))
    if "d2-setup" not in text and "d2_setup" not in text:
        return None
    try:
        import tomllib
    except ImportError:   # Python < 3.11
        return None
    try:
        table = tomllib.loads(text).get("tool", {}).get("cfglint", {})
    except tomllib.TOMLDecodeError as exc:
        raise CfglintError(f"not valid TOML: {exc}", str(pyproject)) from None
    value = table.get("d2-setup", table.get("d2_setup"))
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CfglintError('[tool.cfglint] d2-setup must be "path/to/train_net.py:function"', str(pyproject))
    path, _, function = value.partition(":")
    full = os.path.join(str(pyproject.parent), path.strip())
    if not os.path.isfile(full):
        raise CfglintError(f"[tool.cfglint] d2-setup names {path.strip()!r}, which does not exist", str(pyproject))
    return full, (function.strip() or "setup")
