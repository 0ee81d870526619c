"""MMDetection normalization, checked by hand against real zoo configs (2.x and 3.x syntax).

Every expected value below was read off the config file and its `_base_` chain (paths in the
comments), applying mmdet's semantics by hand: mean/std reversed to RGB order when the model is
fed BGR, short edge = min(scale) and long-edge cap = max(scale) for keep-ratio resizes, anchor
size = stride x scale, BBOX_REG_WEIGHTS = 1 / target_stds.
"""
from __future__ import annotations

import pytest

from cfglint.adapters.mmdet.normalize import arch_name, normalize
from cfglint.model import FIELDS, ResolvedConfig
from tests.adapters.mmdet_normalize_support import (MMDET2_ZOO, MMDET3_ZOO, evaluator_available, requires_mmdet3_zoo,
                                                    resolve, resolve_with_mmengine, same)
from tests.conftest import requires_shared

# --- building blocks, each read from the named _base_ file ---------------------------------------

# _base_/models/faster-rcnn_r50_fpn.py (3.x) == _base_/models/faster_rcnn_r50_fpn.py (2.x) backbone + neck
R50_PYTORCH = {"backbone.type": "ResNet", "backbone.depth": 50, "backbone.style": "pytorch", "backbone.norm": "BN",
               "backbone.groups": 1, "backbone.width_per_group": 64, "backbone.frozen_stages": 1,
               "backbone.dilation": 1, "neck.type": "FPN", "neck.out_channels": 256}
# *-caffe_* children: norm_cfg=dict(requires_grad=False), norm_eval=True, style='caffe'
R50_CAFFE = {**R50_PYTORCH, "backbone.style": "caffe", "backbone.norm": "FrozenBN"}
# mean [123.675, 116.28, 103.53], std [58.395, 57.12, 57.375], bgr_to_rgb / to_rgb True
RGB_NORM = {"input.channel_order": "RGB", "input.pixel_mean": [123.675, 116.28, 103.53],
            "input.pixel_std": [58.395, 57.12, 57.375]}
# mean [103.530, 116.280, 123.675] (BGR order), std 1, bgr_to_rgb / to_rgb False
CAFFE_NORM = {"input.channel_order": "BGR", "input.pixel_mean": [123.675, 116.28, 103.53],
              "input.pixel_std": [1.0, 1.0, 1.0]}
# RPNHead AnchorGenerator(scales=[8], ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64])
FPN_RPN_ANCHORS = {"anchors.sizes": [[32], [64], [128], [256], [512]], "anchors.aspect_ratios": [[0.5, 1.0, 2.0]]}
# test_cfg.rpn nms_pre=1000, max_per_img=1000, iou 0.7; rcnn score_thr=0.05, iou 0.5, max_per_img=100
TWO_STAGE_TEST = {"test.score_thresh": 0.05, "test.nms_iou": 0.5, "test.max_detections": 100,
                  "test.rpn.nms_iou": 0.7, "test.rpn.pre_nms_topk": 1000, "test.rpn.post_nms_topk": 1000}
# Shared2FCBBoxHead num_classes=80, target_stds [0.1, 0.1, 0.2, 0.2], reg_class_agnostic=False
FASTER_HEADS = {"arch": "faster_rcnn", "num_classes": 80, "heads.mask": False, "heads.keypoint": False,
                "heads.cls_agnostic_bbox_reg": False, "heads.bbox_reg_weights": [10.0, 10.0, 5.0, 5.0],
                "heads.num_stages": 1}
# coco_detection.py: Resize(scale=(1333, 800), keep_ratio=True) in train and test
# (2.x: train Resize(img_scale=(1333, 800)), test MultiScaleFlipAug(img_scale=(1333, 800)) + Resize(keep_ratio=True))
RESIZE_1333_800 = {"train.resize.short_edge": [800], "train.resize.sampling": "choice", "train.resize.max_size": 1333,
                   "test.resize.short_edge": 800, "test.resize.max_size": 1333, "test.resize.keep_ratio": True}
