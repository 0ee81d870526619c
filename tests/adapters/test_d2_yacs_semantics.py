"""fvcore/yacs semantics of the static resolver, on small fixtures with values read by hand."""
from __future__ import annotations

import pytest

from cfglint.adapters.detectron2 import addons
from cfglint.adapters.detectron2.yacs import resolve_object, resolve_yaml
from cfglint.errors import CfglintError
from cfglint.model import Location
from tests.conftest import FIXTURES

YAML = FIXTURES / "detectron2" / "yaml"


def fixture(rel: str) -> str:
    return str(YAML / rel)


# --- provenance -------------------------------------------------------------------------------

def test_child_overrides_point_at_the_child_line_and_inherited_keys_at_the_base():
    r = resolve_yaml(fixture("provenance/child.yaml"))
    base, child = fixture("provenance/base.yaml"), fixture("provenance/child.yaml")
    assert r.data["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] == 3
    assert r.locations[("MODEL", "ROI_HEADS", "NUM_CLASSES")] == Location(child, 5)
    assert r.locations[("MODEL", "ROI_HEADS", "SCORE_THRESH_TEST")] == Location(base, 5)
    assert r.locations[("MODEL", "WEIGHTS")] == Location(child, 3)
    assert r.locations[("INPUT", "MIN_SIZE_TRAIN")] == Location(base, 7)
    # keys no file sets stay absent (= default), and mapping keys are not values
    assert ("MODEL", "ROI_HEADS", "NMS_THRESH_TEST") not in r.locations
    assert ("MODEL",) not in r.locations and r.location_of(("MODEL", "RPN", "NMS_THRESH")) is None
    assert r.files == [base, child]
    assert r.suppressions == {(child, 3): ["D2001"]}
    assert (r.framework, r.syntax, r.path) == ("detectron2", "yacs", child)


def test_list_of_bases_merge_in_order_then_the_child():
    r = resolve_yaml(fixture("bases/list_child.yaml"))
    roi = r.data["MODEL"]["ROI_HEADS"]
    assert roi["NUM_CLASSES"] == 20 and roi["NMS_THRESH_TEST"] == 0.6
    assert r.data["SOLVER"]["STEPS"] == (300,)   # lists replace; cast to the default's tuple
    assert r.locations[("MODEL", "ROI_HEADS", "NUM_CLASSES")] == Location(fixture("bases/second.yaml"), 3)
    assert r.locations[("MODEL", "ROI_HEADS", "NMS_THRESH_TEST")] == Location(fixture("bases/first.yaml"), 4)
    assert r.files == [fixture("bases/first.yaml"), fixture("bases/second.yaml"), fixture("bases/list_child.yaml")]


def test_home_relative_base(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "base.yaml").write_text("MODEL:\n  MASK_ON: True\n")
    child = tmp_path / "sub" / "child.yaml"
    child.parent.mkdir()
    child.write_text("_BASE_: ~/base.yaml\n")
    with pytest.raises(CfglintError, match="outside the allowed roots"):   # ~ is outside the project
        resolve_yaml(str(child))
    from cfglint.adapters import roots
    with roots.using([str(tmp_path)]):   # --allow-root
        assert resolve_yaml(str(child)).data["MODEL"]["MASK_ON"] is True


def test_remote_base_is_refused_with_its_line(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text("# remote\n_BASE_: https://example.com/Base-RCNN-FPN.yaml\n")
    with pytest.raises(CfglintError) as info:
        resolve_yaml(str(child))
    assert (info.value.file, info.value.line) == (str(child), 2)


# --- yacs values ----------------------------------------------------------------------------

def test_strings_are_literal_evaluated_and_coerced_like_yacs():
    r = resolve_yaml(fixture("values.yaml"))
    model = r.data["MODEL"]
    assert model["WEIGHTS"] == "detectron2://ImageNetPretrained/MSRA/R-50.pkl"   # not a literal: kept
    assert model["PIXEL_STD"] == [57.375, 57.12, 58.395]          # "(..)" string -> tuple -> list default
    assert model["RPN"]["BBOX_REG_WEIGHTS"] == (1.0, 1.0, 2.0, 2.0)  # YAML list -> tuple default
    assert model["ROI_HEADS"]["NUM_CLASSES"] == 7                 # quoted "7" -> int
    assert model["ANCHOR_GENERATOR"]["SIZES"] == [[8], [12], [16]]  # eval tag, restricted evaluator
    assert model["PROPOSAL_GENERATOR"]["NAME"] is None            # "None" -> None is always allowed
    assert type(r.data["SOLVER"]["BASE_LR"]) is float and r.data["SOLVER"]["BASE_LR"] == 0.001
    assert r.data["DATASETS"]["TRAIN"] == ("coco_2017_train",)
    assert r.data["DATASETS"]["TEST"] == ("coco_2017_val",)


@pytest.mark.parametrize("text, fragment", [
    ("INPUT:\n  MIN_SIZE_TEST: 800.0\n", "the default is an int (800) but the config gives a float (800.0)"),
    ("MODEL:\n  MASK_ON: 1\n", "the default is a bool (False) but the config gives an int (1)"),
    ("MODEL:\n  RESNETS:\n    DEPTH: True\n", "the default is an int (50) but the config gives a bool (True)"),
    ("MODEL:\n  PIXEL_MEAN: 103.5\n", "the default is a list"),
    ("MODEL:\n  ROI_HEADS: 3\n", "the default is a config node"),
])
def test_type_mismatches_are_errors(tmp_path, text, fragment):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(CfglintError, match="type mismatch") as info:
        resolve_yaml(str(path))
    assert fragment in info.value.message
    assert info.value.line == text.count("\n")


def test_invalid_leaf_type_is_an_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("MODEL:\n  WEIGHTS: 2020-01-01\n")
    with pytest.raises(CfglintError, match="not a valid config value") as info:
        resolve_yaml(str(path))
    assert info.value.line == 2


def test_computed_keys_cannot_come_from_a_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("MODEL:\n  COMPUTED_NUM_ANCHORS: 3\n")
    with pytest.raises(CfglintError, match="COMPUTED_ keys are set by code at run time"):
        resolve_yaml(str(path))
    assert resolve_yaml(str(path), allow_new_keys=True).data["MODEL"]["COMPUTED_NUM_ANCHORS"] == 3


def test_allow_new_keys_adds_unknown_keys_like_new_allowed_nodes():
    with pytest.raises(CfglintError, match="unknown config key MODEL.MY_HEAD"):
        resolve_yaml(fixture("new_keys.yaml"))
    r = resolve_yaml(fixture("new_keys.yaml"), allow_new_keys=True)
    # yacs decodes a new leaf, but a new node is stored as written (CfgNode(dict) does not decode)
    assert r.data["MODEL"]["ROI_HEADS"]["EXTRA_SCALE"] == 1.5
    assert r.data["MODEL"]["MY_HEAD"] == {"DEPTH": "3"}
    assert r.locations[("MODEL", "MY_HEAD", "DEPTH")] == Location(fixture("new_keys.yaml"), 3)


# --- VERSION ----------------------------------------------------------------------------------

def test_v1_config_is_upgraded_with_detectron2_renames():
    r = resolve_yaml(fixture("v1_old_names.yaml"))   # no VERSION, has MODEL.WEIGHT -> guessed v1
    model = r.data["MODEL"]
    assert model["WEIGHTS"] == "catalog://ImageNetPretrained/MSRA/R-50" and "WEIGHT" not in model
    assert model["RETINANET"]["SCORE_THRESH_TEST"] == 0.3
    assert model["ANCHOR_GENERATOR"]["SIZES"] == [[16, 32]]   # RetinaNet: RETINANET.ANCHOR_* moved
    assert "ANCHOR_SIZES" not in model["RPN"] and "ANCHOR_STRIDES" not in model["RETINANET"]
    assert r.data["TEST"]["DETECTIONS_PER_IMAGE"] == 50
    assert r.data["VERSION"] == 2
    assert r.locations[("MODEL", "WEIGHTS")] == Location(fixture("v1_old_names.yaml"), 2)
    assert r.locations[("MODEL", "ANCHOR_GENERATOR", "SIZES")] == Location(fixture("v1_old_names.yaml"), 6)


def test_old_name_in_a_v2_config_says_it_was_renamed(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("VERSION: 2\nMODEL:\n  ROI_HEADS:\n    SCORE_THRESH: 0.3\n")
    with pytest.raises(CfglintError, match="renamed to MODEL.ROI_HEADS.SCORE_THRESH_TEST") as info:
        resolve_yaml(str(path))
    assert info.value.line == 4


def test_newer_version_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("VERSION: 3\n")
    with pytest.raises(CfglintError, match="cannot merge a v3 config"):
        resolve_yaml(str(path))


# --- add-ons ----------------------------------------------------------------------------------

def test_addon_is_enabled_by_its_keys_only():
    r = resolve_yaml(fixture("trident_addon.yaml"))
    assert r.data["MODEL"]["TRIDENT"] == {"NUM_BRANCH": 2, "BRANCH_DILATIONS": [1, 2, 3],
                                          "TRIDENT_STAGE": "res4", "TEST_BRANCH_IDX": 1}
    assert "POINT_HEAD" not in r.data["MODEL"]
    plain = resolve_yaml(fixture("provenance/child.yaml"))
    assert "TRIDENT" not in plain.data["MODEL"]


def test_addon_enabled_explicitly():
    r = resolve_yaml(fixture("provenance/child.yaml"), addons=["pointrend"])
    assert r.data["MODEL"]["POINT_HEAD"]["TRAIN_NUM_POINTS"] == 196
    assert r.data["MODEL"]["ROI_MASK_HEAD"]["IN_FEATURES"] == ("p2",)
    with pytest.raises(CfglintError, match="unknown Detectron2 add-on 'nope'"):
        resolve_yaml(fixture("provenance/child.yaml"), addons=["nope"])


def test_user_registered_addon_is_enabled_by_its_keys(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("MODEL:\n  MY_HEAD:\n    DEPTH: '3'\n")
    with pytest.raises(CfglintError, match="unknown config key MODEL.MY_HEAD"):
        resolve_yaml(str(path))
    addons.register_addon(addons.Addon("test_mine", "tests", {"MODEL.MY_HEAD.DEPTH": 1, "MODEL.MY_HEAD.ON": False}))
    try:
        r = resolve_yaml(str(path))
    finally:
        addons.unregister_addon("test_mine")
    assert r.data["MODEL"]["MY_HEAD"] == {"DEPTH": 3, "ON": False}


def test_shared_addon_key_enables_one_addon(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("INPUT:\n  CROP:\n    SINGLE_CATEGORY_MAX_AREA: 0.5\n")
    r = resolve_yaml(str(path))
    assert r.data["INPUT"]["CROP"]["SINGLE_CATEGORY_MAX_AREA"] == 0.5
    assert "POINT_HEAD" in r.data["MODEL"] and "RES5_MULTI_GRID" not in r.data["MODEL"]["RESNETS"]


# --- objects ----------------------------------------------------------------------------------

class CfgNode(dict):
    """Stands in for detectron2's CfgNode (a dict subclass), without importing it."""


def test_resolve_object_merges_a_cfgnode_over_the_defaults():
    node = CfgNode(MODEL=CfgNode(ROI_HEADS=CfgNode(NUM_CLASSES=3), PIXEL_STD=(1.0, 2.0, 3.0)),
                   SOLVER=CfgNode(STEPS="(10, 20)"))
    r = resolve_object(node, opts=["MODEL.WEIGHTS", "w.pkl"])
    assert (r.syntax, r.path) == ("cfgnode", "<CfgNode>")
    assert r.data["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] == 3
    assert r.data["MODEL"]["PIXEL_STD"] == [1.0, 2.0, 3.0]
    assert r.data["SOLVER"]["STEPS"] == (10, 20)
    assert r.data["MODEL"]["WEIGHTS"] == "w.pkl"
    assert r.locations == {("MODEL", "WEIGHTS"): Location("--opts", None)}
    assert resolve_object({"MODEL": {"MASK_ON": True}}).syntax == "mapping"


def test_resolve_object_errors():
    with pytest.raises(CfglintError, match="unknown config key MODEL.NUM_CLASSES"):
        resolve_object({"MODEL": {"NUM_CLASSES": 3}})
    with pytest.raises(CfglintError, match="_BASE_"):
        resolve_object({"_BASE_": "x.yaml"})
