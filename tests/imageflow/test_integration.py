"""The image-flow rules inside the engine: on a script's common model (lint, and the right side of
diff), through `cfglint lint` on a script no adapter reads, and not at all for YAML configs."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

from cfglint import engine
from cfglint.engine import EngineConfig
from tests.conftest import FIXTURES, REPO, run_cli
from tests.engine.helpers import model

FLOW = FIXTURES / "image_flow"


def _script(tmp_path, name):
    target = tmp_path / "predict.py"
    shutil.copy(FLOW / name, target)
    return str(target)


def test_lint_of_a_script_model_reports_at_the_script_line(tmp_path):
    path = _script(tmp_path, "p101_cvtcolor_helper.py")
    findings = [f for f in engine.lint(model(path)) if f.rule.startswith("P")]
    assert [(f.rule, f.left_location.file, f.left_location.line) for f in findings] == [("P101", path, 15)]


def test_config_facts_come_from_the_scripts_model(tmp_path):
    """The fixture merges a zoo file (the model normalizes); a model whose mean is 0 and std 1 does not,
    so the double normalization is not reported, while the unresized input still is."""
    path = _script(tmp_path, "p201_manual_normalize.py")
    assert sorted(f.rule for f in engine.lint(model(path)) if f.rule.startswith("P")) == ["P201", "P302"]
    identity = model(path, input__pixel_mean=[0.0, 0.0, 0.0], input__pixel_std=[1.0, 1.0, 1.0])
    assert [f.rule for f in engine.lint(identity) if f.rule.startswith("P")] == ["P302"]
    no_resize = model(path, test__resize__short_edge=0)
    assert [f.rule for f in engine.lint(no_resize) if f.rule.startswith("P")] == ["P201"]


def test_diff_train_script_reports_the_image_flow_on_the_right(tmp_path):
    path = _script(tmp_path, "p301_pil_resize.py")
    findings = engine.diff(model("train.yaml"), model(path, num_classes=3))
    rules = sorted(f.rule for f in findings)
    assert "C501" in rules or any(f.field == "num_classes" for f in findings)   # the config drift ...
    (image,) = [f for f in findings if f.rule.startswith("P")]                  # ... and the image drift
    assert image.rule == "P301" and image.left_location is None
    assert (image.right_location.file, image.right_location.line) == (path, 13)
    assert image.right == "fixed"


def test_suppression_recorded_by_the_adapter_is_honoured_and_not_reported_unused(tmp_path):
    path = _script(tmp_path, "p101_cvtcolor_helper.py")
    m = model(path, suppressions={(path, 15): ["P101"]})
    assert [f.rule for f in engine.lint(m) if f.rule.startswith(("P", "S901"))] == []


def test_suppression_in_the_script_works_even_when_the_adapter_did_not_record_it(tmp_path):
    path = _script(tmp_path, "p101_suppressed.py")
    assert [f.rule for f in engine.lint(model(path)) if f.rule.startswith("P")] == []


def test_ignore_from_the_engine_config(tmp_path):
    path = _script(tmp_path, "p101_cvtcolor_helper.py")
    assert [f for f in engine.lint(model(path), EngineConfig(ignore=["P1"])) if f.rule.startswith("P")] == []


def test_cli_lint_on_a_script_names_the_lines(tmp_path):
    path = _script(tmp_path, "p102_mmcv_rgb.py")
    proc = run_cli("lint", "--format", "json", "predict.py", cwd=tmp_path)
    report = json.loads(proc.stdout)
    (finding,) = [f for f in report["findings"] if f["rule"].startswith("P")]
    assert finding["rule"] == "P102" and finding["path"] == "predict.py"
    assert finding["left_location"] == {"file": "predict.py", "line": 6}
    assert finding["message"].startswith("predict.py:5 reads the image with mmcv.imread (RGB); predict.py:6 ")
    assert proc.returncode in (1, 2)       # 2 while the config the script builds cannot be read
    del path


def test_cli_select_from_pyproject(tmp_path):
    _script(tmp_path, "p201_manual_normalize.py")
    (tmp_path / "pyproject.toml").write_text('[tool.cfglint]\nignore = ["P302"]\n')
    proc = run_cli("lint", "--format", "json", "predict.py", cwd=tmp_path)
    rules = sorted(f["rule"] for f in json.loads(proc.stdout)["findings"] if f["rule"].startswith("P"))
    assert rules == ["P201"]


def test_linting_a_yaml_config_does_not_import_the_image_flow_package():
    code = ("import sys; from cfglint.engine import EngineConfig; from cfglint.engine.lint_files import lint_file;"
            f"lint_file({str(FIXTURES / 'lint' / 'd2' / 'clean.yaml')!r}, EngineConfig());"
            "print('cfglint.imageflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


def test_rules_listing_shows_the_image_flow_rules():
    proc = run_cli("rules")
    for rule_id in ("P101", "P102", "P103", "P201", "P202", "P301", "P302", "P401", "P402"):
        assert rule_id in proc.stdout
    docs = run_cli("rules", "P101").stdout
    assert "detectron2#2050" in docs and "## Example" in docs


MM_TEST_STEP = """\
import mmcv
import torch
from mmdet.apis import init_detector

