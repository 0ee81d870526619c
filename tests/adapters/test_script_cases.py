"""Serving scripts of ../shared/cases/serving through the real CLI, run from each case directory.

Per case (its case.json): `show --raw` equals the native config the frameworks really built
(`expected_raw.json`), `show` gives the listed common-model fields (a null in an `unknown` case
must stay null), and `diff TRAIN SCRIPT` flags every `must_flag` field and no other core field
outside `allow`. `notconfig` directories lint clean (their .py files are not configs).
"""
from __future__ import annotations

import json
import math
import os

import pytest

from cfglint.model.common import FIELDS
from tests.conftest import HAVE_SHARED, REPO, SHARED, run_cli

CASES = SHARED / "cases" / "serving"
#: The Detectron2 model zoo the scripts' `model_zoo.get_config_file` means (identical copy).
ZOO = SHARED / "corpus" / "detectron2" / "configs"
ENV = {"PYTHONPATH": str(REPO)}


def _cases():
    if not HAVE_SHARED or not CASES.is_dir():
        return []
    return sorted(p.name for p in CASES.iterdir() if (p / "case.json").is_file())


def _case(name):
    return json.loads((CASES / name / "case.json").read_text())


def norm(value):
    if isinstance(value, dict):
        return {str(k): norm(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [norm(v) for v in value]
    if isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            return str(value)
        return round(value, 9)
    return value


def first_diff(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: only on the {'expected' if key in a else 'cfglint'} side"
            found = first_diff(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_diff(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    if a != b or type(a) is not type(b):
        return f"{path}: expected {a!r}, cfglint {b!r}"
    return None


def _get(model, dotted):
    node = model
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return "<missing>"
        node = node[part]
    return node


pytestmark = [pytest.mark.slow, pytest.mark.shared,
              pytest.mark.skipif(not _cases(), reason="../shared/cases/serving is not present")]


@pytest.mark.parametrize("name", [n for n in _cases() if _case(n)["expect_raw"]])
def test_show_raw_equals_native_config(name):
    case = _case(name)
    run = run_cli("show", "--raw", "--format", "json", case["script"], cwd=CASES / name, env=ENV)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.splitlines()[0])
    assert got["framework"] == case["framework"]
    expected = json.loads((CASES / name / case["expect_raw"]).read_text())
    diff = first_diff(norm(expected), norm(got["config"]))
    assert diff is None, diff


@pytest.mark.parametrize("name", [n for n in _cases() if _case(n)["kind"] != "notconfig"])
def test_show_gives_listed_fields(name):
    case = _case(name)
    run = run_cli("show", "--format", "json", case["script"], cwd=CASES / name, env=ENV)
    assert run.returncode == 0, run.stderr
    model = json.loads(run.stdout.splitlines()[0])["model"]
    wrong = {f: (v, _get(model, f)) for f, v in case["expect_model"].items() if norm(_get(model, f)) != norm(v)}
    assert not wrong, wrong


@pytest.mark.parametrize("name", [n for n in _cases() if _case(n)["train"]])
def test_diff_flags_exactly_the_planted_drift(name):
    case = _case(name)
    run = run_cli("diff", case["train"], case["script"], "--format", "json", cwd=CASES / name, env=ENV)
    assert run.returncode in (0, 1), run.stderr
    findings = json.loads(run.stdout)["findings"]
    flagged = {f["field"] for f in findings if f["severity"] in ("error", "warning")}
    flagged |= {f["field"] for f in findings if f["field"] == "test.score_thresh"
                and isinstance(f.get("right"), (int, float)) and f["right"] < 0.9}
    missing = set(case["must_flag"]) - flagged
    extra = {f for f in flagged if f in FIELDS} - set(case["must_flag"]) - set(case["allow"])
    assert not missing and not extra, {"missing": missing, "false positives": extra}


@pytest.mark.parametrize("name", [n for n in _cases() if _case(n)["kind"] == "notconfig"])
def test_not_a_config_tree_lints_clean(name):
    run = run_cli("lint", "-v", ".", cwd=CASES / name, env=ENV)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "skipped, not a" in run.stderr
