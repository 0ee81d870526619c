"""`diff --raw`: a complete native diff, with run noise filtered unless asked otherwise."""
from __future__ import annotations

import pytest

from cfglint import engine
from cfglint.engine.native_diff import is_noise
from cfglint.errors import CfglintError
from cfglint.model import Location, ResolvedConfig


def resolved(path, data, framework="mmdet", locations=None):
    return ResolvedConfig(framework=framework, path=path, data=data, locations=locations or {})


LEFT = {"model": {"roi_head": {"num_classes": 3}, "backbone": {"init_cfg": {"checkpoint": "a.pth"}}},
        "work_dir": "./work_dirs/a", "optim_wrapper": {"lr": 0.02}, "randomness": {"seed": 1},
        "train_dataloader": {"dataset": {"data_root": "data/a/", "pipeline": [{"type": "Resize", "scale": [1333, 800]}]}}}
RIGHT = {"model": {"roi_head": {"num_classes": 80}, "backbone": {"init_cfg": {"checkpoint": "a.pth"}}},
         "work_dir": "./work_dirs/b", "optim_wrapper": {"lr": 0.01}, "randomness": {"seed": 2},
         "train_dataloader": {"dataset": {"data_root": "data/b/", "pipeline": [{"type": "Resize", "scale": [1333, 640]}]}},
         "custom_imports": {"imports": ["x"]}}


def fields(findings):
    return sorted(f.field for f in findings)


def test_filtered_by_default():
    left = resolved("l.py", LEFT, locations={("model", "roi_head", "num_classes"): Location("l.py", 3)})
    findings = engine.raw_diff(left, resolved("r.py", RIGHT))
    assert fields(findings) == ["custom_imports", "model.roi_head.num_classes",
                                "train_dataloader.dataset.pipeline[0].scale[1]"]
    f = next(f for f in findings if f.field == "model.roi_head.num_classes")
    assert (f.rule, f.left, f.right, f.left_location) == ("N601", 3, 80, Location("l.py", 3))


def test_no_filter_and_exclude():
    everything = fields(engine.raw_diff(resolved("l", LEFT), resolved("r", RIGHT), filtered=False))
    assert "work_dir" in everything and "optim_wrapper.lr" in everything and "randomness.seed" in everything
    fewer = engine.raw_diff(resolved("l", LEFT), resolved("r", RIGHT), exclude=["custom_imports", "*.pipeline"])
    assert fields(fewer) == ["model.roi_head.num_classes"]


def test_added_key_has_no_left_value():
    [f] = [f for f in engine.raw_diff(resolved("l", LEFT), resolved("r", RIGHT)) if f.field == "custom_imports"]
    assert f.left is None and f.right == {"imports": ["x"]} and "(absent)" in f.message


@pytest.mark.parametrize("path, pattern, hidden", [
    (["a", "work_dir"], "work_dir", True),
    (["SOLVER", "BASE_LR"], "SOLVER", True),
    (["MODEL", "WEIGHTS"], "MODEL.WEIGHTS", True),
    (["MODEL", "PIXEL_STD"], "MODEL.WEIGHTS", False),
    (["model", "backbone", "init_cfg", "type"], "model.*.init_cfg", True),
    (["train_cfg", "max_epochs"], "train_cfg.max_epochs", True),
    (["model", "train_cfg", "max_epochs"], "train_cfg.max_epochs", False),
])
def test_noise_patterns(path, pattern, hidden):
    assert is_noise(path, [pattern]) is hidden


def test_cross_framework_raw_diff_is_refused():
    with pytest.raises(CfglintError, match="one framework"):
        engine.raw_diff(resolved("l.yaml", {}, "detectron2"), resolved("r.py", {}))
