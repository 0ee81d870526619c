"""Detectron2 YACS configs, resolved statically: `get_cfg().merge_from_file(path)` + `merge_from_list(opts)`.

The steps mirror the real call chain so that the result equals what detectron2 builds:
1. fvcore `load_yaml_with_base`: read the file and its `_BASE_` chain (bases first, dicts merged
   recursively, everything else replaced) -- see :func:`load_with_bases`;
2. `get_cfg()`: the generated defaults table, plus the project add-ons the config needs (addons.py);
3. detectron2 `merge_from_file`: VERSION check and old-version conversion (compat.py);
4. yacs `_merge_a_into_b`: every string through `ast.literal_eval`, yacs's type rules, unknown keys
   refused -- see :class:`_YacsMerge`;
5. yacs `merge_from_list` for command-line overrides.
Nothing is executed or imported; every error names the file and line the user must fix.
"""
from __future__ import annotations

import ast
import copy
import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from cfglint.adapters import roots
from cfglint.adapters import suppressions as suppression_scan
from cfglint.adapters.detectron2 import addons as addon_tables
from cfglint.adapters.detectron2 import compat
from cfglint.adapters.detectron2.defaults_table import DEFAULTS
from cfglint.adapters.detectron2.yaml_reader import read_yaml
from cfglint.adapters.limits import MAX_BASE_DEPTH, read_config_text
from cfglint.errors import CfglintError, UnknownKeyError, UnsupportedError
from cfglint.model import Location, ResolvedConfig
from cfglint.model.resolved import DETECTRON2

KeyPath = Tuple[str, ...]
Locations = Dict[KeyPath, Location]

BASE_KEY = "_BASE_"
OPTS_LOCATION = Location("--opts", None)
#: yacs `_VALID_TYPES`: what a leaf of a CfgNode may hold (a dict becomes a node).
VALID_TYPES = (tuple, list, str, int, float, bool, type(None))
_TYPE_NAMES = {tuple: "a tuple", list: "a list", str: "a string", int: "an int", float: "a float",
               bool: "a bool", type(None): "None", dict: "a config node"}


def resolve_yaml(path: str, opts: Sequence[str] = (), allow_new_keys: bool = False,
                 addons: Sequence[str] = (), defaults: Any = None) -> ResolvedConfig:
    """`get_cfg()` (+ add-ons) `.merge_from_file(path)` then `.merge_from_list(opts)`, statically.

    `defaults` is the config the project's own setup builds before `merge_from_file` (get_cfg() with
    its add-on functions applied, as a :class:`ProjectDefaults`); by default detectron2's defaults
    plus the add-ons a config needs: those the project's `setup()` applies (found in the repository
    when the config uses keys detectron2 lacks), else the built-in add-on tables."""
    if "://" in path:
        raise UnsupportedError("remote Detectron2 configs are not fetched; download the file first", path)
    if not os.path.isfile(path):
        raise CfglintError("no such file", path)
    loaded = load_with_bases(path)
    _check_leaf_types(loaded.data, (), loaded.key_locations)
    used = _used_keys(loaded.data) | _opts_keys(opts)
    if defaults is None and not addons and any(not addon_tables.has_path(DEFAULTS, p) for p in used):
        from cfglint.adapters.script.project import project_defaults   # only for keys detectron2 lacks
        defaults = project_defaults(path)
    locations: Locations = {}
    if defaults is not None:
        cfg = copy.deepcopy(defaults.data)
        locations.update(defaults.locations)
    else:
        cfg = _defaults_with_addons(used, addons)
    locations.update(loaded.key_locations)
    _merge_file(cfg, loaded, locations, allow_new_keys)
    _merge_opts(cfg, opts, locations)
    return ResolvedConfig(framework=DETECTRON2, path=path, data=cfg, syntax="yacs",
                          locations=_leaf_locations(cfg, locations), files=loaded.files,
                          suppressions=loaded.suppressions)


