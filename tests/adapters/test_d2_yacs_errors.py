"""Bad Detectron2 YAML through the CLI: exit code 2 and exactly one `file:line: message` line on stderr.

Expected lines and messages are read by hand from the fixtures in fixtures/detectron2/bad/.
"""
from __future__ import annotations

import json
import os

import pytest

from tests.conftest import FIXTURES

BAD = FIXTURES / "detectron2" / "bad"
YAML = FIXTURES / "detectron2" / "yaml"


def bad(name: str) -> str:
    return str(BAD / name)


CASES = [
    # (fixture, file that is wrong, line, message)
    ("unknown_key.yaml", "unknown_key.yaml", 4,
     "unknown config key MODEL.ROI_HEADS.NUM_CLASS; did you mean MODEL.ROI_HEADS.NUM_CLASSES?"),
    ("type_mismatch.yaml", "type_mismatch.yaml", 3,
     "type mismatch for MODEL.ROI_HEADS.SCORE_THRESH_TEST: the default is a float (0.05) but the config "
     "gives an int (1), which Detectron2 refuses; write 1.0"),
    ("syntax_error.yaml", "syntax_error.yaml", 3,
     "YAML syntax error: expected <block end>, but found '<block mapping start>'"),
    ("cycle_a.yaml", "cycle_b.yaml", 2, "_BASE_ cycle: cycle_a.yaml -> cycle_b.yaml -> cycle_a.yaml"),
    ("missing_base.yaml", "missing_base.yaml", 1,
     "base config '../no/such/Base-RCNN-FPN.yaml' not found (looked for "
     f"{os.path.normpath(BAD / '../no/such/Base-RCNN-FPN.yaml')})"),
    ("unsafe_tag.yaml", "unsafe_tag.yaml", 2,
     "the YAML tag !!python/object/apply:os.system would run Python code when Detectron2 loads this file; "
     "cfglint refuses it"),
    ("cannot_inherit.yaml", "cannot_inherit.yaml", 3,
     "Cannot inherit key 'MASK_ON' from base: the base sets MODEL.MASK_ON to a value, this file to a mapping"),
]


@pytest.mark.parametrize("fixture, wrong_file, line, message", CASES, ids=[c[0] for c in CASES])
def test_bad_yaml_reports_file_line_message(cli, fixture, wrong_file, line, message):
    proc = cli("show", "--raw", bad(fixture))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [f"{bad(wrong_file)}:{line}: {message}"]
    assert "Traceback" not in proc.stderr


def test_missing_file(cli):
    proc = cli("show", "--raw", bad("does_not_exist.yaml"))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"{bad('does_not_exist.yaml')}: no such file"]


def test_unsafe_eval_expression_is_refused_and_not_run(cli, tmp_path):
    marker = "/tmp/cfglint-pwned"
    if os.path.exists(marker):
        os.remove(marker)
    proc = cli("show", "--raw", bad("unsafe_eval.yaml"))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"{bad('unsafe_eval.yaml')}:3: refusing to evaluate ")
    assert "not attribute access .system" in proc.stderr
    assert not os.path.exists(marker)


def test_alias_bomb_is_bounded(cli):
    proc = cli("show", "--raw", bad("alias_bomb.yaml"))
    assert proc.returncode == 2
    assert "expands to more than 200000 nodes" in proc.stderr
    assert proc.stderr.startswith(bad("alias_bomb.yaml") + ":")


def test_one_bad_path_among_good_ones(cli):
    good = str(YAML / "provenance" / "child.yaml")
    proc = cli("show", "--raw", "--format", "json", good, bad("unknown_key.yaml"), good)
    assert proc.returncode == 2
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["path"] for r in records] == [good, bad("unknown_key.yaml"), good]
    assert records[0]["config"]["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] == 3 == records[2]["config"]["MODEL"]["ROI_HEADS"]["NUM_CLASSES"]
    assert records[1]["error"] == {
        "message": "unknown config key MODEL.ROI_HEADS.NUM_CLASS; did you mean MODEL.ROI_HEADS.NUM_CLASSES?",
        "file": bad("unknown_key.yaml"), "line": 4}
    assert proc.stderr.splitlines() == [
        f"{bad('unknown_key.yaml')}:4: unknown config key MODEL.ROI_HEADS.NUM_CLASS; "
        "did you mean MODEL.ROI_HEADS.NUM_CLASSES?"]
