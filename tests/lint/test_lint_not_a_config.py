"""`cfglint lint` on a project tree: Python that builds no config (training loop, helpers, setup.py,
tests) is skipped as "not a config"; the exit code is the configs' findings alone; a serving script
is linted, never skipped."""
from __future__ import annotations

import json
import shutil

from tests.conftest import FIXTURES, REPO, run_cli

ENV = {"PYTHONPATH": str(REPO)}

TRAIN_NET = '''\
from detectron2.config import get_cfg
from detectron2.engine import DefaultTrainer, default_argument_parser, default_setup, launch


def setup(args):
    cfg = get_cfg()
    cfg.merge_from_file(args.config_file)
    cfg.merge_from_list(args.opts)
    cfg.freeze()
    default_setup(cfg, args)
    return cfg


def main(args):
    cfg = setup(args)
    trainer = DefaultTrainer(cfg)
    trainer.resume_or_load(resume=args.resume)
    return trainer.train()


if __name__ == "__main__":
    args = default_argument_parser().parse_args()
    launch(main, args.num_gpus, args=(args,))
'''
UTILS = "import numpy as np\nfrom detectron2.structures import Boxes\n\n\ndef area(b):\n    return Boxes(b).area()\n"
SETUP = "from setuptools import find_packages, setup\n\nsetup(name='parts', packages=find_packages())\n"
TEST = "import pytest\nfrom mmdet.apis import init_detector\n\n\ndef test_nothing():\n    assert True\n"
GOOD_YAML = '_BASE_: "Base-RCNN-FPN.yaml"\nMODEL:\n  ROI_HEADS:\n    NUM_CLASSES: 3\n'
# RGB network fed the BGR-ordered default mean: a lint error (L102) on line 4.
BAD_YAML = GOOD_YAML + "INPUT:\n  FORMAT: RGB\n"


def _tree(tmp_path, bad=False):
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "train_net.py").write_text(TRAIN_NET)
    (tmp_path / "utils.py").write_text(UTILS)
    (tmp_path / "setup.py").write_text(SETUP)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_model.py").write_text(TEST)
    (tmp_path / "configs").mkdir()
    shutil.copy(FIXTURES / "examples" / "Base-RCNN-FPN.yaml", tmp_path / "configs")
    (tmp_path / "configs" / "parts.yaml").write_text(BAD_YAML if bad else GOOD_YAML)
    return tmp_path


def test_lint_skips_python_that_builds_no_config(tmp_path):
    tree = _tree(tmp_path)
    run = run_cli("lint", "-v", "--format", "json", ".", cwd=tree, env=ENV)
    assert run.returncode == 0, run.stdout + run.stderr
    for name in ("tools/train_net.py", "utils.py", "setup.py"):
        assert f"{name}: skipped, not a" in run.stderr.replace("./", ""), run.stderr
    assert json.loads(run.stdout)["summary"]["unreadable"] == 0


def test_lint_exit_code_comes_from_the_configs_alone(tmp_path):
    tree = _tree(tmp_path, bad=True)
    run = run_cli("lint", "--format", "json", ".", cwd=tree, env=ENV)
    assert run.returncode == 1, run.stdout + run.stderr
    paths = {f["path"].replace("./", "") for f in json.loads(run.stdout)["findings"]}
    assert paths == {"configs/parts.yaml"}


def test_named_non_config_files_are_skipped_and_a_serving_script_is_not(tmp_path):
    tree = _tree(tmp_path)
    (tree / "predict.py").write_text(
        "from detectron2.config import get_cfg\nfrom detectron2.engine import DefaultPredictor\n"
        "cfg = get_cfg()\ncfg.merge_from_file('configs/parts.yaml')\ncfg.INPUT.FORMAT = 'RGB'\n"
        "predictor = DefaultPredictor(cfg)\n")
    run = run_cli("lint", "--format", "json", "tools/train_net.py", "utils.py", "setup.py", "predict.py",
                  cwd=tree, env=ENV)
    out = json.loads(run.stdout)
    assert out["summary"]["files"] == 1 and out["summary"]["skipped"] == 3
    assert run.returncode == 1 and {f["path"] for f in out["findings"]} == {"predict.py"}
    assert any(f["rule"] == "L102" for f in out["findings"])   # RGB input, BGR-ordered default mean


def test_show_and_diff_on_a_training_loop_say_not_a_config(tmp_path):
    tree = _tree(tmp_path)
    for args in (("show", "tools/train_net.py"), ("diff", "configs/parts.yaml", "tools/train_net.py")):
        run = run_cli(*args, cwd=tree, env=ENV)
        assert run.returncode == 2, run.stdout + run.stderr
        assert "tools/train_net.py" in run.stderr and "not a config" in run.stderr
        assert "Traceback" not in run.stderr
