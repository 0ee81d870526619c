"""Real demo and tool scripts of the frameworks (../shared/corpus/scripts, used correctly): lint
gives no error or warning and does not fail; each one that builds a model reads without exit 2."""
from __future__ import annotations

import json

import pytest

from tests.conftest import HAVE_SHARED, REPO, SHARED, run_cli

SCRIPTS = SHARED / "corpus" / "scripts"
ENV = {"PYTHONPATH": str(REPO)}
pytestmark = [pytest.mark.slow, pytest.mark.shared, pytest.mark.skipif(not HAVE_SHARED or not SCRIPTS.is_dir(),
                                                     reason="../shared/corpus/scripts is not present")]


def test_lint_of_real_scripts_is_clean():
    run = run_cli("lint", "--format", "json", ".", cwd=SCRIPTS, env=ENV)
    assert run.returncode == 0, run.stdout + run.stderr
    out = json.loads(run.stdout)
    assert out["summary"]["unreadable"] == 0
    assert not [f for f in out["findings"] if f["severity"] in ("error", "warning")]
    assert out["summary"]["files"] >= 10     # the scripts that build a model are read, not skipped


def test_each_serving_script_reads():
    from cfglint.adapters.script import builds_config
    scripts = [p for p in sorted(SCRIPTS.rglob("*.py")) if builds_config(str(p), p.read_text())]
    assert len(scripts) >= 10
    for path in scripts:
        run = run_cli("show", "--format", "json", str(path.relative_to(SCRIPTS)), cwd=SCRIPTS, env=ENV)
        assert run.returncode == 0, (path, run.stderr)
