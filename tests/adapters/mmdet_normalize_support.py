"""Helpers for the MMDetection normalizer tests: where the zoos are, how a config is resolved.

Configs are resolved with cfglint's own evaluator when it is importable; until then with
mmengine's `Config.fromfile(...).to_dict()` (which the evaluator must equal), without locations.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional

import pytest

from cfglint.model import ResolvedConfig
from tests.conftest import SHARED

MMDET3_ZOO: Optional[Path]
try:
    import importlib.util
    _spec = importlib.util.find_spec("mmdet")
    MMDET3_ZOO = Path(_spec.origin).parent / ".mim" / "configs" if _spec and _spec.origin else None
except (ImportError, ValueError):
    MMDET3_ZOO = None
MMDET2_ZOO = SHARED / "corpus" / "mmdet2" / "configs"

requires_mmdet3_zoo = pytest.mark.skipif(MMDET3_ZOO is None or not MMDET3_ZOO.is_dir(),
                                         reason="mmdet 3.x config zoo (mmdet wheel) not installed")


def evaluator_available() -> bool:
    try:
        from cfglint.adapters.mmdet import evaluator  # noqa: F401
    except ImportError:
        return False
    return hasattr(evaluator, "resolve_file")


def resolve(path: Path) -> ResolvedConfig:
    if evaluator_available():
        from cfglint.adapters.mmdet import evaluator
        return evaluator.resolve_file(str(path))
    return resolve_with_mmengine(path)


def resolve_with_mmengine(path: Path) -> ResolvedConfig:
    mmengine_config = pytest.importorskip("mmengine.config")
    data = mmengine_config.Config.fromfile(str(path), import_custom_modules=False).to_dict()
    return ResolvedConfig(framework="mmdet", path=str(path), data=data, syntax="mmengine")


def same(actual: Any, expected: Any) -> bool:
    """Equality with float tolerance, tuples and lists alike (values are hand-computed)."""
    if isinstance(expected, float) or isinstance(actual, float):
        return (isinstance(actual, (int, float)) and isinstance(expected, (int, float))
                and not isinstance(actual, bool) and math.isclose(actual, expected, rel_tol=1e-6))
    if isinstance(expected, (list, tuple)):
        return (isinstance(actual, (list, tuple)) and len(actual) == len(expected)
                and all(same(a, e) for a, e in zip(actual, expected)))
    return actual == expected and type(actual) is type(expected)
