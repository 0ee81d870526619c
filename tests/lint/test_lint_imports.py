"""Linting must not import torch, numpy or any framework (house rule), mmdet configs included."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import FIXTURES, REPO

FORBIDDEN = ("torch", "numpy", "mmengine", "mmdet", "mmcv", "detectron2", "fvcore", "yacs")

PROBE = """
import sys
from cfglint.cli.main import run
try:
    run(["lint", "-j", "1", {paths}])
except SystemExit:
    pass
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({forbidden!r}))
print("LOADED", loaded, file=sys.stderr)
"""


def test_lint_imports_no_framework():
    paths = ", ".join(repr(str(FIXTURES / "lint" / sub)) for sub in ("d2", "mmdet"))
    proc = subprocess.run([sys.executable, "-c", PROBE.format(paths=paths, forbidden=FORBIDDEN)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert "LOADED []" in proc.stderr, proc.stderr[-2000:]


COMMANDS_PROBE = """
import sys
from cfglint.cli.main import run
try:
    run({argv!r})
except SystemExit:
    pass
print("COMMANDS", sorted(m for m in sys.modules if m.startswith("cfglint.cli.") and m.endswith(("_cmd", ".show"))),
      file=sys.stderr)
"""


def _command_modules(argv):
    proc = subprocess.run([sys.executable, "-c", COMMANDS_PROBE.format(argv=argv)], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    line = [x for x in proc.stderr.splitlines() if x.startswith("COMMANDS")]
    assert line, proc.stderr[-2000:]
    return line[0]


def test_a_command_imports_its_own_module_only():
    """Start-up of a pre-commit `cfglint lint` pays for `lint` alone; `--help` lists every command."""
    config = str(FIXTURES / "examples" / "train.yaml")
    assert _command_modules(["lint", config]) == "COMMANDS ['cfglint.cli.lint_cmd']"
    assert _command_modules(["--allow-root", str(REPO), "show", config]) == "COMMANDS ['cfglint.cli.show']"
    every = _command_modules(["--help"])
    for name in ("show", "diff_cmd", "verify_cmd", "convert_cmd", "lint_cmd", "rules_cmd"):
        assert f"cfglint.cli.{name}" in every, every


def test_command_of_skips_the_safety_options_only():
    from cfglint.cli.main import command_of
    assert command_of(["lint", "x.yaml"]) == "lint"
    assert command_of(["--env", "--allow-root", "d", "--allow-root=e", "diff", "a", "b"]) == "diff"
    assert command_of(["--version"]) is None
    assert command_of(["lnt", "x"]) is None         # click's "did you mean" needs every command
    assert command_of([]) is None


SCRIPT_PROBE = """
import sys
from cfglint.cli.main import run
try:
    run(["lint", {config!r}])
except SystemExit:
    pass
print("SCRIPT", sorted(m for m in sys.modules if m.startswith("cfglint.adapters.script.")), file=sys.stderr)
"""


def test_linting_a_yaml_leaves_the_script_interpreter_unimported():
    """Issue 12: the serving-script kind costs a YAML-only run its registry entry, not its interpreter."""
    proc = subprocess.run([sys.executable, "-c", SCRIPT_PROBE.format(config=str(FIXTURES / "examples" / "train.yaml"))],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    line = [x for x in proc.stderr.splitlines() if x.startswith("SCRIPT")]
    assert line == ["SCRIPT ['cfglint.adapters.script.kind']"], proc.stderr[-2000:]



def test_linting_python_configs_imports_no_yaml(tmp_path):
    """PyYAML costs a pre-commit run about 20 ms: the rules come from their JSON cache and a
    Python config needs no YAML, so a tree of mmdet configs is linted without importing it."""
    import os
    probe = PROBE.format(paths=repr(str(FIXTURES / "lint" / "mmdet")), forbidden=("yaml",))
    env = {k: v for k, v in os.environ.items() if k != "CFGLINT_NO_CACHE"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    for _ in range(2):   # the first run parses the rule files and writes the cache the second reads
        proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO,
                              timeout=300, env=env)
    assert "LOADED []" in proc.stderr, proc.stderr[-2000:]
