"""Serving-script idioms found by running new scripts against the real frameworks (detectron2 0.6
from its PyPI source, mmengine 0.10.7 + mmdet 3.3.0, model construction stubbed): the values
asserted here are what the frameworks built. Each idiom was once silently dropped or refused.

A change made through something the reader cannot follow must make what it may touch unknown
(an S904 info at that line), never leave the config as if nothing happened.
"""
from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

ENV = {"PYTHONPATH": str(REPO)}
D2_HEAD = '''\
from detectron2 import model_zoo
from detectron2.config import get_cfg
from detectron2.engine import DefaultPredictor
cfg = get_cfg()
cfg.merge_from_file(model_zoo.get_config_file("COCO-Detection/faster_rcnn_R_50_FPN_1x.yaml"))
'''


def _mmdet_configs():
    spec = importlib.util.find_spec("mmdet")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0]) / ".mim" / "configs"
    return root if root.is_dir() else None


def show_raw(tmp_path, text, name="serve.py"):
    (tmp_path / name).write_text(textwrap.dedent(text))
    run = run_cli("show", "--raw", "--format", "json", name, cwd=tmp_path, env=ENV)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[0])


def lint_findings(tmp_path, name="serve.py"):
    run = run_cli("lint", "--format", "json", name, cwd=tmp_path, env=ENV)
    return [(f["rule"], f["field"], (f["left_location"] or {}).get("line")) for f in json.loads(run.stdout)["findings"]]


