"""Meaning shared by the YACS and LazyConfig readers: detector families, channel order, anchors.

Both readers find the same facts in different places; the decisions about what those facts *mean*
in the common model are made once, here.
"""
from __future__ import annotations

import re
from typing import Any, Callable, List, Optional, Tuple

from cfglint.errors import CfglintError
from cfglint.model import CommonModel
from cfglint.model.common import Inconsistency

#: Meta-architectures whose family name is not simply their snake-cased class name.
_META_ARCH_FAMILIES = {
    "RetinaNet": "retinanet",
    "ProposalNetwork": "rpn",
    "PanopticFPN": "panoptic_fpn",
    "SemanticSegmentor": "semantic_segmentor",
    "FCOS": "fcos",
}

#: Meta-architectures built around ROI heads (box, mask and keypoint heads on RPN proposals).
ROI_META_ARCHS = ("GeneralizedRCNN", "PanopticFPN")
#: One-stage detectors: the final detections come from a dense head on every feature map.
DENSE_META_ARCHS = ("RetinaNet", "FCOS")

POINTREND_MASK_HEADS = ("PointRendMaskHead", "ImplicitPointRendMaskHead")

#: `detector_postprocess(..., mask_threshold=0.5)` binarizes masks; no config key reaches it.
MASK_THRESHOLD = 0.5
MASK_THRESHOLD_KEY = "detectron2.modeling.postprocessing.detector_postprocess(mask_threshold)"


def snake_case(name: str) -> str:
    """'MaskFormer' -> 'mask_former', 'DETR' -> 'detr'."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def detector_family(meta_arch: str, roi_heads: str = "", mask: bool = False, keypoint: bool = False,
                    mask_head: str = "", proposals: str = "") -> Tuple[str, str]:
    """The canonical family of a detector and which input decided it.

    Returns (family, decided_by) where decided_by names the argument the family rests on, so the
    caller can point provenance at the key that made the difference. Families follow the names of
    the equivalent MMDetection detectors (CascadeRCNN, PointRend, TridentFasterRCNN, FastRCNN):
    a cascade with a mask head is ``cascade_rcnn`` with ``heads.mask`` true, as MMDetection's
    CascadeRCNN is both.
    """
    if meta_arch != "GeneralizedRCNN":
        return _META_ARCH_FAMILIES.get(meta_arch) or snake_case(meta_arch), "meta_arch"
    if roi_heads == "CascadeROIHeads":
        return "cascade_rcnn", "roi_heads"
    if roi_heads.startswith("Trident"):
        return "trident_faster_rcnn", "roi_heads"
    if keypoint:
        return "keypoint_rcnn", "keypoint"
    if mask and mask_head in POINTREND_MASK_HEADS:
        return "point_rend", "mask_head"
    if mask:
        return "mask_rcnn", "mask"
    if proposals == "PrecomputedProposals":
        return "fast_rcnn", "proposals"
    return "faster_rcnn", "meta_arch"


def backbone_family(num_groups: Any) -> str:
    """Detectron2 builds ResNeXt as a ResNet with grouped 3x3 convs (NUM_GROUPS > 1)."""
    return "ResNeXt" if isinstance(num_groups, int) and num_groups > 1 else "ResNet"


def stride_style(stride_in_1x1: Any) -> Optional[str]:
    """STRIDE_IN_1X1 True puts the stride in the 1x1 conv: MMDetection calls that style 'caffe'."""
    if stride_in_1x1 is None:
        return None
    return "caffe" if stride_in_1x1 else "pytorch"


def channel_order(image_format: Any) -> Any:
    """'BGR'/'RGB' (any case) in upper case; other PIL modes ('L', 'YUV-BT.601') as written."""
    if isinstance(image_format, str) and image_format.upper() in ("RGB", "BGR"):
        return image_format.upper()
    return image_format


def rgb_order(values: Any, order: Any) -> Any:
    """Per-channel statistics listed in `order` -> the same statistics listed in RGB order.

    Detectron2 subtracts PIXEL_MEAN in whatever order the input tensor has (INPUT.FORMAT), so a
    BGR list is reversed; lists for other formats (1-channel 'L', ...) have no RGB order and stay.
    """
    if not isinstance(values, (list, tuple)):
        return values
    values = [float(v) for v in values]
    return values[::-1] if order == "BGR" and len(values) == 3 else values


def anchor_levels(value: Any) -> Any:
    """Anchor sizes/ratios as one list per feature level.

    DefaultAnchorGenerator broadcasts a flat list ([0.5, 1.0, 2.0]) to every level, exactly like
    a single-level nested one ([[0.5, 1.0, 2.0]]), so both are written in the nested form.
    """
    if not isinstance(value, (list, tuple)):
        return value
    if value and all(isinstance(v, (list, tuple)) for v in value):
        return [list(v) for v in value]
    return [list(value)]


def short_edges(value: Any, sampling: Any) -> Any:
    """Training short-edge sizes as a list; ResizeShortestEdge turns a single int n into (n, n)."""
    if isinstance(value, int):
        return [value] if sampling == "choice" else [value, value]
    return list(value) if isinstance(value, (list, tuple)) else value


def floats(values: Any) -> Any:
    """(10, 10, 5, 5) and [10.0, 10.0, 5.0, 5.0] are the same box-coder weights."""
    if isinstance(values, (list, tuple)):
        return [float(v) for v in values]
    return values


def weights_path(value: Any) -> Any:
    """An empty MODEL.WEIGHTS / init_checkpoint loads nothing: no weights (None)."""
    return value if value else None


def add_disagreement(model: CommonModel, field: str, entries: List[Tuple[str, Any, Any]], why: str) -> None:
    """Record an Inconsistency when native keys that must agree hold different values.

    `entries` are (native key, value, location); nothing is recorded when all values are equal.
    """
    values = {key: value for key, value, _ in entries}
    if len({repr(v) for v in values.values()}) <= 1:
        return
    listing = ", ".join(f"{key} = {value!r}" for key, value in values.items())
    model.inconsistencies.append(Inconsistency(
        field=field, values=values, locations={key: loc for key, _, loc in entries},
        message=f"{listing} disagree; {why}"))


def convert_value(convert: Callable[[Any], Any], value: Any, key: str, field: str, location) -> Any:
    """`convert(value)`; a value of a shape the model could never be built with is the user's error.

    YACS checks only the outer type (a list stays a list, whatever it holds) and LazyConfig checks
    nothing, so a wrong value reaches the normalizer; it becomes a CfglintError at the key's line.
    """
    try:
        return convert(value)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError):
        raise CfglintError(f"`{key}` is {value!r:.80}, which is not a valid value for {field}",
                           location.file if location else None, location.line if location else None) from None
