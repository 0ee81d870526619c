"""Annotation formats (sarif, github) point at files of the user's tree, relative to the working
directory; a value inherited from an installed framework base is annotated on the user's
`_base_` line, with the base named in the message."""
from __future__ import annotations

import importlib.util
import json

import pytest

from tests.conftest import run_cli

needs_mmdet = pytest.mark.skipif(importlib.util.find_spec("mmdet") is None, reason="mmdet zoo not installed")

CHILD = """\
# torchvision weights on the caffe base: the std/BGR/style all come from the installed base
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50-caffe_fpn_1x_coco.py',
]
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')))
"""


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "child.py").write_text(CHILD)
    (tmp_path / "configs" / "d2.yaml").write_text("MODEL:\n  ROI_HEADS:\n    SCORE_THRESH_TEST: 0.95\n")
    return tmp_path


@needs_mmdet
def test_github_annotations_land_on_the_users_base_line(tree):
    result = run_cli("lint", "--format", "github", "configs/child.py", "configs/d2.yaml", cwd=tree)
    lines = result.stdout.splitlines()
    assert lines, result.stderr
    for line in lines:
        assert line.startswith(("::error file=configs/", "::warning file=configs/")), line
    inherited = [line for line in lines if "child.py" in line.split("::")[1]]
    assert inherited and all("line=3," in line for line in inherited)   # the entry naming the base
    assert all("inherited from the installed base mmdet::faster_rcnn/faster-rcnn_r50-caffe_fpn_1x_coco.py"
               in line for line in inherited)
    assert "site-packages" not in result.stdout
    assert any(line.startswith("::warning file=configs/d2.yaml,line=3,") for line in lines)


@needs_mmdet
def test_sarif_locations_are_relative_files_of_the_tree(tree):
    result = run_cli("lint", "--format", "sarif", "configs/child.py", cwd=tree)
    results = json.loads(result.stdout)["runs"][0]["results"]
    assert results
    for res in results:
        (loc,) = res["locations"]
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == "configs/child.py"
        assert loc["physicalLocation"]["region"]["startLine"] == 3
        assert "mmdet::faster_rcnn/" in res["message"]["text"]


def test_a_finding_without_location_is_annotated_on_the_linted_config(tmp_path):
    from cfglint.engine.finding import Finding
    from cfglint.report.locations import clickable

    config = tmp_path / "c.yaml"
    config.write_text("MODEL: {}\n")
    finding = Finding(rule="X1", name="x", severity="warning", field="f", left=1, right=None, message="m")
    placed = clickable(finding, str(config), None)
    assert placed.left_location is not None and placed.left_location.file.endswith("c.yaml")


def test_command_line_values_are_annotated_on_the_config(tmp_path):
    from cfglint.engine.finding import Finding
    from cfglint.model import Location
    from cfglint.report.locations import clickable

    config = tmp_path / "c.yaml"
    config.write_text("MODEL: {}\n")
    finding = Finding(rule="X1", name="x", severity="warning", field="f", left=1, right=None, message="m",
                      left_location=Location("--opts"))
    placed = clickable(finding, str(config), None)
    assert placed.left_location.file.endswith("c.yaml") and "set by --opts" in placed.message


def test_inheriting_line_of_each_base_syntax(tmp_path):
    from cfglint.report.locations import inheriting_line

    base = "/site-packages/mmdet/.mim/configs/_base_/models/faster-rcnn_r50_fpn.py"
    py = tmp_path / "a.py"
    py.write_text("# x\n_base_ = [\n    './local.py',\n    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',\n]\n")
    (tmp_path / "local.py").write_text("x = 1\n")
    assert inheriting_line(str(py), base) == 4
    yml = tmp_path / "b.yaml"
    yml.write_text("# comment\n_BASE_: \"../Base-RCNN-FPN.yaml\"\nMODEL: {}\n")
    assert inheriting_line(str(yml), "/site-packages/detectron2/model_zoo/configs/Base-RCNN-FPN.yaml") == 2
    lazy = tmp_path / "c.py"
    lazy.write_text("from detectron2.model_zoo import get_config\n\nmodel = get_config('common/models/"
                    "mask_rcnn_fpn.py').model\n")
    assert inheriting_line(str(lazy), "/site-packages/detectron2/model_zoo/configs/common/models/"
                                      "mask_rcnn_fpn.py") == 3
    new_style = tmp_path / "d.py"
    new_style.write_text("from mmengine.config import read_base\n\nwith read_base():\n"
                         "    from mmdet.configs.retinanet.retinanet_r50_fpn_1x_coco import *\n")
    assert inheriting_line(str(new_style), "/site-packages/mmdet/configs/retinanet/"
                                           "retinanet_r50_fpn_1x_coco.py") == 4
