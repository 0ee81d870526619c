"""Detectron2 files through the real readers: `cfglint.load` and `cfglint show`, with provenance.

Expected values and file:line locations are read by hand from the corpus YAMLs and the LazyConfig
fixtures (fixtures/detectron2/lazy/), never produced by running the code under test.
"""
from __future__ import annotations

import json
import textwrap

import cfglint
from tests.conftest import FIXTURES, SHARED, requires_shared, run_cli

CONFIGS = SHARED / "corpus" / "detectron2" / "configs"
LAZY = FIXTURES / "detectron2" / "lazy"


def where(model, field):
    """(file name, line) that set `field`, or 'default'."""
    loc = model.provenance[field].location
    return "default" if loc is None else (loc.file.rsplit("/", 1)[-1], loc.line)


@requires_shared
def test_yacs_values_carry_the_line_that_set_them():
    model = cfglint.load(str(CONFIGS / "LVISv1-InstanceSegmentation" / "mask_rcnn_R_50_FPN_1x.yaml"))
    lvis = "mask_rcnn_R_50_FPN_1x.yaml"
    assert (model.get("num_classes"), where(model, "num_classes")) == (1203, (lvis, 8))
    assert (model.get("test.score_thresh"), where(model, "test.score_thresh")) == (0.0001, (lvis, 9))
    assert (model.get("test.max_detections"), where(model, "test.max_detections")) == (300, (lvis, 16))
    assert (model.get("arch"), where(model, "arch")) == ("mask_rcnn", (lvis, 4))
    assert where(model, "anchors.sizes") == ("Base-RCNN-FPN.yaml", 10)
    assert where(model, "test.rpn.pre_nms_topk") == ("Base-RCNN-FPN.yaml", 15)
    assert where(model, "neck.type") == ("Base-RCNN-FPN.yaml", 4)
    assert where(model, "input.pixel_mean") == "default"
    assert model.provenance["test.nms_iou"].describe(0.5) == "MODEL.ROI_HEADS.NMS_THRESH_TEST is 0.5 by default"


@requires_shared
def test_yacs_retinanet_and_resnext_provenance():
    retina = cfglint.load(str(CONFIGS / "COCO-Detection" / "retinanet_R_101_FPN_3x.yaml"))
    assert where(retina, "arch") == ("Base-RetinaNet.yaml", 2)
    assert where(retina, "anchors.sizes") == ("Base-RetinaNet.yaml", 8)
    assert where(retina, "backbone.depth") == ("retinanet_R_101_FPN_3x.yaml", 5)
    assert retina.provenance["num_classes"].native_key == "MODEL.RETINANET.NUM_CLASSES"
    x101 = cfglint.load(str(CONFIGS / "COCO-InstanceSegmentation" / "mask_rcnn_X_101_32x8d_FPN_3x.yaml"))
    assert (x101.get("input.pixel_std"), where(x101, "input.pixel_std")) == \
        ([58.395, 57.12, 57.375], ("mask_rcnn_X_101_32x8d_FPN_3x.yaml", 5))
    assert (x101.get("backbone.style"), where(x101, "backbone.style")) == \
        ("pytorch", ("mask_rcnn_X_101_32x8d_FPN_3x.yaml", 7))


@requires_shared
def test_yacs_opts_override_the_file():
    model = cfglint.load(str(CONFIGS / "Cityscapes" / "mask_rcnn_R_50_FPN.yaml"),
                         opts=["MODEL.ROI_HEADS.NUM_CLASSES", "3"])
    assert model.get("num_classes") == 3
    assert model.get("test.resize.short_edge") == 1024
    assert where(model, "test.resize.short_edge") == ("mask_rcnn_R_50_FPN.yaml", 15)


@requires_shared
def test_show_json_shape_for_a_yaml():
    path = str(CONFIGS / "COCO-Keypoints" / "keypoint_rcnn_R_50_FPN_1x.yaml")
    result = run_cli("show", "--format", "json", path)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    out = json.loads(line)
    assert out["path"] == path and out["framework"] == "detectron2"
    assert out["model"]["arch"] == "keypoint_rcnn"
    assert out["model"]["num_classes"] == 1
    assert out["model"]["heads"]["keypoint"] is True
    assert out["model"]["test"]["rpn"]["post_nms_topk"] == 1000
    assert out["model"]["input"]["pixel_mean"] == [123.675, 116.28, 103.53]
    num_classes = out["provenance"]["num_classes"]
    assert num_classes["file"].endswith("Base-Keypoint-RCNN-FPN.yaml") and num_classes["line"] == 5
    assert out["provenance"]["test.nms_iou"]["default"] is True


