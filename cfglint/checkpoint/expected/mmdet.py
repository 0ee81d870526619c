"""MMDetection configs (`Config.to_dict()`) -> expected state dict, per detector type.

Detectors register backbone, neck, then rpn_head + roi_head (two-stage) or bbox_head (single
stage, and the RPN-only detector, whose RPNHead is named `bbox_head`).
"""
from __future__ import annotations

from cfglint.checkpoint.expected import mm_dense_heads
from cfglint.checkpoint.expected.layers import ExpectedStateDict, UnsupportedArchitecture
from cfglint.checkpoint.expected.mm_backbone import neck, resnet
from cfglint.checkpoint.expected.mm_roi_heads import roi_head

TWO_STAGE = ("TwoStageDetector", "FasterRCNN", "MaskRCNN", "CascadeRCNN", "MaskScoringRCNN", "FastRCNN")
SINGLE_STAGE = ("SingleStageDetector", "RetinaNet", "FCOS", "ATSS", "FSAF", "GFL", "RPN")


def expected_mmdet(config: dict) -> ExpectedStateDict:
    try:
        return _build(config["model"])
    except (KeyError, TypeError, IndexError) as exc:
        raise UnsupportedArchitecture(f"the MMDetection config lacks or mistypes {exc} needed to build the model")


def _build(model: dict) -> ExpectedStateDict:
    kind = model.get("type")
    if kind not in TWO_STAGE + SINGLE_STAGE:
        raise UnsupportedArchitecture(f"detector type {kind} is not modelled")
    sd = ExpectedStateDict()
    resnet(sd, model["backbone"])
    if model.get("neck"):
        neck(sd, model["neck"])
    if kind in TWO_STAGE:
        if model.get("rpn_head"):
            # Two-stage detectors always build their RPN with one (objectness) class.
            rpn = dict(model["rpn_head"], num_classes=1)
            sd.add(f"RPN head {mm_dense_heads.describe(rpn)}", "rpn_head", mm_dense_heads.dense_head(rpn))
        if model.get("roi_head"):
            roi_head(sd, model["roi_head"])
        return sd
    head = model["rpn_head"] if kind == "RPN" else model["bbox_head"]
    if kind == "RPN":
        head = dict(head, num_classes=1)
    sd.add(f"detection head {mm_dense_heads.describe(head)}", "bbox_head", mm_dense_heads.dense_head(head))
    return sd