@dataclass
class ProjectDefaults:
    """What a project's `setup()` builds before `merge_from_file`: get_cfg() + its add-on functions.

    `data` holds dicts (a dict subclass with a true `new_allowed` attribute is a `CN(new_allowed=True)`
    node), `locations` the add-on lines that set values, `addons` the functions applied, in order."""

    data: Dict[str, Any]
    locations: Locations = field(default_factory=dict)
    addons: List[str] = field(default_factory=list)
    entry: str = ""


def merge_file_into(cfg: Dict[str, Any], path: str, locations: Locations, allow_new_keys: bool = False) -> LoadedYaml:
    """`cfg.merge_from_file(path)` on an existing config (a script's `get_cfg()` after its add-ons)."""
    if "://" in path:
        raise UnsupportedError("remote Detectron2 configs are not fetched; download the file first", path)
    if not os.path.isfile(path):
        raise CfglintError("no such file", path)
    loaded = load_with_bases(path)
    _check_leaf_types(loaded.data, (), loaded.key_locations)
    locations.update(loaded.key_locations)
    _merge_file(cfg, loaded, locations, allow_new_keys)
    return loaded


def merge_list_into(cfg: Dict[str, Any], opts: Sequence[Any], locations: Locations, where: Location) -> None:
    """`cfg.merge_from_list(opts)` with the values said to come from `where` (a script's line)."""
    _merge_opts(cfg, opts, locations, where)


def leaf_locations(cfg: Dict[str, Any], locations: Locations) -> Locations:
    return _leaf_locations(cfg, locations)


def resolve_object(obj: Any, opts: Sequence[str] = (), allow_new_keys: bool = False,
                   addons: Sequence[str] = ()) -> ResolvedConfig:
    """A CfgNode or plain nested mapping merged over the defaults, as `merge_from_other_cfg` does."""
    if not isinstance(obj, Mapping):
        raise CfglintError(f"expected a Detectron2 CfgNode, a mapping or a config path, got {type(obj).__name__}")
    is_cfgnode = any(cls.__name__ == "CfgNode" for cls in type(obj).__mro__)
    data = _plain(obj)
    if BASE_KEY in data:
        raise CfglintError(f"the reserved key '{BASE_KEY}' can only be used in files", "<CfgNode>")
    _check_leaf_types(data, (), {})
    cfg = _defaults_with_addons(_used_keys(data) | _opts_keys(opts), addons)
    locations: Locations = {}
    merge = _YacsMerge(cfg, {}, allow_new_keys, "<CfgNode>")
    merge.merge(data, cfg, ())
    merge.raise_unknown()
    _merge_opts(cfg, opts, locations)
    return ResolvedConfig(framework=DETECTRON2, path="<CfgNode>", data=cfg,
                          syntax="cfgnode" if is_cfgnode else "mapping",
                          locations=_leaf_locations(cfg, locations))


# --------------------------------------------------------------------------------------------
# 1. fvcore load_yaml_with_base


@dataclass
class LoadedYaml:
    """A file merged over its bases: data, where every key path was last set, files read."""

    data: Dict[str, Any]
    key_locations: Locations = field(default_factory=dict)
    files: List[str] = field(default_factory=list)
    suppressions: Dict[Tuple[str, int], List[str]] = field(default_factory=dict)
    #: real path -> (data, locations) of a file already merged over its bases: a base shared by
    #: several files (a diamond) is read and merged once, not once per path to it.
    memo: Dict[str, Tuple[dict, Locations]] = field(default_factory=dict, repr=False)


def load_with_bases(path: str) -> LoadedYaml:
    """fvcore `load_yaml_with_base`: the file with its `_BASE_` chain merged in, bases first."""
    result = LoadedYaml({})
    merged, locs = _load_one(path, path, result, [])
    result.data, result.key_locations = merged, locs
    return result


def _load_one(read_path: str, shown: str, result: LoadedYaml, stack: List[str]) -> Tuple[dict, Locations]:
    real = os.path.realpath(read_path)
    if real in result.memo:
        data, locs = result.memo[real]
        return copy.deepcopy(data), dict(locs)
    data, locs = _load_uncached(read_path, shown, result, stack, real)
    result.memo[real] = (copy.deepcopy(data), dict(locs))
    return data, locs