# multi-scale train: scales (1333, 640) ... (1333, 800) step 32, chosen ('value' / RandomChoiceResize)
MS_CHOICE = {"train.resize.short_edge": [640, 672, 704, 736, 768, 800], "train.resize.sampling": "choice",
             "train.resize.max_size": 1333}
# RetinaHead: AnchorGenerator(octave_base_scale=4, scales_per_octave=3, strides=[8..128]); coder stds 1
RETINA_HEAD = {"arch": "retinanet", "num_classes": 80, "heads.mask": False, "heads.keypoint": False,
               "heads.bbox_reg_weights": [1.0, 1.0, 1.0, 1.0],
               "anchors.sizes": [[s * 4 * 2 ** (i / 3) for i in range(3)] for s in (8, 16, 32, 64, 128)],
               "anchors.aspect_ratios": [[0.5, 1.0, 2.0]],
               "test.score_thresh": 0.05, "test.nms_iou": 0.5, "test.max_detections": 100}
CASCADE_HEADS = {"arch": "cascade_rcnn", "num_classes": 80, "heads.mask": False, "heads.keypoint": False,
                 "heads.cls_agnostic_bbox_reg": True, "heads.num_stages": 3,
                 # third stage target_stds=[0.033, 0.033, 0.067, 0.067]
                 "heads.bbox_reg_weights": [1 / 0.033, 1 / 0.033, 1 / 0.067, 1 / 0.067]}

TORCHVISION_R50 = {"weights": "torchvision://resnet50"}
D2_CAFFE_R50 = {"weights": "open-mmlab://detectron2/resnet50_caffe"}
PERSON_WEIGHTS = ("https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r50_caffe_fpn_mstrain_3x_coco/"
                  "faster_rcnn_r50_caffe_fpn_mstrain_3x_coco_bbox_mAP-0.398_20200504_163323-30042637.pth")
FASTER_COCO_WEIGHTS = ("https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r50_fpn_1x_coco/"
                       "faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth")

FASTER_R50 = {**R50_PYTORCH, **RGB_NORM, **FPN_RPN_ANCHORS, **TWO_STAGE_TEST, **FASTER_HEADS, **RESIZE_1333_800,
              **TORCHVISION_R50}
FASTER_R50_CAFFE = {**FASTER_R50, **R50_CAFFE, **CAFFE_NORM, **D2_CAFFE_R50}
RETINA_R50 = {**R50_PYTORCH, **RGB_NORM, **RETINA_HEAD, **RESIZE_1333_800, **TORCHVISION_R50}
MASK_R50 = {**FASTER_R50, "arch": "mask_rcnn", "heads.mask": True, "test.mask_thresh": 0.5}
CASCADE_R50 = {**FASTER_R50, **CASCADE_HEADS}
CASCADE_MASK_R50 = {**CASCADE_R50, "heads.mask": True, "test.mask_thresh": 0.5}

