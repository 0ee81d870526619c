"""The native expected state dict equals what the real frameworks build (oracle manifests).

Oracles: ../shared/oracles/{detectron2,mmdet3}/state_dicts = {name: shape} of the built model.
Configs cfglint does not model are listed with the reason and must raise UnsupportedArchitecture;
every other config must match the manifest exactly (names order-independent, shapes exact).
"""
from __future__ import annotations

import copy
import json
import os
from functools import lru_cache

import pytest

from tests.conftest import HAVE_SHARED, SHARED, requires_shared
from cfglint.checkpoint.expected import ExpectedStateDict, UnsupportedArchitecture, expected_state_dict

D2_ORACLES = SHARED / "oracles" / "detectron2"
MM_ORACLES = SHARED / "oracles" / "mmdet3" / "state_dicts"

# config (relative to the oracle dir, no suffix) prefix -> the reason it is not modelled
D2_UNSUPPORTED = {
    "projects/DeepLab/configs/Cityscapes-SemanticSegmentation/Base-": "DeepLabV3Head",
    "projects/DeepLab/configs/Cityscapes-SemanticSegmentation/deeplab": "build_resnet_deeplab_backbone",
    "projects/PointRend/configs/InstanceSegmentation/": "PointRendMaskHead",
    "projects/PointRend/configs/SemanticSegmentation/": "PointRendSemSegHead",
    "projects/TridentNet/": "build_trident_resnet_backbone",
}
MM_UNSUPPORTED = {
    "configs/dcn/faster-rcnn_r50_fpn_dpool_1x_coco": "DeformRoIPoolPack",
    "configs/pascal_voc/ssd": "SSDVGG",
    "configs/ssd/ssd300": "SSDVGG",
    "configs/ssd/ssd512": "SSDVGG",
    "configs/ssd/ssdlite_mobilenetv2": "MobileNetV2",
    "configs/yolo/": "YOLOV3",
}


def _manifests(root) -> list:
    if not HAVE_SHARED:
        return []
    return sorted(os.path.relpath(p, root)[:-len(".json")] for p in root.rglob("*.json"))


def _unsupported_reason(table: dict, name: str):
    return next((reason for prefix, reason in table.items() if name.startswith(prefix)), None)


def _load_manifest(path) -> dict:
    return {k: tuple(v) for k, v in json.loads(path.read_text()).items()}


def _check(framework: str, config: dict, manifest: dict, reason) -> ExpectedStateDict:
    if reason is not None:
        with pytest.raises(UnsupportedArchitecture, match=reason):
            expected_state_dict(framework, config)
        return None
    expected = expected_state_dict(framework, config)
    missing = sorted(set(manifest) - set(expected.keys))
    unexpected = sorted(set(expected.keys) - set(manifest))
    mismatched = {k: (expected.keys[k], manifest[k]) for k in manifest
                  if k in expected.keys and expected.keys[k] != manifest[k]}
    assert (missing, unexpected, mismatched) == ([], [], {})
    uncovered = [k for k in expected.keys if expected.group_of(k) is None]
    assert uncovered == []
    return expected


@requires_shared
@pytest.mark.slow   # a sweep over every oracle manifest
@pytest.mark.parametrize("name", _manifests(D2_ORACLES / "state_dicts"))
def test_detectron2_matches_oracle(name):
    config = json.loads((D2_ORACLES / "resolved" / f"{name}.json").read_text())
    manifest = _load_manifest(D2_ORACLES / "state_dicts" / f"{name}.json")
    _check("detectron2", config, manifest, _unsupported_reason(D2_UNSUPPORTED, name))


@lru_cache(maxsize=None)
def _mmdet_config_dir() -> str:
    mmdet = pytest.importorskip("mmdet")
    return os.path.join(os.path.dirname(mmdet.__file__), ".mim")


@requires_shared
@pytest.mark.slow   # a sweep over every oracle manifest
@pytest.mark.parametrize("name", _manifests(MM_ORACLES))
def test_mmdet_matches_oracle(name):
    mmengine_config = pytest.importorskip("mmengine.config")
    config = mmengine_config.Config.fromfile(os.path.join(_mmdet_config_dir(), f"{name}.py")).to_dict()
    manifest = _load_manifest(MM_ORACLES / f"{name}.json")
    _check("mmdet", config, manifest, _unsupported_reason(MM_UNSUPPORTED, name))


def test_oracle_sweeps_are_not_empty():
    if HAVE_SHARED:
        assert len(_manifests(D2_ORACLES / "state_dicts")) >= 100
        assert len(_manifests(MM_ORACLES)) >= 200


# ---- hand-checked properties (values from ../shared/notes, measured on real models) ----

@pytest.fixture(scope="module")
def d2_defaults():
    if not HAVE_SHARED:
        pytest.skip("../shared is not present")
    return json.loads((D2_ORACLES / "defaults.json").read_text())


