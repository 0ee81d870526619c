"""Detectron2 YACS configs -> common model, checked against values read by hand from the files.

Each expectation below was derived from the corpus YAML (and its _BASE_ chain) plus the defaults
table in notes/detectron2.md 1.1, not by running the normalizer. The input is the oracle (what
`get_cfg().merge_from_file()` really resolves), so these tests isolate the normalization step;
provenance through the real YAML reader is covered in test_d2_normalize_load.py.
"""
from __future__ import annotations

import copy
import json

import pytest

from cfglint.adapters.detectron2.normalize import normalize
from cfglint.model import ResolvedConfig
from tests.conftest import SHARED, requires_shared

pytestmark = requires_shared

ORACLES = SHARED / "oracles" / "detectron2" / "resolved"

# Defaults (detectron2/config/defaults.py) as the common model states them.
RGB_MEAN = [123.675, 116.28, 103.53]           # MODEL.PIXEL_MEAN default is BGR [103.53, 116.28, 123.675]
MSRA = "detectron2://ImageNetPretrained/MSRA/R-50.pkl"
FPN_ANCHORS = [[32], [64], [128], [256], [512]]  # Base-RCNN-FPN.yaml:10
C4_ANCHORS = [[32, 64, 128, 256, 512]]           # defaults.py:180
COCO_TRAIN_SIZES = [640, 672, 704, 736, 768, 800]  # Base-*.yaml MIN_SIZE_TRAIN

R50_FPN_MASK = {
    "arch": "mask_rcnn", "backbone.type": "ResNet", "backbone.depth": 50, "backbone.style": "caffe",
    "backbone.norm": "FrozenBN", "backbone.groups": 1, "backbone.width_per_group": 64,
    "backbone.frozen_stages": 1, "backbone.dilation": 1, "neck.type": "FPN", "neck.out_channels": 256,
    "num_classes": 80, "classes": None, "heads.mask": True, "heads.keypoint": False,
    "heads.cls_agnostic_bbox_reg": False, "heads.bbox_reg_weights": [10.0, 10.0, 5.0, 5.0],
    "heads.num_stages": 1, "anchors.sizes": FPN_ANCHORS, "anchors.aspect_ratios": [[0.5, 1.0, 2.0]],
    "input.channel_order": "BGR", "input.pixel_mean": RGB_MEAN, "input.pixel_std": [1.0, 1.0, 1.0],
    "train.resize.short_edge": COCO_TRAIN_SIZES, "train.resize.sampling": "choice",
    "train.resize.max_size": 1333, "test.resize.short_edge": 800, "test.resize.max_size": 1333,
    "test.resize.keep_ratio": True, "test.score_thresh": 0.05, "test.nms_iou": 0.5,
    "test.max_detections": 100, "test.mask_thresh": 0.5, "test.rpn.nms_iou": 0.7,
    "test.rpn.pre_nms_topk": 1000, "test.rpn.post_nms_topk": 1000, "weights": MSRA,
}
NO_RPN = {"test.rpn.nms_iou": None, "test.rpn.pre_nms_topk": None, "test.rpn.post_nms_topk": None}
NO_DETECTION_HEAD = {
    "num_classes": None, "heads.mask": False, "heads.keypoint": False, "heads.cls_agnostic_bbox_reg": None,
    "heads.bbox_reg_weights": None, "heads.num_stages": None, "anchors.sizes": None,
    "anchors.aspect_ratios": None, "test.score_thresh": None, "test.nms_iou": None,
    "test.max_detections": None, "test.mask_thresh": None, **NO_RPN,
}
C4 = {"neck.type": None, "neck.out_channels": None, "anchors.sizes": C4_ANCHORS,
      "test.rpn.pre_nms_topk": 6000, "test.rpn.post_nms_topk": 1000}   # Base-RCNN-C4.yaml:4-5
NO_MASK = {"arch": "faster_rcnn", "heads.mask": False, "test.mask_thresh": None}


def retinanet_sizes():
    """configs/Base-RetinaNet.yaml:8, the eval'd expression as written in the file."""
    return [[x, x * 2 ** (1.0 / 3), x * 2 ** (2.0 / 3)] for x in [32, 64, 128, 256, 512]]


