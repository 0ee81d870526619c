"""A serving script is read, never run: hostile or runaway code ends as unknown values or a
`file:line` error, quickly, with no side effect."""
from __future__ import annotations

import time

from tests.conftest import REPO, run_cli

ENV = {"PYTHONPATH": str(REPO)}

RUNAWAY = '''\
from detectron2.config import get_cfg
from detectron2.engine import DefaultPredictor
s = "ab"
for i in range(5000):
    s = s + s
n = 3
for i in range(5000):
    n = n * n
big = 10 ** 10 ** 10


def f(x):
    return f(x + 1)


while True:
    s = s * 2
cfg = get_cfg()
cfg.MODEL.ROI_HEADS.NUM_CLASSES = f(1)
cfg.OUTPUT_DIR = s
p = DefaultPredictor(cfg)
'''

SIDE_EFFECTS = '''\
import os
import subprocess
from detectron2.config import get_cfg
from detectron2.engine import DefaultPredictor
__import__("os").system("touch pwned1")
os.system("touch pwned2")
subprocess.run(["touch", "pwned3"])
exec("open('pwned4', 'w')")
eval("__import__('os').system('touch pwned5')")
cfg = get_cfg()
getattr(cfg, "__class__").__init__.__globals__["os"].system("touch pwned6")
cfg.MODEL.DEVICE = "cpu"
predictor = DefaultPredictor(cfg)
'''


def test_runaway_code_becomes_unknown_quickly(tmp_path):
    (tmp_path / "predict.py").write_text(RUNAWAY)
    start = time.monotonic()
    run = run_cli("show", "--format", "json", "predict.py", cwd=tmp_path, env=ENV)
    assert time.monotonic() - start < 30
    assert run.returncode == 0, run.stderr
    assert '"num_classes": null' in run.stdout
    assert "Traceback" not in run.stderr


def test_nothing_the_script_asks_for_is_run(tmp_path):
    (tmp_path / "predict.py").write_text(SIDE_EFFECTS)
    run = run_cli("show", "--raw", "--format", "json", "predict.py", cwd=tmp_path, env=ENV)
    assert run.returncode == 0, run.stderr
    assert '"DEVICE": "cpu"' in run.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predict.py"]
