"""Oracle helpers for the mmdet evaluator tests: mmengine's own result, compared strictly.

mmengine is a test dependency only; cfglint code never imports it.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
from typing import Any, Iterator, Optional


def normalize(value: Any) -> Any:
    """JSON normalization of `Config.to_dict()`: tuples become lists, nothing else changes."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    return value


def first_difference(got: Any, expected: Any, path: str = "") -> Optional[str]:
    """None when equal in values *and* types (1 != 1.0 != True here); else where they first differ."""
    if type(got) is not type(expected):
        return f"{path or '<root>'}: {type(got).__name__} {got!r:.80} != {type(expected).__name__} {expected!r:.80}"
    if isinstance(got, dict):
        if list(got) != list(expected):
            if set(got) != set(expected):
                return f"{path or '<root>'}: keys {sorted(map(str, set(got) ^ set(expected)))} differ"
        for key in expected:
            diff = first_difference(got[key], expected[key], f"{path}.{key}")
            if diff:
                return diff
        return None
    if isinstance(got, list):
        if len(got) != len(expected):
            return f"{path}: length {len(got)} != {len(expected)}"
        for i, (a, b) in enumerate(zip(got, expected)):
            diff = first_difference(a, b, f"{path}[{i}]")
            if diff:
                return diff
        return None
    if got != expected and not (got != got and expected != expected):  # NaN equals NaN here
        return f"{path}: {got!r:.80} != {expected!r:.80}"
    return None


def is_plain_data(value: Any) -> bool:
    if isinstance(value, dict):
        return all(is_plain_data(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(is_plain_data(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


@contextlib.contextmanager
def mmengine_without_pkg_resources() -> Iterator[None]:
    """mmengine 0.10.7 finds `pkg::` bases with pkg_resources, gone from recent setuptools; mmengine
    main uses importlib instead. Patch in that behaviour so the oracle does not depend on setuptools."""
    from mmengine.config import config as mm_config

    def is_installed(package: str) -> bool:
        return importlib.util.find_spec(package) is not None

    def get_installed_path(package: str) -> str:
        spec = importlib.util.find_spec(package)
        return list(spec.submodule_search_locations)[0] if spec.submodule_search_locations else \
            os.path.dirname(spec.origin)

    saved = mm_config.is_installed, mm_config.get_installed_path
    mm_config.is_installed, mm_config.get_installed_path = is_installed, get_installed_path
    try:
        yield
    finally:
        mm_config.is_installed, mm_config.get_installed_path = saved


def mmengine_dict(path: str) -> Any:
    """The oracle: `Config.fromfile(path).to_dict()` (custom imports recorded, not imported)."""
    from mmengine.config import Config
    with mmengine_without_pkg_resources():
        return Config.fromfile(path, import_custom_modules=False).to_dict()


def registry_names_of(data) -> set:
    """Every string under a `type`/`_target_` key of a dict in `data`, found by walking it."""
    found, stack = set(), [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.update(v for k, v in node.items() if k in ("type", "_target_") and isinstance(v, str))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