def _fpn_faster(defaults: dict, **resnets) -> dict:
    cfg = copy.deepcopy(defaults)
    m = cfg["MODEL"]
    m["BACKBONE"]["NAME"] = "build_resnet_fpn_backbone"
    m["RESNETS"]["OUT_FEATURES"] = ["res2", "res3", "res4", "res5"]
    m["RESNETS"].update(resnets)
    m["FPN"]["IN_FEATURES"] = ["res2", "res3", "res4", "res5"]
    m["ANCHOR_GENERATOR"]["SIZES"] = [[32], [64], [128], [256], [512]]
    m["RPN"]["IN_FEATURES"] = ["p2", "p3", "p4", "p5", "p6"]
    m["ROI_HEADS"]["NAME"] = "StandardROIHeads"
    m["ROI_HEADS"]["IN_FEATURES"] = ["p2", "p3", "p4", "p5"]
    m["ROI_BOX_HEAD"].update(NAME="FastRCNNConvFCHead", NUM_FC=2, POOLER_RESOLUTION=7)
    return cfg


def test_d2_r18_fpn_uses_basic_blocks(d2_defaults):
    """notes/detectron2.md 5: R18-FPN Faster R-CNN has 130 tensors; BasicBlock has no conv3, res2.0 no shortcut."""
    sd = expected_state_dict("detectron2", _fpn_faster(d2_defaults, DEPTH=18, RES2_OUT_CHANNELS=64))
    assert len(sd.keys) == 130
    assert "backbone.bottom_up.res2.0.shortcut.weight" not in sd.keys
    assert not any(".conv3." in k for k in sd.keys)
    assert sd.keys["backbone.fpn_lateral5.weight"] == (256, 512, 1, 1)


def test_d2_modulated_deform_offsets(d2_defaults):
    """DEFORM_MODULATED gives 27 offset channels per deform group (notes/detectron2.md 5.1)."""
    sd = expected_state_dict("detectron2", _fpn_faster(d2_defaults, DEFORM_ON_PER_STAGE=[False, False, False, True],
                                                       DEFORM_MODULATED=True, DEFORM_NUM_GROUPS=2))
    assert sd.keys["backbone.bottom_up.res5.0.conv2_offset.weight"] == (54, 512, 3, 3)
    assert "backbone.bottom_up.res4.0.conv2_offset.weight" not in sd.keys


def test_d2_groups_explain_keys_in_config_terms(d2_defaults):
    cfg = _fpn_faster(d2_defaults)
    cfg["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] = 3
    sd = expected_state_dict("detectron2", cfg)
    assert sd.keys["roi_heads.box_predictor.cls_score.weight"] == (4, 1024)
    assert "MODEL.ROI_HEADS.NUM_CLASSES=3" in sd.group_of("roi_heads.box_predictor.cls_score.weight")
    assert sd.group_of("backbone.bottom_up.res5.2.conv3.weight").startswith("res5 stage")
    assert sd.group_of("not.a.key") is None


def test_unknown_architectures_are_refused():
    with pytest.raises(UnsupportedArchitecture, match="detector type DETR"):
        expected_state_dict("mmdet", {"model": {"type": "DETR"}})
    with pytest.raises(UnsupportedArchitecture):
        expected_state_dict("detectron2", {"MODEL": {}})
    with pytest.raises(UnsupportedArchitecture, match="framework"):
        expected_state_dict("tensorflow", {})


def test_mmdet_defaults_fill_absent_keys():
    """A minimal mmdet RetinaNet dict: absent keys take constructor defaults (BN, 4 stacked convs)."""
    model = {
        "type": "RetinaNet",
        "backbone": {"type": "ResNet", "depth": 18},
        "neck": {"type": "FPN", "in_channels": [64, 128, 256, 512], "out_channels": 256, "start_level": 1,
                 "add_extra_convs": "on_input", "num_outs": 5},
        "bbox_head": {"type": "RetinaHead", "num_classes": 3, "in_channels": 256,
                      "anchor_generator": {"type": "AnchorGenerator", "octave_base_scale": 4,
                                           "scales_per_octave": 3, "ratios": [0.5, 1.0, 2.0],
                                           "strides": [8, 16, 32, 64, 128]}},
    }
    sd = expected_state_dict("mmdet", {"model": model})
    assert sd.keys["backbone.bn1.num_batches_tracked"] == ()
    assert sd.keys["neck.fpn_convs.3.conv.weight"] == (256, 512, 3, 3)   # 'on_input': from C5
    assert sd.keys["bbox_head.retina_cls.weight"] == (27, 256, 3, 3)     # 9 anchors x 3 classes, sigmoid
    assert "bbox_head.cls_convs.3.conv.weight" in sd.keys
    assert "backbone.layer1.0.downsample.0.weight" not in sd.keys         # BasicBlock 64 -> 64