MMDET3_EXPECTED = {
    "faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py": FASTER_R50,
    "faster_rcnn/faster-rcnn_r50-caffe_fpn_1x_coco.py": FASTER_R50_CAFFE,
    "faster_rcnn/faster-rcnn_r50-caffe_fpn_ms-1x_coco.py": {**FASTER_R50_CAFFE, **MS_CHOICE},
    # num_classes=1, metainfo classes ('person',) on all dataloaders, load_from the 3x COCO model
    "faster_rcnn/faster-rcnn_r50-caffe_fpn_ms-1x_coco-person.py": {
        **FASTER_R50_CAFFE, **MS_CHOICE, "num_classes": 1, "classes": ["person"], "weights": PERSON_WEIGHTS},
    "faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py": {
        **FASTER_R50, "backbone.depth": 101, "weights": "torchvision://resnet101"},
    "faster_rcnn/faster-rcnn_x101-32x4d_fpn_1x_coco.py": {
        **FASTER_R50, "backbone.type": "ResNeXt", "backbone.depth": 101, "backbone.groups": 32,
        "backbone.width_per_group": 4, "weights": "open-mmlab://resnext101_32x4d"},
    # _base_/models/faster-rcnn_r50-caffe-c4.py: no neck, num_stages=3, dilations (1, 1, 1), single-level
    # anchors scales [2..32] at stride 16, rpn test nms_pre=6000
    "faster_rcnn/faster-rcnn_r50-caffe_c4-1x_coco.py": {
        **FASTER_R50_CAFFE, "neck.type": None, "neck.out_channels": None,
        "anchors.sizes": [[32, 64, 128, 256, 512]], "test.rpn.pre_nms_topk": 6000},
    # _base_/models/faster-rcnn_r50-caffe-dc5.py: dilations=(1, 1, 1, 2), no neck, rpn nms_pre=6000
    "faster_rcnn/faster-rcnn_r50-caffe-dc5_1x_coco.py": {
        **FASTER_R50_CAFFE, "backbone.dilation": 2, "neck.type": None, "neck.out_channels": None,
        "anchors.sizes": [[32, 64, 128, 256, 512]], "test.rpn.pre_nms_topk": 6000},
    "retinanet/retinanet_r50_fpn_1x_coco.py": RETINA_R50,
    "mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py": MASK_R50,
    "cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py": CASCADE_R50,
    "cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py": CASCADE_MASK_R50,
    # FCOS: caffe mean [102.9801, 115.9465, 122.7717] fed BGR, no anchors, no delta coder
    "fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py": {
        **R50_CAFFE, **RESIZE_1333_800, "arch": "fcos", "num_classes": 80, "heads.mask": False,
        "heads.keypoint": False, "input.channel_order": "BGR",
        "input.pixel_mean": [122.7717, 115.9465, 102.9801], "input.pixel_std": [1.0, 1.0, 1.0],
        "test.score_thresh": 0.05, "test.nms_iou": 0.5, "test.max_detections": 100,
        "weights": "open-mmlab://detectron/resnet50_caffe"},
    # ATSS: octave_base_scale=8, scales_per_octave=1, ratios [1.0], stds [0.1, 0.1, 0.2, 0.2], nms 0.6
    "atss/atss_r50_fpn_1x_coco.py": {
        **R50_PYTORCH, **RGB_NORM, **RESIZE_1333_800, **TORCHVISION_R50, "arch": "atss", "num_classes": 80,
        "heads.mask": False, "heads.keypoint": False, "heads.bbox_reg_weights": [10.0, 10.0, 5.0, 5.0],
        "anchors.sizes": [[64], [128], [256], [512], [1024]], "anchors.aspect_ratios": [[1.0]],
        "test.score_thresh": 0.05, "test.nms_iou": 0.6, "test.max_detections": 100},
    # 1230 classes in bbox and mask head, score_thr=0.0001, max_per_img=300, RandomChoiceResize
    # inside ClassBalancedDataset
    "lvis/mask-rcnn_r50_fpn_sample1e-3_ms-2x_lvis-v0.5.py": {
        **MASK_R50, **MS_CHOICE, "num_classes": 1230, "test.score_thresh": 0.0001, "test.max_detections": 300},
    # num_classes=8, init_cfg=None + load_from; RandomResize range [(2048, 800), (2048, 1024)] in a
    # RepeatDataset; test Resize(scale=(2048, 1024))
    "cityscapes/faster-rcnn_r50_fpn_1x_cityscapes.py": {
        **FASTER_R50, "num_classes": 8, "weights": FASTER_COCO_WEIGHTS,
        "train.resize.short_edge": [800, 1024], "train.resize.sampling": "range", "train.resize.max_size": 2048,
        "test.resize.short_edge": 1024, "test.resize.max_size": 2048},
    # 20 classes, (1000, 600) in train (RepeatDataset of ConcatDataset) and test; top-level
    # test_cfg is the TestLoop and does not hide model.test_cfg
    "pascal_voc/faster-rcnn_r50_fpn_1x_voc0712.py": {
        **FASTER_R50, "num_classes": 20, "train.resize.short_edge": [600], "train.resize.max_size": 1000,
        "test.resize.short_edge": 600, "test.resize.max_size": 1000},
    # _base_/models/rpn_r50_fpn.py: test_cfg.rpn nms_pre=2000, max_per_img=1000, iou 0.7; no ROI head
    "rpn/rpn_r50_fpn_1x_coco.py": {
        **R50_PYTORCH, **RGB_NORM, **FPN_RPN_ANCHORS, **RESIZE_1333_800, **TORCHVISION_R50, "arch": "rpn",
        "heads.mask": False, "heads.keypoint": False,
        "test.rpn.nms_iou": 0.7, "test.rpn.pre_nms_topk": 2000, "test.rpn.post_nms_topk": 1000},
}

