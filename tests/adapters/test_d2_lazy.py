"""Detectron2 LazyConfig `.py` adapter: values read from the fixtures, checked against what the
files say (derived by hand from fixtures/detectron2/lazy, modelled on upstream configs/common)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from cfglint.adapters.detectron2.lazy import resolve_interpolations, resolve_lazy
from cfglint.adapters.detectron2.zoo import detectron2_configs_root
from cfglint.errors import CfglintError
from cfglint.model.location import Location
from tests.conftest import FIXTURES

LAZY = FIXTURES / "detectron2" / "lazy"
MASK_RCNN = LAZY / "COCO-InstanceSegmentation" / "mask_rcnn_R_50_FPN_1x.py"
FASTER_RCNN = LAZY / "COCO-Detection" / "faster_rcnn_R_50_FPN_1x.py"
RETINANET = LAZY / "COCO-Detection" / "retinanet_R_50_FPN_1x.py"
VITDET = LAZY / "projects" / "ViTDet" / "configs" / "COCO" / "mask_rcnn_vitdet_b_100ep.py"
CUSTOM = LAZY / "Misc" / "faster_rcnn_R_50_FPN_3class_infer.py"
SMALL = LAZY / "Misc" / "small_retinanet_constructs.py"
MODEL_FILE = LAZY / "common" / "models" / "mask_rcnn_fpn.py"

BGR_MEAN = [103.530, 116.280, 123.675]
RGB_MEAN = [123.675, 116.28, 103.53]
RGB_STD = [58.395, 57.12, 57.375]
RESIZE = "detectron2.data.transforms.ResizeShortestEdge"


def line_of(path: Path, text: str) -> Location:
    """Where `text` is written in a fixture (first line containing it)."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return Location(str(path), number)
    raise AssertionError(f"{text!r} not in {path}")


def load(path: Path, *overrides: str):
    resolved = resolve_lazy(str(path), overrides=overrides)
    return resolved, resolve_interpolations(resolved.data)


def test_mask_rcnn_fpn_values():
    r, eff = load(MASK_RCNN)
    assert (r.framework, r.syntax) == ("detectron2", "lazyconfig")
    assert list(r.data) == ["optimizer", "lr_multiplier", "dataloader", "model", "train"]
    model = r.data["model"]
    assert model["_target_"] == "detectron2.modeling.meta_arch.GeneralizedRCNN"
    assert model["backbone"]["_target_"] == "detectron2.modeling.backbone.FPN"
    assert model["backbone"]["bottom_up"]["stages"]["_target_"] == \
        "detectron2.modeling.backbone.ResNet.make_default_stages"
    assert model["backbone"]["bottom_up"]["freeze_at"] == 2
    assert model["pixel_mean"] == BGR_MEAN and model["pixel_std"] == [1.0, 1.0, 1.0]
    assert model["input_format"] == "BGR"
    heads = model["roi_heads"]
    assert heads["num_classes"] == 80
    assert heads["box_predictor"]["num_classes"] == "${..num_classes}"       # left as written
    assert eff["model"]["roi_heads"]["box_predictor"]["num_classes"] == 80    # effective value
    assert eff["model"]["roi_heads"]["mask_head"]["num_classes"] == 80
    assert heads["box_predictor"]["test_score_thresh"] == 0.05
    assert heads["box_predictor"]["box2box_transform"]["weights"] == [10, 10, 5, 5]   # tuple -> list
    assert heads["box_predictor"]["input_shape"] == {"_call_": "detectron2.layers.ShapeSpec", "channels": 1024}
    assert heads["box_pooler"]["scales"] == [0.25, 0.125, 0.0625, 0.03125]
    assert "mask_head" in heads
    assert model["proposal_generator"]["pre_nms_topk"] == [2000, 1000]
    assert eff["model"]["backbone"]["in_features"] == ["res2", "res3", "res4", "res5"]
    loader = r.data["dataloader"]
    assert loader["train"]["mapper"]["image_format"] == "BGR"
    assert loader["test"]["mapper"]["image_format"] == "${...train.mapper.image_format}"
    assert eff["dataloader"]["test"]["mapper"]["image_format"] == "BGR"
    assert loader["test"]["mapper"]["augmentations"] == [
        {"short_edge_length": 800, "max_size": 1333, "_target_": RESIZE}]
    assert loader["train"]["mapper"]["augmentations"][0]["short_edge_length"] == [640, 672, 704, 736, 768, 800]
    assert eff["dataloader"]["evaluator"]["dataset_name"] == "coco_2017_val"
    # coco_schedule.default_X_scheduler(1), interpreted: the `num_X <= 2` branch
    assert r.data["lr_multiplier"]["scheduler"]["milestones"] == [60000, 80000]
    assert r.data["lr_multiplier"]["warmup_length"] == 1000 / 90000
    assert r.data["optimizer"]["_target_"] == "torch.optim.SGD"
    assert r.data["train"]["init_checkpoint"] == "detectron2://ImageNetPretrained/MSRA/R-50.pkl"


