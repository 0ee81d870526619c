"""One cause, one finding: a setting that changes several fields is reported once, by the rule that
names it, with the consequences in its message (engine/checks/causes.py)."""
from __future__ import annotations

import yaml

import cfglint
from cfglint import engine
from tests.conftest import FIXTURES
from tests.engine.helpers import model

PAIRS = FIXTURES / "pairs"


def _diff(name):
    expected = yaml.safe_load((PAIRS / name / "expected.yaml").read_text())
    return engine.diff(cfglint.load(str(PAIRS / name / expected["train"])),
                       cfglint.load(str(PAIRS / name / expected["infer"])))


def test_bgr_to_rgb_off_is_one_channel_order_error_and_mean_std_warnings_naming_it():
    findings = _diff("mm3_bgr_to_rgb_off")
    (finding,) = [f for f in findings if f.severity == "error"]
    assert finding.rule == "I201"
    consequences = {f.rule: f for f in findings if f.severity == "warning"}
    assert set(consequences) == {"I202", "I203"}
    assert "pixel mean is the same written list on both sides" in consequences["I202"].message
    assert "because the channel order differs (I201)" in consequences["I203"].message
    assert "differs" not in consequences["I202"].message.split("because")[0]


def test_mask_on_is_one_family_finding_with_the_mask_head_as_consequence():
    findings = [f for f in _diff("d2_mask_vs_faster") if f.severity == "error"]
    assert [f.rule for f in findings] == ["A101"]
    assert "heads.mask differs too (True vs False, A107)" in findings[0].message


def test_a_mean_that_really_differs_is_still_its_own_finding():
    left = model(input__channel_order="RGB", input__pixel_mean=[123.675, 116.28, 103.53])
    right = model("infer.py", input__channel_order="BGR", input__pixel_mean=[120.0, 110.0, 100.0])
    rules = sorted(f.rule for f in engine.diff(left, right))
    assert rules == ["I201", "I202"]


def test_reversed_mean_with_the_channel_order_is_a_warning_that_names_its_cause():
    left = model(input__channel_order="RGB", input__pixel_mean=[123.675, 116.28, 103.53])
    right = model("infer.py", input__channel_order="BGR", input__pixel_mean=[103.53, 116.28, 123.675])
    findings = {f.rule: f for f in engine.diff(left, right)}
    assert set(findings) == {"I201", "I202"}
    assert (findings["I201"].severity, findings["I202"].severity) == ("error", "warning")
    assert "(I201)" in findings["I202"].message