MMDET2_EXPECTED = {
    "faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py": FASTER_R50,
    "faster_rcnn/faster_rcnn_r50_caffe_fpn_mstrain_1x_coco.py": {**FASTER_R50_CAFFE, **MS_CHOICE},
    # classes = ('person', ) on data.train/val/test
    "faster_rcnn/faster_rcnn_r50_caffe_fpn_mstrain_1x_coco-person.py": {
        **FASTER_R50_CAFFE, **MS_CHOICE, "num_classes": 1, "classes": ["person"], "weights": PERSON_WEIGHTS},
    "faster_rcnn/faster_rcnn_x101_64x4d_fpn_1x_coco.py": {
        **FASTER_R50, "backbone.type": "ResNeXt", "backbone.depth": 101, "backbone.groups": 64,
        "backbone.width_per_group": 4, "weights": "open-mmlab://resnext101_64x4d"},
    "mask_rcnn/mask_rcnn_r50_fpn_1x_coco.py": MASK_R50,
    "cascade_rcnn/cascade_mask_rcnn_r50_fpn_1x_coco.py": CASCADE_MASK_R50,
    "retinanet/retinanet_r50_fpn_1x_coco.py": RETINA_R50,
    # model.pretrained='open-mmlab://detectron2/resnet101_caffe' over the r50 caffe init_cfg; the
    # mstrain parent uses img_scale list with multiscale_mode='value'
    "retinanet/retinanet_r101_caffe_fpn_mstrain_3x_coco.py": {
        **RETINA_R50, **R50_CAFFE, **CAFFE_NORM, **MS_CHOICE, "backbone.depth": 101,
        "weights": "open-mmlab://detectron2/resnet101_caffe"},
    # Resize img_scale=[(2048, 800), (2048, 1024)] without multiscale_mode: 2.x default 'range'
    "cityscapes/faster_rcnn_r50_fpn_1x_cityscapes.py": {
        **FASTER_R50, "num_classes": 8, "weights": FASTER_COCO_WEIGHTS,
        "train.resize.short_edge": [800, 1024], "train.resize.sampling": "range", "train.resize.max_size": 2048,
        "test.resize.short_edge": 1024, "test.resize.max_size": 2048},
    # legacy top-level test_cfg (model has none); GARetinaHead has approx/square anchor generators,
    # not a plain AnchorGenerator; multiscale_mode='range' over (1333, 480)-(1333, 960)
    "guided_anchoring/ga_retinanet_r101_caffe_fpn_mstrain_2x.py": {
        **RETINA_R50, **R50_CAFFE, **CAFFE_NORM, "backbone.depth": 101, "anchors.sizes": None,
        "anchors.aspect_ratios": None, "train.resize.short_edge": [480, 960], "train.resize.sampling": "range",
        "weights": "open-mmlab://detectron2/resnet101_caffe"},
}


def check_model(resolved: ResolvedConfig, expected: dict) -> None:
    model = normalize(resolved)
    wrong = {name: (model.get(name), expected.get(name)) for name in FIELDS
             if not same(model.get(name), expected.get(name))}
    assert not wrong, "field: (got, expected)\n" + "\n".join(f"{k}: {v}" for k, v in sorted(wrong.items()))
    for name in FIELDS:
        if model.get(name) is None:
            assert name not in model.provenance, f"{name} is None but claims provenance"
        else:
            assert name in model.provenance, f"{name} has no provenance"


# Each config through cfglint's own resolver and through mmengine's: both must normalize alike.
RESOLVERS = pytest.mark.parametrize("resolver", [resolve, resolve_with_mmengine], ids=["cfglint", "mmengine"])


