"""Single-config input checks: pixel statistics on the wrong scale or in the wrong channel order.

Both frameworks feed 0-255 pixels to the network (Detectron2's DatasetMapper, mmdet's
DetDataPreprocessor) and subtract the mean in the channel order the network consumes, so the
common model's `input.pixel_mean` (always RGB order) reveals a list written in the wrong order.
"""
from __future__ import annotations

from typing import Iterator, Optional, Sequence

from cfglint.engine.checks import NUMBER, model_check
from cfglint.engine.context import ModelContext, location
from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule

#: ImageNet means in RGB order, 0-255: torchvision/Detectron2 and Detectron v1 (Caffe2) conventions.
IMAGENET_MEANS_RGB = ((123.675, 116.28, 103.53), (122.7717, 115.9465, 102.9801))


def _triple(values) -> Optional[Sequence[float]]:
    if isinstance(values, (list, tuple)) and len(values) == 3 and all(isinstance(v, (int, float)) for v in values):
        return [float(v) for v in values]
    return None


def is_unit_scale(values) -> bool:
    """Statistics of 0-1 images (ImageNet mean 0.485..., std 0.229...): none above 1, not all 1."""
    triple = _triple(values)
    return triple is not None and max(triple) <= 1.0 and triple != [1.0, 1.0, 1.0] and max(triple) > 0


@model_check("unit_scale_stats")
def unit_scale_stats(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    for field in rule.fields:
        value = ctx.model.get(field)
        if is_unit_scale(value):
            yield ctx.finding(rule, field, value, location(ctx.model, field))


@model_check("mean_channel_order", params={"abs_tol": NUMBER}, placeholders={"order", "written_as"},
             fields=("input.pixel_mean",))
def mean_channel_order(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    """An ImageNet mean whose canonical (RGB-order) form is the reverse of a known ImageNet mean was
    written in the opposite order to the declared channel order. Other means (a custom dataset's)
    cannot be judged and are left alone."""
    field = "input.pixel_mean"
    mean = _triple(ctx.model.get(field))
    order = ctx.model.get("input.channel_order")
    if mean is None or order not in ("RGB", "BGR"):
        return
    tolerance = float(rule.params.get("abs_tol", 1.0))
    for known in IMAGENET_MEANS_RGB:
        if all(abs(m - k) <= tolerance for m, k in zip(mean, known[::-1])):
            written_as = "RGB" if order == "BGR" else "BGR"
            yield ctx.finding(rule, field, mean, location(ctx.model, field), order=order, written_as=written_as)
            return
