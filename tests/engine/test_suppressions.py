"""Inline suppressions drop matching findings; stale ones are reported as S901."""
from __future__ import annotations

from cfglint import engine
from cfglint.engine import EngineConfig
from tests.engine.helpers import model


def test_suppression_on_the_right_line_drops_the_finding():
    right = model("i.yaml", lines={"num_classes": 7}, suppressions={("i.yaml", 7): ["C501"]})
    assert engine.diff(model(num_classes=3), right) == []


def test_suppression_by_prefix_and_on_the_left_side():
    left = model(num_classes=3, lines={"num_classes": 5}, suppressions={("train.yaml", 5): ["C5"]})
    assert engine.diff(left, model("i.yaml")) == []


def test_suppression_for_another_rule_keeps_the_finding_and_is_unused():
    right = model("i.yaml", lines={"num_classes": 7}, suppressions={("i.yaml", 7): ["T403"]})
    got = sorted((f.rule, f.left) for f in engine.diff(model(num_classes=3), right))
    assert got == [("C501", 3), ("S901", "T403")]


def test_unused_suppression_location_and_reason():
    right = model("i.yaml", suppressions={("i.yaml", 9): ["I201", "X999"]})
    findings = engine.diff(model(), right)
    assert [(f.rule, f.left, f.left_location.line, f.severity) for f in findings] == \
        [("S901", "I201", 9, "warning"), ("S901", "X999", 9, "warning")]
    assert "no rule has that id" in findings[1].message


def test_suppression_of_a_rule_not_evaluated_is_not_reported():
    right = model("i.yaml", suppressions={("i.yaml", 9): ["I201"]})
    assert engine.diff(model(), right, EngineConfig(ignore=["I"])) == []
    assert engine.lint(right) == []     # a pair rule's suppression means nothing to lint


def test_ignoring_s901_silences_unused_suppressions():
    right = model("i.yaml", suppressions={("i.yaml", 9): ["I201"]})
    assert engine.diff(model(), right, EngineConfig(ignore=["S901"])) == []



LINT_ONLY_RULE = """\
- id: U101
  name: lint-only-classes-count
  severity: error
  scope: model
  check: classes_count
  summary: s
  message: m
  what: w
  why: y
"""


def test_diff_does_not_run_or_judge_lint_only_rules(tmp_path):
    """Model rules without in_diff belong to `cfglint lint`; a diff neither runs them nor calls
    their suppressions stale."""
    path = tmp_path / "rules.yaml"
    path.write_text(LINT_ONLY_RULE)
    rules = engine.load_rules([str(path)])
    right = model("i.yaml", classes=["a"], num_classes=2, suppressions={("i.yaml", 9): ["U101"]})
    left = model(classes=["a"], num_classes=2)
    assert {f.rule for f in engine.diff(left, right, rules=rules)} == {"C503"}
    assert {f.rule for f in engine.lint(right, rules=rules)} >= {"C503", "U101", "S901"}
