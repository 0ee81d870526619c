"""Pretrained weights against the preprocessing and backbone style they were trained with.

Which weights need what is framework lore (notes/detectron2.md 6.2, notes/mmdetection.md 2.2):
MSRA/Caffe2 ResNets fold the std into conv1 and put the stride in the 1x1 conv; torchvision
ResNets expect RGB, std about 58 and the stride in the 3x3 conv. None of it is visible in the
checkpoint, so a wrong pairing loads silently and only costs accuracy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Optional

from cfglint.engine.checks import TEXT, model_check
from cfglint.engine.context import ModelContext, describe, location
from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule


@dataclass(frozen=True)
class Convention:
    """What a family of pretrained weights needs; None: that aspect is not fixed by the weights."""

    name: str
    pattern: str                 # regular expression matched against the weights string
    std: str                     # "1" or "imagenet" (about 57-58)
    channel_order: str           # "BGR" or "RGB"
    style: Optional[str]         # "caffe" / "pytorch" for ResNet-style backbones, else None


CONVENTIONS = (
    Convention("MSRA/Caffe2 (caffe-style)",
               r"^(detectron2://ImageNetPretrained/MSRA/|catalog://ImageNetPretrained/MSRA/"
               r"|open-mmlab://detectron2?/resnet\d+_caffe|open-mmlab://resnet\d+_caffe)",
               std="1", channel_order="BGR", style="caffe"),
    Convention("Detectron GN (Caffe2)", r"^open-mmlab://detectron/resnet\d+_gn$",
               std="1", channel_order="BGR", style=None),
    Convention("FAIR Caffe2 ResNeXt", r"^(detectron2://ImageNetPretrained/FAIR/X-101-32x8d\.pkl"
                                      r"|open-mmlab://detectron2/resnext101_32x8d)$",
               std="imagenet", channel_order="BGR", style="pytorch"),
    Convention("torchvision", r"^(torchvision://|detectron2://ImageNetPretrained/torchvision/)",
               std="imagenet", channel_order="RGB", style="pytorch"),
)

_ASPECT_FIELDS = {"std": "input.pixel_std", "channel_order": "input.channel_order", "style": "backbone.style"}


def convention_of(weights) -> Optional[Convention]:
    if not isinstance(weights, str):
        return None
    return next((c for c in CONVENTIONS if re.match(c.pattern, weights)), None)


def std_kind(std) -> Optional[str]:
    """'1' (caffe, std folded into conv1), 'imagenet' (about 57-58 on the 0-255 scale), or None."""
    if not isinstance(std, (list, tuple)) or len(std) != 3:
        return None
    if all(abs(float(s) - 1.0) < 0.05 for s in std):
        return "1"
    if all(50.0 <= float(s) <= 65.0 for s in std):
        return "imagenet"
    return None


def _actual(ctx: ModelContext, aspect: str):
    value = ctx.model.get(_ASPECT_FIELDS[aspect])
    return std_kind(value) if aspect == "std" else value


@model_check("weights_convention", params={"aspect": TEXT},
             placeholders={"convention", "expected", "weights_desc"},
             fields=("input.pixel_std", "input.channel_order", "backbone.style"))
def weights_convention(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    """params.aspect: std | channel_order | style. Only a value of the *other* known convention is
    reported; statistics of no known convention (custom data, 0-1 scale) are other rules' business."""
    aspect = rule.params["aspect"]
    convention = convention_of(ctx.model.get("weights"))
    if convention is None:
        return
    expected = getattr(convention, aspect)
    actual = _actual(ctx, aspect)
    if expected is None or actual is None or actual == expected:
        return
    field = _ASPECT_FIELDS[aspect]
    value = ctx.model.get(field)
    where = location(ctx.model, field) or location(ctx.model, "weights")   # a default: point at the weights
    yield ctx.finding(rule, field, value, where, expected=expected,
                      convention=convention.name, weights_desc=describe(ctx.model, "weights"))