@pytest.mark.parametrize("call", ["DefaultPredictor(cfg=cfg)", "build_model(cfg=cfg)"])
def test_the_config_passed_by_keyword(tmp_path, call):
    got = show_raw(tmp_path, D2_HEAD + "from detectron2.modeling import build_model\n"
                   "cfg.MODEL.ROI_HEADS.NUM_CLASSES = 3\n" f"model = {call}\n")
    assert got["config"]["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] == 3


def test_dotted_names_through_reduce_getattr_and_starred_unpacking(tmp_path):
    got = show_raw(tmp_path, D2_HEAD + '''\
from functools import reduce
node = reduce(getattr, ["MODEL", "ROI_HEADS"], cfg)
node.NUM_CLASSES = 2
*parents, leaf = "INPUT.MIN_SIZE_TEST".split(".")
setattr(reduce(getattr, parents, cfg), leaf, 1024)
predictor = DefaultPredictor(cfg)
''')
    assert got["config"]["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] == 2
    assert got["config"]["INPUT"]["MIN_SIZE_TEST"] == 1024
    assert "unknown" not in got


def test_simple_namespace_arguments_are_followed(tmp_path):
    got = show_raw(tmp_path, '''\
from types import SimpleNamespace
from detectron2 import model_zoo
from detectron2.config import get_cfg
from detectron2.engine import DefaultPredictor
args = SimpleNamespace(config=model_zoo.get_config_file("COCO-Detection/retinanet_R_50_FPN_1x.yaml"),
                       opts=["MODEL.RETINANET.NUM_CLASSES", "12"], thresh=0.42)
cfg = get_cfg()
cfg.merge_from_file(args.config)
cfg.merge_from_list(args.opts)
cfg.MODEL.RETINANET.SCORE_THRESH_TEST = args.thresh
predictor = DefaultPredictor(cfg=cfg)
''')
    assert got["config"]["MODEL"]["META_ARCHITECTURE"] == "RetinaNet"
    assert got["config"]["MODEL"]["RETINANET"]["NUM_CLASSES"] == 12
    assert got["config"]["MODEL"]["RETINANET"]["SCORE_THRESH_TEST"] == 0.42


def test_a_change_through_a_value_outside_the_script_makes_the_config_unknown(tmp_path):
    got = show_raw(tmp_path, D2_HEAD + '''\
from mylib import heads_of
heads = heads_of(cfg)
heads.NUM_CLASSES = 2
predictor = DefaultPredictor(cfg)
''')
    assert got["unknown_config"]["line"] == 8 and "heads_of" in got["unknown_config"]["why"]
    assert ("S904", "config", 8) in lint_findings(tmp_path)


def test_attributes_of_an_object_built_from_the_config_change_no_config(tmp_path):
    got = show_raw(tmp_path, D2_HEAD + '''\
from mylib import BatchPredictor
batch = BatchPredictor(cfg)
batch.batch_size = 4
cfg.MODEL.ROI_HEADS.NUM_CLASSES = 5
predictor = DefaultPredictor(cfg)
''')
    assert "unknown_config" not in got and got["config"]["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] == 5


def test_an_unknown_key_makes_its_node_unknown_not_nothing(tmp_path):
    got = show_raw(tmp_path, D2_HEAD + '''\
import os
setattr(cfg.MODEL.ROI_HEADS, os.environ["KEY"], 2)
cfg.MODEL.RPN[os.environ["OTHER"]] = 5
predictor = DefaultPredictor(cfg)
''')
    assert got["config"]["MODEL"]["ROI_HEADS"] is None and got["config"]["MODEL"]["RPN"] is None
    assert {k: v["line"] for k, v in got["unknown"].items()} == {"MODEL.ROI_HEADS": 7, "MODEL.RPN": 8}
    assert got["config"]["MODEL"]["BACKBONE"]["NAME"] == "build_resnet_fpn_backbone"   # the rest is known


def test_lazyconfig_read_of_a_missing_key_is_unknown_at_its_line(tmp_path):
    got = show_raw(tmp_path, '''\
from detectron2 import model_zoo
from detectron2.config import instantiate
cfg = model_zoo.get_config("COCO-Detection/retinanet_R_50_FPN_1x.py")
cfg.model.test_score_thresh = cfg.model.test_score_thresh * 10
model = instantiate(cfg=cfg.model)
''')
    assert got["config"]["model"]["test_score_thresh"] is None
    assert got["unknown"]["model.test_score_thresh"]["line"] == 4
    assert ("S904", "model.test_score_thresh", 4) in lint_findings(tmp_path)


MM = _mmdet_configs()
needs_mmdet = pytest.mark.skipif(MM is None, reason="mmdet's configs are not installed")


@needs_mmdet
def test_mmdet_loops_over_config_lists_change_the_config(tmp_path):
    got = show_raw(tmp_path, f'''\
from mmengine.config import Config
from mmdet.apis import init_detector
cfg = Config.fromfile("{MM}/cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py")
for head in cfg.model.roi_head.bbox_head:
    head.num_classes = 3
for i, t in enumerate(cfg.test_dataloader.dataset.pipeline):
    if t["type"] == "Resize":
        t["scale"] = (1024, 640)
model = init_detector(cfg, None, device="cpu")
''')
    assert [h["num_classes"] for h in got["config"]["model"]["roi_head"]["bbox_head"]] == [3, 3, 3]
    resize = [t for t in got["config"]["test_dataloader"]["dataset"]["pipeline"] if t["type"] == "Resize"]
    assert resize[0]["scale"] == [1024, 640]


@needs_mmdet
def test_mmdet_configdict_update_with_keywords_merges_recursively(tmp_path):
    got = show_raw(tmp_path, f'''\
from mmengine.config import Config
from mmdet.apis import init_detector
cfg = Config.fromfile("{MM}/faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py")
cfg.model.test_cfg.rcnn.update(score_thr=0.35)
cfg.model.test_cfg.update(dict(rcnn=dict(max_per_img=30)))
model = init_detector(cfg, None, device="cpu")
''')
    rcnn = got["config"]["model"]["test_cfg"]["rcnn"]
    assert (rcnn["score_thr"], rcnn["max_per_img"], rcnn["nms"]["iou_threshold"]) == (0.35, 30, 0.5)


# ---------------------------------------------------------------- second round

D2_BARE = '''\
import os
from detectron2.config import CfgNode as CN, get_cfg
from detectron2.engine import DefaultPredictor
cfg = get_cfg()
'''


def test_merges_of_values_cfglint_cannot_know_make_the_config_unknown(tmp_path):
    for line in ('cfg.merge_from_list(os.environ.get("D2_OPTS", "").split())',
                 'import ext\ncfg.merge_from_other_cfg(ext.load())'):
        got = show_raw(tmp_path, D2_BARE + line + "\npredictor = DefaultPredictor(cfg)\n")
        assert got["unknown_config"]["line"] == len(D2_BARE.splitlines()) + line.count("\n") + 1, line


def test_cfgnode_load_cfg_and_merge_from_other_cfg(tmp_path):
    (tmp_path / "dumped.yaml").write_text("MODEL:\n  MASK_ON: true\n  ROI_HEADS:\n    NUM_CLASSES: 2\n")
    got = show_raw(tmp_path, D2_BARE + 'cfg.merge_from_other_cfg(CN.load_cfg(open("dumped.yaml")))\n'
                   "predictor = DefaultPredictor(cfg)\n")
    assert got["config"]["MODEL"]["MASK_ON"] is True and got["config"]["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] == 2
    alone = show_raw(tmp_path, D2_BARE + 'cfg = CN.load_cfg(open("dumped.yaml"))\npredictor = DefaultPredictor(cfg)\n')
    assert alone["config"] == {"MODEL": {"MASK_ON": True, "ROI_HEADS": {"NUM_CLASSES": 2}}}   # no defaults


def test_list_methods_and_del_change_config_lists(tmp_path):
    got = show_raw(tmp_path, D2_BARE + "cfg.MODEL.PIXEL_MEAN.reverse()\ndel cfg.MODEL.PIXEL_STD[0]\n"
                   "cfg.INPUT.MIN_SIZE_TEST_LIST = []\ncfg.DATASETS.TEST = list(cfg.DATASETS.TEST)\n"
                   'cfg.DATASETS.TEST.append("mine_val")\npredictor = DefaultPredictor(cfg)\n')
    model = got["config"]["MODEL"]
    assert model["PIXEL_MEAN"] == [123.675, 116.28, 103.53] and model["PIXEL_STD"] == [1.0, 1.0]
    assert got["config"]["DATASETS"]["TEST"] == ["mine_val"]
    lint = lint_findings(tmp_path)
    assert ("L102", "input.pixel_mean", 5) in lint     # the reversed mean is found, at the script's line


def test_lazyconfig_list_with_a_value_cfglint_cannot_build_is_unknown_not_unreadable(tmp_path):
    got = show_raw(tmp_path, '''\
import detectron2.data.transforms as T
from detectron2 import model_zoo
from detectron2.config import LazyCall as L, instantiate
cfg = model_zoo.get_config("COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_1x.py")
cfg.dataloader.test.mapper.augmentations = [L(T.ResizeShortestEdge)(short_edge_length=640, max_size=1000)]
cfg.dataloader.train.mapper.augmentations[0] = L(T.ResizeShortestEdge)(short_edge_length=640)
model = instantiate(cfg.model)
''')
    assert got["config"]["dataloader"]["test"]["mapper"]["augmentations"] is None
    assert got["config"]["dataloader"]["train"]["mapper"]["augmentations"][0] is None   # not the old value
    assert set(got["unknown"]) == {"dataloader.test.mapper.augmentations", "dataloader.train.mapper.augmentations.0"}


def test_omegaconf_update_and_merge_of_a_lazyconfig(tmp_path):
    got = show_raw(tmp_path, '''\
from omegaconf import OmegaConf
from detectron2 import model_zoo
from detectron2.config import instantiate
cfg = model_zoo.get_config("COCO-Detection/retinanet_R_50_FPN_1x.py")
cfg = OmegaConf.merge(cfg, OmegaConf.create({"model": {"num_classes": 4}, "train": {"device": "cpu"}}))
OmegaConf.update(cfg, "model.test_score_thresh", 0.3)
model = instantiate(cfg.model)
''')
    assert got["config"]["model"]["num_classes"] == 4 and got["config"]["train"]["device"] == "cpu"
    assert got["config"]["model"]["test_score_thresh"] == 0.3
    assert got["config"]["model"]["head"]["num_classes"] == "${..num_classes}"   # left as written


@needs_mmdet
def test_mmdet_list_methods_negative_indices_slices_and_detinferencer_of_a_config(tmp_path):
    got = show_raw(tmp_path, f'''\
from mmengine.config import Config
from mmdet.apis import DetInferencer
cfg = Config.fromfile("{MM}/faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py")
cfg.test_dataloader.dataset.pipeline.pop(2)
cfg.test_dataloader.dataset.pipeline[-2].scale = (960, 540)
cfg.model.data_preprocessor.mean = cfg.model.data_preprocessor.mean[::-1]
inferencer = DetInferencer(model=cfg, weights=None, device="cpu")
''')
    pipeline = got["config"]["test_dataloader"]["dataset"]["pipeline"]
    assert [t["type"] for t in pipeline] == ["LoadImageFromFile", "Resize", "PackDetInputs"]
    assert pipeline[1]["scale"] == [960, 540]
    assert got["config"]["model"]["data_preprocessor"]["mean"] == [103.53, 116.28, 123.675]
    assert "unknown_config" not in got
    lint = lint_findings(tmp_path)
    assert ("L304", "test.resize.short_edge", 5) in lint    # at the script's line, not the base's


@needs_mmdet
def test_mmdet_merge_of_unknown_options_makes_the_config_unknown(tmp_path):
    got = show_raw(tmp_path, f'''\
import json, os
from mmdet.apis import init_detector
model = init_detector("{MM}/faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py", None, device="cpu",
                      cfg_options=json.loads(os.environ.get("MM_OPTS", "{{}}")))
''')
    assert got["unknown_config"]["line"] == 4       # where the environment is read


def test_a_condition_decided_by_a_known_operand_and_dataclass_field_defaults(tmp_path):
    got = show_raw(tmp_path, D2_BARE + '''\
import torch
from dataclasses import dataclass, field
@dataclass
class Settings:
    classes: list = field(default_factory=lambda: ["a", "b", "c"])
    thresh: float = field(default=0.4)
gpu_id = None
cfg.MODEL.DEVICE = "cuda" if torch.cuda.is_available() and gpu_id is not None else "cpu"
cfg.MODEL.ROI_HEADS.NUM_CLASSES = len(Settings().classes)
cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = Settings().thresh
cfg.MODEL.RPN.NMS_THRESH = 0.6 if torch.cuda.is_available() or gpu_id is None else 0.7
cfg.INPUT.MIN_SIZE_TEST = 640 if torch.cuda.is_available() and gpu_id is None else 800
predictor = DefaultPredictor(cfg)
''')
    model = got["config"]["MODEL"]
    assert model["DEVICE"] == "cpu" and model["RPN"]["NMS_THRESH"] == 0.6
    assert model["ROI_HEADS"]["NUM_CLASSES"] == 3 and model["ROI_HEADS"]["SCORE_THRESH_TEST"] == 0.4
    # `<unknown> and True` is still unknown: never guessed
    assert got["config"]["INPUT"]["MIN_SIZE_TEST"] is None and "INPUT.MIN_SIZE_TEST" in got["unknown"]
