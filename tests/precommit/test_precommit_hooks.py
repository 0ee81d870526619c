"""The hooks in .pre-commit-hooks.yaml, run by pre-commit itself against this repository.

`pre-commit try-repo` installs cfglint from the working tree into pre-commit's own environment,
exactly as a user's `.pre-commit-config.yaml` would, then runs the hook on a scratch git repo:
a bad config must fail the commit and a good one must pass.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.precommit,
              pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")]

GOOD = """\
_base_ = []
model = dict(
    type='RetinaNet',
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=32),
    backbone=dict(type='ResNet', depth=50, style='pytorch', norm_cfg=dict(type='BN', requires_grad=True),
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    bbox_head=dict(type='RetinaHead', num_classes=3, in_channels=256),
    test_cfg=dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5),
                  max_per_img=100))
"""
# ImageNet statistics on the 0-1 scale while mmdet feeds 0-255 pixels: every input is ~255x off.
BAD = GOOD.replace("mean=[123.675, 116.28, 103.53]", "mean=[0.485, 0.456, 0.406]").replace(
    "std=[58.395, 57.12, 57.375]", "std=[0.229, 0.224, 0.225]")
SERVE_DRIFT = GOOD.replace("num_classes=3", "num_classes=80")


def _run(args, cwd, env):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    if not Path(pre_commit).exists():
        pytest.skip("pre-commit is not installed")
    work = tmp_path_factory.mktemp("user-repo")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")),
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    env.pop("VIRTUAL_ENV", None)
    _run(["git", "init", "-q"], work, env)
    (work / "good.py").write_text(GOOD)
    (work / "bad.py").write_text(BAD)
    (work / "serve.py").write_text(SERVE_DRIFT)
    (work / "pyproject.toml").write_text('[tool.cfglint]\npairs = [{train = "good.py", infer = "serve.py"}]\n')
    _run(["git", "add", "-A"], work, env)
    return pre_commit, work, env


def try_repo(scratch, hook, *files):
    pre_commit, work, env = scratch
    args = [pre_commit, "try-repo", str(REPO), hook, "--verbose"]
    args += ["--files", *files] if files else ["--all-files"]
    return _run(args, work, env)


def test_lint_hook_passes_a_good_config(scratch):
    proc = try_repo(scratch, "cfglint-lint", "good.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


def test_lint_hook_fails_a_bad_config(scratch):
    proc = try_repo(scratch, "cfglint-lint", "bad.py")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Failed" in proc.stdout
    assert "bad.py:5" in proc.stdout   # the line that sets the mean


def test_diff_hook_compares_declared_pairs(scratch):
    proc = try_repo(scratch, "cfglint-diff")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "C501" in proc.stdout and "serve.py" in proc.stdout


def test_lint_hook_skips_python_that_builds_no_config(scratch):
    _, work, env = scratch
    (work / "tools").mkdir(exist_ok=True)
    (work / "tools" / "train_net.py").write_text(
        "from detectron2.config import get_cfg\nfrom detectron2.engine import DefaultTrainer, launch\n\n\n"
        "def setup(args):\n    cfg = get_cfg()\n    cfg.merge_from_file(args.config_file)\n    return cfg\n\n\n"
        "if __name__ == '__main__':\n    launch(lambda a: DefaultTrainer(setup(a)).train(), 1)\n")
    (work / "utils.py").write_text("import numpy as np\nfrom mmdet.structures import DetDataSample\n\n\n"
                                   "def scores(sample):\n    return np.asarray(sample.pred_instances.scores)\n")
    (work / "setup.py").write_text("from setuptools import setup\n\nsetup(name='parts')\n")
    _run(["git", "add", "-A"], work, env)
    proc = try_repo(scratch, "cfglint-lint", "good.py", "tools/train_net.py", "utils.py", "setup.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout
    proc = try_repo(scratch, "cfglint-lint", "bad.py", "tools/train_net.py", "utils.py", "setup.py")
    assert proc.returncode == 1 and "bad.py:5" in proc.stdout, proc.stdout + proc.stderr
