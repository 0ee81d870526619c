"""The values a static mmengine config evaluation produces, and their export to plain data.

mmengine distinguishes two kinds of dict while a config runs: a plain ``dict(...)`` written in the
file, and a ``ConfigDict`` (anything that came from ``_base_`` or was stored into one). They behave
differently (``.update`` is recursive and attribute access works only on a ConfigDict), so
:class:`CfgDict` carries that flag, plus the file:line that set each of its keys.
"""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple, Union

from cfglint.model.location import Location
from cfglint.model.resolved import REGISTRY_KEYS

KeyPath = Tuple[Any, ...]


class CfgDict(dict):
    """A config dict: `config=True` behaves like mmengine's ConfigDict, False like a local dict."""

    __slots__ = ("config", "locs", "scope")

    def __init__(self, items: Any = (), config: bool = False,
                 locs: Optional[Dict[Any, Location]] = None, scope: Optional[str] = None):
        super().__init__(items)
        self.config = config
        self.locs: Dict[Any, Location] = dict(locs or {})
        self.scope = scope

    def put(self, key: Any, value: Any, loc: Optional[Location]) -> None:
        """Set a key the way mmengine would (ConfigDicts convert stored dicts) and remember where."""
        self[key] = hook(value) if self.config else value
        if loc is not None:
            self.locs[key] = loc

    def remove(self, key: Any) -> Any:
        self.locs.pop(key, None)
        return dict.pop(self, key)


class LazyObject:
    """An import in a pure-Python config: never imported, dumped as its dotted path."""

    def __init__(self, module: Union[str, List[str]], imported: Optional[str] = None):
        self._module = module
        self.imported = imported

    @property
    def module(self) -> str:
        return self._module if isinstance(self._module, str) else self._module[0].split(".")[0]

    def attr_module(self) -> str:
        """The module prefix mmengine's LazyAttr derives from this object."""
        if isinstance(self._module, str):
            return self._module if self.imported is None else f"{self._module}.{self.imported}"
        return self.module

    def dotted(self) -> str:
        return f"{self.module}.{self.imported if self.imported is not None else self.module}"


class LazyAttr:
    """`obj.name` on a LazyObject (e.g. `nn.BatchNorm2d`), dumped as `module.name`."""

    def __init__(self, name: str, source: Union[LazyObject, "LazyAttr"]):
        self.name = name
        self.module = source.attr_module()

    def attr_module(self) -> str:
        return f"{self.module}.{self.name}"

    def dotted(self) -> str:
        return f"{self.module}.{self.name}"


_ATOMIC = (str, int, float, bool, type(None))
_ATOMIC_TYPES = frozenset(_ATOMIC)


def hook(value: Any) -> Any:
    """mmengine's ConfigDict._hook: plain dicts become (copied) ConfigDicts, recursively."""
    kind = value.__class__
    if kind in _ATOMIC_TYPES:      # most values: every key stored into a ConfigDict comes here
        return value
    if kind is CfgDict and not value.config:
        items = {}
        for k, v in value.items():
            items[k] = hook(v)
        return CfgDict(items, config=True, locs=value.locs, scope=value.scope)
    if isinstance(value, list):
        return [hook(v) for v in value]
    if isinstance(value, tuple):
        return tuple(hook(v) for v in value)
    return value


def to_config(value: Any, scope: Optional[str] = None, has_scope: bool = True) -> Any:
    """mmengine's _dict_to_config_dict: ConfigDicts all the way down, `_scope_` for pkg:: bases."""
    if isinstance(value, dict):
        src = value if isinstance(value, CfgDict) else CfgDict(value)
        add_scope = has_scope and "type" in src and scope is not None and src.get("_scope_") is None
        if has_scope and "type" in src:
            has_scope = False
        out = CfgDict(config=True, locs=src.locs, scope=scope)
        for k, v in src.items():
            out[k] = to_config(v, scope, has_scope)
        if add_scope:
            out["_scope_"] = scope
            if "type" in src.locs:
                out.locs["_scope_"] = src.locs["type"]
        return out
    if isinstance(value, list):
        return [to_config(v, scope, has_scope) for v in value]
    if isinstance(value, tuple):
        return tuple(to_config(v, scope, has_scope) for v in value)
    return value




def _new_dict(items: dict) -> "CfgDict":
    out = CfgDict.__new__(CfgDict)
    dict.update(out, items)
    return out


def deep_copy(value: Any) -> Any:
    """A deep copy that keeps flags and locations and, like mmengine's `_substitute_base_vars`
    (which deep-copies every container separately), shares nothing: two names bound to one dict
    become two dicts, so popping `_delete_` from one does not affect the other."""
    kind = value.__class__
    if kind in _ATOMIC_TYPES:
        return value
    if kind is CfgDict:
        # Hot (a file's shared values, bases a file changes in place): skip __init__.
        items = {}
        for k, v in value.items():
            items[k] = v if v.__class__ in _ATOMIC_TYPES else deep_copy(v)
        out = _new_dict(items)
        out.config, out.locs, out.scope = value.config, value.locs.copy(), value.scope
        return out
    if kind is list:
        copied = []
        for v in value:
            copied.append(v if v.__class__ in _ATOMIC_TYPES else deep_copy(v))
        return copied
    if kind is tuple:
        for v in value:
            if v.__class__ not in _ATOMIC_TYPES:
                return tuple(deep_copy(v) for v in value)
        return value   # as copy.deepcopy: a tuple of atoms is itself (`scale=(1333, 800)`)
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    return value


