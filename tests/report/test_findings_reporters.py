"""Every findings format: json per contract, SARIF valid against the OASIS 2.1.0 schema, GitHub
workflow commands escaped, text grouped with both locations and colour only when wanted."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from cfglint import engine
from cfglint.model import Location
from cfglint.report import findings_github, findings_json, findings_sarif, findings_text
from tests.engine.helpers import model

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture(scope="module")
def findings():
    left = model("train.yaml", num_classes=3, lines={"num_classes": 12}, test__nms_iou=0.6)
    right = model("configs/infer, v2.py", lines={"num_classes": 20}, test__score_thresh=0.3,
                  suppressions={("configs/infer, v2.py", 30): ["I201"]})
    return engine.diff(left, right)


def test_json_is_the_contract_shape(findings):
    out = json.loads(json.dumps(findings_json.render(findings, "train.yaml", "infer.py")))
    assert set(out) == {"left", "right", "findings", "summary"}
    assert out["summary"] == {"error": 1, "warning": 2, "info": 1}
    first = out["findings"][0]
    assert set(first) == {"rule", "name", "severity", "field", "left", "right", "message",
                          "left_location", "right_location"}
    assert (first["rule"], first["field"], first["left"], first["right"]) == ("C501", "num_classes", 3, 80)
    assert first["left_location"] == {"file": "train.yaml", "line": 12}
    unused = next(f for f in out["findings"] if f["rule"] == "S901")
    assert unused["right_location"] is None


def test_sarif_validates_against_the_official_schema(findings):
    log = json.loads(json.dumps(findings_sarif.render(findings, engine.load_rules())))
    jsonschema.validate(log, SCHEMA)
    results = log["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning", "warning", "note"]
    c501 = results[0]
    assert c501["locations"][0]["physicalLocation"]["region"] == {"startLine": 20}
    assert c501["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "train.yaml"
    assert c501["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "configs/infer%2C%20v2.py"
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[c501["ruleIndex"]]["id"] == "C501"


def test_sarif_with_no_findings_and_locationless_findings_is_valid():
    jsonschema.validate(findings_sarif.render([], engine.load_rules()), SCHEMA)
    left, right = model("a.yaml"), model("b.yaml", classes=["x"], num_classes=1)
    left.provenance.clear()
    log = findings_sarif.render(engine.diff(left, right), engine.load_rules())
    jsonschema.validate(json.loads(json.dumps(log)), SCHEMA)


def test_github_workflow_commands_are_escaped(findings):
    lines = findings_github.render(findings).splitlines()
    assert lines[0].startswith("::error file=configs/infer%2C v2.py,line=20,title=C501 num-classes-mismatch::")
    assert lines[-1].startswith("::notice ")
    f = engine.Finding("X001", "x", "warning", "f", 1, 2, "50% done\nnext", None, Location("a:b.py", 3))
    assert findings_github.render([f]) == "::warning file=a%3Ab.py,line=3,title=X001 x::50%25 done%0Anext"


def test_text_groups_by_severity_with_locations_and_why(findings):
    text = findings_text.render(findings, "train.yaml", "infer.py")
    assert "\x1b[" not in text
    lines = text.splitlines()
    assert lines[0] == "train.yaml (training) vs infer.py (inference)"
    assert [line for line in lines if not line.startswith(" ")][1:] == \
        ["Errors (1)", "Warnings (2)", "Info (1)", "1 error, 2 warnings, 1 info"]
    assert "      left:  train.yaml:12" in lines and "      right: configs/infer, v2.py:20" in lines
    assert any(line.startswith("      why:   ") for line in lines)
    assert findings_text.render([], "a", "b").endswith("No findings.")


def test_text_colour_only_on_a_terminal_without_no_color(findings, monkeypatch):
    assert "\x1b[" in findings_text.render(findings, "a", "b", colour=True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert findings_text.use_colour(True) and not findings_text.use_colour(False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not findings_text.use_colour(True)
