"""The registry of input kinds: one object per kind of config cfglint reads.

Everything that differs between Detectron2 and MMDetection (and any later kind of input) is owned
by that kind's object, so that no other module compares framework names or ends in an `else` that
silently means one framework. A kind answers:

- detection: does this file (its path and text) belong to me?
- resolution: a file, an in-memory object, or config text -> ResolvedConfig (native data + provenance);
- normalization: ResolvedConfig -> CommonModel;
- partial configs: is this file meant to be inherited rather than trained?
- weights: does a state dict use my key naming, and where does my checkpoint format keep it?
- endpoints of the stages above the adapters (the expected state dict, the framework engine,
  config and checkpoint conversion), named as ``"module:attribute"`` and imported only when a
  command needs them, so the lint path stays light and the adapters import nothing above them.

Adding a kind is one package with a ``kind.py`` that defines ``KIND`` plus one line in ``_MODULES``.
"""
from __future__ import annotations

import importlib
import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from cfglint.errors import CfglintError
from cfglint.model import CommonModel, ResolvedConfig

#: The registered kinds, in detection order: the first whose `detect` claims a file reads it.
_MODULES = (
    "cfglint.adapters.script.kind",      # before the frameworks: a script that builds a config is a script
    "cfglint.adapters.detectron2.kind",
    "cfglint.adapters.mmdet.kind",
)

CONFIG_SUFFIXES = (".yaml", ".yml", ".py", ".json")


class Kind:
    """One kind of input. Subclasses set the class attributes and implement the methods they own."""

    #: The stable name: the `framework` field of ResolvedConfig/CommonModel, `--framework`, `--to`.
    name: str = ""
    #: How the user calls it ("Detectron2").
    title: str = ""
    #: A framework kind produces ResolvedConfigs of its own name; an input-only kind (a serving
    #: script) resolves into a framework kind's ResolvedConfig and owns only detection/resolution.
    is_framework: bool = True
    #: Suffix of a config written in this kind's idiom (`convert` output, proof files).
    config_suffix: str = ".yaml"
    #: Whether `resolve_text` reads config text that is not a file (mmdet stores it in checkpoints).
    reads_text: bool = False
    #: Other stages' code for this kind, "module:attribute", imported on first use.
    endpoints: Dict[str, str] = {}

    # -- detection and resolution ----------------------------------------------------------------
    def detect(self, path: str, text: str, named: bool = False) -> bool:
        """Whether the file at `path` (whose text is `text`) is a config of this kind. `named`: the
        user named the file as a config (show/diff/verify), rather than it being found in a tree."""
        return False

    def resolve_file(self, path: str, opts: Sequence[str] = (), allow_new_keys: bool = False) -> ResolvedConfig:
        raise CfglintError(f"{self.title} cannot read config files", path)

    def resolve_object(self, obj: Any, opts: Sequence[str] = (), allow_new_keys: bool = False
                       ) -> Optional[ResolvedConfig]:
        """An in-memory config (CfgNode, mapping) of this kind, or None when `obj` is not one."""
        return None

    def resolve_text(self, text: str, filename: str) -> ResolvedConfig:
        """Config text that is not a file of the user's (e.g. stored in a checkpoint)."""
        raise CfglintError(f"{self.title} configs cannot be read from text", filename)

    def normalize(self, resolved: ResolvedConfig) -> CommonModel:
        raise CfglintError(f"{self.title} has no common-model normalizer", resolved.path)

    def is_partial(self, path: str) -> bool:
        """A file meant to be inherited (its defaults are completed by the child), not trained."""
        return False

    # -- checkpoints ------------------------------------------------------------------------------
    def owns_state_dict(self, keys: Sequence[str]) -> bool:
        """Whether state-dict keys follow this kind's module naming."""
        return False

    def loader_strips(self, prefix: str, every_key: bool) -> bool:
        """Whether this kind's checkpoint loader removes a key prefix itself (`every_key`: all keys
        of the state dict carry it)."""
        return False

    # -- conversion --------------------------------------------------------------------------------
    def conversion_refusal(self, resolved: ResolvedConfig) -> Optional[str]:
        """Why `resolved` cannot be converted to another framework, or None when it can."""
        return None

    # -- endpoints ---------------------------------------------------------------------------------
    def endpoint(self, name: str) -> Callable:
        """The named function of another stage for this kind; a clear error when the kind has none."""
        target = self.endpoints.get(name)
        if target is None:
            raise CfglintError(f"{self.title} configs do not support {name.replace('_', ' ')}")
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)

    def __repr__(self) -> str:
        return f"<kind {self.name}>"


_KINDS: Dict[str, Kind] = {}


def _load() -> Dict[str, Kind]:
    if not _KINDS:
        for module in _MODULES:
            kind = importlib.import_module(module).KIND
            _KINDS[kind.name] = kind
    return _KINDS


def all_kinds() -> List[Kind]:
    """Every registered kind, in detection order."""
    return list(_load().values())


def frameworks() -> List[Kind]:
    """The kinds that are frameworks (what `--framework` and `--to` accept)."""
    return [kind for kind in all_kinds() if kind.is_framework]


def framework_names() -> Tuple[str, ...]:
    return tuple(kind.name for kind in frameworks())


def get(name: str) -> Kind:
    """The kind called `name`; an unknown name is an error, never a fall-through."""
    kind = _load().get(name)
    if kind is None:
        raise CfglintError(f"unknown framework {name!r}; expected one of {', '.join(framework_names())}")
    return kind


def of(resolved: Any) -> Kind:
    """The framework kind of a ResolvedConfig or CommonModel."""
    return get(resolved.framework)


def detect(path: str, text: str, named: bool = False) -> Optional[Kind]:
    """The kind that claims the file, or None when it is no config cfglint reads."""
    for kind in all_kinds():
        if kind.detect(path, text, named):
            return kind
    return None


def for_state_dict(keys: Sequence[str]) -> Optional[Kind]:
    """The framework whose module naming a state dict's keys follow, if any."""
    for kind in frameworks():
        if kind.owns_state_dict(keys):
            return kind
    return None


def suffix_of(path: str) -> str:
    return os.path.splitext(path)[1].lower()