CASES = {
    "configs/COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x": R50_FPN_MASK,
    "configs/COCO-Detection/faster_rcnn_R_50_C4_1x": {**R50_FPN_MASK, **NO_MASK, **C4},
    "configs/COCO-Detection/faster_rcnn_R_101_DC5_3x": {
        **R50_FPN_MASK, **NO_MASK, **C4, "backbone.depth": 101, "backbone.dilation": 2,
        "weights": "detectron2://ImageNetPretrained/MSRA/R-101.pkl"},
    "configs/COCO-Detection/retinanet_R_101_FPN_3x": {
        **R50_FPN_MASK, **NO_RPN, "arch": "retinanet", "backbone.depth": 101, "heads.mask": False,
        "test.mask_thresh": None, "heads.cls_agnostic_bbox_reg": None, "heads.num_stages": None,
        "heads.bbox_reg_weights": [1.0, 1.0, 1.0, 1.0], "anchors.sizes": retinanet_sizes(),
        "weights": "detectron2://ImageNetPretrained/MSRA/R-101.pkl"},
    "configs/COCO-InstanceSegmentation/mask_rcnn_X_101_32x8d_FPN_3x": {
        **R50_FPN_MASK, "backbone.type": "ResNeXt", "backbone.depth": 101, "backbone.style": "pytorch",
        "backbone.groups": 32, "backbone.width_per_group": 8,
        "input.pixel_std": [58.395, 57.12, 57.375],   # file: [57.375, 57.120, 58.395] in BGR order
        "weights": "detectron2://ImageNetPretrained/FAIR/X-101-32x8d.pkl"},
    "configs/COCO-Keypoints/keypoint_rcnn_R_50_FPN_1x": {
        **R50_FPN_MASK, "arch": "keypoint_rcnn", "num_classes": 1, "heads.mask": False,
        "heads.keypoint": True, "test.mask_thresh": None},
    "configs/Misc/cascade_mask_rcnn_R_50_FPN_3x": {
        **R50_FPN_MASK, "arch": "cascade_rcnn", "heads.cls_agnostic_bbox_reg": True,
        "heads.bbox_reg_weights": [30.0, 30.0, 15.0, 15.0], "heads.num_stages": 3},
    "configs/LVISv1-InstanceSegmentation/mask_rcnn_R_50_FPN_1x": {
        **R50_FPN_MASK, "num_classes": 1203, "test.score_thresh": 0.0001, "test.max_detections": 300},
    "configs/COCO-PanopticSegmentation/panoptic_fpn_R_101_3x": {
        **R50_FPN_MASK, "arch": "panoptic_fpn", "backbone.depth": 101,
        "weights": "detectron2://ImageNetPretrained/MSRA/R-101.pkl"},
    "configs/Cityscapes/mask_rcnn_R_50_FPN": {
        **R50_FPN_MASK, "num_classes": 8, "train.resize.short_edge": [800, 832, 864, 896, 928, 960, 992, 1024],
        "train.resize.max_size": 2048, "test.resize.short_edge": 1024, "test.resize.max_size": 2048,
        "weights": "detectron2://COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x/137849600/model_final_f10217.pkl"},
    "configs/PascalVOC-Detection/faster_rcnn_R_50_C4": {
        **R50_FPN_MASK, **NO_MASK, **C4, "num_classes": 20,
        "train.resize.short_edge": [480, 512, 544, 576, 608, 640, 672, 704, 736, 768, 800]},
    "configs/COCO-Detection/rpn_R_50_FPN_1x": {
        **R50_FPN_MASK, **NO_DETECTION_HEAD, "arch": "rpn", "anchors.sizes": FPN_ANCHORS,
        "anchors.aspect_ratios": [[0.5, 1.0, 2.0]], "heads.bbox_reg_weights": [1.0, 1.0, 1.0, 1.0],
        "test.nms_iou": 0.7, "test.max_detections": 2000,
        "test.rpn.nms_iou": 0.7, "test.rpn.pre_nms_topk": 1000, "test.rpn.post_nms_topk": 2000},
    "configs/Misc/semantic_R_50_FPN_1x": {**R50_FPN_MASK, **NO_DETECTION_HEAD, "arch": "semantic_segmentor"},
    "configs/COCO-Detection/fast_rcnn_R_50_FPN_1x": {
        **R50_FPN_MASK, **NO_MASK, **NO_RPN, "arch": "fast_rcnn", "anchors.sizes": None,
        "anchors.aspect_ratios": None},
    "projects/PointRend/configs/InstanceSegmentation/pointrend_rcnn_R_50_FPN_1x_cityscapes": {
        **R50_FPN_MASK, "arch": "point_rend", "num_classes": 8,
        "train.resize.short_edge": [800, 832, 864, 896, 928, 960, 992, 1024],
        "train.resize.max_size": 2048, "test.resize.short_edge": 1024, "test.resize.max_size": 2048},
    "projects/TridentNet/configs/tridentnet_fast_R_50_C4_1x": {
        **R50_FPN_MASK, **NO_MASK, **C4, "arch": "trident_faster_rcnn"},
    "projects/DeepLab/configs/Cityscapes-SemanticSegmentation/deeplab_v3_plus_R_103_os16_mg124_poly_90k_bs16": {
        **R50_FPN_MASK, **NO_DETECTION_HEAD, "arch": "semantic_segmentor", "backbone.depth": 101,
        "backbone.style": "pytorch", "backbone.norm": "SyncBN", "backbone.dilation": 2,
        "backbone.frozen_stages": -1, "neck.type": None, "neck.out_channels": None,
        "input.channel_order": "RGB", "input.pixel_mean": [123.675, 116.28, 103.53],
        "input.pixel_std": [58.395, 57.12, 57.375],
        "train.resize.short_edge": [512, 768, 1024, 1280, 1536, 1792, 2048], "train.resize.max_size": 4096,
        "test.resize.short_edge": 1024, "test.resize.max_size": 2048, "weights": "detectron2://DeepLab/R-103.pkl"},
}


