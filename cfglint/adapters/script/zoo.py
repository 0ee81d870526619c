"""Model zoos a script names: Detectron2 `model_zoo.get_config_file(...)`, mmdet model names.

One function each, so the interpreter does not know where a zoo lives. Nothing is imported: an installed package is found by
path, its files are read as text.
"""
from __future__ import annotations

import functools
import os
import re
import sys
from typing import Dict, Optional, Tuple

def config_file(name: str, from_file: str, configs_root: Optional[str] = None) -> Optional[str]:
    """The file `model_zoo.get_config_file(name)` returns, or None when the zoo has no such file:
    detectron2's model zoo (an installed detectron2's copy, else the one shipped with cfglint; see
    cfglint.adapters.detectron2.zoo), never a configs folder that happens to be near the script."""
    from cfglint.adapters.detectron2 import zoo as d2_zoo
    return d2_zoo.find_detectron2_config(name, configs_root)


def checkpoint_url(name: str) -> Optional[str]:
    """`model_zoo.get_checkpoint_url(name)`: the zoo's trained checkpoint (see
    cfglint.adapters.detectron2.zoo), or None where detectron2 raises."""
    from cfglint.adapters.detectron2 import zoo as d2_zoo
    return d2_zoo.checkpoint_url(name)


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
