"""`cfglint lint` on the command line: JSON shape with paths, exit codes, trees, formats, processes."""
from __future__ import annotations

import json

from cfglint.engine import EngineConfig
from cfglint.engine.lint_files import discover, lint_paths
from tests.conftest import FIXTURES, run_cli

LINT = FIXTURES / "lint"


def test_json_has_findings_with_their_path_and_a_summary():
    path = str(LINT / "d2/thresholds.yaml")
    proc = run_cli("lint", path, str(LINT / "d2/clean.yaml"), "--format", "json")
    assert proc.returncode == 0, proc.stderr     # warnings only; default --fail-on error
    out = json.loads(proc.stdout)
    assert {f["path"] for f in out["findings"]} == {path}
    assert [f["rule"] for f in out["findings"]] == ["L301", "L302"]
    assert out["summary"] == {"error": 0, "warning": 2, "info": 0, "files": 2, "unreadable": 0, "skipped": 0}
    assert out["findings"][0]["left_location"] == {"file": path, "line": 3}


def test_exit_1_on_errors_and_fail_on_warning():
    assert run_cli("lint", str(LINT / "d2/negative_size.yaml")).returncode == 1
    assert run_cli("lint", str(LINT / "d2/thresholds.yaml"), "--fail-on", "warning").returncode == 1


def test_unreadable_file_is_reported_and_the_others_still_linted():
    bad = str(LINT / "d2/syntax_error.yaml")
    proc = run_cli("lint", bad, str(LINT / "d2/negative_size.yaml"), "--format", "json")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"{bad}:") and "Traceback" not in proc.stderr
    out = json.loads(proc.stdout)
    assert [f["rule"] for f in out["findings"]] == ["L303"]
    assert [e["path"] for e in out["errors"]] == [bad]


def test_a_tree_skips_files_that_are_not_configs_and_verbose_names_them():
    proc = run_cli("lint", str(LINT / "tree"), "--verbose")
    assert proc.returncode == 0, proc.stderr
    assert "readme.yaml: skipped" in proc.stderr
    assert "thresholds.yaml" in proc.stdout and "2 files linted, 0 unreadable, 1 skipped" in proc.stdout


def test_sarif_and_github_formats():
    path = str(LINT / "d2/negative_size.yaml")
    sarif = json.loads(run_cli("lint", path, "--format", "sarif").stdout)
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "L303" and result["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    github = run_cli("lint", path, "--format", "github").stdout
    assert github.startswith("::error file=") and "line=2" in github


def test_rules_lists_the_lint_rules():
    listing = run_cli("rules").stdout
    for rule_id in ("L101", "L102", "L201", "L202", "L203", "L301", "L305", "L401", "L601", "L602"):
        assert f"\n{rule_id} " in "\n" + listing


def test_worker_processes_give_the_same_reports_as_in_process():
    files, skipped = discover([str(LINT / "d2"), str(LINT / "mmdet")])
    assert not skipped
    files = files * 2    # enough files to start worker processes
    serial = lint_paths(files, EngineConfig(), jobs=1)
    parallel = lint_paths(files, EngineConfig(), jobs=2)
    assert [(r.path, [f.to_json() for f in r.findings], str(r.error)) for r in serial] == \
           [(r.path, [f.to_json() for f in r.findings], str(r.error)) for r in parallel]
