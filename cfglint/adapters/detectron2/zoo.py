"""Where `model_zoo.get_config[_file]` (detectron2) and `detrex.config.get_config` read configs.

detectron2's `get_config_file(p)` is `pkg_resources.resource_filename("detectron2.model_zoo",
"configs/" + p)`: the `configs/` folder installed inside the detectron2 package (a source install
links it to the checkout's `configs/`). detrex's `get_config(p)` is the same for
`detrex.config` (`detrex/config/configs`, linked to the detrex checkout's `configs/`).

Neither framework is imported here: an installed copy is found by looking for
`detectron2/model_zoo/configs` (`detrex/config/configs`) in the `sys.path` entries. Without an
installed detectron2, cfglint's own copy of detectron2's model zoo (shipped in
`model_zoo/configs`, Apache-2.0, see `model_zoo/NOTICE`) is read. Without an installed detrex, the
detrex checkout that contains the config is used: the nearest ancestor `d` of the config with
`d/detrex/config/configs/<p>`, or with `d/configs/<p>` when the config is under `d/projects/`
(detrex's layout); anything else is refused, never guessed from an unrelated `configs/` folder.

`checkpoint_url(p)` is `model_zoo.get_checkpoint_url(p)`: detectron2's table of trained models
(`_ModelZooUrls` in `detectron2/model_zoo/model_zoo.py`), read as literals from an installed
detectron2's source when there is one, else from cfglint's copy of that table
(`model_zoo/checkpoints.json`, written by `scripts/sync_model_zoo.py` from a detectron2 release).

`zoo_roots()` lists every directory these readers may read from (for read confinement).
"""
from __future__ import annotations

import ast
import functools
import json
import os
import sys
from typing import Dict, List, Optional, Sequence, Tuple

SHIPPED_DETECTRON2_CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_zoo", "configs")
_DETECTRON2_SUBDIR = os.path.join("detectron2", "model_zoo", "configs")
_DETREX_SUBDIR = os.path.join("detrex", "config", "configs")
SHIPPED_CHECKPOINT_TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_zoo", "checkpoints.json")
_URL_TABLE_CLASS = "_ModelZooUrls"


def _installed(subdir: str, path: Optional[Sequence[str]] = None) -> Optional[str]:
    """The first `sys.path` entry that holds `subdir` as a directory (no import, no code run)."""
    for entry in (sys.path if path is None else path):
        if not isinstance(entry, str) or not entry:
            continue
        candidate = os.path.join(entry, subdir)
        if os.path.isdir(candidate):
            return os.path.realpath(candidate)
    return None


def installed_detectron2_configs(path: Optional[Sequence[str]] = None) -> Optional[str]:
    return _installed(_DETECTRON2_SUBDIR, path)


def installed_detrex_configs(path: Optional[Sequence[str]] = None) -> Optional[str]:
    return _installed(_DETREX_SUBDIR, path)


def detectron2_configs_root() -> str:
    """The directory detectron2's model zoo reads: an installed detectron2's, else cfglint's copy."""
    return installed_detectron2_configs() or SHIPPED_DETECTRON2_CONFIGS


def zoo_roots() -> List[str]:
    """Every model-zoo directory cfglint may read configs from (shipped copy first)."""
    roots = [SHIPPED_DETECTRON2_CONFIGS]
    for found in (installed_detectron2_configs(), installed_detrex_configs()):
        if found and found not in roots:
            roots.append(found)
    return roots


def is_zoo_name(config_path: str) -> bool:
    """A model-zoo name is a relative path that stays inside the zoo."""
    parts = config_path.replace("\\", "/").split("/")
    return bool(config_path) and not os.path.isabs(config_path) and ".." not in parts and not config_path.startswith("/")


def find_detectron2_config(config_path: str, configs_root: Optional[str] = None) -> Optional[str]:
    """`model_zoo.get_config_file(config_path)`: the file, or None ("not available in Model Zoo")."""
    if not is_zoo_name(config_path):
        return None
    candidate = os.path.join(configs_root or detectron2_configs_root(), config_path)
    return os.path.normpath(candidate) if os.path.isfile(candidate) else None


