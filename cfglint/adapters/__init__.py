"""Stage 1: adapters turn a config file (or object) into a ResolvedConfig, then a CommonModel.

One sub-package per input kind, each registered in :mod:`cfglint.adapters.kinds` with an object
that owns its detection, resolvers (file -> ResolvedConfig, native data exactly as the framework
resolves it) and normalizer (ResolvedConfig -> CommonModel). This module only dispatches through
that registry. Nothing here runs config code or imports a framework.
"""
from __future__ import annotations

import os
from typing import Any, Optional, Sequence

from cfglint.adapters import kinds
from cfglint.adapters.kinds import CONFIG_SUFFIXES
from cfglint.adapters.limits import read_config_text
from cfglint.errors import CfglintError
from cfglint.model import CommonModel, ResolvedConfig


def detect_framework(path: str, text: Optional[str] = None) -> Optional[str]:
    """The name of the kind that claims a config file (read from its content, never run), or None
    when the file is not a config cfglint reads."""
    kind = detect_kind(path, text)
    return kind.name if kind is not None else None


def detect_kind(path: str, text: Optional[str] = None) -> Optional[kinds.Kind]:
    if kinds.suffix_of(path) not in CONFIG_SUFFIXES:
        return None
    if text is None:
        try:
            text = read_config_text(path)
        except CfglintError:
            return None
    return kinds.detect(path, text)


def resolve(source: Any, framework: Optional[str] = None, opts: Sequence[str] = (),
            allow_new_keys: bool = False) -> ResolvedConfig:
    """Resolve a path, a Detectron2 CfgNode or a plain mapping into a ResolvedConfig."""
    shown = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
    try:
        return _resolve(source, framework, opts, allow_new_keys)
    except RecursionError:
        # Last line of defence: each reader bounds nesting itself, but a hostile file must never
        # surface as a traceback from some recursive step we did not foresee.
        raise CfglintError("the config nests too deeply (or its bases chain too long) to read", shown) from None
    except MemoryError:
        raise CfglintError("reading the config needs more memory than is available", shown) from None


def _resolve(source: Any, framework: Optional[str], opts: Sequence[str], allow_new_keys: bool) -> ResolvedConfig:
    kind = kinds.get(framework) if framework is not None else None
    if isinstance(source, (str, os.PathLike)):
        return _resolve_path(os.fspath(source), kind, opts, allow_new_keys)
    for candidate in [kind] if kind is not None else kinds.frameworks():
        resolved = candidate.resolve_object(source, opts=opts, allow_new_keys=allow_new_keys)
        if resolved is not None:
            return resolved
    raise CfglintError(f"expected a config path, a Detectron2 CfgNode or a mapping, got {type(source).__name__}")


def _resolve_path(path: str, kind: Optional[kinds.Kind], opts: Sequence[str], allow_new_keys: bool) -> ResolvedConfig:
    if "://" not in path and not os.path.exists(path):
        raise CfglintError("no such file", file=path)
    if "://" not in path and os.path.isdir(path):
        raise CfglintError("is a directory, not a config file", file=path)
    suffix = kinds.suffix_of(path)
    if suffix not in CONFIG_SUFFIXES:
        raise CfglintError(f"unsupported config type {suffix or '(no suffix)'!r}; "
                           f"expected one of {', '.join(CONFIG_SUFFIXES)}", file=path)
    if kind is None:
        kind = kinds.detect(path, "" if "://" in path else read_config_text(path), named=True)
    if kind is None and suffix == ".py" and "://" not in path:
        from cfglint.adapters import pyconfig_facts
        if pyconfig_facts.imports_a_framework(read_config_text(path)):   # framework code that builds no config
            from cfglint.adapters.script import NOT_A_CONFIG
            raise CfglintError(NOT_A_CONFIG, file=path)
    if kind is None:
        names = " or ".join(k.title for k in kinds.frameworks())
        raise CfglintError(f"cannot tell whether this is a {names} config; pass --framework", file=path)
    return kind.resolve_file(path, opts=opts, allow_new_keys=allow_new_keys)


def resolve_text(text: str, filename: str) -> ResolvedConfig:
    """Config text that is no file of the user's (a training config stored in a checkpoint)."""
    for kind in kinds.frameworks():
        if kind.reads_text:
            return kind.resolve_text(text, filename)
    raise CfglintError("no registered kind reads config text", filename)


def normalize(resolved: ResolvedConfig) -> CommonModel:
    """Map a ResolvedConfig onto the common model, with provenance."""
    if getattr(resolved, "from_script", False):   # values a serving script leaves unknown: masked
        from cfglint.adapters.script.normalize import normalize_script
        return normalize_script(resolved, lambda r: kinds.of(r).normalize(r))
    return kinds.of(resolved).normalize(resolved)


def load(source: Any, framework: Optional[str] = None, opts: Sequence[str] = (),
         allow_new_keys: bool = False) -> CommonModel:
    """`cfglint.load`: a path, CfgNode or mapping -> the common model."""
    return normalize(resolve(source, framework=framework, opts=opts, allow_new_keys=allow_new_keys))
