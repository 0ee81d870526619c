"""Comparison of cfglint's resolved data with the wild-corpus oracles (../shared/oracles/wild/README.md).

Both sides through `norm` (tuples as lists, floats rounded to 9 digits, inf/nan as "inf"/"nan"),
then a first-difference walk; for LazyConfig the oracle's Python objects (`"@obj:module:qualname"`)
match any dotted name listed for them in `<config>.objects.json`, cfglint's raw shapes map onto
the oracle's (`{"_lambda_": src}` -> "<lambda>", `{"_function_": n}` -> "@cfgfn:n",
`{"_call_": "...ShapeSpec", ...}` -> the node OmegaConf makes of a ShapeSpec), and int vs float
(and bool vs int) must agree.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

SHAPE_SPEC = ("detectron2.layers.ShapeSpec", "detectron2.layers.shape_spec.ShapeSpec")
SHAPE_FIELDS = ("channels", "height", "width", "stride")


def norm(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return round(value, 9)
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: norm(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [norm(v) for v in value]
    return value


def lazy_canon(value: Any) -> Any:
    """cfglint's documented raw LazyConfig shapes -> the oracle's."""
    if isinstance(value, dict):
        if set(value) == {"_lambda_"}:
            return "<lambda>"
        if set(value) == {"_function_"}:
            return f"@cfgfn:{value['_function_']}"
        if value.get("_call_") in SHAPE_SPEC and "_args_" not in value:
            return {f: lazy_canon(value.get(f)) for f in SHAPE_FIELDS}
        return {k: lazy_canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lazy_canon(v) for v in value]
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return type(value).__name__
    return "other"


def first_diff(expected: Any, actual: Any, objects: Optional[Dict[str, List[str]]] = None,
               path: Tuple[Any, ...] = ()) -> Optional[str]:
    """None when equal, else a description of the first difference."""
    if isinstance(expected, str) and expected.startswith("@obj:") and objects is not None:
        if isinstance(actual, str) and actual in objects.get(expected, ()):
            return None
        return f"{'.'.join(map(str, path))}: {actual!r} is not one of the names of {expected}"
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected:
            if key not in actual:
                return f"{'.'.join(map(str, path + (key,)))}: missing in cfglint"
        for key in actual:
            if key not in expected:
                return f"{'.'.join(map(str, path + (key,)))}: only in cfglint ({actual[key]!r:.80})"
        for key in expected:
            found = first_diff(expected[key], actual[key], objects, path + (key,))
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{'.'.join(map(str, path))}: {len(actual)} items, the framework has {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            found = first_diff(e, a, objects, path + (i,))
            if found:
                return found
        return None
    if expected != actual or _kind(expected) != _kind(actual):
        return f"{'.'.join(map(str, path))}: cfglint {actual!r:.100}, the framework {expected!r:.100}"
    return None


def oracle_files(oracles: Path, repo: str, config: str) -> Dict[str, Path]:
    base = oracles / repo / config
    return {suffix: Path(f"{base}{suffix}") for suffix in (".json", ".refused.json", ".addons.json", ".objects.json")}


def needs_addons(addons_file: Path) -> bool:
    if not addons_file.is_file():
        return False
    data = json.loads(addons_file.read_text())
    chain = data.get("chain", data.get("addons", data.get("add_ons")))
    return bool(chain)
