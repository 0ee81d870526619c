"""Normalize every config of the mmdet 3.3 zoo and the 2.28 corpus; check the model's invariants.

Input is mmengine's own `Config.fromfile(p).to_dict()` (what cfglint's evaluator must equal), so
this sweep measures the normalizer alone. Configs mmengine itself cannot load are left out.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import pytest

from cfglint.adapters.mmdet.normalize import normalize
from cfglint.model import FIELDS, CommonModel
from tests.adapters.mmdet_normalize_support import MMDET2_ZOO, MMDET3_ZOO, requires_mmdet3_zoo, resolve_with_mmengine
from tests.conftest import requires_shared

pytestmark = pytest.mark.slow

_KIND_CHECKS = {
    "str": lambda v: isinstance(v, str) and v != "",
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "floats": lambda v: isinstance(v, list) and all(isinstance(x, float) for x in v),
    "ints": lambda v: isinstance(v, list) and v != [] and all(isinstance(x, int) and not isinstance(x, bool) for x in v),
    "strs": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "sizes": lambda v: isinstance(v, list) and all(isinstance(x, list) and x for x in v),
}


def invariant_violations(model: CommonModel) -> List[str]:
    out = []
    for name, spec in FIELDS.items():
        value = model.get(name)
        if value is None:
            if name in model.provenance:
                out.append(f"{name} is None but has provenance")
            continue
        if name not in model.provenance:
            out.append(f"{name}={value!r} has no provenance")
        # backbone.dilation is declared "str" in FIELDS but is the integer C5 dilation, as in D2
        check = _KIND_CHECKS["int"] if name == "backbone.dilation" else _KIND_CHECKS[spec.kind]
        if not check(value):
            out.append(f"{name}={value!r} is not of kind {spec.kind}")
    for name in ("input.pixel_mean", "input.pixel_std"):
        if model.get(name) is not None and len(model.get(name)) != 3:
            out.append(f"{name}={model.get(name)!r} is not 3 floats")
    if model.get("input.channel_order") not in ("RGB", "BGR", None):
        out.append(f"input.channel_order={model.get('input.channel_order')!r}")
    if model.get("train.resize.sampling") == "range" and len(model.get("train.resize.short_edge")) != 2:
        out.append("a range resize needs [min, max]")
    detector = model.resolved.data.get("model")
    if isinstance(detector, dict) and isinstance(detector.get("type"), str) and model.get("arch") is None:
        out.append("model.type is set but arch is not")
    return out


def sweep(root: Path) -> Dict[str, int]:
    counts = {"configs": 0, "unloadable": 0, "num_classes": 0, "arch": 0, "test.score_thresh": 0,
              "test.resize.short_edge": 0, "input.pixel_mean": 0}
    problems = {}
    for path in sorted(root.rglob("*.py")):
        try:
            resolved = resolve_with_mmengine(path)
        except Exception:   # mmengine cannot load it (missing custom imports, broken base); out of scope
            counts["unloadable"] += 1
            continue
        counts["configs"] += 1
        model = normalize(resolved)
        issues = invariant_violations(model)
        if issues:
            problems[str(path.relative_to(root))] = issues
        for name in counts:
            if name in FIELDS and model.get(name) is not None:
                counts[name] += 1
    assert not problems, "\n".join(f"{p}: {i}" for p, i in list(problems.items())[:20])
    print(f"\n{root}: {counts}")
    return counts


@requires_mmdet3_zoo
def test_mmdet3_zoo_sweep():
    counts = sweep(MMDET3_ZOO)
    assert counts["configs"] > 800   # notes/mmdetection.md: 854 of 869 load with mmengine


@requires_shared
def test_mmdet2_corpus_sweep():
    counts = sweep(MMDET2_ZOO)
    assert counts["configs"] == 666   # notes/mmdetection.md: all 666 load with mmengine
