"""The values the LazyConfig interpreter works with, and how they become plain data.

A LazyConfig file builds OmegaConf nodes; we model them with small stand-ins that remember *where*
each entry was written, so locations travel with a node when it is imported or copied:

* :class:`ConfigDict` (a DictConfig or a dict) and :class:`ConfigList` (a list) keep a
  ``where`` table: key or index -> :class:`Location` of the statement/keyword that set it.
* :class:`Symbol` is an imported name that is never imported for real (``detectron2.modeling.FPN``).
* :class:`CallRecord` is a call evaluated at load time by a known-safe constructor (``ShapeSpec``,
  ``functools.partial``); :class:`LambdaValue` and :class:`FunctionValue` are functions kept opaque.

:func:`to_plain` turns them into the JSON-able data ``cfglint show --raw`` prints:

* ``L(X)(k=v)``                -> ``{"_target_": "dotted.X", "k": v}`` (an ordinary ConfigDict)
* ``ShapeSpec(channels=256)``   -> ``{"_call_": "detectron2.layers.ShapeSpec", "channels": 256}``,
  positional arguments under ``"_args_"``
* ``lambda c: f(c)``           -> ``{"_lambda_": "lambda c: f(c)"}`` (its source text)
* a ``def`` used as a value     -> ``{"_function_": "name"}``
* a symbol used as a value      -> its dotted path, a string (as ``LazyConfig.save`` writes targets)
* tuples                        -> lists (OmegaConf stores tuples as ListConfig)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from cfglint.model.location import Location


class ConfigDict(dict):
    """A DictConfig: attribute access reads keys; ``where`` maps each key to where it was set."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.where: Dict[Any, Optional[Location]] = {}

    def put(self, key: Any, value: Any, where: Optional[Location]) -> None:
        self[key] = value
        self.where[key] = where

    def remove(self, key: Any) -> Any:
        self.where.pop(key, None)
        return self.pop(key)


class ConfigList(list):
    """A list (ListConfig once stored in a config); ``where[i]`` is where element i was written."""

    def __init__(self, items: Any = (), where: Optional[List[Optional[Location]]] = None) -> None:
        super().__init__(items)
        self.where: List[Optional[Location]] = list(where) if where is not None else [None] * len(self)
        self.is_list_config = False  # True for OmegaConf.create([...]): only those are top-level configs

    def add(self, value: Any, where: Optional[Location]) -> None:
        self.append(value)
        self.where.append(where)


@dataclass(frozen=True)
class Symbol:
    """A name bound by an import; used as a LazyCall target or passed around as a value."""

    dotted: str

    def child(self, attr: str) -> "Symbol":
        return Symbol(f"{self.dotted}.{attr}")


@dataclass
class CallRecord:
    """A non-lazy call of a known-safe constructor, kept as a record instead of being run."""

    target: str
    args: List[Any] = field(default_factory=list)
    kwargs: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LambdaValue:
    source: str


@dataclass(frozen=True)
class FunctionValue:
    """A `def` of a config file; the interpreter can call it (see lazy_interp), output shows its name."""

    name: str
    node: Any       # ast.FunctionDef
    module: Any     # the lazy_interp.Module that defined it
    defaults: Tuple[Any, ...] = ()
    kw_defaults: Tuple[Any, ...] = ()


def copy_value(value: Any) -> Any:
    """Deep copy of config containers, as OmegaConf copies a node whenever it is stored.

    Unlike copy.deepcopy there is no memo: ``[ShapeSpec(...)] * 5`` becomes five independent
    entries, as OmegaConf makes five nodes.
    """
    if isinstance(value, ConfigDict):
        out = ConfigDict({k: copy_value(v) for k, v in value.items()})
        out.where = dict(value.where)
        return out
    if isinstance(value, ConfigList):
        out_list = ConfigList([copy_value(v) for v in value], value.where)
        out_list.is_list_config = value.is_list_config
        return out_list
    if isinstance(value, tuple):
        return tuple(copy_value(v) for v in value)
    if isinstance(value, CallRecord):
        return CallRecord(value.target, [copy_value(a) for a in value.args],
                          {k: copy_value(v) for k, v in value.kwargs.items()})
    if isinstance(value, list):
        return [copy_value(v) for v in value]
    if isinstance(value, dict):
        return {k: copy_value(v) for k, v in value.items()}
    return value


def to_plain(value: Any) -> Any:
    """The JSON-able form described in the module docstring."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, Symbol):
        return value.dotted
    if isinstance(value, CallRecord):
        out: Dict[str, Any] = {"_call_": value.target}
        if value.args:
            out["_args_"] = [to_plain(a) for a in value.args]
        out.update({k: to_plain(v) for k, v in value.kwargs.items()})
        return out
    if isinstance(value, LambdaValue):
        return {"_lambda_": value.source}
    if isinstance(value, FunctionValue):
        return {"_function_": value.name}
    return value


def collect_locations(value: Any, prefix: Tuple[Any, ...], out: Dict[Tuple[Any, ...], Location]) -> None:
    """Walk a finished config and gather every ``where`` entry under its full key path."""
    if isinstance(value, ConfigDict):
        for key, child in value.items():
            loc = value.where.get(key)
            if loc is not None:
                out[prefix + (key,)] = loc
            collect_locations(child, prefix + (key,), out)
    elif isinstance(value, ConfigList):
        for i, child in enumerate(value):
            loc = value.where[i] if i < len(value.where) else None
            if loc is not None:
                out[prefix + (i,)] = loc
            collect_locations(child, prefix + (i,), out)
    elif isinstance(value, (list, tuple)):
        for i, child in enumerate(value):
            collect_locations(child, prefix + (i,), out)
    elif isinstance(value, CallRecord):
        for key, child in value.kwargs.items():
            collect_locations(child, prefix + (key,), out)
