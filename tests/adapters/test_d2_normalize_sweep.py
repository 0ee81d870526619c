"""Every resolved Detectron2 oracle normalizes, and the result obeys what detectron2 guarantees.

The invariants come from detectron2's semantics (notes/detectron2.md 1.1, 6), checked on all 110
oracle configs at once (one test, well under a second).
"""
from __future__ import annotations

import json

import pytest

from cfglint.adapters.detectron2.normalize import normalize
from cfglint.model import FIELDS, ResolvedConfig
from tests.conftest import SHARED, requires_shared

pytestmark = [pytest.mark.slow, requires_shared]

ORACLES = SHARED / "oracles" / "detectron2" / "resolved"
ROI_ARCHS = {"faster_rcnn", "mask_rcnn", "keypoint_rcnn", "cascade_rcnn", "fast_rcnn", "point_rend",
             "trident_faster_rcnn", "panoptic_fpn"}


def _violations(rel: str, data: dict) -> list:
    m = data["MODEL"]
    model = normalize(ResolvedConfig(framework="detectron2", path=rel, data=data, syntax="yacs"))
    v = model.values
    problems = []

    def check(ok: bool, what: str) -> None:
        if not ok:
            problems.append(f"{rel}: {what}")

    check(set(v) == set(FIELDS), "fields are exactly the common-model fields")
    json.dumps(model.to_json())
    check(v["arch"] is not None and v["arch"] == v["arch"].lower(), f"arch lower snake case ({v['arch']})")
    check(v["input.channel_order"] == data["INPUT"]["FORMAT"], "channel order is INPUT.FORMAT")
    # Canonical RGB order: ImageNet's R mean (123.675) comes first whatever INPUT.FORMAT is.
    check(v["input.pixel_mean"][0] > v["input.pixel_mean"][2], f"mean in RGB order ({v['input.pixel_mean']})")
    check(sorted(v["input.pixel_mean"]) == sorted(m["PIXEL_MEAN"]), "mean is a permutation of PIXEL_MEAN")
    check(v["backbone.type"] in ("ResNet", "ResNeXt"), "every corpus backbone is a ResNet")
    check((v["backbone.type"] == "ResNeXt") == (m["RESNETS"]["NUM_GROUPS"] > 1), "ResNeXt iff grouped")
    check(v["backbone.frozen_stages"] == m["BACKBONE"]["FREEZE_AT"] - 1, "frozen_stages = FREEZE_AT - 1")
    check((v["neck.type"] == "FPN") == ("fpn" in m["BACKBONE"]["NAME"]), "FPN neck iff an *fpn* builder")
    check(isinstance(v["test.resize.short_edge"], int), "test short edge is one int")
    check(v["train.resize.sampling"] in ("choice", "range"), "sampling is choice or range")
    check(all(isinstance(s, int) for s in v["train.resize.short_edge"]), "train sizes are ints")
    for field, value in v.items():
        if value is not None:
            check(field in model.provenance, f"{field} has provenance")
    if m["META_ARCHITECTURE"] in ("GeneralizedRCNN", "PanopticFPN"):
        check(v["arch"] in ROI_ARCHS, f"known R-CNN family ({v['arch']})")
        check(v["num_classes"] == m["ROI_HEADS"]["NUM_CLASSES"], "num_classes from ROI_HEADS")
        check(v["heads.mask"] == m["MASK_ON"] and v["heads.keypoint"] == m["KEYPOINT_ON"], "head flags")
        check(isinstance(v["test.score_thresh"], float) and isinstance(v["test.nms_iou"], float),
              "ROI thresholds")
        check(v["test.max_detections"] == data["TEST"]["DETECTIONS_PER_IMAGE"], "max detections")
        cascade = m["ROI_HEADS"]["NAME"] == "CascadeROIHeads"   # also under PanopticFPN
        check(v["heads.num_stages"] == (3 if cascade else 1), "cascade stages")
        check((v["test.mask_thresh"] == 0.5) == bool(m["MASK_ON"]), "mask threshold iff mask head")
        has_rpn = m["PROPOSAL_GENERATOR"]["NAME"] != "PrecomputedProposals"
        check((v["test.rpn.nms_iou"] is not None) == has_rpn, "RPN settings iff an RPN")
        check((v["anchors.sizes"] is not None) == has_rpn, "anchors iff an RPN")
    elif m["META_ARCHITECTURE"] == "RetinaNet":
        check(v["arch"] == "retinanet", "retinanet")
        check(v["num_classes"] == m["RETINANET"]["NUM_CLASSES"], "num_classes from RETINANET")
        check(v["test.score_thresh"] == m["RETINANET"]["SCORE_THRESH_TEST"], "score from RETINANET")
        check(v["test.rpn.nms_iou"] is None and not v["heads.mask"], "no RPN, no masks")
        check(len(v["anchors.sizes"]) == 5 and len(v["anchors.sizes"][0]) == 3, "3 sizes on 5 levels")
    elif m["META_ARCHITECTURE"] == "ProposalNetwork":
        check(v["arch"] == "rpn" and v["num_classes"] is None, "rpn has no classes")
        check(v["test.rpn.post_nms_topk"] == v["test.max_detections"], "proposals are the detections")
    else:
        check(m["META_ARCHITECTURE"] == "SemanticSegmentor" and v["arch"] == "semantic_segmentor", "semantic")
        check(v["num_classes"] is None and v["test.score_thresh"] is None, "no detection fields")
    check(model.inconsistencies == [], f"no inconsistency in shipped configs ({model.inconsistencies})")
    return problems


def test_every_oracle_config_normalizes_consistently():
    files = sorted(ORACLES.rglob("*.json"))
    assert len(files) == 110
    problems = []
    archs = set()
    for path in files:
        rel = str(path.relative_to(ORACLES))
        data = json.loads(path.read_text())
        problems += _violations(rel, data)
        archs.add(data["MODEL"]["META_ARCHITECTURE"])
    assert archs == {"GeneralizedRCNN", "PanopticFPN", "RetinaNet", "ProposalNetwork", "SemanticSegmentor"}
    assert not problems, "\n".join(problems)
