"""Shared test helpers.

Tests that read ../shared (corpus, oracles) use the `shared_dir` fixture or the SHARED constant
and skip cleanly when it is absent (a user's clone). CI has ../shared and runs them.
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
