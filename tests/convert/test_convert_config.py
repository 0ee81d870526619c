"""Config conversion: results load in the target's loader and keep the network-defining fields."""
from __future__ import annotations

import json
import os

import pytest

from cfglint.adapters import load
from cfglint.convert import convert_config
from cfglint.convert.proof import diff_configs, written_config
from cfglint.errors import UnsupportedError
from tests.conftest import SHARED, requires_shared, run_cli

D2 = SHARED / "corpus" / "detectron2" / "configs"
D2_CONFIGS = ["COCO-Detection/faster_rcnn_R_50_FPN_3x", "COCO-Detection/faster_rcnn_R_101_FPN_3x",
              "COCO-Detection/retinanet_R_50_FPN_3x", "COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x",
              "COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x", "Misc/cascade_mask_rcnn_R_50_FPN_3x"]
MM_CONFIGS = ["faster_rcnn/faster-rcnn_r50_fpn_1x_coco", "faster_rcnn/faster-rcnn_r50-caffe_fpn_1x_coco",
              "retinanet/retinanet_r50_fpn_1x_coco", "mask_rcnn/mask-rcnn_r50_fpn_1x_coco",
              "faster_rcnn/faster-rcnn_r101_fpn_1x_coco", "cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco"]
# The acceptance fields: what changes the network or its input/output.
GUARDED = ("arch", "backbone.", "neck.", "num_classes", "heads.", "input.", "test.")


def mm_zoo() -> str:
    import mmdet
    return os.path.join(os.path.dirname(mmdet.__file__), ".mim", "configs")


def _blocking(findings):
    return [f for f in findings if f.severity in ("error", "warning") and f.field.startswith(GUARDED)]


@requires_shared
@pytest.mark.parametrize("name", D2_CONFIGS)
def test_detectron2_to_mmdet_loads_and_keeps_the_network(name, tmp_path):
    from mmengine import Config

    source = str(D2 / f"{name}.yaml")
    result = convert_config(source, "mmdet")
    out = tmp_path / "converted.py"
    out.write_text(result.text)
    cfg = Config.fromfile(str(out))          # the real loader
    assert "_base_" not in cfg and "\n_base_ =" not in out.read_text()   # self-contained
    assert cfg.model.type in ("FasterRCNN", "MaskRCNN", "RetinaNet", "CascadeRCNN")
    assert _blocking(diff_configs(source, result.text, "mmdet")) == []


@pytest.mark.parametrize("name", MM_CONFIGS)
def test_mmdet_to_detectron2_loads_and_keeps_the_network(name):
    source = os.path.join(mm_zoo(), f"{name}.py")
    result = convert_config(source, "detectron2")
    assert "VERSION: 2" in result.text
    with written_config(result.text, ".yaml") as path:
        load(path)                            # cfglint's oracle-checked Detectron2 adapter
    assert _blocking(diff_configs(source, result.text, "detectron2")) == []


@requires_shared
@pytest.mark.parametrize("name", D2_CONFIGS)
def test_round_trip_detectron2_mmdet_detectron2_keeps_the_common_model(name):
    source = str(D2 / f"{name}.yaml")
    to_mm = convert_config(source, "mmdet")
    with written_config(to_mm.text, ".py") as mm_path:
        back = convert_config(mm_path, "detectron2")
    with written_config(back.text, ".yaml") as d2_path:
        again = load(d2_path).values
    original = load(source).values
    assert {k: (original[k], again[k]) for k in original if original[k] != again[k]} == {}


@requires_shared
def test_by_hand_values_of_the_retinanet_conversion():
    """Values read off retinanet_R_50_FPN_3x.yaml + Base-RetinaNet.yaml + defaults.py by hand."""
    from mmengine import Config

    result = convert_config(str(D2 / "COCO-Detection/retinanet_R_50_FPN_3x.yaml"), "mmdet")
    with written_config(result.text, ".py") as path:
        model = Config.fromfile(path).model
    assert model.backbone.style == "caffe" and model.backbone.frozen_stages == 1
    assert model.neck.start_level == 1 and model.neck.add_extra_convs == "on_input"
    assert model.neck.relu_before_extra_convs is True
    gen = model.bbox_head.anchor_generator
    assert (gen.octave_base_scale, gen.scales_per_octave, gen.strides) == (4, 3, [8, 16, 32, 64, 128])
    assert model.data_preprocessor.bgr_to_rgb is False
    assert model.data_preprocessor.mean == [103.53, 116.28, 123.675]
    assert model.test_cfg.score_thr == 0.05 and model.test_cfg.nms.iou_threshold == 0.5


def test_class_names_become_a_comment_and_a_warning(tmp_path):
    source = tmp_path / "voc.py"
    base = os.path.join(mm_zoo(), "faster_rcnn", "faster-rcnn_r50-caffe_fpn_1x_coco.py")
    source.write_text(f"_base_ = {base!r}\n"
                      "model = dict(roi_head=dict(bbox_head=dict(num_classes=2)))\n"
                      "metainfo = dict(classes=('bolt', 'nut'))\n"
                      "test_dataloader = dict(dataset=dict(metainfo=metainfo))\n")
    result = convert_config(str(source), "detectron2")
    assert "#   0: bolt" in result.text and "#   1: nut" in result.text
    assert any(w.setting == "metainfo.classes" for w in result.warnings)
    with written_config(result.text, ".yaml") as path:
        assert load(path).get("num_classes") == 2


@requires_shared
def test_unsupported_architecture_is_refused():
    with pytest.raises(UnsupportedError, match="MODEL.BACKBONE.NAME"):
        convert_config(str(D2 / "COCO-Detection/faster_rcnn_R_50_C4_3x.yaml"), "mmdet")


@requires_shared
def test_cli_json_reports_output_warnings_and_diff(tmp_path):
    out = tmp_path / "mask.py"
    proc = run_cli("convert", str(D2 / "Misc/cascade_mask_rcnn_R_50_FPN_3x.yaml"), "--to", "mmdet",
                   "-o", str(out), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["output"] == str(out) and out.exists()
    assert {"MODEL.ROI_MASK_HEAD", "MODEL.ROI_HEADS.NAME"} <= {w["setting"] for w in report["warnings"]}
    assert _blocking_json(report["diff"]) == []
    assert report["verify"] is None


def _blocking_json(findings):
    return [f for f in findings if f["severity"] in ("error", "warning") and f["field"].startswith(GUARDED)]


@requires_shared
def test_cli_unsupported_exits_2(tmp_path):
    proc = run_cli("convert", str(D2 / "COCO-Detection/faster_rcnn_R_50_C4_3x.yaml"), "--to", "mmdet",
                   "-o", str(tmp_path / "x.py"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