def oracle(rel: str) -> dict:
    return json.loads((ORACLES / f"{rel}.json").read_text())


def normalize_data(rel: str, data: dict):
    return normalize(ResolvedConfig(framework="detectron2", path=f"{rel}.yaml", data=data, syntax="yacs"))


@pytest.mark.parametrize("rel", sorted(CASES))
def test_values_match_the_files(rel):
    model = normalize_data(rel, oracle(rel))
    expected = CASES[rel]
    assert set(expected) == set(model.values), "every field has a hand-derived expectation"
    wrong = {f: (model.values[f], v) for f, v in expected.items() if model.values[f] != v}
    assert not wrong, wrong
    assert model.inconsistencies == []
    assert model.framework == "detectron2"
    assert model.resolved is not None


def test_provenance_names_the_key_that_decides():
    model = normalize_data("configs/COCO-Detection/retinanet_R_101_FPN_3x",
                           oracle("configs/COCO-Detection/retinanet_R_101_FPN_3x"))
    assert model.provenance["num_classes"].native_key == "MODEL.RETINANET.NUM_CLASSES"
    assert model.provenance["test.score_thresh"].native_key == "MODEL.RETINANET.SCORE_THRESH_TEST"
    assert model.provenance["input.pixel_mean"].native_key == "MODEL.PIXEL_MEAN"
    cascade = normalize_data("configs/Misc/cascade_mask_rcnn_R_50_FPN_3x", oracle("configs/Misc/cascade_mask_rcnn_R_50_FPN_3x"))
    assert cascade.provenance["arch"].native_key == "MODEL.ROI_HEADS.NAME"
    assert cascade.provenance["heads.bbox_reg_weights"].native_key == "MODEL.ROI_BOX_CASCADE_HEAD.BBOX_REG_WEIGHTS"


def test_retinanet_ignores_roi_heads_keys():
    rel = "configs/COCO-Detection/retinanet_R_50_FPN_1x"
    data = oracle(rel)
    data["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] = 3
    data["MODEL"]["ROI_HEADS"]["SCORE_THRESH_TEST"] = 0.9
    model = normalize_data(rel, data)
    assert model.get("num_classes") == 80
    assert model.get("test.score_thresh") == 0.05


def test_rgb_input_format_keeps_the_mean_as_written():
    rel = "configs/COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x"
    data = oracle(rel)
    data["INPUT"]["FORMAT"] = "RGB"
    data["MODEL"]["PIXEL_MEAN"] = [123.675, 116.28, 103.53]
    model = normalize_data(rel, data)
    assert model.get("input.channel_order") == "RGB"
    assert model.get("input.pixel_mean") == [123.675, 116.28, 103.53]


def test_pointrend_point_head_classes_must_match_roi_heads():
    rel = "projects/PointRend/configs/InstanceSegmentation/pointrend_rcnn_R_50_FPN_1x_cityscapes"
    data = oracle(rel)
    data["MODEL"]["POINT_HEAD"]["NUM_CLASSES"] = 80   # as if the file forgot POINT_HEAD.NUM_CLASSES: 8
    model = normalize_data(rel, data)
    assert model.get("num_classes") == 8
    [inc] = model.inconsistencies
    assert inc.field == "num_classes"
    assert inc.values == {"MODEL.ROI_HEADS.NUM_CLASSES": 8, "MODEL.POINT_HEAD.NUM_CLASSES": 80}
    assert "MODEL.POINT_HEAD.NUM_CLASSES" in inc.message


def test_panoptic_stuff_classes_are_not_a_disagreement():
    rel = "configs/COCO-PanopticSegmentation/panoptic_fpn_R_101_3x"
    data = oracle(rel)
    assert data["MODEL"]["SEM_SEG_HEAD"]["NUM_CLASSES"] != data["MODEL"]["ROI_HEADS"]["NUM_CLASSES"]
    assert normalize_data(rel, data).inconsistencies == []


def test_unknown_syntax_is_refused_with_the_file():
    from cfglint.errors import CfglintError
    with pytest.raises(CfglintError) as err:
        normalize(ResolvedConfig(framework="detectron2", path="x.cfg", data={}, syntax="ini"))
    assert err.value.file == "x.cfg"


def test_empty_weights_mean_no_weights():
    rel = "configs/Misc/scratch_mask_rcnn_R_50_FPN_3x_gn"
    data = oracle(rel)
    assert data["MODEL"]["WEIGHTS"] == ""
    assert normalize_data(rel, copy.deepcopy(data)).get("weights") is None
