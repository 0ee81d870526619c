"""Diff semantics on hand-built common models: one test per policy of the rules."""
from __future__ import annotations

import pytest

from cfglint import engine
from cfglint.engine import EngineConfig
from cfglint.errors import CfglintError
from cfglint.model.common import Inconsistency
from cfglint.model import Location
from tests.engine.helpers import model


def found(left, right, config=None):
    return sorted((f.rule, f.field, f.severity) for f in engine.diff(left, right, config))


def test_identical_models_have_no_findings():
    assert found(model(), model("infer.py", "mmdet")) == []


def test_num_classes_message_names_both_sides_in_the_users_terms():
    left = model(num_classes=3, lines={"num_classes": 12})
    right = model("infer.py", lines={"num_classes": 20})
    [f] = engine.diff(left, right)
    assert (f.rule, f.name, f.severity, f.left, f.right) == ("C501", "num-classes-mismatch", "error", 3, 80)
    assert "train.yaml:12 sets KEY.num_classes to 3" in f.message
    assert "infer.py:20 sets KEY.num_classes to 80" in f.message
    assert (f.left_location.line, f.right_location.line) == (12, 20)


@pytest.mark.parametrize("field, left, right, expected", [
    ("arch", "faster_rcnn", "mask_rcnn", ("A101", "error")),
    ("backbone.depth", 50, 101, ("A102", "error")),
    ("backbone.style", "caffe", "pytorch", ("A103", "error")),
    ("backbone.norm", "FrozenBN", "GN", ("A104", "error")),
    ("backbone.norm", "SyncBN", "FrozenBN", ("A105", "info")),
    ("neck.type", "FPN", None, ("A106", "error")),        # None = no neck (C4), a real value
    ("heads.keypoint", False, True, ("A107", "error")),
    ("input.channel_order", "BGR", "RGB", ("I201", "error")),
    ("input.pixel_mean", [123.675, 116.28, 103.53], [103.53, 116.28, 123.675], ("I202", "error")),
    ("input.pixel_std", [1.0, 1.0, 1.0], [58.395, 57.12, 57.375], ("I203", "error")),
    ("test.resize.keep_ratio", True, False, ("R303", "warning")),
    ("test.score_thresh", 0.05, 0.3, ("T401", "info")),
    ("test.score_thresh", 0.05, 0.9, ("T402", "error")),
    ("test.score_thresh", 0.3, 0.0, ("T401", "info")),
    ("test.nms_iou", 0.5, 0.6, ("T403", "warning")),
    ("test.max_detections", 100, 50, ("T404", "warning")),
    ("test.max_detections", 100, 300, ("T405", "info")),
    ("test.rpn.post_nms_topk", 1000, 300, ("T406", "info")),
    ("test.rpn.nms_iou", 0.7, 0.6, ("T407", "warning")),
    ("test.mask_thresh", 0.5, 0.7, ("T408", "warning")),
])
def test_severity_policy(field, left, right, expected):
    key = field.replace(".", "__")
    assert found(model(**{key: left}), model("infer.py", **{key: right})) == [(expected[0], field, expected[1])]


def test_float_tolerance_for_statistics():
    """rel 1e-6 or abs 1e-3: 103.53 vs 103.5309 is written precision, 103.53 vs 103.54 is not."""
    close = model("infer.py", input__pixel_mean=[123.675, 116.28, 103.5309])
    assert found(model(), close) == []
    far = model("infer.py", input__pixel_mean=[123.675, 116.28, 103.54])
    assert found(model(), far) == [("I202", "input.pixel_mean", "error")]


def test_thresholds_have_no_statistics_tolerance():
    assert found(model(), model("i.py", test__nms_iou=0.5005)) == [("T403", "test.nms_iou", "warning")]


def test_one_sided_field_is_info_not_error():
    assert found(model(classes=["a", "b"], num_classes=2), model("i.yaml", num_classes=2)) == \
        [("S903", "classes", "info")]
    assert found(model(), model("i.py", input__pixel_std=None)) == [("S903", "input.pixel_std", "info")]


def test_class_names_reordered_and_renamed():
    left = model(classes=["bolt", "nut"], num_classes=2)
    [f] = engine.diff(left, model("i.py", classes=["nut", "bolt"], num_classes=2))
    assert (f.rule, f.field) == ("C502", "classes") and "different order" in f.message and "label 0" in f.message
    [f] = engine.diff(left, model("i.py", classes=["bolt", "washer"], num_classes=2))
    assert "only in training: 'nut'" in f.message and "only at inference: 'washer'" in f.message


def test_classes_count_checked_on_each_side():
    right = model("i.py", classes=["a", "b", "c"], num_classes=80)
    [f] = [f for f in engine.diff(model(num_classes=80), right) if f.rule != "S903"]
    assert (f.rule, f.left, f.right, f.left_location, f.right_location.file) == ("C503", None, ["a", "b", "c"], None, "i.py")


@pytest.mark.parametrize("infer_edge, expected", [
    (800, []),
    (704, [("R301", "test.resize.short_edge", "info")]),
    (640, [("R301", "test.resize.short_edge", "info")]),
    (1024, [("R302", "test.resize.short_edge", "warning")]),
    (512, [("R302", "test.resize.short_edge", "warning")]),
    (0, [("R302", "test.resize.short_edge", "warning")]),
])
def test_test_resize_against_training_range(infer_edge, expected):
    assert found(model(), model("i.py", test__resize__short_edge=infer_edge)) == expected


def test_test_resize_message_names_the_training_range():
    [f] = engine.diff(model(), model("i.py", test__resize__short_edge=1200))
    assert "640..800" in f.message


def test_inconsistencies_of_either_side_are_reported():
    right = model("i.py")
    right.inconsistencies.append(Inconsistency(
        "num_classes", {"a.num_classes": 3, "b.num_classes": 80}, {"a.num_classes": Location("i.py", 4),
                                                                    "b.num_classes": None},
        "the heads disagree on num_classes"))
    [f] = engine.diff(model(), right)
    assert (f.rule, f.severity, f.right_location) == ("S902", "error", Location("i.py", 4))
    assert "the heads disagree" in f.message


def test_select_and_ignore_by_prefix():
    left, right = model(num_classes=3, test__nms_iou=0.6), model("i.py")
    assert {f.rule for f in engine.diff(left, right, EngineConfig(select=["T"]))} == {"T403"}
    assert {f.rule for f in engine.diff(left, right, EngineConfig(ignore=["C5"]))} == {"T403"}
    assert {f.rule for f in engine.diff(left, right, EngineConfig(select=["ALL"], ignore=["T403"]))} == {"C501"}


def test_unknown_selector_is_bad_input():
    with pytest.raises(CfglintError, match="Z9"):
        engine.diff(model(), model("i.py"), EngineConfig(select=["Z9"]))


def test_findings_sorted_most_severe_first():
    left = model(num_classes=3, test__score_thresh=0.3, test__nms_iou=0.6)
    assert [f.severity for f in engine.diff(left, model("i.py"))] == ["error", "warning", "info"]


def test_lint_runs_model_rules_on_one_config():
    m = model(classes=["a"], num_classes=2)
    [f] = engine.lint(m)
    assert (f.rule, f.left, f.left_location.file, f.right) == ("C503", ["a"], "train.yaml", None)
