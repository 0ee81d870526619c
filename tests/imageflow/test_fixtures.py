"""Each image-flow rule on scripts that break it and scripts that do not (fixtures/image_flow/).

Expectations are the hand-written comments in the fixtures: `# expect: P101` on the line a finding is
located at, `# cause: P101` on the line its message must name."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from cfglint.engine import EngineConfig, load_rules
from cfglint.engine.checks.image_flow import lint_script
from tests.conftest import FIXTURES

FLOW = FIXTURES / "image_flow"
SCRIPTS = sorted(p.name for p in FLOW.glob("*.py"))
_MARK = re.compile(r"#\s*(expect|cause):\s*([A-Z0-9 ]+)$")


def marks(path: Path, kind: str) -> set:
    found = set()
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        m = _MARK.search(line)
        if m and m.group(1) == kind:
            found |= {(rule, number) for rule in m.group(2).split()}
    return found


def findings(path: Path, **config):
    return lint_script(str(path), EngineConfig(**config), load_rules())


@pytest.mark.parametrize("name", SCRIPTS)
def test_findings_are_located_where_the_fixture_says(name):
    path = FLOW / name
    got = findings(path)
    assert {(f.rule, f.left_location.line) for f in got} == marks(path, "expect"), "\n".join(f.message for f in got)
    causes = marks(path, "cause")
    for f in got:
        assert f.left_location.file == str(path)
        assert f.right_location is None
        cause = [line for rule, line in causes if rule == f.rule]
        assert len(cause) == 1, f"fixture lacks a `# cause: {f.rule}` line"
        assert f.message.startswith(f"{path}:{cause[0]} "), f.message
        assert f"{path}:{f.left_location.line} passes" in f.message


def test_every_image_flow_rule_has_a_failing_and_a_passing_fixture():
    ids = {r.id for r in load_rules() if r.check == "image_flow"}
    assert ids and all(i.startswith("P") for i in ids)
    failing = {rule for name in SCRIPTS for rule, _ in marks(FLOW / name, "expect")}
    assert failing == ids
    for rule_id in ids:
        passing = [n for n in SCRIPTS if n.startswith(rule_id.lower() + "_")
                   and rule_id not in {r for r, _ in marks(FLOW / n, "expect")}]
        assert passing, f"no passing fixture for {rule_id}"


def test_severities_follow_the_issue():
    rules = {r.id: r for r in load_rules() if r.check == "image_flow"}
    assert {i for i, r in rules.items() if r.severity == "warning"} == {"P301", "P302"}
    assert all(r.severity == "error" for i, r in rules.items() if i not in ("P301", "P302"))
    for rule in rules.values():
        assert rule.example.strip() and rule.in_diff


def test_channel_order_message_names_both_lines():
    path = FLOW / "p101_cvtcolor_helper.py"
    (finding,) = findings(path)
    assert finding.message == (f"{path}:9 converts the image to RGB; {path}:15 passes it to DefaultPredictor, "
                               "which expects BGR whatever INPUT.FORMAT says (detectron2#2050).")
    assert (finding.field, finding.left, finding.severity) == ("image.channel_order", "RGB", "error")


def test_inline_suppression_on_the_model_call_line(tmp_path):
    path = FLOW / "p101_suppressed.py"
    assert findings(path) == []
    unsuppressed = tmp_path / "predict.py"
    unsuppressed.write_text(path.read_text().replace("  # cfglint: ignore[P101]", ""))
    assert [(f.rule, f.left_location.line) for f in findings(unsuppressed)] == [("P101", 10)]


def test_unused_suppression_on_a_script_line_is_reported(tmp_path):
    text = (FLOW / "p101_conversion_undone.py").read_text().replace(
        "outputs = predictor(bgr)", "outputs = predictor(bgr)  # cfglint: ignore[P101]")
    script = tmp_path / "predict.py"
    script.write_text(text)
    got = findings(script)
    assert [(f.rule, f.left_location.line) for f in got] == [("S901", 12)]


def test_select_and_ignore_apply_to_script_findings():
    path = FLOW / "p201_manual_normalize.py"
    assert sorted(f.rule for f in findings(path)) == ["P201", "P302"]
    assert [f.rule for f in findings(path, ignore=["P3"])] == ["P201"]
    assert [f.rule for f in findings(path, select=["P302"])] == ["P302"]
    assert findings(path, select=["L"]) == []
