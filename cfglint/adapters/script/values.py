"""The values of the script interpreter: what is known, and what is not (never guessed)."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from cfglint.model.location import Location

KeyPath = Tuple[Any, ...]


class Unknown:
    """A value a static reader cannot know; `where` is the line that made it unknown."""

    __slots__ = ("where", "why", "config")
    cfglint_unknown = True

    def __init__(self, where: Location, why: str, config: Any = None):
        self.where = where
        self.why = why
        self.config = config   # a config (View or state) this value may be part of: changing it changes that

    def __repr__(self) -> str:
        return f"<unknown: {self.where}: {self.why}>"

    def __deepcopy__(self, memo):
        return self


class UnknownOfKnownTruth(Unknown):
    """`torch.cuda.is_available() and gpu_id is not None` with `gpu_id = None`: the value is not
    known, but a condition on it is (False here), as Python short-circuits either way."""

    __slots__ = ("truth",)

    def __init__(self, where: Location, why: str, truth: bool):
        super().__init__(where, why)
        self.truth = truth


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown)


class Ext:
    """Something outside the script (a module, class or function it imports), by dotted name."""

    __slots__ = ("qual",)

    def __init__(self, qual: str):
        self.qual = qual

    def __repr__(self) -> str:
        return f"<{self.qual}>"


class PathVal:
    """A `pathlib.Path`."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path

    def __repr__(self) -> str:
        return f"Path({self.path!r})"


class Node(dict):
    """A Detectron2 CfgNode: a dict that may accept new keys (`CN(new_allowed=True)`)."""

    def __init__(self, *args, new_allowed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_allowed = new_allowed

    def __deepcopy__(self, memo):
        out = Node(new_allowed=self.new_allowed)
        memo[id(self)] = out
        for key, value in self.items():
            out[key] = copy.deepcopy(value, memo)
        return out


def to_node(value: Any, new_allowed: bool = False) -> Any:
    if isinstance(value, dict):
        return Node({k: to_node(v) for k, v in value.items()}, new_allowed=new_allowed or getattr(value, "new_allowed", False))
    return value


class D2State:
    """A Detectron2 CfgNode the script builds (get_cfg() or CN()), with where each key was set."""

    def __init__(self, root: Node, locations: Optional[Dict[KeyPath, Location]] = None, origin: str = "get_cfg"):
        self.root = root
        self.locations: Dict[KeyPath, Location] = locations or {}
        self.frozen = False
        self.origin = origin
        self.unknown_from: Optional[Unknown] = None      # merge_from_file of a path that is not known
        self.files: List[str] = []
        self.suppressions: Dict[Tuple[str, int], List[str]] = {}
        self.addons: List[str] = []
        self.external_addons: List[Tuple[str, Location]] = []

    def clone(self) -> "D2State":
        out = D2State(copy.deepcopy(self.root), dict(self.locations), self.origin)
        out.external_addons = list(self.external_addons)
        out.frozen, out.unknown_from = self.frozen, self.unknown_from
        out.files, out.suppressions, out.addons = list(self.files), dict(self.suppressions), list(self.addons)
        return out


@dataclass
class View:
    """`cfg.MODEL.ROI_HEADS`: a place inside a config state."""

    state: Any
    path: KeyPath = ()


class LazyState:
    """`LazyConfig.load(path)` + overrides, resolved by the LazyConfig adapter when needed."""

    def __init__(self, path: Any, where: Location):
        self.path = path                  # str, or Unknown
        self.where = where
        self.overrides: List[str] = []
        self.override_lines: Dict[str, Location] = {}
        #: keys the script sets to a value cfglint cannot know (an override needs a value)
        self.unknown_keys: Dict[KeyPath, "Unknown"] = {}
        self._resolved = None

    def resolved(self):
        if self._resolved is None and isinstance(self.path, str):
            from cfglint.adapters.detectron2.lazy import resolve_lazy
            self._resolved = resolve_lazy(self.path, overrides=self.overrides)
        return self._resolved

    def clone(self) -> "LazyState":
        out = LazyState(self.path, self.where)
        out.overrides, out.override_lines = list(self.overrides), dict(self.override_lines)
        out.unknown_keys = dict(self.unknown_keys)
        return out


class MMState:
    """An mmengine `Config` the script holds: plain data (as `to_dict()`), where each key was set."""

    def __init__(self, data: Dict[str, Any], locations: Optional[Dict[KeyPath, Location]] = None,
                 files: Optional[List[str]] = None):
        self.data = data
        self.locations: Dict[KeyPath, Location] = locations or {}
        self.files = files or []
        self.suppressions: Dict[Tuple[str, int], List[str]] = {}
        self.unknown_from: Optional[Unknown] = None

    def clone(self) -> "MMState":
        out = MMState(copy.deepcopy(self.data), dict(self.locations), list(self.files))
        out.suppressions, out.unknown_from = dict(self.suppressions), self.unknown_from
        return out


#: list methods that change the list: called on a list of a config, they change the config
LIST_MUTATORS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "reverse", "sort"})
#: The config objects a script can hold (a yacs CfgNode, an mmengine Config, a LazyConfig) ...
CONFIG_STATES = (D2State, MMState, LazyState)
#: ... and those or a place inside one (`cfg.MODEL`).
CONFIGS = (View,) + CONFIG_STATES


@dataclass
class Sink:
    """A call that builds a model from a config: what the script serves."""

    kind: str                 # "DefaultPredictor", "build_model", "init_detector", ...
    where: Location
    state: Any                # a snapshot (D2State / MMState / LazyState) at the call
    checkpoint: Any = None
    checkpoint_where: Optional[Location] = None


@dataclass
class ModelObj:
    """What a sink returns (a predictor or a model)."""

    sink: Sink
    attrs: Dict[str, Any] = field(default_factory=dict)