def get_config_file(config_path: str, configs_root: Optional[str] = None) -> str:
    """detectron2's `model_zoo.get_config_file(config_path)`: the path, or a CfglintError where
    detectron2 raises RuntimeError ("... not available in Model Zoo!")."""
    from cfglint.errors import CfglintError
    found = find_detectron2_config(config_path, configs_root)
    if found is None:
        raise CfglintError(f"{config_path} not available in detectron2's model zoo")
    return found


CheckpointTable = Tuple[str, Dict[str, str]]


def read_checkpoint_table(source: str) -> Optional[CheckpointTable]:
    """(S3_PREFIX, CONFIG_PATH_TO_URL_SUFFIX) of detectron2's `model_zoo.py` source, read as
    literals (`ast.literal_eval` of the two class attributes, nothing run), or None when the
    source does not hold them as literals."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == _URL_TABLE_CLASS:
            found = {}
            for statement in node.body:
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                        and isinstance(statement.targets[0], ast.Name):
                    try:
                        found[statement.targets[0].id] = ast.literal_eval(statement.value)
                    except (ValueError, TypeError, SyntaxError, RecursionError):
                        continue
            prefix, table = found.get("S3_PREFIX"), found.get("CONFIG_PATH_TO_URL_SUFFIX")
            if isinstance(prefix, str) and isinstance(table, dict) and \
                    all(isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
                return prefix, table
    return None


@functools.lru_cache(maxsize=4)
def _checkpoint_table(installed_configs: Optional[str]) -> Optional[CheckpointTable]:
    if installed_configs is not None:
        # an installed detectron2: its own table, beside the configs it serves
        source = os.path.join(os.path.dirname(installed_configs), "model_zoo.py")
        try:
            with open(source, encoding="utf-8") as f:
                return read_checkpoint_table(f.read())
        except (OSError, UnicodeDecodeError):
            return None
    try:
        with open(SHIPPED_CHECKPOINT_TABLE, encoding="utf-8") as f:
            shipped = json.load(f)
        return shipped["S3_PREFIX"], shipped["CONFIG_PATH_TO_URL_SUFFIX"]
    except (OSError, ValueError, KeyError):
        return None


def checkpoint_url(config_path: str) -> Optional[str]:
    """`model_zoo.get_checkpoint_url(config_path)`: the URL of the model the zoo trained with that
    config, or None where detectron2 raises RuntimeError ("Pretrained model for ... is not
    available!"). Same lookup as detectron2's `_ModelZooUrls.query`."""
    table = _checkpoint_table(installed_detectron2_configs())
    if table is None:
        return None
    prefix, suffixes = table
    name = config_path.replace(".yaml", "").replace(".py", "")
    return prefix + name + "/" + suffixes[name] if name in suffixes else None


def zoo_root_of(found: str, from_file: str) -> Optional[str]:
    """The zoo directory a `find_*_config` result lies in (a shipped/installed zoo, or the detrex
    checkout above `from_file`): the root `roots.confine` checks it against."""
    real = os.path.realpath(found)
    for root in zoo_roots():
        if real.startswith(os.path.realpath(root) + os.sep):
            return root
    directory = os.path.dirname(os.path.abspath(from_file))
    while True:
        if real.startswith(os.path.realpath(directory) + os.sep) and (
                os.path.isdir(os.path.join(directory, _DETREX_SUBDIR))
                or os.path.isdir(os.path.join(directory, "projects"))):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def find_detrex_config(config_path: str, from_file: str) -> Optional[str]:
    """`detrex.config.get_config(config_path)` called from `from_file`: the file, or None."""
    if not is_zoo_name(config_path):
        return None
    installed = installed_detrex_configs()
    if installed is not None:
        candidate = os.path.join(installed, config_path)
        return os.path.normpath(candidate) if os.path.isfile(candidate) else None
    start = os.path.abspath(from_file)
    directory = os.path.dirname(start)
    while True:
        linked = os.path.join(directory, _DETREX_SUBDIR, config_path)
        if os.path.isfile(linked):
            return _as_given(linked, from_file)
        projects = os.path.join(directory, "projects") + os.sep
        checkout = os.path.join(directory, "configs", config_path)
        if start.startswith(projects) and os.path.isfile(checkout):
            return _as_given(checkout, from_file)
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _as_given(path: str, from_file: str) -> str:
    """Relative when the config was named relatively (paths in messages stay short)."""
    return os.path.normpath(path) if os.path.isabs(from_file) else os.path.relpath(path)
