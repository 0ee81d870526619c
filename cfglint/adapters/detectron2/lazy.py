"""Detectron2 LazyConfig `.py` files -> ResolvedConfig, without running them.

Reproduces `LazyConfig.load` (detectron2/config/lazy.py) statically: the file and every config file
it imports relatively (or names in `model_zoo.get_config`) are evaluated by the restricted
interpreter of :mod:`lazy_interp`; each import re-evaluates the file, as `_patch_import` does.
`data` holds the top-level config objects (dicts not starting with `_`), targets as dotted paths,
interpolations as written; :func:`resolve_interpolations` gives effective values.
"""
from __future__ import annotations

import ast
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from cfglint.adapters import roots, suppressions
from cfglint.adapters.limits import check_data_size, read_config_text
from cfglint.adapters.detectron2.lazy_interp import FileInterpreter
from cfglint.adapters.detectron2.lazy_interpolation import resolve_interpolations
from cfglint.adapters.detectron2.lazy_values import (ConfigDict, ConfigList, collect_locations, copy_value,
                                                     to_plain)
from cfglint.errors import CfglintError, UnsafeContentError
from cfglint.model.location import Location
from cfglint.model.resolved import DETECTRON2, KeyPath, ResolvedConfig

__all__ = ["resolve_lazy", "resolve_interpolations", "apply_overrides"]

MAX_IMPORT_DEPTH = 50
#: Where a command-line override (`--opts a.b=1`) is said to come from.
OVERRIDE_LOCATION = Location("<override>")


def resolve_lazy(path: str, overrides: Sequence[str] = (), configs_root: Optional[str] = None) -> ResolvedConfig:
    """`LazyConfig.load(path)` + `LazyConfig.apply_overrides(cfg, overrides)`, statically.

    `configs_root` is the directory `model_zoo.get_config("common/...")` reads from; by default the
    nearest directory above the calling file that holds the requested file.
    """
    if not path.endswith(".py"):
        raise CfglintError("a LazyConfig must be a .py file", file=path)
    loader = _Loader(configs_root)
    interp = loader.load_file(os.path.normpath(path), None, 0)
    configs = config_objects(interp)
    apply_overrides(configs, overrides)
    locations: Dict[KeyPath, Location] = {}
    collect_locations(configs, (), locations)
    return ResolvedConfig(framework=DETECTRON2, path=path, data=to_plain(configs), locations=locations,
                          syntax="lazyconfig", files=loader.files, suppressions=loader.suppressions)


def config_objects(interp: FileInterpreter) -> ConfigDict:
    """What `LazyConfig.load` keeps of a namespace: config values whose name does not start with `_`."""
    out = ConfigDict()
    for name, value in interp.namespace.items():
        is_config = isinstance(value, ConfigDict) or (isinstance(value, ConfigList) and value.is_list_config)
        if is_config and not name.startswith("_"):
            out.put(name, copy_value(value), interp.bound_at.get(name))
    return out


class _Loader:
    """Reads config files for the interpreter: relative imports, get_config, cycles, bookkeeping."""

    def __init__(self, configs_root: Optional[str]) -> None:
        self.configs_root = configs_root
        self.files: List[str] = []
        self.suppressions: Dict[Tuple[str, int], List[str]] = {}
        self.loading: List[str] = []
        #: path -> its evaluated file: importers only take copies, so a file imported along many
        #: paths (a diamond) is evaluated once, not once per path.
        self.loaded: Dict[str, FileInterpreter] = {}

    def load_file(self, path: str, imported_at: Optional[Location], depth: int) -> FileInterpreter:
        at_file, at_line = (imported_at.file, imported_at.line) if imported_at else (path, None)
        if path in self.loading:
            chain = " -> ".join(self.loading[self.loading.index(path):] + [path])
            raise CfglintError(f"circular import of config files: {chain}", at_file, at_line)
        if depth > MAX_IMPORT_DEPTH:
            raise CfglintError("config imports nest too deeply", at_file, at_line)
        if path in self.loaded:
            return self.loaded[path]
        if not os.path.exists(path):
            raise CfglintError("no such file" if imported_at is None else f"cannot import {path}: no such file",
                               at_file, at_line)
        text = read_config_text(path)
        try:
            tree = ast.parse(text, filename=path)
        except SyntaxError as exc:
            raise CfglintError(f"syntax error: {exc.msg}", path, exc.lineno) from None
        except (RecursionError, MemoryError):  # CPython's parser on very deeply nested expressions
            raise CfglintError("the file nests expressions too deeply to parse", path) from None
        self.loading.append(path)
        try:
            interp = FileInterpreter(path, self, depth)
            interp.run(tree)
        finally:
            self.loading.pop()
        if path not in self.files:
            self.files.append(path)
            self.suppressions.update(suppressions.scan(path, text))
        check_data_size(interp.namespace, path)
        self.loaded[path] = interp
        return interp

    def find_relative(self, from_file: str, module: str, level: int, line: int) -> str:
        """The file a relative import names, exactly as `_patch_import.find_relative_file` finds it."""
        directory = os.path.dirname(from_file)
        for _ in range(level - 1):
            directory = os.path.dirname(directory)
        if not module:
            raise CfglintError("`from . import x` is not supported by LazyConfig; import from a file "
                               "(`from .file import x`)", from_file, line)
        target = os.path.join(directory, *module.split("."))
        if not target.endswith(".py"):
            target += ".py"
        roots.confine(target, from_file, written=f"{'.' * level}{module}", at_file=from_file, at_line=line,
                      what="imported config")
        if not os.path.isfile(target):
            raise CfglintError(f"cannot import {'.' * level}{module}: {target} does not exist", from_file, line)
        return os.path.normpath(target)

    def get_config(self, config_path: str, at: Location, depth: int) -> ConfigDict:
        """`model_zoo.get_config("common/x.py")`: the config objects of that file in the configs root."""
        if not config_path.endswith(".py"):
            raise CfglintError(f"get_config({config_path!r}): only .py configs can be read from a LazyConfig",
                               at.file, at.line)
        if os.path.isabs(config_path) or ".." in config_path.replace("\\", "/").split("/"):
            # A model-zoo name is relative to detectron2's configs directory; escaping it would make
            # the linted file pull in any file on the machine.
            raise UnsafeContentError(f"get_config({config_path!r}) names a file outside the configs directory; "
                                     "cfglint refuses it", at.file, at.line)
        target = _find_in_configs_root(config_path, self.configs_root, at.file)
        if target is None:
            raise CfglintError(f"get_config({config_path!r}): no configs directory above this file has "
                               f"{config_path}; pass the configs root", at.file, at.line)
        roots.confine(target, at.file, written=config_path, at_file=at.file, at_line=at.line, what="get_config file")
        return config_objects(self.load_file(target, at, depth))


