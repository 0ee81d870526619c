"""Run the CLI as a user would, but in a process with capped memory and a wall-clock limit."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

WALL_LIMIT = 10          # seconds for the whole process
MEMORY_LIMIT = 2 << 30   # bytes of address space (RLIMIT_AS)


def _cap_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_capped(cwd: Path, *args: str, wall_limit: float = WALL_LIMIT) -> subprocess.CompletedProcess:
    """`python -m cfglint ARGS` in `cwd`; fails the test on a hang, a slow run or a traceback."""
    env = dict(os.environ, NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    start = time.monotonic()
    try:
        result = subprocess.run([sys.executable, "-m", "cfglint", *args], cwd=cwd, env=env, capture_output=True,
                                text=True, timeout=wall_limit * 3, preexec_fn=_cap_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"cfglint {' '.join(args)[:200]} still running after {wall_limit * 3} s")
    elapsed = time.monotonic() - start
    assert elapsed < wall_limit, f"cfglint {' '.join(args)[:200]} took {elapsed:.1f} s"
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode in (0, 1, 2), result.stderr[-3000:]
    return result
