"""Model zoos a script names: Detectron2 `model_zoo.get_config_file(...)`, mmdet model names.

One function each, so the shipped Detectron2 model zoo (issue 12 item 3) can replace the lookup
here without touching the interpreter. Nothing is imported: an installed package is found by
path, its files are read as text.
"""
from __future__ import annotations

import functools
import os
import re
import sys
from typing import Dict, Optional, Tuple

#: Where `model_zoo.get_config_file` reads when no configs root is found next to the script.
CONFIGS_ROOT_ENV = "CFGLINT_D2_CONFIGS"


def config_file(name: str, from_file: str, configs_root: Optional[str] = None) -> Optional[str]:
    """The file `model_zoo.get_config_file(name)` returns, or None when no copy is available.

    Looked up in `configs_root`, then `$CFGLINT_D2_CONFIGS`, then an installed detectron2's
    `model_zoo/configs`, then (as the LazyConfig adapter does) the nearest ancestor of the script
    holding `<name>` or `configs/<name>`.
    """
    for root in (configs_root, os.environ.get(CONFIGS_ROOT_ENV), _installed_d2_configs()):
        if root:
            candidate = os.path.join(root, name)
            if os.path.isfile(candidate):
                return candidate
    from cfglint.adapters.detectron2.lazy import _find_in_configs_root
    return _find_in_configs_root(name, None, from_file)


def checkpoint_url(name: str) -> Optional[str]:
    """`model_zoo.get_checkpoint_url(name)`: needs detectron2's table of model ids, not shipped yet."""
    return None


@functools.lru_cache(maxsize=1)
def _installed_d2_configs() -> Optional[str]:
    for base in sys.path:
        candidate = os.path.join(base or ".", "detectron2", "model_zoo", "configs")
        if os.path.isdir(candidate) and os.path.isabs(candidate):
            return candidate
    return None


@functools.lru_cache(maxsize=1)
def _installed_mmdet() -> Optional[str]:
    for base in sys.path:
        candidate = os.path.join(base or ".", "mmdet")
        if os.path.isfile(os.path.join(candidate, "__init__.py")) and os.path.isdir(os.path.join(candidate, ".mim")):
            return candidate
    return None


_NAME = re.compile(r"^\s*-?\s*Name:\s*(\S+)\s*$")
_CONFIG = re.compile(r"^\s*Config:\s*(\S+)\s*$")
_WEIGHTS = re.compile(r"^\s*Weights:\s*(\S+)\s*$")


@functools.lru_cache(maxsize=1)
def _mmdet_models() -> Dict[str, Tuple[str, Optional[str]]]:
    """model name -> (config path, weights URL) from the installed mmdet's metafiles (read as text)."""
    root = _installed_mmdet()
    if root is None:
        return {}
    mim = os.path.join(root, ".mim")
    index = os.path.join(mim, "model-index.yml")
    out: Dict[str, Tuple[str, Optional[str]]] = {}
    try:
        with open(index, encoding="utf-8") as f:
            metafiles = [line.split("-", 1)[1].strip() for line in f if line.strip().startswith("- ")]
    except OSError:
        return {}
    for metafile in metafiles:
        path = os.path.join(mim, metafile)
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        name = config = weights = None
        in_models = False
        for line in lines:
            if line.startswith("Models:"):
                in_models = True
                continue
            if not in_models:
                continue
            if line.startswith("  - Name:"):
                if name and config:
                    out.setdefault(name, (os.path.join(mim, config), weights))
                name, config, weights = line.split(":", 1)[1].strip(), None, None
            elif line.startswith("    Config:") and name:
                config = line.split(":", 1)[1].strip()
            elif line.startswith("    Weights:") and name:
                weights = line.split(":", 1)[1].strip()
        if name and config:
            out.setdefault(name, (os.path.join(mim, config), weights))
    return out


def mmdet_model(name: str) -> Optional[Tuple[str, Optional[str]]]:
    """`DetInferencer(model=name)`: (config file, default weights) of an mmdet model name."""
    return _mmdet_models().get(name)