def test_mask_rcnn_locations_and_files():
    r, _ = load(MASK_RCNN)
    assert r.locations[("model", "backbone", "bottom_up", "freeze_at")] == line_of(MASK_RCNN, "freeze_at = 2")
    assert r.locations[("model", "roi_heads", "num_classes")] == line_of(MODEL_FILE, "num_classes=80")
    assert r.locations[("model", "roi_heads", "box_predictor", "test_score_thresh")] == \
        line_of(MODEL_FILE, "test_score_thresh=0.05")
    assert r.locations[("model", "pixel_mean")] == line_of(MODEL_FILE, "pixel_mean=")
    assert r.locations[("model",)] == line_of(MASK_RCNN, "import model")
    assert r.location_of(("model", "roi_heads", "box_predictor", "input_shape", "channels")) == \
        line_of(MODEL_FILE, "input_shape=ShapeSpec(channels=1024)")
    assert r.files[-1] == str(MASK_RCNN)
    assert set(r.files) == {str(MASK_RCNN)} | {str(LAZY / "common" / p) for p in (
        "optim.py", "coco_schedule.py", "data/coco.py", "models/mask_rcnn_fpn.py", "train.py")}


def test_faster_rcnn_pops_mask_entries():
    r, _ = load(FASTER_RCNN)
    heads = r.data["model"]["roi_heads"]
    for key in ("mask_in_features", "mask_pooler", "mask_head"):
        assert key not in heads
        assert ("model", "roi_heads", key) not in r.locations
    assert heads["box_predictor"]["test_score_thresh"] == 0.05
    assert r.data["dataloader"]["train"]["mapper"]["use_instance_mask"] is False


def test_retinanet_values():
    r, eff = load(RETINANET)
    model = r.data["model"]
    assert model["_target_"] == "detectron2.modeling.meta_arch.RetinaNet"
    assert model["num_classes"] == 80 and eff["model"]["head"]["num_classes"] == 80
    assert model["head"]["_target_"] == "detectron2.modeling.meta_arch.retinanet.RetinaNetHead"
    assert model["head"]["input_shape"] == [{"_call_": "detectron2.layers.ShapeSpec", "channels": 256}] * 5
    sizes = model["anchor_generator"]["sizes"]
    assert len(sizes) == 5 and sizes[0][0] == 32
    assert math.isclose(sizes[0][1], 32 * 2 ** (1 / 3)) and math.isclose(sizes[4][2], 512 * 2 ** (2 / 3))
    assert eff["model"]["backbone"]["top_block"]["out_channels"] == 256
    assert "test_score_thresh" not in model          # RetinaNet's signature default applies
    assert r.data["optimizer"]["lr"] == 0.01
    assert r.data["dataloader"]["train"]["mapper"]["use_instance_mask"] is False


