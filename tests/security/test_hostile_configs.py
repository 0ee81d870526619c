"""Hostile configs (fixtures/hostile/): each would create the canary file `pwned` if any of it ran.

Every case goes through the real CLI in a fresh process, in a scratch copy of the corpus (the cwd
the payloads write to). A refused case must exit 2 naming what was refused; a "data only" case is
one where the hostile text is legitimately just data to cfglint (a LazyCall target is recorded as
a dotted string, `custom_imports` is a list of names) and must exit 0. Either way: no traceback and
no canary. `test_payloads_are_live` runs the Python payloads for real, so "no canary" can fail.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli

pytestmark = pytest.mark.slow   # the hostile corpus through the CLI (run with --all)

HOSTILE = FIXTURES / "hostile"
CANARY = "pwned"
#: `mm_env_code.py` reads this variable; mmengine pastes its value into the source before running it.
ENV = {"CFGLINT_HOSTILE_ENV": "__import__('os').system('touch pwned')"}

#: Cases that need `--env` to be hostile at all (without it the default is used).
ENV_OPT_IN = {"mm_env_code.py"}

#: fixture -> text the refusal message must contain (what was refused, in the user's terms).
REFUSED = {
    # Detectron2 YAML: fvcore falls back to yaml.unsafe_load, which would run these tags.
    "d2_tag_apply_system.yaml": "!!python/object/apply:os.system",
    "d2_tag_apply_subprocess_long.yaml": "!!python/object/apply:subprocess.check_output",
    "d2_tag_name.yaml": "!!python/name:os.system",
    "d2_tag_object_new.yaml": "!!python/object/new:os.system",
    "d2_tag_object.yaml": "!!python/object:subprocess.Popen",
    "d2_tag_module.yaml": "!!python/module:os",
    "d2_base_hostile.yaml": "!!python/object/apply:os.system",
    "d2_base_hostile_chain.yaml": "!!python/object/apply:os.system",
    # The one tag real configs use (eval of an expression) only gets the restricted evaluator.
    "d2_eval_import.yaml": "refusing to evaluate",
    "d2_eval_dunder_walk.yaml": "refusing to evaluate",
    "d2_eval_lambda.yaml": "refusing to evaluate",
    "d2_eval_fstring.yaml": "f-string is not allowed",
    "d2_eval_format_attr.yaml": "refusing to evaluate",
    "d2_eval_two_args.yaml": "exactly one expression string",
    # Detectron2 LazyConfig .py
    "d2_lazy_import_os.py": "calls `os.system`",
    "d2_lazy_from_subprocess.py": "calls `subprocess.call`",
    "d2_lazy_dunder_import.py": "LazyCall",
    "d2_lazy_dunder_walk.py": "dunder attribute `__class__`",
    "d2_lazy_getattr_concat.py": "builtin `getattr`",
    "d2_lazy_decorator.py": "decorators run code",
    "d2_lazy_lambda_call.py": "calling a lambda",
    "d2_lazy_fstring.py": "LazyCall",
    "d2_lazy_format_attr.py": "LazyCall",
    "d2_lazy_exec.py": "builtin `exec`",
    "d2_lazy_relative_hostile.py": "calls `os.system`",
    "d2_lazy_get_config_abs.py": "outside the configs directory",
    "d2_lazy_get_config_dotdot.py": "outside the configs directory",
    # MMDetection / mmengine .py (Config.fromfile would exec them)
    "mm_import_os.py": "calls `os.system()`",
    "mm_from_subprocess.py": "calls the imported `call`",
    "mm_dunder_import.py": "`__import__`",
    "mm_dunder_walk.py": "dunder attribute `__subclasses__`",
    "mm_getattr_concat.py": "`getattr`",
    "mm_lambda_call.py": "calls `lambda",
    "mm_decorator.py": "decorators run code",
    "mm_fstring.py": "`__import__`",
    "mm_format_attr.py": "formats a config object",
    "mm_exec.py": "`exec`",
    "mm_eval.py": "`eval`",
    "mm_open_file.py": "`open`",
    "mm_builtins_dict.py": "`globals`",
    "mm_base_hostile.py": "`__import__`",
    "mm_base_hostile.json": "`__import__`",
    "mm_read_base_hostile.py": "calls `os.system()`",
    "mm_lazy_import_hostile.py": "calls `os.system()`",
    "mm_env_code.py": "`__import__`",
    # mmengine YAML: a Python tag or any custom tag would construct an object.
    "mm_tag_apply.yaml": "python/object/apply:os.system",
    "mm_tag_name.yaml": "python/name:os.system",
    "mm_tag_object_new.yaml": "python/object/new:subprocess.Popen",
    "mm_yaml_custom_tag.yaml": "!pwned",
    "mm_base_hostile.yaml": "python/object/apply:os.system",
    "mm_base_hostile_py.yaml": "calls `lambda",
}

#: fixture -> (dotted key in `show --raw` output, the value recorded there as plain data).
DATA_ONLY = {
    "d2_lazy_target_string.py": ("model._target_", "os.system"),
    "mm_custom_imports.py": ("custom_imports.imports", ["pwned_payload"]),
}

HELPERS = {"pwned_payload.py", "mm_hostile_module.py", "mm_lambda_in_base.py", "d2_opts_target.yaml"}


def test_every_fixture_is_classified():
    files = {p.name for p in HOSTILE.iterdir() if p.is_file()}
    assert files == set(REFUSED) | set(DATA_ONLY) | HELPERS


@pytest.fixture
def workdir(tmp_path) -> Path:
    """A scratch copy of the corpus: the payloads write `pwned` into the directory they run in."""
    shutil.copytree(HOSTILE, tmp_path / "hostile")
    return tmp_path / "hostile"


def _canaries(root: Path):
    return [p for p in root.parent.rglob(f"{CANARY}*") if p.name != "pwned_payload.py"]


def _run(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=workdir, env=ENV)


#: Runs several cfglint command lines through cfglint.cli.main.run in one interpreter (one start-up
#: per case instead of one per command); an uncaught exception escapes as a traceback on stderr.
_DRIVER = """
import contextlib, io, json, sys
from cfglint.cli.main import run
results = []
for args in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            run(args)
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
    results.append({"args": args, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
print(json.dumps(results))
"""


def _run_commands(workdir: Path, commands):
    process = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(commands)], cwd=workdir, capture_output=True,
                             text=True, timeout=120, env=dict(os.environ, NO_COLOR="1", **ENV))
    assert process.returncode == 0 and "Traceback" not in process.stderr, process.stderr[-3000:]
    return json.loads(process.stdout)


@pytest.fixture(scope="module")
def has_lint() -> bool:
    return run_cli("lint", "--help").returncode == 0


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_cli_refuses(workdir, has_lint, name):
    """`show`, `diff` (against a clean config of the same framework) and `lint` all refuse the file."""
    clean = "d2_opts_target.yaml" if name.startswith("d2_") else "clean.py"
    (workdir / "clean.py").write_text("model = dict(type='FasterRCNN')\n")
    commands = [["show", name, "--format", "json"], ["diff", clean, name]]
    if has_lint:
        commands.append(["lint", name, "--format", "json"])
    if name in ENV_OPT_IN:   # the environment is only read with --env
        commands = [[*c, "--env"] for c in commands]
    results = _run_commands(workdir, commands)
    for result in results:
        assert result["code"] == 2, result
        assert REFUSED[name] in result["stderr"], result
    error = json.loads(results[0]["stdout"])["error"]
    assert error["file"] and error["message"]
    assert _canaries(workdir) == []


@pytest.mark.parametrize("name", sorted(DATA_ONLY))
def test_data_only_is_recorded_not_run(workdir, name):
    result = _run(workdir, "show", "--raw", "--format", "json", name)
    assert result.returncode == 0, result.stderr
    value = json.loads(result.stdout)["config"]
    dotted, expected = DATA_ONLY[name]
    for part in dotted.split("."):
        value = value[part]
    assert value == expected
    assert _canaries(workdir) == []


def test_opts_cannot_smuggle_code(workdir):
    """`--opts` values are read with literal_eval, as yacs does: code text stays a string, never runs."""
    code = "__import__('os').system('touch pwned')"
    result = _run(workdir, "show", "--raw", "--format", "json", "d2_opts_target.yaml", "--opts", "MODEL.WEIGHTS", code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["config"]["MODEL"]["WEIGHTS"] == code
    assert _canaries(workdir) == []


LIVE_PY = ["mm_import_os.py", "mm_from_subprocess.py", "mm_dunder_import.py", "mm_dunder_walk.py",
           "mm_decorator.py", "mm_lambda_call.py", "mm_fstring.py", "mm_exec.py", "mm_eval.py", "mm_open_file.py",
           "mm_builtins_dict.py", "mm_lambda_in_base.py", "mm_hostile_module.py", "pwned_payload.py"]
LIVE_YAML = ["d2_tag_apply_system.yaml", "d2_tag_object_new.yaml", "d2_tag_apply_subprocess_long.yaml",
             "mm_tag_apply.yaml"]


@pytest.mark.parametrize("name", LIVE_PY + LIVE_YAML)
def test_payloads_are_live(workdir, name):
    """What the frameworks do with these files (exec / yaml.unsafe_load) does create the canary."""
    if name.endswith(".py"):
        code = f"exec(open({name!r}).read(), {{}})"
    else:
        code = f"import yaml; yaml.unsafe_load(open({name!r}))"
    subprocess.run([sys.executable, "-c", code], cwd=workdir, capture_output=True, timeout=60,
                   env=dict(os.environ, **ENV))
    assert _canaries(workdir), f"{name} did not create the canary when run for real"