def _load_uncached(read_path: str, shown: str, result: LoadedYaml, stack: List[str],
                   real: str) -> Tuple[dict, Locations]:
    text = read_config_text(read_path, shown)
    parsed = read_yaml(text, shown)
    result.suppressions.update(suppression_scan.scan(shown, text))
    data = parsed.data
    locs = {p: Location(shown, line) for p, line in parsed.key_lines.items()}
    if BASE_KEY not in data:
        result.files.append(shown)
        return data, locs
    base_line = locs[(BASE_KEY,)]
    bases = data.pop(BASE_KEY)
    locs = {p: loc for p, loc in locs.items() if p[0] != BASE_KEY}
    if isinstance(bases, str):
        bases = [bases]
        merged_bases, base_locs = None, {}
    else:
        merged_bases, base_locs = {}, {}
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise CfglintError(f"{BASE_KEY} must be a file path or a list of file paths", base_line.file, base_line.line)
    for base in bases:
        base_read, base_shown = _base_path(base, read_path, shown, base_line)
        roots.confine(base_read, read_path, written=base, at_file=base_line.file, at_line=base_line.line,
                      what=f"{BASE_KEY}")
        if os.path.realpath(base_read) in stack + [real]:
            chain = " -> ".join([*(os.path.basename(s) for s in stack + [real]), os.path.basename(base_read)])
            raise CfglintError(f"{BASE_KEY} cycle: {chain}", base_line.file, base_line.line)
        if not roots.is_regular_file(base_read):
            raise CfglintError(f"base config {roots.shown_path(base)!r} not found "
                               f"(looked for {roots.shown_path(base_shown, 300)})",
                               base_line.file, base_line.line)
        if len(stack) + 1 >= MAX_BASE_DEPTH:
            raise CfglintError(f"{BASE_KEY} chain is more than {MAX_BASE_DEPTH} files deep",
                               base_line.file, base_line.line)
        base_data, locs_of_base = _load_one(base_read, base_shown, result, stack + [real])
        if merged_bases is None:
            merged_bases, base_locs = base_data, locs_of_base
        else:
            _fvcore_merge(base_data, merged_bases, (), locs_of_base, base_locs)
    _fvcore_merge(data, merged_bases, (), locs, base_locs)
    result.files.append(shown)
    return merged_bases, base_locs


def _quote(value: Any) -> str:
    """A value in a message: its repr, escaped and cut short (never a whole value from elsewhere)."""
    from cfglint.printable import excerpt
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = f"<{type(value).__name__}>"
    return excerpt(text, 60)


def _base_path(base: str, including_read: str, including_shown: str, where: Location) -> Tuple[str, str]:
    """fvcore: `~` expanded; joined to the including file's directory unless `/` or http(s)."""
    if base.startswith("~"):
        base = os.path.expanduser(base)
    if base.startswith(("https://", "http://")):
        raise UnsupportedError(f"remote base config {roots.shown_path(base)!r} is not fetched; download it and use a local path",
                               where.file, where.line)
    if base.startswith("/"):
        return base, base
    return (os.path.join(os.path.dirname(including_read), base),
            os.path.normpath(os.path.join(os.path.dirname(including_shown), base)))


def _fvcore_merge(a: dict, b: dict, prefix: KeyPath, a_locs: Locations, b_locs: Locations) -> None:
    """fvcore merge_a_into_b: dicts recursively, anything else replaced; locations follow values."""
    for key, value in a.items():
        path = prefix + (key,)
        if isinstance(value, dict) and key in b:
            if not isinstance(b[key], dict):
                loc = a_locs.get(path)
                raise CfglintError(f"Cannot inherit key '{key}' from base: the base sets {'.'.join(path)} "
                                   f"to a value, this file to a mapping", loc and loc.file, loc and loc.line)
            b_locs[path] = a_locs[path]
            _fvcore_merge(value, b[key], path, a_locs, b_locs)
        else:
            old = b.get(key)
            for stale in [path, *(_key_paths(old, path) if isinstance(old, dict) else ())]:
                b_locs.pop(stale, None)
            b[key] = value
            for fresh in [path, *(_key_paths(value, path) if isinstance(value, dict) else ())]:
                if fresh in a_locs:
                    b_locs[fresh] = a_locs[fresh]


