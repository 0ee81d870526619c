"""Serving scripts in the styles users write (fixtures/scripts/), read statically.

Expected values are read off the scripts by hand; for the MMDetection scripts, mmengine itself
(installed for tests only) applies the same mutations to the same config as the oracle.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import FIXTURES, REPO, run_cli

SCRIPTS = FIXTURES / "scripts"
ENV = {"PYTHONPATH": str(REPO)}


@pytest.fixture
def in_scripts(monkeypatch):
    monkeypatch.chdir(SCRIPTS)


def resolve(name, **kw):
    from cfglint.adapters.script import resolve_script
    return resolve_script(name, **kw)


def test_builds_config_tells_scripts_from_other_python():
    from cfglint.adapters.script import builds_config
    for name in ("d2_class_predictor.py", "d2_argparse_pathlib.py", "d2_env_config.py", "mm_cfg_options_variable.py",
                 "mm2_mmcv_config.py", "mm_fromfile_then_init.py"):
        assert builds_config(name, (SCRIPTS / name).read_text()), name
    training = ("from detectron2.engine import DefaultTrainer\nfrom detectron2.config import get_cfg\n"
                "def setup(args):\n    cfg = get_cfg()\n    cfg.merge_from_file(args.config_file)\n    return cfg\n"
                "class Trainer(DefaultTrainer):\n    pass\nTrainer.build_model(setup(None))\n")
    assert not builds_config("train_net.py", training)
    assert not builds_config("utils.py", "import numpy as np\ndef iou(a, b):\n    return 0\n")


def test_class_built_with_literals_and_file_relative_path(in_scripts):
    resolved = resolve("d2_class_predictor.py")
    assert resolved.framework == "detectron2" and resolved.input == "script" and resolved.sink == "DefaultPredictor"
    assert resolved.data["MODEL"]["ROI_HEADS"]["SCORE_THRESH_TEST"] == 0.6
    assert resolved.locations[("MODEL", "ROI_HEADS", "SCORE_THRESH_TEST")].line == 14
    assert resolved.data["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] == 3       # from the YAML
    assert resolved.locations[("MODEL", "ROI_HEADS", "NUM_CLASSES")].line == 8
    assert resolved.data["MODEL"]["BACKBONE"]["NAME"] == "build_resnet_fpn_backbone"   # from its _BASE_
    assert resolved.served_checkpoint == "output/model_final.pth"


def test_argparse_defaults_pathlib_and_merge_from_list_of_a_variable(in_scripts):
    resolved = resolve("d2_argparse_pathlib.py")
    assert resolved.data["INPUT"]["MIN_SIZE_TEST"] == 640
    assert resolved.locations[("INPUT", "MIN_SIZE_TEST")].line == 24
    assert resolved.data["MODEL"]["WEIGHTS"] == "output/model_final.pth"
    # --device has no default: unknown, pointing at the option, never guessed
    assert resolved.data["MODEL"]["DEVICE"] is None
    assert resolved.unknown["MODEL.DEVICE"].line == 15
    assert any(loc.line == 15 for loc, _ in resolved.notes)
    supplied = resolve("d2_argparse_pathlib.py", sets=["device=cpu"])
    assert supplied.data["MODEL"]["DEVICE"] == "cpu" and "MODEL.DEVICE" not in supplied.unknown


def test_environment_config_is_unknown_until_set(in_scripts):
    resolved = resolve("d2_env_config.py")
    assert resolved.unknown_config is not None and resolved.unknown_config.line == 8
    from cfglint.adapters import normalize
    model = normalize(resolved)
    assert model.values["arch"] is None and model.values["backbone.depth"] is None
    assert model.values["num_classes"] == 3          # set by the script after the unknown merge
    assert resolved.served_checkpoint == "output/model_0019999.pth"
    supplied = resolve("d2_env_config.py", sets=["env.PARTS_CONFIG=configs/parts_faster_rcnn.yaml"])
    assert supplied.unknown_config is None
    assert normalize(supplied).values["backbone.depth"] == 50


def _mmengine(code):
    """Run mmengine itself (the oracle) in a subprocess from the scripts directory."""
    pytest.importorskip("mmengine")
    out = subprocess.run([sys.executable, "-c", "import json\nfrom mmengine.config import Config\n" + code],
                         cwd=SCRIPTS, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _plain(value):
    return json.loads(json.dumps(value))


def test_cfg_options_dict_built_in_variables_matches_mmengine(in_scripts):
    expected = _mmengine("cfg = Config.fromfile('../examples/infer.py')\n"
                         "cfg.merge_from_dict({'model.test_cfg.rcnn.score_thr': 0.25,"
                         " 'model.roi_head.bbox_head.num_classes': 5})\nprint(json.dumps(cfg.to_dict()))")
    resolved = resolve("mm_cfg_options_variable.py")
    assert resolved.framework == "mmdet" and resolved.sink == "init_detector"
    assert _plain(resolved.data) == expected
    assert resolved.locations[("model", "test_cfg", "rcnn", "score_thr")].line == 10
    assert resolved.served_checkpoint == "work_dirs/parts/epoch_12.pth"


def test_mmcv_2x_config_mutations_match_mmengine(in_scripts):
    expected = _mmengine("cfg = Config.fromfile('../examples/infer.py')\n"
                         "cfg.model.roi_head.bbox_head.num_classes = 4\n"
                         "cfg.merge_from_dict({'model.test_cfg.rcnn.max_per_img': 50})\n"
                         "print(json.dumps(cfg.to_dict()))")
    resolved = resolve("mm2_mmcv_config.py")
    assert _plain(resolved.data) == expected
    assert resolved.served_checkpoint == "work_dirs/latest.pth"


def test_fromfile_item_and_attribute_mutations_then_init_detector(in_scripts):
    expected = _mmengine("cfg = Config.fromfile('../examples/infer.py')\n"
                         "cfg.model.test_cfg.rcnn.nms.iou_threshold = 0.6\n"
                         "cfg['model']['test_cfg']['rcnn']['max_per_img'] = 30\n"
                         "if 'init_cfg' in cfg.model.backbone:\n    cfg.model.backbone.init_cfg = None\n"
                         "print(json.dumps(cfg.to_dict()))")
    resolved = resolve("mm_fromfile_then_init.py")
    assert _plain(resolved.data) == expected
    assert resolved.locations[("model", "test_cfg", "rcnn", "max_per_img")].line == 6


def test_cli_show_of_a_script_and_of_a_training_loop(tmp_path):
    run = run_cli("show", "--format", "json", "d2_class_predictor.py", cwd=SCRIPTS, env=ENV)
    assert run.returncode == 0, run.stderr
    model = json.loads(run.stdout)["model"]
    assert model["test"]["score_thresh"] == 0.6 and model["num_classes"] == 3
    train = tmp_path / "train_net.py"
    train.write_text("from detectron2.engine import DefaultTrainer, default_argument_parser, launch\n"
                     "from detectron2.config import get_cfg\n\n\ndef setup(args):\n    cfg = get_cfg()\n"
                     "    cfg.merge_from_file(args.config_file)\n    return cfg\n\n\n"
                     "if __name__ == '__main__':\n    launch(setup, 1, args=(default_argument_parser().parse_args(),))\n")
    run = run_cli("show", str(train), env=ENV)
    assert run.returncode == 2 and "not a config" in run.stderr and "Traceback" not in run.stderr


def test_each_unknown_value_is_one_info_finding_at_its_line():
    run = run_cli("lint", "--format", "json", "d2_argparse_pathlib.py", "d2_env_config.py", cwd=SCRIPTS, env=ENV)
    assert run.returncode == 0, run.stdout + run.stderr
    found = {(f["path"], f["field"], f["left_location"]["line"]) for f in json.loads(run.stdout)["findings"]
             if f["rule"] == "S904"}
    assert found == {("d2_argparse_pathlib.py", "MODEL.DEVICE", 15), ("d2_env_config.py", "config", 8)}


def test_cli_set_supplies_an_unknown_and_raw_says_script():
    run = run_cli("show", "--raw", "--format", "json", "d2_argparse_pathlib.py", "--set", "device=cuda",
                  cwd=SCRIPTS, env=ENV)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["input"] == "script" and out["config"]["MODEL"]["DEVICE"] == "cuda"


def test_verify_without_checkpoint_uses_the_one_the_script_loads():
    run = run_cli("verify", "--config", "d2_class_predictor.py", cwd=SCRIPTS, env=ENV)
    assert run.returncode == 2
    assert "output/model_final.pth" in run.stderr and "d2_class_predictor.py:13" in run.stderr


def test_readme_example_script_pair_shows_the_drift():
    run = run_cli("diff", "fixtures/examples/output/config.yaml", "fixtures/examples/predict.py", "--format", "json",
                  cwd=REPO, env=ENV)
    assert run.returncode == 1, run.stderr
    found = {(f["rule"], f["field"]) for f in json.loads(run.stdout)["findings"]}
    # served with the base config: 80 classes (trained 3), RGB (trained BGR), 600 px (trained 640..800)
    assert {("C501", "num_classes"), ("I201", "input.channel_order"),
            ("R302", "test.resize.short_edge"), ("T401", "test.score_thresh")} <= found


def test_lazyconfig_script_load_overrides_attribute_and_instantiate(in_scripts):
    resolved = resolve("d2_lazy_serve.py")
    assert resolved.syntax == "lazyconfig" and resolved.sink == "instantiate"
    assert resolved.data["model"]["num_classes"] == 3
    assert resolved.locations[("model", "num_classes")].line == 5
    assert resolved.data["model"]["test_score_thresh"] == 0.4
    assert resolved.locations[("model", "test_score_thresh")].line == 6
    assert resolved.served_checkpoint == "output/model_final.pth"
    from cfglint.adapters.detectron2.lazy import resolve_lazy
    plain = resolve_lazy("../detectron2/lazy/COCO-Detection/retinanet_R_50_FPN_1x.py").data
    assert set(plain) == set(resolved.data) and plain["model"]["num_classes"] == 80


def test_sys_argv_length_with_no_arguments_and_dataclass_settings(in_scripts):
    resolved = resolve("mm_argv_dataclass.py")
    assert resolved.data["model"]["test_cfg"]["rcnn"]["score_thr"] == 0.6      # Settings(score=0.6)
    assert resolved.data["model"]["roi_head"]["bbox_head"]["num_classes"] == 80  # ../examples/infer.py:40
    given = resolve("mm_argv_dataclass.py", sets=["argv[1]=missing.py"])
    assert given.unknown_config is not None          # the file named on the command line does not exist


def test_addon_from_outside_the_repository_reads_the_yaml_and_says_keys_are_unchecked(in_scripts):
    resolved = resolve("d2_external_addon.py")
    assert resolved.data["MODEL"]["DENSEPOSE_ON"] is True and resolved.data["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] == 1
    assert resolved.unknown["the keys add_densepose_config adds"].line == 5


def test_predictor_subclass_with_super_init(in_scripts):
    from cfglint.adapters.script import builds_config
    assert builds_config("d2_predictor_subclass.py", (SCRIPTS / "d2_predictor_subclass.py").read_text())
    resolved = resolve("d2_predictor_subclass.py")
    assert resolved.sink == "DefaultPredictor" and resolved.sink_location.line == 6   # super().__init__(cfg)
    assert resolved.data["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] == 7
    assert resolved.locations[("MODEL", "ROI_HEADS", "NUM_CLASSES")].line == 14
    assert resolved.served_checkpoint == "w.pth"


def test_mmdet2_config_through_init_detector_gets_2x_semantics(tmp_path):
    from tests.conftest import HAVE_SHARED, SHARED
    config = SHARED / "cases" / "serving" / "mm2-build-detector" / "configs" / "faster_rcnn" / "faster_rcnn_r50_fpn_1x_coco.py"
    if not HAVE_SHARED or not config.is_file():
        pytest.skip("../shared is not present")
    script = tmp_path / "serve.py"
    script.write_text(f"from mmdet.apis import init_detector\nmodel = init_detector({str(config)!r}, 'latest.pth', "
                      "cfg_options={'model.test_cfg.rcnn.score_thr': 0.5})\n")
    # mmdet 2.x init_detector (mmdet/apis/inference.py, v2.28): merge_from_dict, then pretrained (or the
    # backbone init_cfg) to None and model.train_cfg to None
    expected = _mmengine(f"cfg = Config.fromfile({str(config)!r})\n"
                         "cfg.merge_from_dict({'model.test_cfg.rcnn.score_thr': 0.5})\n"
                         "if 'pretrained' in cfg.model:\n    cfg.model.pretrained = None\n"
                         "elif 'init_cfg' in cfg.model.get('backbone', {}):\n    cfg.model.backbone.init_cfg = None\n"
                         "cfg.model.train_cfg = None\nprint(json.dumps(cfg.to_dict()))")
    from cfglint.adapters import roots
    with roots.using(allow_roots=[str(config.parents[2])]):   # the config is outside this script's project
        resolved = resolve(str(script))
    assert _plain(resolved.data) == expected
    assert resolved.data["model"]["train_cfg"] is None


def test_parse_args_of_an_explicit_list(in_scripts):
    resolved = resolve("d2_explicit_argv.py")
    heads = resolved.data["MODEL"]["ROI_HEADS"]
    assert heads["NUM_CLASSES"] == 6 and heads["SCORE_THRESH_TEST"] == 0.45
    assert resolved.data["TEST"]["AUG"]["ENABLED"] is True and not resolved.unknown


def test_settings_read_from_json_and_yaml_files(in_scripts):
    resolved = resolve("d2_settings_files.py")
    heads = resolved.data["MODEL"]["ROI_HEADS"]
    assert heads["SCORE_THRESH_TEST"] == 0.35 and heads["NUM_CLASSES"] == 2        # settings/*.json|yaml
    assert resolved.served_checkpoint == "output/model_0009999.pth" and not resolved.unknown


def test_addon_imported_after_sys_path_insert(in_scripts):
    resolved = resolve("d2_sys_path_addon.py")
    assert resolved.data["MODEL"]["PARTS"] == {"ENABLED": True}
    assert resolved.data["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] == 4 and not resolved.unknown