def test_vitdet_rgb_config_with_model_zoo_get_config():
    r, eff = load(VITDET)
    model = r.data["model"]
    assert model["input_format"] == "RGB"
    assert model["pixel_mean"] == RGB_MEAN and model["pixel_std"] == RGB_STD
    assert model["backbone"]["_target_"] == "detectron2.modeling.SimpleFeaturePyramid"
    assert model["backbone"]["net"]["norm_layer"] == {"_call_": "functools.partial", "_args_": ["torch.nn.LayerNorm"],
                                                      "eps": 1e-6}
    assert model["backbone"]["net"]["window_block_indexes"] == [0, 1, 3, 4, 6, 7, 9, 10]
    assert eff["model"]["backbone"]["in_feature"] == "last_feat"
    # chained assignment: both targets set, each from the same line
    heads = model["roi_heads"]
    assert heads["box_head"]["conv_norm"] == heads["mask_head"]["conv_norm"] == "LN"
    # `model_zoo.get_config("common/models/mask_rcnn_vitdet.py")` reads detectron2's model zoo
    # (cfglint's copy here), never the fixtures' own common/ folder above the config
    vitdet_model = Path(detectron2_configs_root()) / "common" / "models" / "mask_rcnn_vitdet.py"
    chained = line_of(vitdet_model, "conv_norm = model.roi_heads.mask_head.conv_norm")
    assert r.locations[("model", "roi_heads", "box_head", "conv_norm")] == chained
    assert r.locations[("model", "roi_heads", "mask_head", "conv_norm")] == chained
    assert model["proposal_generator"]["head"]["conv_dims"] == [-1, -1]
    loader = r.data["dataloader"]
    assert loader["train"]["mapper"]["image_format"] == "RGB"
    assert eff["dataloader"]["test"]["mapper"]["image_format"] == "RGB"
    assert loader["test"]["mapper"]["augmentations"] == [
        {"short_edge_length": 1024, "max_size": 1024, "_target_": RESIZE}]
    assert [a["_target_"].rsplit(".", 1)[1] for a in loader["train"]["mapper"]["augmentations"]] == [
        "RandomFlip", "ResizeScale", "FixedSizeCrop"]
    train = r.data["train"]
    assert train["amp"]["enabled"] is True and train["max_iter"] == 184375
    assert train["init_checkpoint"].endswith("mae_pretrain_vit_base.pth?matching_heuristics=True")
    assert r.data["lr_multiplier"]["warmup_length"] == 250 / 184375
    assert r.data["optimizer"]["_target_"] == "torch.optim.AdamW"
    assert eff["optimizer"]["params"]["base_lr"] == 1e-4
    assert r.data["optimizer"]["params"]["overrides"] == {"pos_embed": {"weight_decay": 0.0}}
    assert str(vitdet_model) in r.files


def test_user_inference_config():
    r, eff = load(CUSTOM)
    assert sorted(r.data) == ["classes", "dataloader", "model", "train"]   # `_scratch` is private
    heads = r.data["model"]["roi_heads"]
    assert heads["num_classes"] == 3 and eff["model"]["roi_heads"]["box_predictor"]["num_classes"] == 3
    assert heads["batch_size_per_image"] == 128
    assert not {"mask_in_features", "mask_pooler", "mask_head"} & set(heads)
    assert heads["box_predictor"]["test_score_thresh"] == 0.5
    assert heads["box_predictor"]["test_nms_thresh"] == 0.4
    assert r.data["model"]["proposal_generator"]["post_nms_topk"] == [1000, 500]
    assert r.data["dataloader"]["test"]["mapper"]["augmentations"] == [
        {"short_edge_length": 640, "max_size": 1066, "_target_": RESIZE}]
    assert r.data["train"]["max_iter"] == 9000
    assert r.data["classes"] == {"names": ["bolt", "nut", "washer"]}
    score_line = line_of(CUSTOM, "test_score_thresh = 0.5")
    assert r.locations[("model", "roi_heads", "box_predictor", "test_score_thresh")] == score_line
    assert r.locations[("model", "roi_heads", "num_classes")] == line_of(CUSTOM, "num_classes=3")
    assert r.locations[("dataloader", "test", "mapper", "augmentations", 0)] == line_of(CUSTOM, "augmentations[0] =")
    assert r.suppressions == {(score_line.file, score_line.line): ["D2-SCORE"]}