def reaches_twice(value: Any) -> bool:
    """Whether some dict, list or tuple is reached twice under `value` (by identity): only then
    can a deep copy (which makes the two places two objects) change anything."""
    seen = set()
    stack = [value]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        children = node.values() if isinstance(node, dict) else node
        stack.extend([child for child in children if isinstance(child, (dict, list, tuple))])
    return False


def export(value: Any, registry_names: Optional[Set[str]] = None) -> Any:
    """Plain JSON-like data as `Config.to_dict()` gives it (tuples become lists, imports dotted
    strings). Locations are not copied out: :class:`TreeLocations` reads them off the tree.
    `registry_names` collects every string under a REGISTRY_KEYS key of an exported dict."""
    return _plain(value, value, registry_names if registry_names is not None else set())


def _plain(value: Any, root: Any, names: Set[str]) -> Any:
    # Loops rather than comprehensions: on Python 3.11 each comprehension is a call of its own,
    # and this runs for every container of every linted config (a third faster on the zoo).
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out[k] = v if v.__class__ in _ATOMIC_TYPES else _plain(v, root, names)
        for key in REGISTRY_KEYS:
            name = out.get(key)
            if name.__class__ is str:
                names.add(name)
        return out
    if isinstance(value, (list, tuple)):
        items = []
        for v in value:
            items.append(v if v.__class__ in _ATOMIC_TYPES else _plain(v, root, names))
        return items
    if value.__class__ in _ATOMIC_TYPES:
        return value
    if isinstance(value, (LazyObject, LazyAttr)):
        return value.dotted()
    if callable(getattr(value, "unsupported_in_result", None)):
        raise value.unsupported_in_result(_path_to(root, value))
    return value


def _path_to(node: Any, target: Any, path: KeyPath = ()) -> Optional[KeyPath]:
    """The key path of `target` (by identity) under `node`: only for an error message."""
    if node is target:
        return path
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, (list, tuple)) else ()
    for key, child in children:
        found = _path_to(child, target, path + (key,))
        if found is not None:
            return found
    return None


def _key_entries(path: KeyPath, node: Any) -> List[Tuple[KeyPath, Any, Any, Optional[Dict[Any, Location]]]]:
    """(path, key, value, the container's locations) of each item of a container, in order."""
    if isinstance(node, dict):
        locs = node.locs if type(node) is CfgDict else None
        return [(path, key, value, locs) for key, value in node.items()]
    if isinstance(node, (list, tuple)):
        return [(path, index, value, None) for index, value in enumerate(node)]
    return []


class TreeLocations(MutableMapping):
    """`ResolvedConfig.locations` of a merged mmengine config, read off its tree on demand.

    Lint looks up a few key paths of each config, which has hundreds of keys: copying out the
    location of every key (and moving each to the path the user named) cost a fifth of linting a
    zoo. A lookup walks the tree; anything else (iterating, changing) builds the whole dict once.
    Equal to recording every CfgDict key's location while exporting. The tree is never changed
    (merged configs are shared, see evaluator._RESOLVED)."""

    def __init__(self, root: Any, shown: Dict[str, str]):
        self._root = root
        self._shown = shown                 # absolute file -> the path shown for it
        self._moved: Dict[int, Location] = {}
        self._all: Optional[Dict[KeyPath, Location]] = None

    def _show(self, loc: Location) -> Location:
        if not self._shown or loc.file not in self._shown:
            return loc
        moved = self._moved.get(id(loc))    # the tree keeps `loc` alive, so its id is stable
        if moved is None:
            moved = self._moved[id(loc)] = Location(self._shown[loc.file], loc.line)
        return moved

    def _lookup(self, path: KeyPath) -> Optional[Location]:
        if self._all is not None:
            return self._all.get(path)
        if not isinstance(path, tuple) or not path:
            return None
        node = self._root
        for part in path[:-1]:
            if isinstance(node, dict):
                if part not in node:
                    return None
                node = node[part]
            elif isinstance(node, (list, tuple)) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                return None
        key = path[-1]
        if type(node) is not CfgDict or key not in node:
            return None
        loc = node.locs.get(key)
        return None if loc is None else self._show(loc)

    def _every(self) -> Dict[KeyPath, Location]:
        if self._all is None:
            # In the order export used to record them: a key's location, then everything under
            # its value, then the next key (an explicit stack of (parent path, key, value, locs)).
            found: Dict[KeyPath, Location] = {}
            stack = _key_entries((), self._root)[::-1]
            while stack:
                path, key, value, locs = stack.pop()
                if locs and key in locs:
                    found[path + (key,)] = self._show(locs[key])
                if value.__class__ not in _ATOMIC_TYPES:
                    stack.extend(_key_entries(path + (key,), value)[::-1])
            self._all = found
        return self._all

    def __getitem__(self, path: KeyPath) -> Location:
        loc = self._lookup(path)
        if loc is None:
            raise KeyError(path)
        return loc

    def get(self, path: KeyPath, default: Any = None) -> Any:
        loc = self._lookup(path)
        return default if loc is None else loc

    def __contains__(self, path: object) -> bool:
        return self._lookup(path) is not None   # type: ignore[arg-type]

    def __iter__(self) -> Iterator[KeyPath]:
        return iter(self._every())

    def __len__(self) -> int:
        return len(self._every())

    def __setitem__(self, path: KeyPath, loc: Location) -> None:
        self._every()[path] = loc

    def __delitem__(self, path: KeyPath) -> None:
        del self._every()[path]

    def __repr__(self) -> str:
        return repr(self._every())
