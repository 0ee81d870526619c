"""Partial configs: files meant to be inherited, not trained (Detectron2 `Base-*.yaml`, anything
under an mmdet `_base_/` directory).

They are linted too (a typo in a base breaks every child), but a fact that only a framework
default supplies is not held against them: the completing config usually sets it.
"""
from __future__ import annotations

from pathlib import PurePath


def is_partial_config(path: str) -> bool:
    parts = PurePath(path).parts
    return PurePath(path).name.startswith("Base-") or "_base_" in parts[:-1]
