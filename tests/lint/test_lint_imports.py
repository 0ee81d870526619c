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
