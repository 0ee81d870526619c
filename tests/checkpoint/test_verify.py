"""`cfglint verify`: clean pairs pass with every key checked; planted mismatches fail on the right field.

Checkpoints are synthesized from the oracle state-dict manifests (the shapes the real frameworks
build), as stride-0 views of one zero so the files stay tiny while torch still loads them.
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from tests.conftest import HAVE_SHARED, SHARED, run_cli

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not HAVE_SHARED, reason="../shared is not present")

D2 = SHARED / "corpus/detectron2/configs"
D2_SD = SHARED / "oracles/detectron2/state_dicts/configs"
MM_SD = SHARED / "oracles/mmdet3/state_dicts/configs"


def manifest(path: Path) -> dict:
    return json.loads(path.read_text())


def tensors(shapes: dict) -> dict:
    return {k: torch.zeros(1).expand(*v) if v else torch.zeros(()) for k, v in shapes.items()}


def d2_checkpoint(tmp_path: Path, rel: str, name: str = "model.pth", legacy: bool = False, drop=(), **extra) -> Path:
    shapes = {k: v for k, v in manifest(D2_SD / rel).items() if not k.startswith(tuple(drop))}
    out = tmp_path / name
    torch.save({"model": tensors(shapes), **extra}, out, _use_new_zipfile_serialization=not legacy)
    return out


def mmdet_zoo() -> Path:
    import importlib.util
    spec = importlib.util.find_spec("mmdet")
    if spec is None:
        pytest.skip("mmdet is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / ".mim/configs"


def verify_json(ckpt: Path, config, *opts: str, allow_root=None):
    args = ["verify", str(ckpt), "--config", str(config), "--format", "json"]
    if allow_root is not None:   # a base outside the config's project must be allowed explicitly
        args += ["--allow-root", str(allow_root)]
    if opts:
        args += ["--opts", *opts]
    proc = run_cli(*args)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def by_rule(report: dict) -> dict:
    out = {}
    for f in report["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_clean_detectron2_pair_checks_every_key(tmp_path, legacy):
    rel = "COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.json"
    ckpt = d2_checkpoint(tmp_path, rel, legacy=legacy)
    code, report = verify_json(ckpt, D2 / "COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.yaml")
    assert code == 0
    sd = report["state_dict"]
    assert sd["checked"] == len(manifest(D2_SD / rel))
    assert sd["missing"] == [] and sd["unexpected"] == [] and sd["mismatched"] == []
    assert report["summary"]["error"] == 0


def test_clean_detectron2_pkl_and_safetensors(tmp_path):
    np = pytest.importorskip("numpy")
    safetensors_np = pytest.importorskip("safetensors.numpy")
    rel = "COCO-Detection/retinanet_R_50_FPN_1x.json"
    shapes = manifest(D2_SD / rel)
    arrays = {k: np.zeros(v, dtype=np.uint8) for k, v in shapes.items()}
    pkl = tmp_path / "model_final.pkl"
    with open(pkl, "wb") as fh:
        pickle.dump({"model": arrays, "__author__": "Detectron2 Model Zoo"}, fh, protocol=2)
    st = tmp_path / "model.safetensors"
    safetensors_np.save_file(arrays, str(st))
    for ckpt in (pkl, st):
        code, report = verify_json(ckpt, D2 / "COCO-Detection/retinanet_R_50_FPN_1x.yaml")
        assert code == 0, report["findings"]
        assert report["state_dict"]["checked"] == len(shapes)
        assert not report["state_dict"]["missing"] and not report["state_dict"]["mismatched"]


def test_num_classes_mismatch_is_explained_in_config_terms(tmp_path):
    ckpt = d2_checkpoint(tmp_path, "COCO-Detection/faster_rcnn_R_50_FPN_3x.json")
    infer = tmp_path / "infer.yaml"
    infer.write_text(f"_BASE_: {D2 / 'COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml'}\n"
                     "MODEL:\n  ROI_HEADS:\n    NUM_CLASSES: 3\n")
    code, report = verify_json(ckpt, infer, allow_root=D2)
    assert code == 1
    k702 = by_rule(report)["K702"][0]
    assert k702["field"] == "num_classes" and k702["left"] == 80 and k702["right"] == 3
    assert "checkpoint has 80 classes" in k702["message"]
    assert f"{infer}:4 sets MODEL.ROI_HEADS.NUM_CLASSES to 3" in k702["message"]
    assert k702["right_location"] == {"file": str(infer), "line": 4}
    mismatched = {m["key"] for m in report["state_dict"]["mismatched"]}
    assert mismatched == {"roi_heads.box_predictor.cls_score.weight", "roi_heads.box_predictor.cls_score.bias",
                          "roi_heads.box_predictor.bbox_pred.weight", "roi_heads.box_predictor.bbox_pred.bias"}


def test_depth_mismatch(tmp_path):
    ckpt = d2_checkpoint(tmp_path, "COCO-Detection/faster_rcnn_R_101_FPN_3x.json")
    code, report = verify_json(ckpt, D2 / "COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
    assert code == 1
    k703 = by_rule(report)["K703"]
    assert [(f["field"], f["left"], f["right"]) for f in k703] == [("backbone.depth", 101, 50)]
    assert any("res4" in key for key in report["state_dict"]["unexpected"])


def test_mask_config_with_box_only_checkpoint(tmp_path):
    ckpt = d2_checkpoint(tmp_path, "COCO-Detection/faster_rcnn_R_50_FPN_3x.json")
    code, report = verify_json(ckpt, D2 / "COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.yaml")
    assert code == 1
    rules = by_rule(report)
    assert ("heads.mask", False, True) in [(f["field"], f["left"], f["right"]) for f in rules["K705"]]
    assert "mask head" in rules["K710"][0]["message"]
    assert all(k.startswith("roi_heads.mask_head.") for k in report["state_dict"]["missing"])


def test_class_agnostic_regression_mismatch(tmp_path):
    ckpt = d2_checkpoint(tmp_path, "COCO-Detection/faster_rcnn_R_50_FPN_3x.json")
    code, report = verify_json(ckpt, D2 / "COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml",
                               "MODEL.ROI_BOX_HEAD.CLS_AGNOSTIC_BBOX_REG", "True")
    assert code == 1
    k705 = by_rule(report)["K705"]
    assert ("heads.cls_agnostic_bbox_reg", False, True) in [(f["field"], f["left"], f["right"]) for f in k705]
    assert {m["key"] for m in report["state_dict"]["mismatched"]} == {
        "roi_heads.box_predictor.bbox_pred.weight", "roi_heads.box_predictor.bbox_pred.bias"}


def test_missing_fpn(tmp_path):
    ckpt = d2_checkpoint(tmp_path, "COCO-Detection/faster_rcnn_R_50_C4_3x.json")
    code, report = verify_json(ckpt, D2 / "COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
    assert code == 1
    k704 = by_rule(report)["K704"]
    assert ("neck.type", None, "FPN") in [(f["field"], f["left"], f["right"]) for f in k704]
    assert any(k.startswith("backbone.fpn_") for k in report["state_dict"]["missing"])


def test_other_framework_checkpoint(tmp_path):
    ckpt = d2_checkpoint(tmp_path, "COCO-Detection/faster_rcnn_R_50_FPN_3x.json")
    config = mmdet_zoo() / "faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py"
    code, report = verify_json(ckpt, config)
    assert code == 1
    assert by_rule(report)["K701"][0]["left"] == "detectron2"


def mmdet_checkpoint(tmp_path: Path, rel: str, classes=None, cfg_text=None) -> Path:
    meta = {}
    if classes is not None:
        meta["dataset_meta"] = {"classes": tuple(classes)}
    if cfg_text is not None:
        meta["cfg"] = cfg_text
    out = tmp_path / "epoch_12.pth"
    torch.save({"meta": meta, "state_dict": tensors(manifest(MM_SD / rel))}, out)
    return out


def test_clean_mmdet_pair_and_classes_from_meta(tmp_path):
    config = mmdet_zoo() / "mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py"
    rel = "mask_rcnn/mask-rcnn_r50_fpn_1x_coco.json"
    code, report = verify_json(mmdet_checkpoint(tmp_path, rel, classes=[f"c{i}" for i in range(80)]), config)
    assert code == 0, report["findings"]
    assert report["state_dict"]["checked"] == len(manifest(MM_SD / rel))
    code, report = verify_json(mmdet_checkpoint(tmp_path, rel, classes=["bolt", "nut", "washer"]), config)
    assert code == 1
    k708 = by_rule(report)["K708"][0]
    assert k708["left"] == ["bolt", "nut", "washer"] and k708["right"] == 80


def test_embedded_training_config_is_diffed(tmp_path):
    config = mmdet_zoo() / "retinanet/retinanet_r50_fpn_1x_coco.py"
    mmengine = pytest.importorskip("mmengine")
    trained = mmengine.Config.fromfile(str(config))
    trained.model.test_cfg.score_thr = 0.3
    trained.model.data_preprocessor.std = [1.0, 1.0, 1.0]
    ckpt = mmdet_checkpoint(tmp_path, "retinanet/retinanet_r50_fpn_1x_coco.json", cfg_text=trained.pretty_text)
    code, report = verify_json(ckpt, config)
    fields = {f["field"] for f in report["findings"]}
    assert "input.pixel_std" in fields          # trained with std 1, served with the torchvision std
    assert "test.score_thresh" in fields
    assert code == 1


def test_python_api_raise_for_errors(tmp_path):
    import cfglint
    from cfglint.checkpoint.verify import VerificationError
    ckpt = d2_checkpoint(tmp_path, "COCO-Detection/faster_rcnn_R_50_FPN_3x.json")
    ok = cfglint.verify(str(ckpt), str(D2 / "COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"))
    assert ok.ok and ok.state_dict.checked == 295
    ok.raise_for_errors()
    bad = cfglint.verify(str(ckpt), str(D2 / "COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"),
                         opts=["MODEL.RETINANET.NUM_CLASSES", "3", "MODEL.ROI_HEADS.NUM_CLASSES", "3"])
    assert not bad.ok
    with pytest.raises(VerificationError, match="80 classes"):
        bad.raise_for_errors()


def test_unsupported_architecture_falls_back_to_fingerprint(tmp_path):
    config = mmdet_zoo() / "ssd/ssd300_coco.py"
    rel = "ssd/ssd300_coco.json"
    code, report = verify_json(mmdet_checkpoint(tmp_path, rel), config)
    k713 = by_rule(report)["K713"]
    assert k713 and k713[0]["severity"] == "info"
    assert code == 0