def _key_paths(value: dict, prefix: KeyPath) -> Iterable[KeyPath]:
    """Every key path below `prefix` in a nested dict (the locations a replaced value owns):
    walking the value keeps a merge linear in the config's size, not in keys x locations."""
    stack = [(value, prefix)]
    while stack:
        node, base = stack.pop()
        for k, v in node.items():
            path = base + (k,)
            yield path
            if isinstance(v, dict):
                stack.append((v, path))


# --------------------------------------------------------------------------------------------
# 2. get_cfg() with the add-ons the config uses


def _defaults_with_addons(used: Set[KeyPath], explicit: Sequence[str]) -> Dict[str, Any]:
    cfg = copy.deepcopy(DEFAULTS)
    chosen = addon_tables.by_name(explicit)
    chosen += [a for a in addon_tables.detect(used, DEFAULTS) if a not in chosen]
    addon_tables.apply(cfg, chosen)
    return cfg


def _used_keys(data: Dict[str, Any], prefix: KeyPath = ()) -> Set[KeyPath]:
    found: Set[KeyPath] = set()
    for key, value in data.items():
        found.add(prefix + (key,))
        if isinstance(value, dict):
            found |= _used_keys(value, prefix + (key,))
    return found


def _opts_keys(opts: Sequence[Any]) -> Set[KeyPath]:
    return {tuple(k.split(".")) for k in list(opts)[0::2] if isinstance(k, str)}


# --------------------------------------------------------------------------------------------
# 3. detectron2 merge_from_file: VERSION


def _merge_file(cfg: Dict[str, Any], loaded: LoadedYaml, locations: Locations, allow_new_keys: bool) -> None:
    latest = DEFAULTS["VERSION"]
    version = _file_version(loaded, latest)
    merge = _YacsMerge(cfg, locations, allow_new_keys, loaded.files[-1])
    if version == latest:
        merge.merge(loaded.data, cfg, ())
        merge.raise_unknown()
        return
    old = copy.deepcopy(cfg)
    compat.downgrade(old, latest, version)
    merge.merge(loaded.data, old, ())
    merge.raise_unknown()
    compat.upgrade(old, version, latest, locations)
    cfg.clear()
    cfg.update(old)


def _file_version(loaded: LoadedYaml, latest: int) -> int:
    if "VERSION" not in loaded.data:
        return compat.guess_version(loaded.data, latest)
    version = _decode(loaded.data["VERSION"])
    where = loaded.key_locations.get(("VERSION",))
    if not isinstance(version, int) or isinstance(version, bool):
        raise CfglintError(f"VERSION must be an integer, got {_quote(loaded.data['VERSION'])}", where.file, where.line)
    if version > latest:
        raise CfglintError(f"cannot merge a v{version} config into Detectron2's v{latest} defaults",
                           where.file, where.line)
    if version < 0:
        raise CfglintError(f"VERSION {version} is not a Detectron2 config version (0..{latest})", where.file, where.line)
    return version


# --------------------------------------------------------------------------------------------
# 4. yacs _merge_a_into_b


class _YacsMerge:
    """yacs `_merge_a_into_b`: decode, type-check and assign each key of a file into the config."""

    def __init__(self, root: Dict[str, Any], locations: Locations, new_allowed: bool, fallback_file: str):
        self.root = root
        self.locations = locations
        self.new_allowed = new_allowed
        self.fallback_file = fallback_file
        self.unknown: List[UnknownKey] = []

    def merge(self, a: Dict[str, Any], b: Dict[str, Any], prefix: KeyPath) -> None:
        for key, raw in a.items():
            path = prefix + (key,)
            value = _decode(copy.deepcopy(raw))
            if key in b:
                value = _coerce(value, b[key], path, self._where(path))
                if isinstance(value, dict):
                    self.merge(value, b[key], path)
                else:
                    b[key] = value
            elif self.new_allowed or getattr(b, "new_allowed", False):   # CN(new_allowed=True)
                b[key] = value
            else:
                # yacs stops at the first; every unknown key of the file is collected so that
                # lint can report them all (raise_unknown still leads with the first).
                self.unknown.append(_unknown_key_info(path, raw, self.root, self._where(path)))

    def raise_unknown(self) -> None:
        if self.unknown:
            raise UnknownKeysError(self.unknown)

    def _where(self, path: KeyPath) -> Location:
        return self.locations.get(path) or Location(self.fallback_file, None)


