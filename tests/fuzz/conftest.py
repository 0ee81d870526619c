"""`--fuzz-long`: ~20x more fuzz cases (CI runs a few hundred in well under two minutes).

pytest accepts options from a sub-directory conftest only when that directory is on the command
line: `pytest tests/fuzz --fuzz-long`. From the repository root use `CFGLINT_FUZZ_LONG=1 pytest`.
"""
from __future__ import annotations

import os

import pytest

from tests.fuzz import harness

LONG_SCALE = 20


def pytest_addoption(parser):
    parser.addoption("--fuzz-long", action="store_true", default=False,
                     help=f"run the fuzz tests with {LONG_SCALE}x more cases (minutes, not seconds)")


def pytest_configure(config):
    # Read by the @settings decorators when the test modules are imported, after this hook.
    long_run = config.getoption("--fuzz-long", default=False) or os.environ.get("CFGLINT_FUZZ_LONG") == "1"
    harness.SCALE = LONG_SCALE if long_run else 1


@pytest.fixture(scope="session")
def fuzz_scale() -> int:
    """Multiplier on every fuzz test's case count."""
    return harness.SCALE