def test_small_config_full_tree():
    r, _ = load(SMALL)
    shape = {"_call_": "detectron2.layers.ShapeSpec", "channels": 64}
    expected_model = {
        "head": {"input_shape": [shape, shape, shape], "num_classes": "${..num_classes}",
                 "conv_dims": [128, 128, 32],
                 "_target_": "detectron2.modeling.meta_arch.retinanet.RetinaNetHead"},
        "anchor_generator": {"sizes": [[16, 32], [32, 64], [64, 128]], "offset": 0.25,
                             "_target_": "detectron2.modeling.anchor_generator.DefaultAnchorGenerator"},
        "num_classes": 4,
        "head_in_features": ["p3", "p4", "p5"],
        "pixel_mean": [123.675, 116.28, 103.53],
        "input_format": "RGB",
        "_target_": "detectron2.modeling.meta_arch.RetinaNet",
        "test_score_thresh": 0.25,
        "test_nms_thresh": 0.6,
    }
    expected_train = {
        "output_dir": "./output", "init_checkpoint": "detectron2://ImageNetPretrained/MSRA/R-50.pkl",
        "max_iter": 1000, "amp": {"enabled": False},
        "ddp": {"broadcast_buffers": False, "find_unused_parameters": False, "fp16_compression": False},
        "checkpoint_period": 5000, "eval_period": 5000, "log_period": 20, "device": "cuda",
    }
    assert r.data == {"train": expected_train, "model": expected_model, "stages": {"res3": 6, "res4": 8}}
    assert json.loads(json.dumps(r.data)) == r.data     # plain JSON data, no tuples or objects
    assert r.locations[("model", "head", "conv_dims")] == line_of(SMALL, "conv_dims += [32]")
    assert r.locations[("model", "head", "conv_dims", 0)] == line_of(SMALL, "conv_dims[i] *= 2")
    assert r.locations[("model", "test_nms_thresh")] == line_of(SMALL, "test_nms_thresh = 0.6")
    assert r.locations[("model", "test_score_thresh")] == line_of(SMALL, "offset = model.test_score_thresh")
    assert ("model", "anchor_generator", "aspect_ratios") not in r.locations


def test_imports_are_fresh_copies(tmp_path):
    (tmp_path / "base.py").write_text("from detectron2.config import LazyCall as L\n"
                                      "from detectron2.modeling import FPN\n"
                                      "model = L(FPN)(out_channels=256)\n")
    (tmp_path / "top.py").write_text("from .base import model\n"
                                     "from .base import model as other\n"
                                     "model.out_channels = 128\n"
                                     "kept = model.out_channels\n")
    r = resolve_lazy(str(tmp_path / "top.py"))
    assert r.data["model"]["out_channels"] == 128
    assert r.data["other"]["out_channels"] == 256


def test_overrides():
    r, eff = load(MASK_RCNN, "model.roi_heads.num_classes=3", "train.max_iter=100",
                  "dataloader.train.mapper.image_format=RGB", "train.extra={a: 1}")
    assert r.data["model"]["roi_heads"]["num_classes"] == 3
    assert eff["model"]["roi_heads"]["box_predictor"]["num_classes"] == 3
    assert r.data["train"]["max_iter"] == 100
    assert eff["dataloader"]["test"]["mapper"]["image_format"] == "RGB"   # not literal: kept as a string
    assert r.data["train"]["extra"] == {"a": 1}                            # overrides can create keys
    assert r.locations[("model", "roi_heads", "num_classes")].line is None


@pytest.mark.parametrize("override, message", [
    ("model.input_format.x=1", "model.input_format is not a config"),
    ("model.pixel_mean.x=1", "'x' is not an index of the list"),
    ("no_equals_sign", "hydra's override grammar"),
    ("train.extra={'a': 1}", "hydra's override grammar"),      # a Python literal is not Hydra's dict
])
def test_bad_overrides(override, message):
    with pytest.raises(CfglintError, match=message):
        resolve_lazy(str(MASK_RCNN), overrides=[override])


def test_resolve_interpolations_semantics_and_no_mutation():
    data = {
        "model": {
            "num_classes": 9,
            "roi_heads": {"num_classes": 7,
                          "predictors": [{"num_classes": "${...num_classes}", "outer": "${....num_classes}"}],
                          "name": "h_${model.num_classes}"},
            "abs": "${model.num_classes}",
            "missing": "${.nope}",
            "env": "${oc.env:HOME}",
            "cycle_a": "${.cycle_b}", "cycle_b": "${.cycle_a}",
            "indexed": "${.roi_heads.predictors[0].num_classes}",
        }
    }
    snapshot = json.dumps(data)
    out = resolve_interpolations(data)
    assert json.dumps(data) == snapshot
    m = out["model"]
    # a list counts as a level: `.` is predictors[0], `..` the list, `...` roi_heads, `....` model
    assert m["roi_heads"]["predictors"][0] == {"num_classes": 7, "outer": 9}
    assert m["roi_heads"]["name"] == "h_9"
    assert m["abs"] == 9
    assert m["indexed"] == 7           # resolved through another interpolation
    assert m["missing"] == "${.nope}" and m["env"] == "${oc.env:HOME}"   # left as written
    assert m["cycle_a"] in ("${.cycle_a}", "${.cycle_b}")