def _decode(value: Any) -> Any:
    """yacs `_decode_cfg_value`: strings go through ast.literal_eval, kept as-is when not a literal."""
    if not isinstance(value, str):
        return value
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value
    except (MemoryError, RecursionError):
        raise CfglintError(f"value {value[:40]!r}... is too deeply nested to read") from None


def _coerce(value: Any, original: Any, path: KeyPath, where: Location) -> Any:
    """yacs `_check_and_coerce_cfg_value_type`: same type; None on either side; list<->tuple."""
    if type(value) is type(original) or (isinstance(value, dict) and isinstance(original, dict)):
        return value
    if (value is None and type(original) in VALID_TYPES) or (original is None and type(value) in VALID_TYPES):
        return value
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple) and type(original) in (list, tuple):
        return type(original)(value)
    hint = ""
    if type(original) is float and type(value) is int:
        hint = f"; write {value}.0"
    elif type(original) is int and type(value) is float and value.is_integer():
        hint = f"; write {int(value)}"
    elif type(original) is str and type(value) in (int, float, bool):
        hint = "; quote the value"
    raise CfglintError(
        f"type mismatch for {'.'.join(path)}: the default is {_type_name(original)} ({_quote(original)}) but the "
        f"config gives {_type_name(value)} ({_quote(value)}), which Detectron2 refuses{hint}", where.file, where.line)


def _type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


@dataclass(frozen=True)
class UnknownKey:
    """A key the defaults (plus known add-ons) lack: what yacs's KeyError says, structured."""

    key: str                       # dotted, e.g. MODEL.ROI_HEADS.NUM_CLASS
    suggestion: Optional[str]      # the close existing key (a typo), if any
    location: Location
    message: str                   # the full sentence, as `show` reports it
    kind: str = "unknown"          # unknown | computed | renamed
    subtree: bool = False          # the key holds a whole new node (MODEL.TENSOR_MASK: {...})


class UnknownKeysError(UnknownKeyError):
    """The file sets keys get_cfg() does not have: led by the first (what detectron2 reports, its
    `key` and `suggestion`), with all of them in `keys`."""

    def __init__(self, keys: Sequence[UnknownKey]):
        first = keys[0]
        super().__init__(first.message, first.key, first.suggestion, first.location.file, first.location.line)
        self.keys = list(keys)


#: A suggestion is a typo fix only when the last part of the key is this close to the known one
#: (NUM_CLASS -> NUM_CLASSES 0.90; an add-on's HEAD_CHANNELS -> ASPP_CHANNELS 0.77 is not).
_TYPO_CUTOFF = 0.8


def _unknown_key_info(path: KeyPath, raw: Any, root: Dict[str, Any], where: Location) -> UnknownKey:
    full_key = ".".join(path)
    if path[-1].startswith("COMPUTED_") or full_key in compat.OLD_NAMES:
        err = _unknown_key(path, root, where)
        kind = "computed" if path[-1].startswith("COMPUTED_") else "renamed"
        return UnknownKey(full_key, None, where, err.message, kind, isinstance(raw, dict))
    close = _closest_key(full_key, root)
    suggestion = None
    if close and difflib.SequenceMatcher(None, path[-1], close.split(".")[-1]).ratio() >= _TYPO_CUTOFF:
        suggestion = close
    return UnknownKey(full_key, suggestion, where, _unknown_message(full_key, close), "unknown", isinstance(raw, dict))


def _closest_key(full_key: str, root: Dict[str, Any]) -> Optional[str]:
    close = difflib.get_close_matches(full_key, list(_dotted_keys(root)), n=1, cutoff=0.75)
    return close[0] if close else None


