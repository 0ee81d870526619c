"""What verify's messages say: the config line that causes a finding, and grammatical counts.

Configs are small files written by the test on top of the mmdet zoo; the checkpoints are the
oracle state dicts of the zoo configs (what mmdet builds), so each finding has one known cause.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from cfglint.checkpoint.info import CheckpointInfo, TensorInfo
from cfglint.checkpoint.verify import verify
from tests.conftest import HAVE_SHARED, SHARED

pytestmark = [pytest.mark.shared, pytest.mark.skipif(not HAVE_SHARED, reason="../shared is not present")]
MM_SD = SHARED / "oracles/mmdet3/state_dicts/configs"


def _zoo() -> Path:
    spec = importlib.util.find_spec("mmdet")
    if spec is None:
        pytest.skip("mmdet is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / ".mim/configs"


def _info(rel: str, change=None) -> CheckpointInfo:
    shapes = json.loads((MM_SD / rel).read_text())
    if change:
        change(shapes)
    return CheckpointInfo(path="ckpt.pth", format="torch-zip",
                          tensors={k: TensorInfo(tuple(v), "float32") for k, v in shapes.items()})


def _config(tmp_path: Path, base: str, body: str) -> Path:
    path = tmp_path / "serve.py"
    path.write_text(f"_base_ = {str(_zoo() / base)!r}\n{body}")
    return path


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_explicit_mask_head_none_is_located(tmp_path):
    cfg = _config(tmp_path, "mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py",
                  "model = dict(\n    roi_head=dict(\n        mask_roi_extractor=None,\n        mask_head=None))\n")
    report = verify(_info("mask_rcnn/mask-rcnn_r50_fpn_1x_coco.json"), str(cfg))
    head = next(f for f in report.findings if f.rule == "K705")
    assert f"{cfg}:{_line_of(cfg, 'mask_head=None')}" in head.message
    assert "by default" not in head.message
    assert head.right_location.line == _line_of(cfg, "mask_head=None")


def test_scales_per_octave_is_blamed_for_the_anchor_count(tmp_path):
    cfg = _config(tmp_path, "retinanet/retinanet_r50_fpn_1x_coco.py",
                  "model = dict(\n    bbox_head=dict(\n        anchor_generator=dict(scales_per_octave=2)))\n")
    report = verify(_info("retinanet/retinanet_r50_fpn_1x_coco.json"), str(cfg))
    anchors = next(f for f in report.findings if f.rule == "K707")
    assert "scales_per_octave to 2" in anchors.message
    assert "octave_base_scale" not in anchors.message
    assert anchors.right_location.file == str(cfg)
    assert anchors.right_location.line == _line_of(cfg, "scales_per_octave=2")


def test_one_class_is_singular(tmp_path):
    def one_class(shapes):
        shapes["roi_head.bbox_head.fc_cls.weight"] = [2, 1024]
        shapes["roi_head.bbox_head.fc_cls.bias"] = [2]
        shapes["roi_head.bbox_head.fc_reg.weight"] = [4, 1024]
        shapes["roi_head.bbox_head.fc_reg.bias"] = [4]

    report = verify(_info("faster_rcnn/faster-rcnn_r50_fpn_1x_coco.json", one_class),
                    str(_zoo() / "faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py"))
    messages = [f.message for f in report.findings if f.severity == "error"]
    assert any("has 1 class (" in m for m in messages), messages
    assert not any("1 classes" in m or "1 parameters" in m for m in messages), messages
    assert any(" parameters of " in m and " have another shape" in m for m in messages), messages