model = init_detector("configs/faster_rcnn.py", "epoch_12.pth")
img = mmcv.imread("demo.jpg").astype("float32")
img = (img - [103.53, 116.28, 123.675]) / [57.375, 57.12, 58.395]
tensor = torch.from_numpy(img).permute(2, 0, 1)
results = model.test_step({"inputs": [tensor], "data_samples": None})
"""


def test_mmdet_test_step_double_normalization_needs_the_config(tmp_path):
    path = tmp_path / "serve.py"
    path.write_text(MM_TEST_STEP)
    mm = model(str(path), framework="mmdet", input__channel_order="RGB",
               input__pixel_std=[58.395, 57.12, 57.375])
    (finding,) = [f for f in engine.lint(mm) if f.rule.startswith("P")]
    assert (finding.rule, finding.left_location.line) == ("P201", 9)
    assert finding.message.startswith(f"{path}:7 normalizes the image")
    # without a config (no adapter read the script) the model's statistics are unknown: silent
    from cfglint.engine.checks.image_flow import lint_script
    assert lint_script(str(path), EngineConfig(), engine.load_rules()) == []


LITERAL_YAML_SCRIPT = """\
import cv2
import torch
from detectron2.config import get_cfg
from detectron2.modeling import build_model

cfg = get_cfg()
cfg.merge_from_file("configs/train.yaml")
model = build_model(cfg)
img = cv2.imread("a.jpg").astype("float32") - [103.53, 116.28, 123.675]
img = cv2.resize(img, None, fx=2.0, fy=2.0)
model([{"image": torch.from_numpy(img.transpose(2, 0, 1))}])
"""


def test_a_yaml_the_script_merges_by_literal_path_gives_the_facts(tmp_path, monkeypatch):
    """Relative to the working directory, as when the script runs; mean 0 / std 1 in that YAML means
    the model does not normalize, so subtracting the mean in the script is right."""
    from cfglint.engine.checks.image_flow import lint_script
    (tmp_path / "configs").mkdir()
    (tmp_path / "serve.py").write_text(LITERAL_YAML_SCRIPT)
    monkeypatch.chdir(tmp_path)
    yaml_text = 'MODEL:\n  META_ARCHITECTURE: "GeneralizedRCNN"\n  PIXEL_MEAN: [{m}]\n  PIXEL_STD: [1.0, 1.0, 1.0]\n'
    (tmp_path / "configs" / "train.yaml").write_text(yaml_text.format(m="0.0, 0.0, 0.0"))
    assert lint_script("serve.py", EngineConfig(), engine.load_rules()) == []
    (tmp_path / "configs" / "train.yaml").write_text(yaml_text.format(m="103.53, 116.28, 123.675"))
    assert [f.rule for f in lint_script("serve.py", EngineConfig(), engine.load_rules())] == ["P201"]
    (tmp_path / "configs" / "train.yaml").unlink()
    assert lint_script("serve.py", EngineConfig(), engine.load_rules()) == []   # unreadable: unknown


def test_the_report_explains_what_each_model_call_gets():
    from cfglint.imageflow import analyze_file
    path = str(FLOW / "p101_cvtcolor_helper.py")
    (line,) = analyze_file(path).explain()
    assert line.startswith(f"{path}:15 DefaultPredictor gets order=RGB ({path}:9 converts the image to RGB)")
    assert f"layout=HWC ({path}:8 reads the image with cv2.imread (BGR))" in line


def test_the_checks_quick_hint_matches_the_analysis_hint():
    from cfglint.engine.checks import image_flow
    from cfglint.imageflow import _SINK_HINT
    assert set(image_flow._SINK_WORDS) == set(_SINK_HINT.pattern.split("|"))


def test_linting_an_mmdet_python_config_does_not_import_the_image_flow_package():
    config = FIXTURES / "lint" / "mmdet" / "caffe_weights_clean.py"
    code = ("import sys; from cfglint.engine import EngineConfig; from cfglint.engine.lint_files import lint_file;"
            f"lint_file({str(config)!r}, EngineConfig());"
            "print('cfglint.imageflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


def test_verbose_lint_explains_the_image_flow_of_a_script(tmp_path):
    _script(tmp_path, "p101_branch_maybe_converts.py")
    proc = run_cli("lint", "-v", "predict.py", cwd=tmp_path)
    line = next(ln for ln in proc.stderr.splitlines() if ln.endswith("[image flow]"))
    # the branch may or may not convert: the order is unknown, which is why nothing is reported
    assert line.startswith("predict.py:14 DefaultPredictor gets order=unknown, scale=0-255 (predict.py:11 ")
    assert [f for f in run_cli("lint", "--format", "json", "predict.py", cwd=tmp_path).stdout.split('"rule"')[1:]
            if f.lstrip(": ").startswith('"P')] == []