def _find_in_configs_root(config_path: str, configs_root: Optional[str], from_file: str) -> Optional[str]:
    """The file `get_config` means: in `configs_root`, else in the nearest ancestor that has it.

    detectron2 reads its installed `configs/`; a checkout has it as `<repo>/configs` next to
    `projects/`, so each ancestor `d` is tried as `d/<path>` and `d/configs/<path>`.
    """
    if configs_root is not None:
        candidate = os.path.join(configs_root, config_path)
        return os.path.normpath(candidate) if os.path.isfile(candidate) else None
    directory = os.path.dirname(os.path.abspath(from_file))
    while True:
        for candidate in (os.path.join(directory, config_path), os.path.join(directory, "configs", config_path)):
            if os.path.isfile(candidate):
                return candidate if os.path.isabs(from_file) else os.path.relpath(candidate)
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def apply_overrides(configs: ConfigDict, overrides: Sequence[str]) -> None:
    """`LazyConfig.apply_overrides`: `key=value`, value read with literal_eval (else a string).

    Like `OmegaConf.update(..., merge=True)` this creates missing keys, merges a dict value into an
    existing dict, and refuses to descend into a value that is not a config.
    """
    for override in overrides:
        key, sep, text = override.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CfglintError(f"override {override!r} must look like key=value")
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = text.strip()
        _update(configs, key, _as_config(value))


def _update(configs: ConfigDict, key: str, value: Any) -> None:
    parts: List[Any] = key.split(".")
    node: Any = configs
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, ConfigList) and part.isdigit() and int(part) < len(node):
            child = node[int(part)]
        elif isinstance(node, ConfigDict):
            child = node.get(part)
            if child is None:
                child = ConfigDict()
                node.put(part, child, OVERRIDE_LOCATION)
        else:
            child = None
        if not isinstance(child, (ConfigDict, ConfigList)):
            prefix = ".".join(parts[:i + 1])
            raise CfglintError(f"cannot override {key}: {prefix} is not a config but "
                               f"{type(child).__name__ if child is not None else 'missing'}")
        node = child
    last = parts[-1]
    if isinstance(node, ConfigList):
        if not (last.isdigit() and int(last) < len(node)):
            raise CfglintError(f"cannot override {key}: {last!r} is not an index of the list")
        node[int(last)] = value
        node.where[int(last)] = OVERRIDE_LOCATION
    else:
        _merge(node, last, value)


def _merge(node: ConfigDict, key: str, value: Any) -> None:
    """Set node[key] = value, merging key by key when both are config dicts (merge=True)."""
    if isinstance(node.get(key), ConfigDict) and isinstance(value, ConfigDict):
        for k, v in value.items():
            _merge(node[key], k, v)
    else:
        node.put(key, value, OVERRIDE_LOCATION)


def _as_config(value: Any) -> Any:
    """literal_eval gives plain dicts/lists; give them `where` tables like everything else."""
    if isinstance(value, dict):
        out = ConfigDict()
        for k, v in value.items():
            out.put(k, _as_config(v), OVERRIDE_LOCATION)
        return out
    if isinstance(value, list):
        return ConfigList([_as_config(v) for v in value], [OVERRIDE_LOCATION] * len(value))
    return value
