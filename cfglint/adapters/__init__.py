"""Stage 1: adapters turn a config file (or object) into a ResolvedConfig, then a CommonModel.

One sub-package per framework; each has resolvers (file -> ResolvedConfig, native data exactly as
the framework resolves it) and a normalizer (ResolvedConfig -> CommonModel). Nothing here runs
config code or imports a framework.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Optional, Sequence

from cfglint.adapters.limits import read_config_text
from cfglint.errors import CfglintError
from cfglint.model import CommonModel, ResolvedConfig
from cfglint.model.resolved import DETECTRON2, MMDET

FRAMEWORKS = (DETECTRON2, MMDET)
CONFIG_SUFFIXES = (".yaml", ".yml", ".py", ".json")


def detect_framework(path: str, text: Optional[str] = None) -> Optional[str]:
    """Guess the framework of a config file from its suffix and content, without running it.

    Returns None when the file does not look like a detection config of either framework.
    """
    suffix = Path(path).suffix.lower()
    if text is None:
        try:
            text = read_config_text(path)
        except CfglintError:
            return None
    if suffix in (".yaml", ".yml"):
        return _detect_yaml(text)
    if suffix == ".json":
        return MMDET if ('"model"' in text or '"_base_"' in text) else None
    if suffix == ".py":
        return _detect_python(text)
    return None


_D2_TOP_KEYS = {"MODEL", "INPUT", "DATASETS", "SOLVER", "TEST", "_BASE_", "DATALOADER", "VERSION",
                "OUTPUT_DIR", "SEED", "CUDNN_BENCHMARK", "VIS_PERIOD", "GLOBAL"}


def _detect_yaml(text: str) -> Optional[str]:
    keys = set()
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#") and ":" in line:
            keys.add(line.split(":", 1)[0].strip().strip("'\""))
    if keys & _D2_TOP_KEYS:
        return DETECTRON2
    if keys & {"model", "_base_", "train_dataloader", "test_pipeline", "data"}:
        return MMDET
    return None


_D2_IMPORT = re.compile(r"^\s*(?:from\s+detectron2[\w.]*\s+import|import\s+detectron2|from\s+\.+common[\w.]*\s+import)",
                        re.M)
_MM_IMPORT = re.compile(r"^\s*from\s+(?:mmengine|mmdet|mmcv)[\w.]*\s+import", re.M)
_MM_SIGNS = re.compile(r"^(?:with\s|(?:_base_|model|train_pipeline|test_pipeline|img_norm_cfg|data|train_cfg|"
                       r"test_cfg|default_scope|train_dataloader)\s*=)", re.M)


def _detect_python(text: str) -> Optional[str]:
    """Line patterns, not a parse: detection runs on every file of a tree before any adapter, and
    the adapter parses (and reports syntax errors) anyway. `model = ...` alone is not mmdet: a
    LazyConfig file assigns `model` too, so a detectron2 import wins unless mm* is imported."""
    has_d2 = _D2_IMPORT.search(text) is not None or "LazyCall" in text
    imports_mm = _MM_IMPORT.search(text) is not None
    if has_d2 and not imports_mm:
        return DETECTRON2
    if imports_mm or _MM_SIGNS.search(text):
        return MMDET
    return None


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
    if framework is not None and framework not in FRAMEWORKS:
        raise CfglintError(f"unknown framework {framework!r}; expected one of {', '.join(FRAMEWORKS)}")
    if isinstance(source, (str, os.PathLike)):
        return _resolve_path(os.fspath(source), framework, opts, allow_new_keys)
    from cfglint.adapters.detectron2 import yacs as d2yacs
    if isinstance(source, dict) and framework == MMDET:
        from cfglint.adapters.mmdet import evaluator
        return evaluator.resolve_mapping(source)
    # A CfgNode is a dict subclass; a plain mapping with upper-case keys is taken as yacs.
    return d2yacs.resolve_object(source, opts=opts, allow_new_keys=allow_new_keys)


def _resolve_path(path: str, framework: Optional[str], opts: Sequence[str], allow_new_keys: bool) -> ResolvedConfig:
    if "://" not in path and not os.path.exists(path):
        raise CfglintError("no such file", file=path)
    if "://" not in path and os.path.isdir(path):
        raise CfglintError("is a directory, not a config file", file=path)
    suffix = Path(path).suffix.lower()
    if suffix not in CONFIG_SUFFIXES:
        raise CfglintError(f"unsupported config type {suffix or '(no suffix)'!r}; "
                           f"expected one of {', '.join(CONFIG_SUFFIXES)}", file=path)
    text = "" if "://" in path else read_config_text(path)
    if suffix == ".py" and _script_kind(path, text):   # serving scripts (the registry will own this hook)
        from cfglint.adapters.script import resolve_script
        return resolve_script(path, opts=opts, allow_new_keys=allow_new_keys)
    if suffix == ".py" and framework is None and "import" in text:
        from cfglint.adapters.script.detect import is_not_a_config
        if is_not_a_config(path, text):
            from cfglint.adapters.script import NOT_A_CONFIG
            raise CfglintError(NOT_A_CONFIG, file=path)
    fw = framework or detect_framework(path, text)
    if fw is None:
        raise CfglintError("cannot tell whether this is a Detectron2 or an MMDetection config; "
                           "pass --framework", file=path)
    if fw == DETECTRON2:
        if suffix == ".py":
            from cfglint.adapters.detectron2 import lazy
            if opts:
                return lazy.resolve_lazy(path, overrides=opts)
            return lazy.resolve_lazy(path)
        from cfglint.adapters.detectron2 import yacs as d2yacs
        return d2yacs.resolve_yaml(path, opts=opts, allow_new_keys=allow_new_keys)
    from cfglint.adapters.mmdet import evaluator
    if opts:
        return evaluator.resolve_file(path, cfg_options=opts)
    return evaluator.resolve_file(path)


def _script_kind(path: str, text: str) -> bool:
    """A .py that builds a config in code and gives it to a model (cheap word test, then one parse)."""
    if "import" not in text:
        return False
    from cfglint.adapters.script.detect import builds_config
    return builds_config(path, text)


def normalize(resolved: ResolvedConfig) -> CommonModel:
    """Map a ResolvedConfig onto the common model, with provenance."""
    if getattr(resolved, "input", "config") == "script":
        from cfglint.adapters.script.normalize import normalize_script
        return normalize_script(resolved, _normalize)
    return _normalize(resolved)


def _normalize(resolved: ResolvedConfig) -> CommonModel:
    if resolved.framework == DETECTRON2:
        from cfglint.adapters.detectron2.normalize import normalize as d2_normalize
        return d2_normalize(resolved)
    from cfglint.adapters.mmdet.normalize import normalize as mm_normalize
    return mm_normalize(resolved)


def load(source: Any, framework: Optional[str] = None, opts: Sequence[str] = (),
         allow_new_keys: bool = False) -> CommonModel:
    """`cfglint.load`: a path, CfgNode or mapping -> the common model."""
    return normalize(resolve(source, framework=framework, opts=opts, allow_new_keys=allow_new_keys))