def _unknown_message(full_key: str, close: Optional[str]) -> str:
    return f"unknown config key {full_key}" + (f"; did you mean {close}?" if close else "")


def _unknown_key(path: KeyPath, root: Dict[str, Any], where: Location) -> CfglintError:
    full_key = ".".join(path)
    if full_key.split(".")[-1].startswith("COMPUTED_"):
        return CfglintError(f"{full_key}: COMPUTED_ keys are set by code at run time and cannot be loaded "
                            "from a config (remove it, or pass --allow-new-keys)", where.file, where.line)
    if full_key in compat.OLD_NAMES:
        return UnknownKeyError(f"unknown config key {full_key}: it was renamed to {compat.OLD_NAMES[full_key]} "
                               "(set VERSION: 1 to load an old config)", full_key, compat.OLD_NAMES[full_key],
                               where.file, where.line)
    close = _closest_key(full_key, root)
    return UnknownKeyError(_unknown_message(full_key, close), full_key, close, where.file, where.line)


def _dotted_keys(tree: Dict[str, Any], prefix: str = "") -> Iterable[str]:
    for key, value in tree.items():
        yield prefix + key
        if isinstance(value, dict):
            yield from _dotted_keys(value, prefix + key + ".")


def _check_leaf_types(data: Dict[str, Any], prefix: KeyPath, locations: Locations) -> None:
    """The CfgNode constructor: every leaf must be one of yacs's valid types."""
    for key, value in data.items():
        path = prefix + (key,)
        if isinstance(value, dict):
            _check_leaf_types(value, path, locations)
        elif type(value) not in VALID_TYPES:
            loc = locations.get(path)
            raise CfglintError(f"{'.'.join(path)}: {type(value).__name__} value {_quote(value)} is not a valid "
                               "config value (use a string, number, bool, null or list)",
                               loc and loc.file, loc and loc.line)


# --------------------------------------------------------------------------------------------
# 5. yacs merge_from_list


def _merge_opts(cfg: Dict[str, Any], opts: Sequence[Any], locations: Locations,
                where: Location = OPTS_LOCATION) -> None:
    """yacs `merge_from_list`: KEY VALUE pairs; keys must exist (new_allowed is ignored)."""
    opts = list(opts)
    if len(opts) % 2:
        raise CfglintError(f"expected KEY VALUE pairs, got an odd number of items: {' '.join(map(str, opts))}",
                           where.file, where.line)
    for full_key, raw in zip(opts[0::2], opts[1::2]):
        if full_key == BASE_KEY:
            raise CfglintError(f"the reserved key '{BASE_KEY}' can only be used in files", where.file, where.line)
        path = tuple(str(full_key).split("."))
        node: Any = cfg
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or path[-1] not in node:
            raise _unknown_key(path, cfg, where)
        value = _coerce(_decode(raw), node[path[-1]], path, where)
        node[path[-1]] = value
        for stale in [p for p in locations if p[:len(path)] == path]:
            del locations[stale]
        locations[path] = where


# --------------------------------------------------------------------------------------------
# helpers


def _leaf_locations(cfg: Dict[str, Any], locations: Locations) -> Locations:
    """Keep the locations of values (not of mapping keys), so unset keys stay 'default'."""
    out: Locations = {}
    for path, loc in locations.items():
        node: Any = cfg
        for part in path:
            node = node.get(part, _MISSING) if isinstance(node, dict) else _MISSING
        if node is not _MISSING and not isinstance(node, dict):
            out[path] = loc
    return out


_MISSING = object()


def _plain(obj: Any) -> Any:
    """A CfgNode / mapping as plain dicts; lists and tuples copied with their type."""
    if isinstance(obj, Mapping):
        return {key: _plain(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(v) for v in obj) if type(obj) in (list, tuple) else [_plain(v) for v in obj]
    return copy.deepcopy(obj)


__all__ = ["resolve_yaml", "resolve_object", "load_with_bases", "LoadedYaml", "UnknownKey", "UnknownKeysError",
           "ProjectDefaults", "merge_file_into", "merge_list_into", "leaf_locations"]
