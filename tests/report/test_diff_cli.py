"""`cfglint diff` and `cfglint rules` as a user runs them: formats, exit codes, configuration."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import FIXTURES, run_cli

PAIRS = FIXTURES / "pairs"
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())


def pair(name, infer="infer.yaml"):
    """(train, infer) of a fixture pair; the training dump is the one its expected.yaml names."""
    train = yaml.safe_load((PAIRS / name / "expected.yaml").read_text())["train"]
    return str(PAIRS / name / train), str(PAIRS / name / infer)


def test_clean_pair_exits_0():
    result = run_cli("diff", *pair("d2_clean_frcnn"))
    assert result.returncode == 0, result.stderr
    assert "No findings." in result.stdout


def test_error_exits_1_with_both_locations_in_text():
    result = run_cli("diff", *pair("d2_num_classes_forgotten"))
    assert result.returncode == 1
    assert "C501 num-classes-mismatch" in result.stdout
    assert "      left:  " + pair("d2_num_classes_forgotten")[0] + ":" in result.stdout
    assert "sets MODEL.ROI_HEADS.NUM_CLASSES to 3" in result.stdout
    assert "MODEL.ROI_HEADS.NUM_CLASSES is 80 by default" in result.stdout


@pytest.mark.parametrize("args, code", [
    ((), 0),                                # T403 is a warning; default fail-on is error
    (("--fail-on", "warning"), 1),
    (("--fail-on", "info"), 1),
    (("--ignore", "T4", "--fail-on", "info"), 0),
    (("--select", "C", "--fail-on", "warning"), 0),
])
def test_fail_on_and_selection(args, code):
    assert run_cli("diff", *pair("d2_nms_changed"), *args).returncode == code


def test_json_output_is_the_contract_object():
    left, right = pair("d2_nms_changed")
    result = run_cli("diff", left, right, "--format", "json")
    out = json.loads(result.stdout)
    assert (out["left"], out["right"]) == (left, right)
    assert out["summary"] == {"error": 0, "warning": 1, "info": 0}
    assert [(f["rule"], f["field"], f["left"], f["right"]) for f in out["findings"]] == \
        [("T403", "test.nms_iou", 0.5, 0.7)]
    assert out["findings"][0]["right_location"] == {"file": right, "line": 6}   # NMS_THRESH_TEST: 0.7


def test_sarif_output_validates():
    result = run_cli("diff", *pair("mm3_caffe_vs_pytorch", "infer.py"), "--format", "sarif")
    assert result.returncode == 1
    log = json.loads(result.stdout)
    jsonschema.validate(log, SCHEMA)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} >= {"A103", "I201", "I203"}


def test_github_output():
    result = run_cli("diff", *pair("d2_score_thresh_extreme"), "--format", "github")
    assert result.returncode == 1
    assert result.stdout.startswith("::error file=")
    assert ",title=T402 score-thresh-extreme::" in result.stdout


@pytest.mark.parametrize("args, message", [
    (("missing.yaml", "also-missing.yaml"), "no such file"),
    (("only-one.yaml",), "needs both TRAIN and INFER"),
    (("--select", "Q1", *pair("d2_clean_frcnn")), "no rule id starts with 'Q1'"),
    (("--rules", "nope.yaml", *pair("d2_clean_frcnn")), "cannot read rule file"),
    (("--raw", str(PAIRS / "x_mm3_to_d2/infer.yaml"),
      str(PAIRS / "x_d2_to_mm2_num_classes/infer.py")), "one framework"),
])
def test_bad_input_exits_2_without_traceback(args, message):
    result = run_cli("diff", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_raw_diff_filters_noise_by_default():
    left, right = pair("mm3_postprocess_changed", "infer.py")
    filtered = json.loads(run_cli("diff", "--raw", left, right, "--format", "json").stdout)
    fields = {f["field"] for f in filtered["findings"]}
    assert "model.test_cfg.rcnn.score_thr" in fields and "model.test_cfg.rcnn.max_per_img" in fields
    assert not any("data_root" in f or f.startswith("work_dir") or "ann_file" in f for f in fields)
    everything = json.loads(run_cli("diff", "--raw", "--no-filter", left, right, "--format", "json").stdout)
    assert any(f["field"] == "work_dir" for f in everything["findings"])
    excluded = json.loads(run_cli("diff", "--raw", left, right, "--exclude", "model.test_cfg",
                                  "--format", "json").stdout)
    assert not any(f["field"].startswith("model.test_cfg") for f in excluded["findings"])


def test_pairs_and_settings_from_pyproject(tmp_path):
    for name in ("d2_nms_changed", "d2_clean_frcnn", "_bases", "_trained"):
        shutil.copytree(PAIRS / name, tmp_path / name)
    clean, nms = (os.path.relpath(pair(name)[0], PAIRS) for name in ("d2_clean_frcnn", "d2_nms_changed"))
    (tmp_path / "pyproject.toml").write_text(
        '[tool.cfglint]\nfail-on = "warning"\npairs = [\n'
        f'  {{train = "{clean}", infer = "d2_clean_frcnn/infer.yaml"}},\n'
        f'  {{train = "{nms}", infer = "d2_nms_changed/infer.yaml"}},\n]\n')
    result = run_cli("diff", "--format", "json", cwd=tmp_path)
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["summary"]["warning"] for r in reports] == [0, 1]
    assert result.returncode == 1                    # fail-on warning from the file
    assert run_cli("diff", "--fail-on", "error", cwd=tmp_path).returncode == 0   # CLI beats file


def test_no_pairs_anywhere_is_a_usage_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.cfglint]\n")
    assert run_cli("diff", cwd=tmp_path).returncode == 2


def test_rules_list_and_docs():
    listing = run_cli("rules")
    assert listing.returncode == 0
    assert any(line.split()[:3] == ["C501", "num-classes-mismatch", "error"] for line in listing.stdout.splitlines())
    docs = run_cli("rules", "I201")
    assert docs.returncode == 0 and "## Why it matters" in docs.stdout and "## Example" in docs.stdout
    by_name = json.loads(run_cli("rules", "test-resize-outside-train-range", "--format", "json").stdout)
    assert (by_name["id"], by_name["severity"]) == ("R302", "warning")
    assert run_cli("rules", "Z999").returncode == 2


def test_trailing_opts_apply_to_the_inference_config():
    args = pair("d2_num_classes_forgotten")
    assert run_cli("diff", *args).returncode == 1
    assert run_cli("diff", *args, "--opts", "MODEL.ROI_HEADS.NUM_CLASSES", "3").returncode == 0
