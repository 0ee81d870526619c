"""Shared test helpers, and the test tiers.

Tests that read ../shared (corpus, oracles) use the `shared_dir` fixture or the SHARED constant
and skip cleanly when it is absent (a user's clone). CI has ../shared and runs them.

Tiers: a plain `pytest` runs the fast tier. Tests marked `slow` (corpus and oracle sweeps),
`precommit` (`pre-commit try-repo` installs) or `fuzz` (property-based fuzzing) are deselected
unless `--all` is given or a `-m` expression selects them; `.ci/run` runs everything with `--all`.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CFGLINT_SHARED", REPO.parent / "shared"))
HAVE_SHARED = (SHARED / "corpus").is_dir() and (SHARED / "oracles").is_dir()
FIXTURES = REPO / "fixtures"

#: Markers of the tiers a plain `pytest` leaves out.
SLOW_TIERS = ("slow", "precommit", "fuzz")

requires_shared = pytest.mark.skipif(not HAVE_SHARED, reason="../shared (corpus and oracles) is not present")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not HAVE_SHARED:
        pytest.skip("../shared (corpus and oracles) is not present")
    return SHARED


def run_cli(*args: str, cwd=None, env=None, input=None) -> subprocess.CompletedProcess:
    """Run `python -m cfglint ...` in a subprocess, as a user would."""
    full_env = dict(os.environ)
    full_env.pop("FORCE_COLOR", None)
    full_env["NO_COLOR"] = "1"
    full_env["COLUMNS"] = "200"
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-m", "cfglint", *args], capture_output=True, text=True,
                          cwd=cwd, env=full_env, input=input, timeout=600)


@pytest.fixture
def cli():
    return run_cli


def pytest_addoption(parser):
    parser.addoption("--all", action="store_true", default=False,
                     help="also run the slow tiers (corpus sweeps, pre-commit try-repo, fuzzing), as CI does")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--all") or config.option.markexpr:
        return
    kept, dropped = [], []
    for item in items:
        (dropped if any(item.get_closest_marker(tier) for tier in SLOW_TIERS) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
