"""The values a static mmengine config evaluation produces, and their export to plain data.

mmengine distinguishes two kinds of dict while a config runs: a plain ``dict(...)`` written in the
file, and a ``ConfigDict`` (anything that came from ``_base_`` or was stored into one). They behave
differently (``.update`` is recursive and attribute access works only on a ConfigDict), so
:class:`CfgDict` carries that flag, plus the file:line that set each of its keys.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Union

from cfglint.model.location import Location

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


def hook(value: Any) -> Any:
    """mmengine's ConfigDict._hook: plain dicts become (copied) ConfigDicts, recursively."""
    if type(value) is CfgDict and not value.config:
        return CfgDict({k: hook(v) for k, v in value.items()}, config=True, locs=value.locs, scope=value.scope)
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


_ATOMIC = (str, int, float, bool, type(None))


def _new_dict(items: dict) -> "CfgDict":
    out = CfgDict.__new__(CfgDict)
    dict.update(out, items)
    return out


def deep_copy(value: Any) -> Any:
    """A deep copy that keeps flags and locations and, like mmengine's `_substitute_base_vars`
    (which deep-copies every container separately), shares nothing: two names bound to one dict
    become two dicts, so popping `_delete_` from one does not affect the other."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is CfgDict:
        # The hot path of resolving a zoo (every memoized base is copied out): skip __init__.
        out = _new_dict({k: v if type(v) in _ATOMIC else deep_copy(v) for k, v in value.items()})
        out.config, out.locs, out.scope = value.config, value.locs.copy(), value.scope
        return out
    if kind is list:
        return [v if type(v) in _ATOMIC else deep_copy(v) for v in value]
    if kind is tuple:
        return tuple(deep_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    return value


def export(value: Any, path: KeyPath = (), locations: Optional[Dict[KeyPath, Location]] = None) -> Any:
    """Plain JSON-like data as `Config.to_dict()` gives it (tuples become lists, imports dotted
    strings), recording the location of every dict key into `locations`."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if isinstance(value, dict):
        out = {}
        locs = value.locs if locations is not None and kind is CfgDict else {}
        for k, v in value.items():
            if k in locs:
                locations[path + (k,)] = locs[k]
            out[k] = v if type(v) in _ATOMIC else export(v, path + (k,), locations)
        return out
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _ATOMIC else export(v, path + (i,), locations) for i, v in enumerate(value)]
    if isinstance(value, (LazyObject, LazyAttr)):
        return value.dotted()
    if callable(getattr(value, "unsupported_in_result", None)):
        raise value.unsupported_in_result(path)
    return value