def test_reading_imports_no_framework(tmp_path):
    """Reading a LazyConfig must not import torch, numpy, omegaconf, mmengine or detectron2."""
    import subprocess
    import sys
    code = ("import sys; from cfglint.adapters.detectron2.lazy import resolve_lazy; "
            f"resolve_lazy({str(VITDET)!r}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'numpy', 'omegaconf', 'mmengine', 'mmdet', 'detectron2', 'fvcore')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_copy_deepcopy_at_load_time(tmp_path):
    """`copy.deepcopy(node)` is an independent node (detrex copies the criterion's weight dict before
    extending it). `copy.copy` stays refused: it shares a dict's children but not a DictConfig's."""
    path = tmp_path / "cfg.py"
    path.write_text(
        "import copy\n"
        "from copy import deepcopy\n"
        "from detectron2.config import LazyCall as L\n"
        "from detrex.modeling import SetCriterion\n"
        "model = dict(criterion=L(SetCriterion)(weight_dict={'loss_class': 1, 'loss_bbox': 5.0}), aux=True)\n"
        "base_weight_dict = copy.deepcopy(model.criterion.weight_dict)\n"
        "if model.aux:\n"
        "    weight_dict = model.criterion.weight_dict\n"
        "    aux_weight_dict = {}\n"
        "    for i in range(2):\n"
        "        aux_weight_dict.update({k + f'_{i}': v for k, v in base_weight_dict.items()})\n"
        "    weight_dict.update(aux_weight_dict)\n"
        "    model.criterion.weight_dict = weight_dict\n"
        "other = deepcopy(model)\n"
        "other.criterion.weight_dict.loss_class = 7\n")
    data = resolve_lazy(str(path)).data
    assert data["base_weight_dict"] == {"loss_class": 1, "loss_bbox": 5.0}
    assert data["model"]["criterion"]["weight_dict"] == {
        "loss_class": 1, "loss_bbox": 5.0, "loss_class_0": 1, "loss_bbox_0": 5.0, "loss_class_1": 1,
        "loss_bbox_1": 5.0}
    assert data["other"]["criterion"]["weight_dict"]["loss_class"] == 7
    assert data["other"]["criterion"]["weight_dict"]["loss_bbox_1"] == 5.0
    with pytest.raises(CfglintError, match="takes one value"):
        path.write_text("import copy\nx = dict(a=copy.deepcopy())\n")
        resolve_lazy(str(path))
    with pytest.raises(CfglintError, match="copy.copy"):
        path.write_text("import copy\nx = dict(a=1)\ny = copy.copy(x)\n")
        resolve_lazy(str(path))


def test_load_rel(tmp_path):
    """`LazyConfig.load_rel` reads a file relative to the config, as a relative import does."""
    (tmp_path / ".git").mkdir()          # one repository: reads stay inside it (adapters/roots.py)
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "base.py").write_text(
        "from detectron2.config import LazyCall as L\nfrom detectron2.modeling import FPN\n"
        "model = L(FPN)(out_channels=256)\ntrain = dict(max_iter=10)\n_hidden = dict(a=1)\nn = 3\n")
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "cfg.py"
    path.write_text(
        "from detectron2.config import LazyConfig\n"
        "everything = LazyConfig.load_rel('../common/base.py')\n"
        "model = LazyConfig.load_rel('../common/base.py', 'model')\n"
        "model.out_channels = 128\n"
        "train, again = LazyConfig.load_rel('../common/base.py', keys=('train', 'model'))\n")
    data = resolve_lazy(str(path)).data
    assert sorted(data["everything"]) == ["model", "train"]       # dict values only, no `_` names
    assert data["everything"]["model"]["out_channels"] == 256     # a copy: changing `model` left it
    assert data["model"] == {"out_channels": 128, "_target_": "detectron2.modeling.FPN"}
    assert data["train"] == {"max_iter": 10} and data["again"]["out_channels"] == 256
    for bad, message in [("'/etc/passwd'", "relative path"), ("'../common/nope.py'", "does not exist"),
                         ("'../common/base.py', 'nope'", "no config object 'nope'")]:
        path.write_text(f"from detectron2.config import LazyConfig\nx = LazyConfig.load_rel({bad})\n")
        with pytest.raises(CfglintError, match=message) as info:
            resolve_lazy(str(path))
        assert info.value.line == 2
