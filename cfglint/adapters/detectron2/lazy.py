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
from cfglint.adapters.detectron2.hydra_overrides import OVERRIDE_FILE, parse_for_detectron2
from cfglint.adapters.detectron2 import zoo as zoo_module
from cfglint.adapters.detectron2.lazy_interp import FileInterpreter
from cfglint.adapters.detectron2.lazy_interpolation import resolve_interpolations
from cfglint.adapters import known_names
from cfglint.adapters.detectron2.lazy_values import (CallRecord, ConfigDict, ConfigList, Symbol, collect_locations,
                                                     copy_value, to_plain)
from cfglint.errors import CfglintError, UnsafeContentError
from cfglint.model.location import Location
from cfglint.model.resolved import DETECTRON2, KeyPath, ResolvedConfig

__all__ = ["resolve_lazy", "resolve_interpolations", "apply_overrides"]

MAX_IMPORT_DEPTH = 50
#: Where a command-line override (`--opts a.b=1`) is said to come from.
OVERRIDE_LOCATION = Location("<override>")
#: Which `get_config` a LazyConfig calls: detectron2's model zoo or detrex's configs.
DETECTRON2_ZOO, DETREX_ZOO = "detectron2", "detrex"


def resolve_lazy(path: str, overrides: Sequence[str] = (), configs_root: Optional[str] = None) -> ResolvedConfig:
    """`LazyConfig.load(path)` + `LazyConfig.apply_overrides(cfg, overrides)`, statically.

    `configs_root` is the directory detectron2's `model_zoo.get_config("common/...")` reads from;
    by default an installed detectron2's model zoo, else cfglint's copy of it (:mod:`zoo`).
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
        _check_symbols(interp)
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

    def get_config(self, config_path: str, at: Location, depth: int, zoo: str = DETECTRON2_ZOO) -> ConfigDict:
        """`model_zoo.get_config("common/x.py")` (detectron2's model zoo) or detrex's `get_config`
        (detrex's configs): the config objects of that file (see :mod:`zoo`)."""
        if not config_path.endswith(".py"):
            raise CfglintError(f"get_config({config_path!r}): only .py configs can be read from a LazyConfig",
                               at.file, at.line)
        if not zoo_module.is_zoo_name(config_path):
            # A model-zoo name is relative to the framework's configs directory; escaping it would
            # make the linted file pull in any file on the machine.
            raise UnsafeContentError(f"get_config({config_path!r}) names a file outside the configs directory; "
                                     "cfglint refuses it", at.file, at.line)
        if zoo == DETREX_ZOO:
            target = zoo_module.find_detrex_config(config_path, at.file)
            if target is None:
                raise CfglintError(f"get_config({config_path!r}): {config_path} not available in detrex configs "
                                   "(detrex reads its own configs/: install detrex, or lint the config inside "
                                   "a detrex checkout)", at.file, at.line)
        else:
            target = zoo_module.find_detectron2_config(config_path, self.configs_root)
            if target is None:
                raise CfglintError(f"get_config({config_path!r}): {config_path} not available in detectron2's "
                                   "model zoo", at.file, at.line)
        roots.confine(target, at.file, written=config_path, at_file=at.file, at_line=at.line, what="get_config file",
                      within=zoo_module.zoo_root_of(target, at.file))
        return config_objects(self.load_file(target, at, depth))


def _check_symbols(interp: FileInterpreter) -> None:
    """`nn.SyncBatchNorm2d` (or `from torch.nn import SyncBatchNorm2d`) fails in LazyConfig.load
    with AttributeError / ImportError when the module has no such name; refuse it the same way
    where cfglint knows the module's names (:mod:`cfglint.adapters.known_names`)."""
    for name, value in interp.namespace.items():
        found = _missing_symbol(value, interp.bound_at.get(name), 0)
        if found is not None:
            (module, attribute), where = found
            raise CfglintError(f"{module} has no attribute {attribute!r} ({known_names.versions()}); "
                               "LazyConfig.load fails here", where.file if where else interp.path,
                               where.line if where else None)


def _missing_symbol(value: Any, where: Optional[Location], depth: int) -> Any:
    if depth > 200:
        return None
    if isinstance(value, Symbol):
        missing = known_names.missing_attribute(value.dotted)
        return (missing, where) if missing else None
    children: List[Tuple[Any, Optional[Location]]] = []
    if isinstance(value, ConfigDict):
        children = [(v, value.where.get(k, where)) for k, v in value.items()]
    elif isinstance(value, ConfigList):
        children = [(v, value.where[i] if i < len(value.where) and value.where[i] else where)
                    for i, v in enumerate(value)]
    elif isinstance(value, (list, tuple)):
        children = [(v, where) for v in value]
    elif isinstance(value, dict):
        children = [(v, where) for v in value.values()]
    elif isinstance(value, CallRecord):
        children = [(v, where) for v in list(value.args) + list(value.kwargs.values())]
    for child, child_where in children:
        found = _missing_symbol(child, child_where, depth + 1)
        if found is not None:
            return found
    return None


def apply_overrides(configs: ConfigDict, overrides: Sequence[str]) -> None:
    """`LazyConfig.apply_overrides`: each override read with Hydra's override grammar.

    detectron2 parses the overrides with hydra's `OverridesParser` (see :mod:`hydra_overrides`),
    refuses deletions, ignores `+`/`++`, then `safe_update`s: like `OmegaConf.update(..., merge=True)`
    this creates missing keys, merges a dict value into an existing dict, and refuses to descend
    into a value that is not a config.
    """
    parsed = [parse_for_detectron2(override, position) for position, override in enumerate(overrides, start=1)]
    for position, (key, value) in enumerate(parsed, start=1):
        _update(configs, key, _as_config(value), position)


def _update(configs: ConfigDict, key: str, value: Any, position: int = 1) -> None:
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
        if not isinstance(child, (ConfigDict, ConfigList)) and not _is_shape_spec(child):
            prefix = ".".join(parts[:i + 1])
            raise CfglintError(f"cannot override {key}: {prefix} is not a config but "
                               f"{type(child).__name__ if child is not None else 'missing'}",
                               OVERRIDE_FILE, position)
        node = child
    last = parts[-1]
    if isinstance(node, ConfigList):
        if not (last.isdigit() and int(last) < len(node)):
            raise CfglintError(f"cannot override {key}: {last!r} is not an index of the list",
                               OVERRIDE_FILE, position)
        index = int(last)
        if _is_shape_spec(node[index]) and isinstance(value, ConfigDict):
            for k, v in value.items():
                _set_shape_field(node[index], k, v, key, position)
        elif isinstance(node[index], ConfigDict) and isinstance(value, ConfigDict):
            for k, v in value.items():
                _merge(node[index], k, v, position)
        elif _merge_conflict(node[index], value):
            raise CfglintError(f"cannot override {key}: cannot merge a {_container_kind(value)} into a "
                               f"{_container_kind(node[index])}", OVERRIDE_FILE, position)
        else:
            node[index] = value
            node.where[index] = OVERRIDE_LOCATION
    elif _is_shape_spec(node):
        _set_shape_field(node, last, value, key, position)
    else:
        _merge(node, last, value, position)


#: A load-time `ShapeSpec(...)` becomes the structured node OmegaConf makes of the dataclass
#: (detectron2/layers/shape_spec.py): these fields only, each Optional[int].
SHAPE_SPEC_TARGETS = ("detectron2.layers.ShapeSpec", "detectron2.layers.shape_spec.ShapeSpec")
SHAPE_SPEC_FIELDS = ("channels", "height", "width", "stride")


def _is_shape_spec(value: Any) -> bool:
    return isinstance(value, CallRecord) and value.target in SHAPE_SPEC_TARGETS and len(value.args) <= 4


def _set_shape_field(record: CallRecord, field: Any, value: Any, key: str, position: int) -> None:
    """OmegaConf's structured ShapeSpec node: no new fields, and an IntegerNode's conversion
    (int, a string of an int, or null; not a bool, a float or a container)."""
    if field not in SHAPE_SPEC_FIELDS:
        raise CfglintError(f"cannot override {key}: ShapeSpec has no field {field!r} "
                           f"(its fields: {', '.join(SHAPE_SPEC_FIELDS)})", OVERRIDE_FILE, position)
    converted: Any = value
    if isinstance(value, str):
        try:
            converted = int(value)
        except ValueError:
            converted = None
    if value is not None and (isinstance(value, bool) or not isinstance(converted, int)):
        raise CfglintError(f"cannot override {key}: ShapeSpec.{field} is an integer field and {value!r} "
                           "cannot be converted to one", OVERRIDE_FILE, position)
    for index, arg in enumerate(record.args):          # positional ShapeSpec(256, ...): name them
        record.kwargs.setdefault(SHAPE_SPEC_FIELDS[index], arg)
    record.args = []
    record.kwargs[field] = converted


def _merge(node: ConfigDict, key: str, value: Any, position: int = 1) -> None:
    """Set node[key] = value, merging key by key when both are config dicts (merge=True); like
    OmegaConf's merge, a dict cannot merge into a list nor a list into a dict."""
    old = node.get(key)
    if isinstance(old, ConfigDict) and isinstance(value, ConfigDict):
        for k, v in value.items():
            _merge(old, k, v, position)
    elif _is_shape_spec(old) and isinstance(value, ConfigDict):
        for k, v in value.items():
            _set_shape_field(old, k, v, key, position)
    elif _merge_conflict(old, value):
        raise CfglintError(f"cannot override {key}: cannot merge a {_container_kind(value)} into a "
                           f"{_container_kind(old)}", OVERRIDE_FILE, position)
    else:
        node.put(key, value, OVERRIDE_LOCATION)


def _container_kind(value: Any) -> str:
    return "dict" if isinstance(value, ConfigDict) or _is_shape_spec(value) else "list"


def _merge_conflict(old: Any, value: Any) -> bool:
    lists = (ConfigList, list, tuple)
    return (((isinstance(old, ConfigDict) or _is_shape_spec(old)) and isinstance(value, lists))
            or (isinstance(old, lists) and isinstance(value, ConfigDict)))


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
