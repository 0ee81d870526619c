"""Detectron2 YACS configs -> expected state dict, per MODEL.META_ARCHITECTURE.

Reads the merged config exactly as `get_cfg()` + `merge_from_file` produce it (all keys present).
"""
from __future__ import annotations

from cfglint.checkpoint.expected import d2_heads
from cfglint.checkpoint.expected.d2_backbone import build_backbone
from cfglint.checkpoint.expected.layers import ExpectedStateDict, UnsupportedArchitecture


def expected_detectron2(config: dict) -> ExpectedStateDict:
    try:
        model = config["MODEL"]
        return _build(model)
    except (KeyError, TypeError, IndexError) as exc:
        # A resolved config always has every key; a hand-made partial one is not modelled.
        raise UnsupportedArchitecture(f"the Detectron2 config lacks or mistypes {exc} needed to build the model")


def _build(model: dict) -> ExpectedStateDict:
    arch = model["META_ARCHITECTURE"]
    sd = ExpectedStateDict()
    if arch not in ("GeneralizedRCNN", "ProposalNetwork", "RetinaNet", "PanopticFPN", "SemanticSegmentor"):
        raise UnsupportedArchitecture(f"MODEL.META_ARCHITECTURE={arch} is not modelled")
    features = build_backbone(sd, model)
    if arch == "RetinaNet":
        d2_heads.retinanet_head(sd, model, features)
    elif arch == "SemanticSegmentor":
        d2_heads.sem_seg_head(sd, model, features)
    else:
        d2_heads.rpn(sd, model, features)
        if arch != "ProposalNetwork":
            d2_heads.roi_heads(sd, model, features)
        if arch == "PanopticFPN":
            d2_heads.sem_seg_head(sd, model, features)
    return sd