@requires_mmdet3_zoo
@RESOLVERS
@pytest.mark.parametrize("config", sorted(MMDET3_EXPECTED))
def test_mmdet3_zoo_config_by_hand(config, resolver):
    check_model(resolver(MMDET3_ZOO / config), MMDET3_EXPECTED[config])


@requires_shared
@RESOLVERS
@pytest.mark.parametrize("config", sorted(MMDET2_EXPECTED))
def test_mmdet2_corpus_config_by_hand(config, resolver):
    check_model(resolver(MMDET2_ZOO / config), MMDET2_EXPECTED[config])


# --- provenance (needs cfglint's evaluator for locations) ----------------------------------------

requires_evaluator = pytest.mark.skipif(not evaluator_available(), reason="mmdet evaluator not available yet")


@requires_evaluator
@requires_mmdet3_zoo
def test_provenance_points_at_the_file_that_sets_the_value():
    zoo = MMDET3_ZOO
    model = normalize(resolve(zoo / "faster_rcnn/faster-rcnn_r50-caffe_fpn_ms-1x_coco-person.py"))
    person = str(zoo / "faster_rcnn/faster-rcnn_r50-caffe_fpn_ms-1x_coco-person.py")
    caffe = str(zoo / "faster_rcnn/faster-rcnn_r50-caffe_fpn_ms-1x_coco.py")
    base_model = str(zoo / "_base_/models/faster-rcnn_r50_fpn.py")
    where = {name: model.provenance[name] for name in ("num_classes", "input.pixel_mean", "test.score_thresh",
                                                       "backbone.style", "classes")}
    assert where["num_classes"].native_key == "model.roi_head.bbox_head.num_classes"
    assert (where["num_classes"].location.file, where["num_classes"].location.line) == (person, 2)
    assert where["input.pixel_mean"].native_key == "model.data_preprocessor.mean"
    assert (where["input.pixel_mean"].location.file, where["input.pixel_mean"].location.line) == (caffe, 5)
    assert where["backbone.style"].location.file == caffe
    assert where["test.score_thresh"].native_key == "model.test_cfg.rcnn.score_thr"
    assert where["test.score_thresh"].location.file == base_model
    assert where["classes"].native_key == "test_dataloader.dataset.metainfo.classes"
    assert where["classes"].location.file == person


# --- semantics on small hand-written configs -----------------------------------------------------

def _model(data: dict):
    return normalize(ResolvedConfig(framework="mmdet", path="cfg.py", data=data))


def test_disagreeing_heads_become_an_inconsistency_and_the_final_box_head_wins():
    data = {"model": {"type": "CascadeRCNN", "roi_head": {
        "type": "CascadeRoIHead", "num_stages": 2,
        "bbox_head": [{"type": "Shared2FCBBoxHead", "num_classes": 3}, {"type": "Shared2FCBBoxHead", "num_classes": 4}],
        "mask_head": {"type": "FCNMaskHead", "num_classes": 3},
        "semantic_head": {"type": "FusedSemanticHead", "num_classes": 183}}}}
    model = _model(data)
    assert model.get("num_classes") == 4
    assert model.provenance["num_classes"].native_key == "model.roi_head.bbox_head[1].num_classes"
    assert len(model.inconsistencies) == 1
    issue = model.inconsistencies[0]
    assert issue.field == "num_classes"
    assert issue.values == {"model.roi_head.bbox_head[0].num_classes": 3,
                            "model.roi_head.bbox_head[1].num_classes": 4,
                            "model.roi_head.mask_head.num_classes": 3}


def test_agreeing_heads_and_a_stuff_semantic_head_are_consistent():
    data = {"model": {"type": "HybridTaskCascade", "roi_head": {
        "bbox_head": {"num_classes": 80}, "mask_head": {"num_classes": 80},
        "semantic_head": {"num_classes": 183}}}}
    model = _model(data)
    assert (model.get("arch"), model.get("num_classes"), model.inconsistencies) == ("hybrid_task_cascade", 80, [])


