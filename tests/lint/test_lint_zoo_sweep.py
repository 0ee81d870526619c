"""Lint over the official zoos (mmdet 3.3 installed, mmdet 2.28 and Detectron2 corpora): no crash,
and the error-level findings are exactly the ones reviewed by hand below, each a real problem."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from cfglint.engine import EngineConfig
from cfglint.engine.lint_files import discover, lint_paths
from tests.conftest import requires_shared

pytestmark = pytest.mark.slow

#: (path relative to the zoo root, rule) of every error-level finding, reviewed.
MMDET3_ERRORS = {
    # StageCascadeRPNHead forwards **kwargs to AnchorHead, which has no `sampling` (3.x moved
    # sampling to train_cfg): building the model raises TypeError.
    ("cascade_rpn/cascade-rpn_r50-caffe_fpn_1x_coco.py", "L602"),
    # mmdet 3.3 FPN has no `force_grad_on_level` (it lives in the V3Det fork): TypeError at build.
    ("v3det/fcos_swinb_fpn_8x4_sample1e-3_mstrain_v3det_2x.py", "L602"),
    # QuasiDenseTrackHead swallows **kwargs without passing them on: loss_bbox is silently ignored.
    ("qdtrack/qdtrack_faster-rcnn_r50_fpn_4e_base.py", "L602"),
    ("qdtrack/qdtrack_faster-rcnn_r50_fpn_8xb2-4e_mot17halftrain_test-mot17halfval.py", "L602"),
    # Caffe (detectron2 MSRA) weights, but the data_preprocessor inherited from the pytorch-style
    # base is never overridden: std 58 and RGB instead of std 1 and BGR (the r50 siblings set it).
    ("faster_rcnn/faster-rcnn_r101-caffe_fpn_ms-3x_coco.py", "L201"),
    ("faster_rcnn/faster-rcnn_r101-caffe_fpn_ms-3x_coco.py", "L202"),
    ("guided_anchoring/ga-fast-rcnn_r50-caffe_fpn_1x_coco.py", "L201"),
    ("guided_anchoring/ga-fast-rcnn_r50-caffe_fpn_1x_coco.py", "L202"),
    # torchvision ResNet-50 weights fed BGR images (mean/std listed in BGR, bgr_to_rgb=False),
    # following the original CrowdDet code rather than the weights' convention.
    ("crowddet/crowddet-rcnn_r50_fpn_8xb2-30e_crowdhuman.py", "L202"),
    ("crowddet/crowddet-rcnn_refine_r50_fpn_8xb2-30e_crowdhuman.py", "L202"),
}
#: Files mmengine cannot load either (wrong base paths in the zoo), or that need mmpretrain.
MMDET3_UNREADABLE = {
    "bytetrack/bytetrack_yolox_x_8xb4-amp-80e_crowdhuman-mot17halftrain_test-mot17test.py",
    "sort/faster-rcnn_r50_fpn_8xb2-4e_mot17train_test-mot17train.py",
    "sort/faster-rcnn_r50_fpn_8xb2-8e_mot20halftrain_test-mot20halfval.py",
    "sort/faster-rcnn_r50_fpn_8xb2-8e_mot20train_test-mot20train.py",
}
MMDET2_ERRORS = {
    # A "retinanet" config that inherits the Faster R-CNN base and sets bbox_head.num_classes=365
    # on it: the ROI head keeps 80 classes, and FasterRCNN takes no bbox_head.
    ("objects365/retinanet_r50_fpn_syncbn_1350k_obj365v1.py", "S902"),
}


def _sweep(root: Path):
    files, _ = discover([str(root)])
    reports = lint_paths(files, EngineConfig(), jobs=2)
    errors = {(str(Path(r.path).relative_to(root)), f.rule) for r in reports for f in r.findings
              if f.severity == "error"}
    unreadable = {str(Path(r.path).relative_to(root)) for r in reports if r.error is not None}
    return reports, errors, unreadable


@pytest.mark.skipif(importlib.util.find_spec("mmdet") is None, reason="mmdet 3.3 zoo not installed")
def test_mmdet3_zoo():
    root = Path(importlib.util.find_spec("mmdet").submodule_search_locations[0]) / ".mim" / "configs"
    reports, errors, unreadable = _sweep(root)
    assert len(reports) > 700
    assert errors == MMDET3_ERRORS
    mmpretrain = {path for path in unreadable if path.startswith("rtmdet/classification/")}
    assert unreadable - mmpretrain == MMDET3_UNREADABLE


@requires_shared
def test_mmdet2_and_detectron2_corpora(shared_dir):
    reports, errors, unreadable = _sweep(shared_dir / "corpus" / "mmdet2" / "configs")
    assert len(reports) > 600 and not unreadable
    assert errors == MMDET2_ERRORS
    reports, errors, unreadable = _sweep(shared_dir / "corpus" / "detectron2")
    assert len(reports) == 110 and not unreadable and not errors
