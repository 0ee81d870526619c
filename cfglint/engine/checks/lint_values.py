"""Single-config value checks: thresholds outside their sensible range, negative sizes, a test scale
the network never trained at, and `range` sampling without exactly [min, max]."""
from __future__ import annotations

from typing import Iterator

from cfglint.engine.checks import NUMBER, model_check
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
    if not low <= test <= high:
        yield ctx.finding(rule, field, test, location(ctx.model, field), train_min=low, train_max=high,
                          train_desc=describe(ctx.model, "train.resize.short_edge"))


@model_check("range_sampling_sizes", placeholders={"count"}, fields=("train.resize.short_edge",))
def range_sampling_sizes(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    """Detectron2 ResizeShortestEdge(sample_style='range') asserts exactly two sizes (min, max)."""
    field = "train.resize.short_edge"
    sizes = ctx.model.get(field)
    if ctx.model.get("train.resize.sampling") == "range" and isinstance(sizes, list) and len(sizes) != 2:
        yield ctx.finding(rule, field, sizes, location(ctx.model, field) or location(ctx.model, "train.resize.sampling"),
                          count=len(sizes))
