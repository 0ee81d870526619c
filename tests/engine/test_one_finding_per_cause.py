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


def test_bgr_to_rgb_off_is_one_channel_order_finding_with_mean_and_std_consequences():
    findings = _diff("mm3_bgr_to_rgb_off")
    (finding,) = [f for f in findings if f.severity == "error"]
    assert finding.rule == "I201"
    assert "Consequences: the same written pixel mean applies to swapped channels" in finding.message
    assert "; the same written pixel std applies to swapped channels" in finding.message


def test_mask_on_is_one_family_finding_with_the_mask_head_as_consequence():
    findings = [f for f in _diff("d2_mask_vs_faster") if f.severity == "error"]
    assert [f.rule for f in findings] == ["A101"]
    assert "heads.mask differs too (True vs False, A107)" in findings[0].message


def test_a_mean_that_really_differs_is_still_its_own_finding():
    left = model(input__channel_order="RGB", input__pixel_mean=[123.675, 116.28, 103.53])
    right = model("infer.py", input__channel_order="BGR", input__pixel_mean=[120.0, 110.0, 100.0])
    rules = sorted(f.rule for f in engine.diff(left, right))
    assert rules == ["I201", "I202"]


def test_reversed_mean_with_the_channel_order_is_folded_into_it():
    left = model(input__channel_order="RGB", input__pixel_mean=[123.675, 116.28, 103.53])
    right = model("infer.py", input__channel_order="BGR", input__pixel_mean=[103.53, 116.28, 123.675])
    (finding,) = engine.diff(left, right)
    assert finding.rule == "I201" and "I202" in finding.message
