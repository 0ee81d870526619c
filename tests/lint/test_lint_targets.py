"""L603: a `_target_` / dotted `type` naming an attribute its module does not have."""
from __future__ import annotations

from cfglint.engine import EngineConfig
from cfglint.engine.lint_files import lint_file
from tests.conftest import FIXTURES

LINT = FIXTURES / "lint"


def test_missing_target_names_the_attribute_the_line_and_the_closest_name():
    (finding,) = [f for f in lint_file(str(LINT / "d2/lazy_target_missing.py"), EngineConfig()).findings
                  if f.rule == "L603"]
    assert finding.field == "model.norm._target_"
    assert "torch.nn has no attribute 'SyncBatchNorm2d'" in finding.message
    assert "did you mean torch.nn.SyncBatchNorm?" in finding.message
    assert finding.left_location.line == 6


def test_mmengine_dotted_type():
    (finding,) = [f for f in lint_file(str(LINT / "mmdet/type_missing.py"), EngineConfig()).findings
                  if f.rule == "L603"]
    assert finding.field == "model.backbone.norm_cfg.type"
    assert "did you mean torch.nn.BatchNorm2d?" in finding.message


def test_registry_names_and_unknown_modules_are_never_judged(tmp_path):
    path = tmp_path / "cfg.py"
    path.write_text("model = dict(type='mmdet.RetinaNet', neck=dict(type='FPN'), "
                    "act=dict(type='torch.nn.ReLU'), x=dict(type='torchvision.ops.Nope'))\n")
    assert [f for f in lint_file(str(path), EngineConfig()).findings if f.rule == "L603"] == []
