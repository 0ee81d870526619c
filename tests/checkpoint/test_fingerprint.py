"""Fingerprints of real state-dict manifests agree with the configs that built them.

Expected values come from the oracle resolved configs (Detectron2) and from mmengine's own
resolution of the mmdet zoo configs (mmdet3), never from cfglint.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from cfglint.checkpoint.fingerprint import fingerprint
from tests.conftest import HAVE_SHARED, SHARED

D2_MANIFESTS = sorted((SHARED / "oracles/detectron2/state_dicts").rglob("*.json")) if HAVE_SHARED else []
MM_MANIFESTS = sorted((SHARED / "oracles/mmdet3/state_dicts").rglob("*.json")) if HAVE_SHARED else []


def _ids(paths, root):
    return [str(p.relative_to(root)) for p in paths]


@pytest.mark.skipif(not HAVE_SHARED, reason="../shared is not present")
@pytest.mark.slow   # a sweep over every oracle manifest
@pytest.mark.parametrize("manifest", D2_MANIFESTS, ids=_ids(D2_MANIFESTS, SHARED / "oracles/detectron2/state_dicts"))
def test_detectron2_fingerprint_matches_config(manifest: Path):
    shapes = json.loads(manifest.read_text())
    cfg = json.loads(Path(str(manifest).replace("/state_dicts/", "/resolved/")).read_text())["MODEL"]
    fp = fingerprint(shapes)
    assert fp.framework == "detectron2"
    assert fp.get("backbone.depth") == cfg["RESNETS"]["DEPTH"]
    if "backbone.groups" in fp.fields:
        assert fp.get("backbone.groups") == cfg["RESNETS"]["NUM_GROUPS"]
    meta = cfg["META_ARCHITECTURE"]
    if meta == "RetinaNet":
        assert fp.get("num_classes") == cfg["RETINANET"]["NUM_CLASSES"]
        assert fp.get("arch") == "retinanet"
    elif meta in ("GeneralizedRCNN", "PanopticFPN"):
        assert fp.get("num_classes") == cfg["ROI_HEADS"]["NUM_CLASSES"]
        assert fp.get("heads.mask") == cfg["MASK_ON"]
        assert fp.get("heads.keypoint") == cfg["KEYPOINT_ON"]
        if cfg["ROI_HEADS"]["NUM_CLASSES"] > 1 and cfg["ROI_HEADS"]["NAME"] != "CascadeROIHeads":
            assert fp.get("heads.cls_agnostic_bbox_reg") == cfg["ROI_BOX_HEAD"]["CLS_AGNOSTIC_BBOX_REG"]
    assert fp.get("neck.type") == ("FPN" if "fpn" in cfg["BACKBONE"]["NAME"] else None)


def _mmdet_configs_root():
    spec = importlib.util.find_spec("mmdet")
    return Path(list(spec.submodule_search_locations)[0]) / ".mim" if spec else None


def _num_classes_in(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "num_classes" and "loss" not in "".join(map(str, path)):
                yield v
            yield from _num_classes_in(v, path + (k,))
    elif isinstance(node, list):
        for v in node:
            yield from _num_classes_in(v, path)


@pytest.mark.skipif(not HAVE_SHARED, reason="../shared is not present")
@pytest.mark.slow   # a sweep over every oracle manifest
@pytest.mark.parametrize("manifest", MM_MANIFESTS, ids=_ids(MM_MANIFESTS, SHARED / "oracles/mmdet3/state_dicts"))
def test_mmdet_fingerprint_matches_config(manifest: Path):
    mmengine = pytest.importorskip("mmengine")
    root = _mmdet_configs_root()
    rel = manifest.relative_to(SHARED / "oracles/mmdet3/state_dicts").with_suffix(".py")
    model = mmengine.Config.fromfile(str(root / rel)).to_dict()["model"]
    fp = fingerprint(json.loads(manifest.read_text()))
    assert fp.framework == "mmdet"
    backbone = model.get("backbone", {})
    if backbone.get("type") in ("ResNet", "ResNeXt", "ResNetV1d"):
        assert fp.get("backbone.depth") == backbone["depth"]
        assert fp.get("backbone.groups") in (None, backbone.get("groups", 1))
    if fp.get("num_classes") is not None:
        assert fp.get("num_classes") in set(_num_classes_in(model))
    elif model["type"] not in ("RPN", "SingleStageDetector", "YOLOV3"):
        pytest.fail(f"no class count inferred for a {model['type']}")
    if "roi_head" in model and "mask_head" in model["roi_head"]:
        assert fp.get("heads.mask") is True


@pytest.mark.skipif(not HAVE_SHARED, reason="../shared is not present")
def test_non_resnet_backbone_is_not_called_resnet():
    """MobileNetV2 (ssdlite) has `backbone.layer1...` keys too; no block layout, no ResNet claim."""
    manifest = SHARED / "oracles/mmdet3/state_dicts/configs/ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.json"
    fp = fingerprint(json.loads(manifest.read_text()))
    assert fp.get("backbone.type") is None and fp.get("backbone.depth") is None
    assert fp.get("backbone.groups") is None
