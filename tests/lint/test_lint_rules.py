"""Every lint rule on a config that breaks it and one that does not. Expected rule ids are read off
the fixture files by hand (each offending line carries a comment naming its rule)."""
from __future__ import annotations

import pytest

from cfglint.engine import EngineConfig, load_rules
from cfglint.engine.lint_files import lint_file
from tests.conftest import FIXTURES

LINT = FIXTURES / "lint"

CASES = {
    "d2/clean.yaml": [],
    "d2/torchvision_clean.yaml": [],
    "d2/unit_scale.yaml": ["L101", "L101"],
    "d2/rgb_with_bgr_mean.yaml": ["L102"],
    "d2/msra_torchvision_std.yaml": ["L201"],
    "d2/torchvision_bgr.yaml": ["L202"],
    "d2/msra_pytorch_style.yaml": ["L203"],
    "d2/thresholds.yaml": ["L301", "L302"],
    "d2/negative_size.yaml": ["L303"],
    "d2/test_scale.yaml": ["L304"],
    "d2/range_three_sizes.yaml": ["L305"],
    "d2/range_two_sizes.yaml": [],
    "d2/retinanet_roi_keys.yaml": ["L401"],
    "d2/mask_keys_mask_off.yaml": ["L402", "L403"],
    "d2/Base-Masks.yaml": [],            # partial config: MASK_ON is the children's to set
    "d2/unknown_key.yaml": ["L301", "L601"],
    "d2/unknown_keys_many.yaml": ["L601", "L601", "L601"],   # every typo of the file, not the first
    "d2/addon_keys.yaml": ["L601"],                            # one (info) finding for the add-on's keys
    "d2/suppressed.yaml": [],
    "d2/lazy_target_missing.py": ["L603"],
    "mmdet/caffe_weights_rgb.py": ["L102", "L202"],
    "mmdet/caffe_weights_clean.py": [],
    "mmdet/unknown_argument.py": ["L602"],
    "mmdet/known_arguments.py": [],
    "mmdet/mmdet2_style.py": [],          # 2.x arguments (pretrained=) are not judged
    "mmdet/type_missing.py": ["L603"],
    "mmdet/scopes/mmrotate_scope.py": ["L602"],   # mmdet.L1Loss typo; RotatedRetinaHead is mmrotate's
    "mmdet/scopes/scope_key.py": ["L602"],        # FPN num_out; mmpretrain ConvNeXt args are its own
    "mmdet/scopes/unknown_scope.py": [],          # a registry cfglint does not know is not judged
    "mmdet/scopes/kwargs_read.py": [],            # BaseTransformerLayer reads deprecated names from **kwargs
    "mmdet/_base_/models/mmdet2_fragment.py": [],  # 2.x fragment: its tree names no 3.x scope
    "mmdet/scopes/newer_class.py": [],            # no signature (newer mmdet, fork): not judged
    "mmdet/scopes/leftover_key.py": [],           # base's SmoothL1Loss beta, dropped by KFLoss(**kwargs)
    "mmdet/scopes/leftover_key_closed.py": ["L602"],   # ... but L1Loss(beta=) is a TypeError
    "mmdet/batch_resize.py": [],                  # test 416 inside BatchSyncRandomResize's 320..640
    "mmdet/batch_resize_outside.py": ["L304"],    # test 1024 outside it
    "mmdet/rotated_nms.py": [],                   # nms_rotated at 0.1 is the rotated-box standard
    "mmdet/rotated_nms_high.py": ["L302"],        # ... but 0.99 keeps every duplicate
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rules_fire_exactly_where_the_fixture_says(name):
    report = lint_file(str(LINT / name), EngineConfig())
    assert report.error is None
    assert sorted(f.rule for f in report.findings) == CASES[name]


def test_every_lint_rule_has_a_failing_and_a_passing_fixture():
    lint_ids = {rule.id for rule in load_rules() if rule.id.startswith("L")}
    failing = {rule for rules in CASES.values() for rule in rules}
    assert lint_ids == failing
    assert any(not rules for name, rules in CASES.items() if name.startswith("mmdet/"))


def test_unknown_detectron2_key_names_the_closest_key_and_its_line():
    finding = next(f for f in lint_file(str(LINT / "d2/unknown_key.yaml"), EngineConfig()).findings
                   if f.rule == "L601")
    assert finding.field == "MODEL.ROI_HEADS.NUM_CLASS"
    assert "did you mean MODEL.ROI_HEADS.NUM_CLASSES?" in finding.message
    assert finding.left_location.line == 3


def test_a_full_detectron2_dump_is_not_held_to_its_mask_and_keypoint_keys():
    """cfg.dump() (output/config.yaml) writes every key, ROI_MASK_HEAD.* and ROI_KEYPOINT_HEAD.*
    included, with MASK_ON/KEYPOINT_ON False: none of them is the user's setting (no L402/L403)."""
    dump = FIXTURES / "pairs" / "_trained" / "d2_faster_rcnn_R_50_FPN_3x_dump.yaml"
    report = lint_file(str(dump), EngineConfig())
    assert report.error is None
    assert [f.rule for f in report.findings if f.rule.startswith("L4")] == []


def test_every_unknown_key_of_a_file_is_reported_with_its_suggestion():
    findings = lint_file(str(LINT / "d2/unknown_keys_many.yaml"), EngineConfig()).findings
    assert [(f.field, f.severity, f.left_location.line) for f in findings] == [
        ("MODEL.ROI_HEADS.NUM_CLASS", "error", 3), ("MODEL.RPN.NMS_THRES", "error", 5),
        ("SOLVER.BASE_LRR", "error", 7)]
    assert "did you mean MODEL.RPN.NMS_THRESH?" in findings[1].message
    assert "did you mean SOLVER.BASE_LR?" in findings[2].message


def test_keys_of_a_missing_addon_make_one_finding_naming_the_subtrees():
    (finding,) = lint_file(str(LINT / "d2/addon_keys.yaml"), EngineConfig()).findings
    assert finding.rule == "L601" and finding.severity == "info"
    assert finding.left_location.line == 4
    assert "3 keys unknown" in finding.message
    assert "MODEL.WIDGET_ON, MODEL.ROI_WIDGET_HEAD.*, INPUT.WIDGET_AUG" in finding.message
    assert "add-on" in finding.message


def test_unknown_keys_error_is_structured():
    from cfglint.adapters.detectron2.yacs import UnknownKeysError, resolve_yaml
    with pytest.raises(UnknownKeysError) as info:
        resolve_yaml(str(LINT / "d2/unknown_keys_many.yaml"))
    assert [(k.key, k.suggestion, k.location.line) for k in info.value.keys] == [
        ("MODEL.ROI_HEADS.NUM_CLASS", "MODEL.ROI_HEADS.NUM_CLASSES", 3),
        ("MODEL.RPN.NMS_THRES", "MODEL.RPN.NMS_THRESH", 5), ("SOLVER.BASE_LRR", "SOLVER.BASE_LR", 7)]
    assert str(info.value).endswith("unknown config key MODEL.ROI_HEADS.NUM_CLASS; did you mean "
                                    "MODEL.ROI_HEADS.NUM_CLASSES?")   # what `show` reports: the first


def test_allow_new_keys_accepts_the_unknown_key():
    report = lint_file(str(LINT / "d2/unknown_key.yaml"), EngineConfig(), allow_new_keys=True)
    assert [f.rule for f in report.findings] == ["L301"]


def test_unknown_mmdet_argument_says_which_component_and_suggests():
    (finding,) = lint_file(str(LINT / "mmdet/unknown_argument.py"), EngineConfig()).findings
    assert finding.field == "model.roi_head.bbox_head.num_clases"
    assert "did you mean 'num_classes'?" in finding.message
    assert finding.left_location.line == 6


def test_channel_order_finding_points_at_the_written_mean():
    report = lint_file(str(LINT / "d2/rgb_with_bgr_mean.yaml"), EngineConfig())
    (finding,) = report.findings
    assert finding.left == [103.53, 116.28, 123.675]   # RGB-order view of the written BGR list
    assert finding.left_location.line == 4


def test_select_and_ignore_apply_to_lint_rules():
    path = str(LINT / "d2/unknown_key.yaml")
    assert [f.rule for f in lint_file(path, EngineConfig(ignore=["L601"])).findings] == ["L301"]
    assert [f.rule for f in lint_file(path, EngineConfig(select=["L6"])).findings] == ["L601"]
