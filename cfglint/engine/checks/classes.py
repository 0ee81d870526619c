"""Class names: the same names in the same order on both sides, and as many as the head predicts."""
from __future__ import annotations

from typing import Iterator

from cfglint.engine.checks import LIST, model_check, pair_check
from cfglint.engine.context import ModelContext, PairContext, describe, location
from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule


def _names(names) -> str:
    return ", ".join(repr(n) for n in names[:5]) + (", ..." if len(names) > 5 else "")


@pair_check("class_names", placeholders={"detail"}, fields=("classes",))
def class_names(ctx: PairContext, rule: Rule) -> Iterator[Finding]:
    """Label i means class_names[i]: a reorder is as wrong as a rename, so say which it is."""
    for field in rule.fields:
        left, right = ctx.left.get(field), ctx.right.get(field)
        if left is None and right is None or list(left or ()) == list(right or ()):
            continue
        if left is None or right is None:
            yield ctx.not_comparable(field)
            continue
        if sorted(left) == sorted(right):
            first = next(i for i, (a, b) in enumerate(zip(left, right)) if a != b)
            detail = (f"the same names in a different order (label {first} is {left[first]!r} in training "
                      f"but {right[first]!r} at inference)")
        else:
            only_left = [n for n in left if n not in right]
            only_right = [n for n in right if n not in left]
            detail = "different names" + (f"; only in training: {_names(only_left)}" if only_left else "") + \
                (f"; only at inference: {_names(only_right)}" if only_right else "")
        yield ctx.finding(rule, field, detail=detail)


@model_check("classes_count", params={"skip_arch": LIST}, placeholders={"count", "num_classes_desc"},
             fields=("classes", "num_classes"))
def classes_count(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    """len(classes) must equal num_classes, or labels and names disagree (mmdet NumClassCheckHook,
    which only runs during training)."""
    names, count = ctx.model.get("classes"), ctx.model.get("num_classes")
    if ctx.model.get("arch") in rule.params.get("skip_arch", ()):
        return
    if names is None or count is None or len(names) == count:
        return
    yield ctx.finding(rule, "classes", names, location(ctx.model, "classes"), count=len(names),
                      num_classes=count, num_classes_desc=describe(ctx.model, "num_classes"))

