"""CLI conventions, ruff as the model: --exit-zero, --quiet, --statistics, the one-line `concise`
format, `-` for stdin with --stdin-filename, one validated --framework on every command that
reads configs, help listing only the formats a command supports, singular/plural counts, the
README's pre-commit snippet as pasted, and an error in a base naming the linted file."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, run_cli

LINT = FIXTURES / "lint"
NEGATIVE = str(LINT / "d2/negative_size.yaml")     # one error (L303)
THRESHOLDS = str(LINT / "d2/thresholds.yaml")      # two warnings (L301, L302)


def test_exit_zero_keeps_the_findings_but_exits_0():
    proc = run_cli("lint", NEGATIVE, "--exit-zero")
    assert proc.returncode == 0 and "L303" in proc.stdout
    assert run_cli("lint", NEGATIVE).returncode == 1
    bad = str(LINT / "d2/syntax_error.yaml")
    assert run_cli("lint", bad, "--exit-zero").returncode == 2          # unreadable input is not a finding


def test_exit_zero_on_diff():
    pair = FIXTURES / "pairs" / "d2_nms_changed"
    args = ("diff", str(pair / "../_trained/d2_faster_rcnn_R_50_FPN_3x_dump.yaml"), str(pair / "infer.yaml"),
            "--fail-on", "warning")
    assert run_cli(*args).returncode == 1
    assert run_cli(*args, "--exit-zero").returncode == 0


def test_quiet_prints_the_findings_without_summaries():
    proc = run_cli("lint", THRESHOLDS, "--quiet")
    assert "L301" in proc.stdout
    assert "linted" not in proc.stdout and "0 errors" not in proc.stdout
    assert run_cli("lint", str(LINT / "d2/clean.yaml"), "-q").stdout.strip() == ""


def test_statistics_counts_findings_per_rule():
    proc = run_cli("lint", THRESHOLDS, NEGATIVE, str(LINT / "d2/unit_scale.yaml"), "--statistics")
    lines = proc.stdout.strip().splitlines()
    assert lines[0].split("\t")[:2] == ["2", "L101"]                     # most findings first
    assert {tuple(line.split("\t")[:2]) for line in lines[1:]} == {("1", "L301"), ("1", "L302"), ("1", "L303")}
    assert proc.returncode == 1
    rows = json.loads(run_cli("lint", THRESHOLDS, "--statistics", "--format", "json").stdout)
    assert rows == [{"code": "L301", "name": "score-thresh-suspicious", "severity": "warning", "count": 1},
                    {"code": "L302", "name": "nms-iou-suspicious", "severity": "warning", "count": 1}]


def test_concise_is_one_line_per_finding():
    proc = run_cli("lint", THRESHOLDS, "--format", "concise")
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2
    assert re.match(r"^.*thresholds\.yaml:3: L301 \[warning\] The final score threshold", lines[0]), lines[0]


def test_stdin_with_stdin_filename(tmp_path):
    (tmp_path / "configs").mkdir()
    text = Path(THRESHOLDS).read_text()
    proc = run_cli("lint", "-", "--stdin-filename", "configs/edited.yaml", "--format", "concise",
                   cwd=tmp_path, input=text)
    lines = proc.stdout.strip().splitlines()
    assert [line.split(": ")[0] for line in lines] == ["configs/edited.yaml:3", "configs/edited.yaml:4"]
    assert "configs/edited.yaml:3 sets" in lines[0]
    assert list((tmp_path / "configs").iterdir()) == []                 # no temporary file left behind
    assert run_cli("lint", "-", THRESHOLDS, input=text).returncode == 2  # `-` alone
    assert run_cli("lint", THRESHOLDS, "--stdin-filename", "x.yaml").returncode == 2


def test_stdin_resolves_relative_bases_beside_the_named_file(tmp_path):
    (tmp_path / "Base.yaml").write_text("MODEL:\n  ROI_HEADS:\n    SCORE_THRESH_TEST: 0.95\n")
    proc = run_cli("lint", "-", "--stdin-filename", "child.yaml", "--format", "json", cwd=tmp_path,
                   input='_BASE_: "Base.yaml"\n')
    out = json.loads(proc.stdout)
    assert [f["rule"] for f in out["findings"]] == ["L301"] and out["findings"][0]["path"] == "child.yaml"


@pytest.mark.parametrize("command", [("lint", NEGATIVE), ("diff", NEGATIVE, NEGATIVE), ("show", NEGATIVE),
                                     ("verify", "x.pth", "--config", NEGATIVE),
                                     ("convert", NEGATIVE, "--to", "mmdet", "-o", "out.py")])
def test_framework_option_is_on_every_config_command_and_validated(command):
    proc = run_cli(*command, "--framework", "mmdetection3")
    assert proc.returncode == 2
    assert "--framework" in proc.stderr


def test_convert_takes_the_source_framework(tmp_path):
    for name in ("train.yaml", "Base-RCNN-FPN.yaml"):
        shutil.copy(FIXTURES / "examples" / name, tmp_path / name)
    source = tmp_path / "train.yaml"
    ok = run_cli("convert", str(source), "--to", "mmdet", "-o", str(tmp_path / "a.py"), "--framework", "detectron2")
    assert ok.returncode in (0, 1), ok.stderr
    wrong = run_cli("convert", str(source), "--to", "mmdet", "-o", str(tmp_path / "b.py"), "--framework", "mmdet")
    assert wrong.returncode == 2 and not (tmp_path / "b.py").exists()


def test_framework_option_forces_the_reader():
    proc = run_cli("lint", NEGATIVE, "--framework", "detectron2", "--format", "json")
    assert [f["rule"] for f in json.loads(proc.stdout)["findings"]] == ["L303"]


def _formats(command: str) -> set:
    help_text = run_cli(command, "--help").stdout
    match = re.search(r"--format\s+-f\s+<([a-z|]+)", help_text)
    assert match, help_text
    return set(match.group(1).split("|"))


def test_help_lists_only_the_formats_a_command_supports():
    findings = {"text", "concise", "json", "sarif", "github"}
    assert _formats("lint") == findings and _formats("diff") == findings and _formats("verify") == findings
    for command in ("show", "rules", "convert"):
        assert _formats(command) == {"text", "json"}, command
    assert run_cli("show", NEGATIVE, "--format", "sarif").returncode == 2


def test_summaries_say_1_error_and_2_warnings():
    one = run_cli("lint", NEGATIVE).stdout
    assert "1 file linted" in one and "1 error," in one and "1 errors" not in one
    two = run_cli("lint", THRESHOLDS, NEGATIVE).stdout
    assert "2 files linted" in two and "2 warnings" in two


def test_messages_say_1_class():
    from cfglint.engine import load_rules
    from cfglint.engine.context import render
    rules = load_rules()
    assert render(rules["C503"], path="configs/x.py", count=1, num_classes_desc="num_classes is 3") == \
        "configs/x.py names 1 class but num_classes is 3."
    assert render(rules["C503"], path="x.py", count=11, num_classes_desc="d") == "x.py names 11 classes but d."
    assert "but 1 size is given" in render(rules["L305"], count=1, desc="d")
    assert "but 3 sizes are given" in render(rules["L305"], count=3, desc="d")


def test_an_error_in_a_base_names_the_linted_file(tmp_path):
    (tmp_path / "broken_base.py").write_text("model = dict(\n")
    (tmp_path / "child.py").write_text("_base_ = './broken_base.py'\n")
    proc = run_cli("lint", "child.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert "broken_base.py:1:" in proc.stderr and "(in a base of child.py)" in proc.stderr
    proc = run_cli("diff", "child.py", "child.py", cwd=tmp_path)
    assert proc.returncode == 2 and "(in a base of child.py)" in proc.stderr


def _readme_precommit_config() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## pre-commit", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match
    return match.group(1)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_readme_precommit_snippet_works_as_pasted(tmp_path):
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    if not Path(pre_commit).exists():
        pytest.skip("pre-commit is not installed")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "home"), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t",
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".pre-commit-config.yaml").write_text(_readme_precommit_config())
    (repo / "good.yaml").write_text(Path(LINT / "d2/clean.yaml").read_text())
    (repo / "pyproject.toml").write_text('[tool.cfglint]\npairs = [{train = "good.yaml", infer = "good.yaml"}]\n')

    def run(*args):
        return subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=600)

    run("git", "init", "-q")
    run("git", "add", "-A")
    ok = run(pre_commit, "run", "--all-files")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (repo / "bad.yaml").write_text(Path(NEGATIVE).read_text())
    run("git", "add", "-A")
    bad = run(pre_commit, "run", "--all-files")
    assert bad.returncode == 1 and "L303" in bad.stdout, bad.stdout + bad.stderr


# --- the process ends without freeing its memory one object at a time (cli.exit_without_teardown)

def _exit_script(body: str) -> subprocess.CompletedProcess:
    code = ("import atexit, sys\n"
            "from cfglint.cli import exit_without_teardown\n"
            "atexit.register(lambda: print('atexit ran', file=sys.stderr))\n"
            f"{body}\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)


@pytest.mark.parametrize("exit_with, status, stderr", [("3", 3, ""), ("None", 0, ""), ("'bad input'", 1, "bad input")])
def test_exit_status_output_and_atexit_survive_the_fast_exit(exit_with, status, stderr):
    done = _exit_script("def main():\n"
                        "    sys.stdout.write('x' * 300_000)\n"   # more than a pipe buffer, unflushed
                        f"    sys.exit({exit_with})\n"
                        "exit_without_teardown(main)\n"
                        "print('not reached')")
    assert done.returncode == status
    assert done.stdout == "x" * 300_000
    assert stderr in done.stderr and "atexit ran" in done.stderr


def test_the_command_line_output_is_complete_through_a_pipe():
    config = FIXTURES / "mmdet" / "constructs" / "delete_leak.py"
    done = run_cli("show", "--raw", "--format", "json", str(config))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["config"]["model"]["roi_head"]["bbox_head"]["num_classes"] == 3
