"""Anchor settings both ways, plus the per-location anchor order that decides weight layout.

Detectron2 ``DefaultAnchorGenerator.generate_cell_anchors`` loops ``for size in sizes: for
aspect_ratio in aspect_ratios`` (anchor a = size_index * R + ratio_index). mmdet
``AnchorGenerator.gen_single_level_base_anchors`` builds ``w_ratios[:, None] * scales[None, :]``
and flattens it (anchor a = ratio_index * S + scale_index), whatever ``scale_major`` says. Both
define ratio = h / w, area = size**2 and centre anchors on ``i * stride`` (D2 OFFSET 0.0 = mmdet
center_offset 0), so anchors are the same set and only their order differs: heads whose output
channels are grouped per anchor (RetinaNet cls/reg, RPN with several sizes per level) need the
channel permutation in :func:`d2_to_mmdet_anchor_order`.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence

from cfglint.errors import UnsupportedError

_REL_TOL = 1e-6


def d2_to_mmdet_anchor_order(num_sizes: int, num_ratios: int) -> List[int]:
    """perm[a_mm] = a_d2: the Detectron2 anchor index that mmdet's anchor ``a_mm`` is."""
    return [s * num_ratios + r for r in range(num_ratios) for s in range(num_sizes)]


def mmdet_to_d2_anchor_order(num_sizes: int, num_ratios: int) -> List[int]:
    """perm[a_d2] = a_mm: the mmdet anchor index that Detectron2's anchor ``a_d2`` is."""
    return [r * num_sizes + s for s in range(num_sizes) for r in range(num_ratios)]


def sizes_to_mmdet(sizes: Sequence[Sequence[float]], ratios: Sequence[Sequence[float]],
                   strides: Sequence[int], offset: float) -> dict:
    """Detectron2 SIZES/ASPECT_RATIOS (broadcast per level) -> an mmdet AnchorGenerator dict."""
    levels = len(strides)
    sizes = _broadcast(sizes, levels, "MODEL.ANCHOR_GENERATOR.SIZES")
    ratios = _broadcast(ratios, levels, "MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS")
    if any(list(r) != list(ratios[0]) for r in ratios):
        raise UnsupportedError("MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS differs per level; mmdet's "
                               "AnchorGenerator takes one list of ratios for all levels")
    scales = [[s / stride for s in level] for level, stride in zip(sizes, strides)]
    gen = dict(type="AnchorGenerator")
    octave = _octave_form(scales[0])
    if all(_close_lists(level, scales[0]) for level in scales):
        if octave is not None:
            gen.update(octave_base_scale=octave[0], scales_per_octave=octave[1])
        else:
            gen.update(scales=_tidy(scales[0]))
    else:
        base = [level[0] for level in sizes]
        rel = [[s / level[0] for s in level] for level in sizes]
        if any(not _close_lists(r, rel[0]) for r in rel):
            raise UnsupportedError("MODEL.ANCHOR_GENERATOR.SIZES: the sizes of each level are not one "
                                   "set of scales of a per-level base size, which mmdet cannot express")
        gen.update(base_sizes=_tidy(base), scales=_tidy(rel[0]))
    gen.update(ratios=_tidy(ratios[0]), strides=list(strides))
    if offset:
        gen["center_offset"] = offset
    return gen


def mmdet_to_sizes(gen: dict) -> tuple:
    """An mmdet AnchorGenerator dict -> (SIZES per level, ASPECT_RATIOS, OFFSET) for Detectron2."""
    if gen.get("type", "AnchorGenerator") != "AnchorGenerator":
        raise UnsupportedError(f"anchor generator {gen.get('type')!r} has no Detectron2 equivalent")
    strides = [s if isinstance(s, (int, float)) else _square(s) for s in gen["strides"]]
    base_sizes = gen.get("base_sizes") or strides
    if gen.get("scales") is not None:
        scales = list(gen["scales"])
    else:
        base, per_octave = gen["octave_base_scale"], gen["scales_per_octave"]
        scales = [base * 2 ** (i / per_octave) for i in range(per_octave)]
    sizes = [[b * s for s in scales] for b in base_sizes]
    if gen.get("center") is not None:
        raise UnsupportedError("anchor_generator.center has no Detectron2 equivalent")
    return [_tidy(level) for level in sizes], [_tidy(gen["ratios"])], float(gen.get("center_offset", 0.0))


def _square(stride) -> float:
    if stride[0] != stride[1]:
        raise UnsupportedError(f"anchor stride {stride} is not square; Detectron2 strides are")
    return stride[0]


def _broadcast(values: Sequence[Sequence[float]], levels: int, key: str) -> List[List[float]]:
    if len(values) == 1:
        return [list(values[0])] * levels
    if len(values) != levels:
        raise UnsupportedError(f"{key} has {len(values)} levels for {levels} feature maps")
    return [list(v) for v in values]


def _octave_form(scales: Sequence[float]) -> Optional[tuple]:
    """(base, n) when scales are base * 2**(i/n), i < n, for n > 1 (RetinaNet's writing)."""
    n = len(scales)
    if n < 2:
        return None
    expected = [scales[0] * 2 ** (i / n) for i in range(n)]
    return (_tidy_one(scales[0]), n) if _close_lists(scales, expected) else None


def _close_lists(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=_REL_TOL) for x, y in zip(a, b))


def _tidy_one(x: float):
    """Integral floats become ints (scales=[8], not [8.0]); others keep their full precision."""
    return int(round(x)) if math.isclose(x, round(x), rel_tol=0, abs_tol=1e-9) else float(x)


def _tidy(values: Sequence[float]) -> list:
    return [_tidy_one(v) for v in values]
