"""Reading a Detectron2 YAML must not import torch, numpy or any framework (house rule)."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import FIXTURES, REPO

FORBIDDEN = ("torch", "numpy", "mmengine", "mmdet", "mmcv", "detectron2", "fvcore", "yacs")

PROBE = """
import sys
from cfglint.cli.main import run
for args in (["show", {path!r}], ["show", "--raw", "--format", "json", {path!r}]):
    try:
        run(args)
    except SystemExit as exc:
        assert not exc.code, (args, exc.code)
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({forbidden!r}))
print("LOADED", loaded, file=sys.stderr)
"""


def test_show_of_a_yaml_imports_neither_torch_nor_numpy():
    path = str(FIXTURES / "detectron2" / "yaml" / "bases" / "list_child.yaml")
    proc = subprocess.run([sys.executable, "-c", PROBE.format(path=path, forbidden=FORBIDDEN)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert "LOADED []" in proc.stderr, proc.stderr[-2000:]
