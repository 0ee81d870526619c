"""Acceptance on shared data: the serving cases' image-flow bugs are found at their lines, their clean
twins and the frameworks' own scripts (and the wild corpus) give no image-flow error or warning."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfglint.imageflow import analyze_file, problems
from tests.conftest import HAVE_SHARED, SHARED, run_cli

CASES = SHARED / "cases" / "serving"


def _cases():
    if not CASES.is_dir():
        return []
    found = []
    for case in sorted(p for p in CASES.iterdir() if (p / "case.json").is_file()):
        meta = json.loads((case / "case.json").read_text())
        if meta.get("kind") == "imageflow":
            found.append(pytest.param(case, meta, id=case.name))
    return found


def _image_findings(case: Path, script: str):
    proc = run_cli("lint", "--format", "json", script, cwd=case)
    report = json.loads(proc.stdout)
    return [f for f in report["findings"] if f["rule"].startswith("P") and f["severity"] in ("error", "warning")]


@pytest.mark.skipif(not CASES.is_dir(), reason="../shared/cases/serving is not present")
def test_the_case_directory_has_buggy_and_clean_image_flow_cases():
    metas = [p.values[1] for p in _cases()]
    assert any(m["imageflow_bug"] for m in metas) and any(not m["imageflow_bug"] for m in metas)


@pytest.mark.parametrize("case,meta", _cases())
def test_serving_case(case, meta):
    script = meta["script"]
    found = _image_findings(case, script)
    if not meta["imageflow_bug"]:
        assert found == [], [f["message"] for f in found]
        return
    assert found, f"{case.name}: no image-flow error or warning"
    lines = set(meta["imageflow_lines"])
    explained = []
    for f in found:
        assert f["left_location"]["file"] == script
        assert f["left_location"]["line"] in lines, f["message"]
        named = {int(part.split(" ")[0]) for part in f["message"].split(f"{script}:")[1:]}
        assert len(named) >= 2, "the message names the line that produced the property and the model call"
        explained.append(named <= lines)
    # The planted bug is explained by its own lines (a further real problem at the same call, such as
    # an unresized tensor next to a double normalization, may name the read).
    assert any(explained), [f["message"] for f in found]


def _corpus_scripts():
    if not HAVE_SHARED:
        return []
    # the frameworks' demo/tools scripts, the wild corpus, and every other Python file of the corpus
    roots = [SHARED / "corpus"]
    return sorted(p for root in roots if root.is_dir() for p in root.rglob("*.py"))


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_SHARED, reason="../shared is not present")
def test_no_image_flow_finding_on_the_frameworks_scripts_or_the_wild_corpus():
    files = _corpus_scripts()
    assert len(files) > 100
    assert any("corpus/scripts/" in str(p) for p in files) and any("corpus/wild/" in str(p) for p in files)
    reported = {}
    sinks = 0
    for path in files:
        report = analyze_file(str(path))
        sinks += len(report.sinks)
        if problems(report):
            reported[str(path)] = [p.kind for p in problems(report)]
    assert reported == {}
    assert sinks > 0      # the demos do reach inference calls: the analysis looked at them


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_SHARED, reason="../shared is not present")
def test_lint_on_the_frameworks_demo_scripts_reports_no_image_flow_problem():
    root = SHARED / "corpus" / "scripts"
    proc = run_cli("lint", "--format", "json", str(root))
    report = json.loads(proc.stdout)
    assert [f for f in report["findings"] if f["rule"].startswith("P")] == []