def test_lazy_config_dotted_types_use_the_class_name():
    data = {"model": {
        "type": "mmdet.models.detectors.faster_rcnn.FasterRCNN",
        "backbone": {"type": "mmdet.models.backbones.resnet.ResNet", "depth": 50,
                     "norm_cfg": {"type": "torch.nn.modules.batchnorm.BatchNorm2d", "requires_grad": True}},
        "neck": {"type": "mmdet.models.necks.fpn.FPN", "out_channels": 256}}}
    model = _model(data)
    assert (model.get("arch"), model.get("backbone.type"), model.get("backbone.norm"), model.get("neck.type")) == \
        ("faster_rcnn", "ResNet", "BN", "FPN")


def test_2x_normalize_defaults_to_rgb_and_3x_preprocessor_to_bgr():
    legacy = {"data": {"test": {"pipeline": [
        {"type": "MultiScaleFlipAug", "img_scale": (1333, 800), "transforms": [
            {"type": "Resize"}, {"type": "Normalize", "mean": [1, 2, 3], "std": [4, 5, 6]}]}]}}}
    model = _model(legacy)
    # 2.x Normalize(to_rgb=True) and Resize(keep_ratio=True) by default
    assert (model.get("input.channel_order"), model.get("input.pixel_mean"), model.get("test.resize.keep_ratio")) == \
        ("RGB", [1.0, 2.0, 3.0], True)
    assert model.provenance["input.channel_order"].is_default
    modern = {"model": {"type": "RetinaNet", "data_preprocessor": {"mean": [1, 2, 3], "std": [4, 5, 6]}},
              "test_dataloader": {"dataset": {"pipeline": [{"type": "Resize", "scale": (1333, 800)}]}}}
    model = _model(modern)
    # DetDataPreprocessor(bgr_to_rgb=False), mmcv Resize(keep_ratio=False) by default
    assert (model.get("input.channel_order"), model.get("input.pixel_mean"), model.get("test.resize.keep_ratio")) == \
        ("BGR", [3.0, 2.0, 1.0], False)


def test_top_level_test_cfg_is_a_model_test_cfg_only_in_2x_form():
    loop = _model({"model": {"type": "RetinaNet"}, "test_cfg": {"type": "TestLoop"}})
    assert loop.get("test.score_thresh") is None
    legacy = _model({"model": {"type": "RetinaNet"}, "test_cfg": {"score_thr": 0.3, "max_per_img": 50}})
    assert (legacy.get("test.score_thresh"), legacy.get("test.max_detections")) == (0.3, 50)
    assert legacy.provenance["test.score_thresh"].native_key == "test_cfg.score_thr"


def test_tracking_wrapper_is_read_through_its_detector():
    data = {"model": {"type": "ByteTrack", "data_preprocessor": {"mean": [0, 0, 0], "std": [1, 1, 1],
                                                                  "bgr_to_rgb": True},
                      "detector": {"type": "YOLOX", "bbox_head": {"type": "YOLOXHead", "num_classes": 1},
                                   "test_cfg": {"score_thr": 0.01, "nms": {"type": "nms", "iou_threshold": 0.7}}}}}
    model = _model(data)
    assert (model.get("arch"), model.get("num_classes"), model.get("test.nms_iou"), model.get("input.channel_order")) \
        == ("yolox", 1, 0.7, "RGB")
    assert model.provenance["num_classes"].native_key == "model.detector.bbox_head.num_classes"


def test_an_empty_config_fills_nothing():
    model = _model({})
    assert all(model.get(name) is None for name in FIELDS)
    assert model.provenance == {}


@pytest.mark.parametrize("type_name, arch", [
    ("FasterRCNN", "faster_rcnn"), ("MaskRCNN", "mask_rcnn"), ("CascadeRCNN", "cascade_rcnn"),
    ("RetinaNet", "retinanet"), ("FCOS", "fcos"), ("ATSS", "atss"), ("RPN", "rpn"),
    ("PanopticFPN", "panoptic_fpn"), ("MaskScoringRCNN", "mask_scoring_rcnn"), ("SOLOv2", "solov2"),
    ("DeformableDETR", "deformable_detr"), ("YOLOV3", "yolov3"), ("Mask2Former", "mask2former"),
])
def test_arch_names(type_name, arch):
    assert arch_name(type_name) == arch