@requires_shared
def test_show_text_reads_well_for_a_yaml():
    path = str(CONFIGS / "COCO-Detection" / "faster_rcnn_R_50_C4_1x.yaml")
    result = run_cli("show", path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "arch" in text and "faster_rcnn" in text
    assert "MODEL.ROI_HEADS.NUM_CLASSES (default)" in text
    assert "Base-RCNN-C4.yaml:4" in text   # RPN.PRE_NMS_TOPK_TEST: 6000
    retina = run_cli("show", str(CONFIGS / "COCO-Detection" / "retinanet_R_50_FPN_1x.yaml")).stdout.splitlines()
    [row] = [i for i, line in enumerate(retina) if line.strip().startswith("anchors.sizes")]
    # the long eval'd anchor list keeps its provenance readable, on the line below
    assert "Base-RetinaNet.yaml" not in retina[row] and retina[row + 1].strip().endswith("Base-RetinaNet.yaml:8")


# LazyConfig ---------------------------------------------------------------------------------------

def test_lazy_faster_rcnn_fixture():
    model = cfglint.load(str(LAZY / "COCO-Detection" / "faster_rcnn_R_50_FPN_1x.py"))
    v = model.values
    # common/models/mask_rcnn_fpn.py with the mask entries popped (faster_rcnn_R_50_FPN_1x.py:8)
    assert (v["arch"], v["heads.mask"], v["test.mask_thresh"]) == ("faster_rcnn", False, None)
    assert (v["num_classes"], where(model, "num_classes")) == (80, ("mask_rcnn_fpn.py", 53))
    assert (v["test.score_thresh"], where(model, "test.score_thresh")) == (0.05, ("mask_rcnn_fpn.py", 73))
    assert (v["test.nms_iou"], where(model, "test.nms_iou")) == (0.5, "default")       # signature default
    assert (v["test.max_detections"], where(model, "test.max_detections")) == (100, "default")
    assert (v["backbone.frozen_stages"], where(model, "backbone.frozen_stages")) == \
        (1, ("faster_rcnn_R_50_FPN_1x.py", 11))
    assert (v["backbone.depth"], v["backbone.style"], v["backbone.norm"]) == (50, "caffe", "FrozenBN")
    assert (v["neck.type"], v["neck.out_channels"]) == ("FPN", 256)
    assert v["heads.bbox_reg_weights"] == [10.0, 10.0, 5.0, 5.0]
    assert v["anchors.sizes"] == [[32], [64], [128], [256], [512]]
    assert v["anchors.aspect_ratios"] == [[0.5, 1.0, 2.0]]
    assert (v["input.channel_order"], v["input.pixel_mean"]) == ("BGR", [123.675, 116.28, 103.53])
    assert v["train.resize.short_edge"] == [640, 672, 704, 736, 768, 800]
    assert (v["train.resize.sampling"], v["train.resize.max_size"]) == ("choice", 1333)
    assert (v["test.resize.short_edge"], v["test.resize.max_size"], v["test.resize.keep_ratio"]) == (800, 1333, True)
    assert (v["test.rpn.nms_iou"], v["test.rpn.pre_nms_topk"], v["test.rpn.post_nms_topk"]) == (0.7, 1000, 1000)
    assert where(model, "test.rpn.pre_nms_topk") == ("mask_rcnn_fpn.py", 48)
    assert v["weights"] == "detectron2://ImageNetPretrained/MSRA/R-50.pkl"
    assert model.inconsistencies == []


def test_lazy_mask_rcnn_and_retinanet_fixtures():
    mask = cfglint.load(str(LAZY / "COCO-InstanceSegmentation" / "mask_rcnn_R_50_FPN_1x.py"))
    assert (mask.get("arch"), mask.get("heads.mask"), mask.get("test.mask_thresh")) == ("mask_rcnn", True, 0.5)
    assert where(mask, "arch") == ("mask_rcnn_fpn.py", 84)
    retina = cfglint.load(str(LAZY / "COCO-Detection" / "retinanet_R_50_FPN_1x.py"))
    v = retina.values
    assert (v["arch"], v["num_classes"]) == ("retinanet", 80)
    # RetinaNet.__init__ defaults: the file sets none of them
    assert (v["test.score_thresh"], v["test.nms_iou"], v["test.max_detections"]) == (0.05, 0.5, 100)
    assert where(retina, "test.score_thresh") == "default"
    assert v["test.rpn.nms_iou"] is None and v["heads.mask"] is False
    assert v["heads.bbox_reg_weights"] == [1.0, 1.0, 1.0, 1.0]
    assert v["anchors.sizes"] == [[x, x * 2 ** (1.0 / 3), x * 2 ** (2.0 / 3)] for x in [32, 64, 128, 256, 512]]


def test_lazy_vitdet_fixture_uses_rgb_and_the_lsj_test_resize():
    model = cfglint.load(str(LAZY / "projects" / "ViTDet" / "configs" / "COCO" / "mask_rcnn_vitdet_b_100ep.py"))
    v = model.values
    assert (v["backbone.type"], v["neck.type"], v["backbone.frozen_stages"]) == ("ViT", "SimpleFeaturePyramid", None)
    # common/models/mask_rcnn_vitdet.py:10-11 (constants.imagenet_rgb256_*), coco_loader_lsj.py image_format "RGB"
    assert v["input.channel_order"] == "RGB"
    assert (v["input.pixel_mean"], where(model, "input.pixel_mean")) == \
        ([123.675, 116.28, 103.53], ("mask_rcnn_vitdet.py", 10))
    assert v["input.pixel_std"] == [58.395, 57.12, 57.375]
    assert (v["test.resize.short_edge"], v["test.resize.max_size"]) == (1024, 1024)
    assert where(model, "test.resize.short_edge") == ("coco_loader_lsj.py", 21)
    assert v["train.resize.short_edge"] is None   # LSJ: ResizeScale + FixedSizeCrop, no short-edge resize
    assert v["weights"] == "detectron2://ImageNetPretrained/MAE/mae_pretrain_vit_base.pth?matching_heuristics=True"
    assert model.inconsistencies == []


CASCADE_LAZY = """\
    from detectron2.config import LazyCall as L
    from detectron2.data import DatasetMapper
    import detectron2.data.transforms as T
    from detectron2.modeling import FPN, GeneralizedRCNN, ResNet
    from detectron2.modeling.proposal_generator import RPN
    from detectron2.modeling.roi_heads import CascadeROIHeads, FastRCNNOutputLayers

    model = L(GeneralizedRCNN)(
        backbone=L(FPN)(
            bottom_up=L(ResNet)(stages=L(ResNet.make_default_stages)(depth=101, num_groups=32)),
            out_channels=256,
        ),
        proposal_generator=L(RPN)(pre_nms_topk=(2000, 1000), post_nms_topk=(1000, 500)),
        roi_heads=L(CascadeROIHeads)(
            num_classes=3,
            box_predictors=[
                L(FastRCNNOutputLayers)(num_classes="${...num_classes}", cls_agnostic_bbox_reg=True,
                                        box2box_transform=dict(weights=[w, w, w / 2, w / 2]))
                for w in (10, 20, 30)
            ],
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
        input_format="BGR",
    )
    model.roi_heads.box_predictors[2].num_classes = 4
    dataloader = dict(
        test=dict(mapper=L(DatasetMapper)(
            augmentations=[L(T.ResizeShortestEdge)(short_edge_length=(640, 640), max_size=1066)],
            image_format="RGB",
        )),
    )
"""


def test_lazy_cascade_defaults_and_disagreements(tmp_path):
    path = tmp_path / "cascade.py"
    path.write_text(textwrap.dedent(CASCADE_LAZY))
    model = cfglint.load(str(path))
    v = model.values
    assert (v["arch"], v["heads.num_stages"], v["heads.cls_agnostic_bbox_reg"]) == ("cascade_rcnn", 3, True)
    assert v["heads.bbox_reg_weights"] == [30.0, 30.0, 15.0, 15.0]      # the last stage decodes
    # FastRCNNOutputLayers defaults, since no predictor sets them: score 0.0 (not 0.05!)
    assert (v["test.score_thresh"], v["test.nms_iou"], v["test.max_detections"]) == (0.0, 0.5, 100)
    assert model.provenance["test.score_thresh"].native_key == "model.roi_heads.box_predictors[2].test_score_thresh"
    assert where(model, "test.score_thresh") == "default"
    assert (v["backbone.type"], v["backbone.depth"], v["backbone.groups"]) == ("ResNeXt", 101, 32)
    assert (v["backbone.style"], v["backbone.norm"], v["backbone.frozen_stages"]) == ("pytorch", "BN", -1)
    assert (v["test.rpn.nms_iou"], v["test.rpn.pre_nms_topk"], v["test.rpn.post_nms_topk"]) == (0.7, 1000, 500)
    assert (v["test.resize.short_edge"], v["test.resize.max_size"]) == (640, 1066)
    assert v["input.channel_order"] == "RGB" and v["input.pixel_mean"] == [123.675, 116.28, 103.53]
    assert v["weights"] is None and v["train.resize.short_edge"] is None
    by_field = {inc.field: inc for inc in model.inconsistencies}
    assert set(by_field) == {"num_classes", "input.channel_order"}
    assert by_field["num_classes"].values == {
        "model.roi_heads.num_classes": 3, "model.roi_heads.box_predictors[0].num_classes": 3,
        "model.roi_heads.box_predictors[1].num_classes": 3, "model.roi_heads.box_predictors[2].num_classes": 4}
    assert by_field["input.channel_order"].values == {
        "dataloader.test.mapper.image_format": "RGB", "model.input_format": "BGR"}


def test_lazy_fine_tuned_inference_fixture():
    model = cfglint.load(str(LAZY / "Misc" / "faster_rcnn_R_50_FPN_3class_infer.py"))
    v = model.values
    assert (v["arch"], v["num_classes"], v["heads.mask"]) == ("faster_rcnn", 3, False)
    assert (v["test.score_thresh"], v["test.nms_iou"]) == (0.5, 0.4)
    assert (v["test.rpn.post_nms_topk"], v["test.resize.short_edge"], v["test.resize.max_size"]) == (500, 640, 1066)
    assert v["weights"] == "output/bolts/model_final.pth"
