"""Linting must not import torch, numpy or any framework (house rule), mmdet configs included; a
run imports only what its command and its inputs need."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import List, Optional

from tests.conftest import FIXTURES, REPO

FORBIDDEN = ("torch", "numpy", "mmengine", "mmdet", "mmcv", "detectron2", "fvcore", "yacs")

#: Runs the CLI in a fresh interpreter, then prints every module the run imported.
PROBE = """
import sys
from cfglint.cli.main import run
try:
    run({argv!r})
except SystemExit:
    pass
print("MODULES", " ".join(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_after(argv: List[str], env: Optional[dict] = None, timeout: int = 300) -> List[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True,
                          cwd=REPO, timeout=timeout, env=env)
    line = [x for x in proc.stderr.splitlines() if x.startswith("MODULES ")]
    assert line, proc.stderr[-2000:]
    return line[0].split()[1:]


def _roots_among(modules: List[str], roots) -> List[str]:
    return sorted({m.split(".")[0] for m in modules} & set(roots))


def test_lint_imports_no_framework():
    paths = [str(FIXTURES / "lint" / sub) for sub in ("d2", "mmdet")]
    assert _roots_among(_modules_after(["lint", "-j", "1", *paths]), FORBIDDEN) == []


def _command_modules(argv):
    return sorted(m for m in _modules_after(argv, timeout=120)
                  if m.startswith("cfglint.cli.") and m.endswith(("_cmd", ".show")))


def test_a_command_imports_its_own_module_only():
    """Start-up of a pre-commit `cfglint lint` pays for `lint` alone; `--help` lists every command."""
    config = str(FIXTURES / "examples" / "train.yaml")
    assert _command_modules(["lint", config]) == ["cfglint.cli.lint_cmd"]
    assert _command_modules(["--allow-root", str(REPO), "show", config]) == ["cfglint.cli.show"]
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


def test_linting_a_yaml_leaves_the_script_interpreter_unimported():
    """Issue 12: the serving-script kind costs a YAML-only run its registry entry, not its interpreter."""
    modules = _modules_after(["lint", str(FIXTURES / "examples" / "train.yaml")], timeout=120)
    assert sorted(m for m in modules if m.startswith("cfglint.adapters.script.")) == ["cfglint.adapters.script.kind"]


def test_linting_python_configs_imports_no_yaml(tmp_path):
    """PyYAML costs a pre-commit run about 20 ms: the rules come from their JSON cache and a
    Python config needs no YAML, so a tree of mmdet configs is linted without importing it."""
    env = {k: v for k, v in os.environ.items() if k != "CFGLINT_NO_CACHE"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    argv = ["lint", "-j", "1", str(FIXTURES / "lint" / "mmdet")]
    _modules_after(argv, env=env)   # parses the rule files and writes the cache the next run reads
    assert _roots_among(_modules_after(argv, env=env), ("yaml",)) == []
