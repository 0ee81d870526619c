"""Single-config value checks: thresholds outside their sensible range, negative sizes, a test scale
the network never trained at, and `range` sampling without exactly [min, max]."""
from __future__ import annotations

from typing import Iterator

from cfglint.engine.checks import MAPPING, NUMBER, model_check
from cfglint.engine.context import ModelContext, describe, location
from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@model_check("value_range", params={"below": NUMBER, "at_least": NUMBER, "at_most": NUMBER})
def value_range(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    """params: `below` and/or `at_least` bounds; a number (or any number in a list) with
    value < below or value >= at_least is reported. Bounds are exclusive/inclusive as named."""
    below, at_least = rule.params.get("below"), rule.params.get("at_least")
    at_most = rule.params.get("at_most")
    for field in rule.fields:
        value = ctx.model.get(field)
        numbers = [v for v in (value if isinstance(value, list) else [value]) if _number(v)]
        if any((below is not None and v < below) or (at_least is not None and v >= at_least)
               or (at_most is not None and v <= at_most) for v in numbers):
            yield ctx.finding(rule, field, value, location(ctx.model, field))


@model_check("test_scale_in_training_range", placeholders={"train_desc", "train_max", "train_min"},
             fields=("test.resize.short_edge",))
def test_scale_in_training_range(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    """The test short edge against [min, max] of the training short edges (0 = no resize: skipped,
    the image keeps its own size and that is a deliberate choice)."""
    field = "test.resize.short_edge"
    test, train = ctx.model.get(field), ctx.model.get("train.resize.short_edge")
    if not _number(test) or test <= 0 or not isinstance(train, list) or not train \
            or not all(_number(s) for s in train):
        return
    low, high = min(train), max(train)
    train_desc = describe(ctx.model, "train.resize.short_edge")
    batch = _batch_resize_range(ctx)
    if batch is False:
        return   # a batch augment resizes in a way cfglint does not model
    if batch is not None:
        low, high = min(low, batch[0]), max(high, batch[1])
        train_desc += f", and model.data_preprocessor.batch_augments resizes batches to {batch[0]}..{batch[1]}"
    if not low <= test <= high:
        yield ctx.finding(rule, field, test, location(ctx.model, field), train_min=low, train_max=high,
                          train_desc=train_desc)


def _batch_resize_range(ctx: ModelContext):
    """mmdet's `data_preprocessor.batch_augments`: BatchSyncRandomResize(random_size_range=(lo, hi))
    rescales whole batches to a random size in [lo, hi] after the pipeline (YOLOX, RTMDet), so
    that is the training scale too. (lo, hi); None without a resizing batch augment; False for a
    batch augment that resizes otherwise (not judged)."""
    resolved = ctx.model.resolved
    if resolved is None:   # (only mmengine configs have a model.data_preprocessor.batch_augments)
        return None
    augments = resolved.get(("model", "data_preprocessor", "batch_augments"))
    if not isinstance(augments, (list, tuple)):
        return None
    found = None
    for aug in augments:
        kind = aug.get("type") if isinstance(aug, dict) else None
        kind = kind.split(".")[-1] if isinstance(kind, str) else kind
        if kind == "BatchSyncRandomResize":
            span = aug.get("random_size_range")
            if not (isinstance(span, (list, tuple)) and len(span) == 2 and all(_number(v) for v in span)):
                return False
            found = (min(span), max(span)) if found is None else (min(found[0], *span), max(found[1], *span))
        elif not isinstance(kind, str) or "Resize" in kind:
            return False
    return found


@model_check("range_sampling_sizes", placeholders={"count"}, fields=("train.resize.short_edge",))
def range_sampling_sizes(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    """Detectron2 ResizeShortestEdge(sample_style='range') asserts exactly two sizes (min, max)."""
    field = "train.resize.short_edge"
    sizes = ctx.model.get(field)
    if ctx.model.get("train.resize.sampling") == "range" and isinstance(sizes, list) and len(sizes) != 2:
        yield ctx.finding(rule, field, sizes, location(ctx.model, field) or location(ctx.model, "train.resize.sampling"),
                          count=len(sizes))


#: The NMS operator a threshold belongs to when its config names none (mmcv batched_nms, Detectron2).
_DEFAULT_NMS = "nms"


def _nms_operator(ctx: ModelContext, field: str):
    """(operator type, the nms dict) of the native node holding `field`'s threshold."""
    prov = ctx.model.provenance.get(field)
    resolved = ctx.model.resolved
    if prov is None or resolved is None or not prov.native_key or "." not in prov.native_key:
        return _DEFAULT_NMS, {}
    parts = [int(p) if p.lstrip("-").isdigit() else p
             for p in prov.native_key.replace("[", ".").replace("]", "").split(".") if p]
    node = resolved.get(tuple(parts[:-1]), None)
    if not isinstance(node, dict):
        return _DEFAULT_NMS, {}
    kind = node.get("type", _DEFAULT_NMS) if prov.native_key.endswith(".iou_threshold") else _DEFAULT_NMS
    return (kind if isinstance(kind, str) else None), node


def _usual(bounds: dict) -> str:
    low, high = bounds.get("at_most"), bounds.get("at_least")
    return f"above {low} and below {high}" if low is not None and high is not None else "?"


@model_check("nms_iou_range", params={"operators": MAPPING}, placeholders={"operator", "usual"})
def nms_iou_range(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    """params.operators: {nms type: {at_most, at_least}}; a threshold whose operator is not listed
    (matrix NMS, a toolbox's own operator) is not judged, nor gaussian soft-NMS, which ignores it."""
    operators = rule.params.get("operators", {})
    for field in rule.fields:
        value = ctx.model.get(field)
        if not _number(value):
            continue
        kind, node = _nms_operator(ctx, field)
        bounds = operators.get(kind) if kind else None
        if not bounds or (kind == "soft_nms" and node.get("method") == "gaussian"):
            continue
        low, high = bounds.get("at_most"), bounds.get("at_least")
        if (low is not None and value <= low) or (high is not None and value >= high):
            yield ctx.finding(rule, field, value, location(ctx.model, field), operator=kind, usual=_usual(bounds))
