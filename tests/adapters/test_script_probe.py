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
