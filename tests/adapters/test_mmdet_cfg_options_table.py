"""mmengine `--cfg-options` against mmengine itself.

Each entry of TABLE is a list of options and what mmengine's `DictAction` + `Config.merge_from_dict`
make of them on BASE: the top-level keys that change, or ERROR where mmengine raises. The recorded
results come from mmengine 0.10.7; with mmengine installed (the `test` extra) each entry is also run
through the real DictAction and merge_from_dict, and the recorded result must equal the live one.
"""
from __future__ import annotations

import copy
import math

import pytest

from cfglint.adapters.mmdet.cfg_options import apply_cfg_options
from cfglint.adapters.mmdet.values import export, to_config
from cfglint.errors import CfglintError

ERROR = "ERROR"
BASE = {"model": {"type": "FasterRCNN", "backbone": {"type": "ResNet", "depth": 50, "out_indices": (0, 1, 2, 3)},
                  "roi_head": {"bbox_head": {"num_classes": 80}}},
        "pipeline": [{"type": "LoadImageFromFile"}, {"type": "Resize", "scale": (1333, 800)}],
        "work_dir": "./work_dirs", "a": 1, "sizes": (1, 2)}

TABLE = [
    (["model.roi_head.bbox_head.num_classes=3"], {"model": {"type": "FasterRCNN", "backbone": {
        "type": "ResNet", "depth": 50, "out_indices": (0, 1, 2, 3)}, "roi_head": {"bbox_head": {"num_classes": 3}}}}),
    (["work_dir=run(1"], {"work_dir": "run(1"}),
    (["work_dir=run[1"], {"work_dir": "run[1"}),
    (["work_dir=[a,b"], ERROR),
    (["work_dir=a,(b"], ERROR),
    (["a=1", "a.b=2"], ERROR),
    (["a.b=2", "a=1"], {}),
    (["a=[1,2]", "a.0=3"], ERROR),
    (["a.b=2"], ERROR),
    (["a=None"], {"a": None}),
    (["a=none"], {"a": "none"}),
    (["a=null"], {"a": "null"}),
    (["a=true"], {"a": True}),
    (["a=FALSE"], {"a": False}),
    (["a=1.5"], {"a": 1.5}),
    (["a=1e3"], {"a": 1000.0}),
    (["a=inf"], {"a": math.inf}),
    (["a=0x10"], {"a": "0x10"}),
    (["a=1_000"], {"a": 1000}),
    (["a= 7 "], {"a": 7}),
    (["a='7'"], {"a": 7}),
    (["a=\"x y\""], {"a": "xy"}),
    (["a=1,2"], {"a": [1, 2]}),
    (["a=[1,(2,3),[x]]"], {"a": [1, (2, 3), ["x"]]}),
    (["a=(1,)"], {"a": (1,)}),
    (["a=()"], {"a": ()}),
    (["a=[]"], {"a": []}),
    (["a="], {"a": ""}),
    (["a=b=c"], {"a": "b=c"}),
    (["noequals"], ERROR),
    (["=1"], {"": 1}),
    (["a=1", "a=2"], {"a": 2}),
    (["pipeline.1.scale=(640,640)"], {"pipeline": [{"type": "LoadImageFromFile"}, {"type": "Resize",
                                                                                    "scale": (640, 640)}]}),
    (["pipeline.5.scale=1"], ERROR),
    (["pipeline.0=x"], ERROR),                  # mmengine: 'str' object has no attribute 'items'
    (["pipeline.0.type=Load", "pipeline.1.scale=(1,2)"], {"pipeline": [{"type": "Load"}, {"type": "Resize",
                                                                                        "scale": (1, 2)}]}),
    (["pipeline.type=x"], ERROR),
    (["sizes.0=5"], ERROR),
    (["model.backbone.out_indices=[3]"], {"model": {"type": "FasterRCNN", "backbone": {
        "type": "ResNet", "depth": 50, "out_indices": [3]}, "roi_head": {"bbox_head": {"num_classes": 80}}}}),
    (["model.backbone=dict"], {"model": {"type": "FasterRCNN", "backbone": "dict",
                                         "roi_head": {"bbox_head": {"num_classes": 80}}}}),
    (["model.backbone.depth.x=1"], ERROR),
    (["new.deep.key=v"], {"new": {"deep": {"key": "v"}}}),
    (["a=[[1,2],[3]]"], {"a": [[1, 2], [3]]}),
    (["a=[1,2"], ERROR),
    (["a=1]"], {"a": "1]"}),
    (["a=x)(y"], {"a": "x)(y"}),
    (["a=(x)(y)"], {"a": ("x)(y",)}),
    (["a='[1,2]'"], {"a": [1, 2]}),
    (["a=a b,c"], {"a": ["ab", "c"]}),
]


def canon(value):
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else repr(value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), canon(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(canon(v) for v in value))
    return (type(value).__name__, value)


def delta(result):
    return {k: v for k, v in result.items() if k not in BASE or canon(v) != canon(BASE[k])}


def _plain_keep_tuples(value):
    if isinstance(value, dict):
        return {k: _plain_keep_tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_keep_tuples(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain_keep_tuples(v) for v in value)
    return value


def cfglint_result(options):
    try:
        merged = apply_cfg_options(to_config(copy.deepcopy(BASE)), options)
    except CfglintError:
        return ERROR
    return delta(_plain_keep_tuples(merged))


def mmengine_result(options):
    config = pytest.importorskip("mmengine.config")
    import argparse
    namespace = argparse.Namespace()
    try:
        config.DictAction(option_strings=["--cfg-options"], dest="cfg_options")(None, namespace, options)
        cfg = config.Config(copy.deepcopy(BASE))
        cfg.merge_from_dict(namespace.cfg_options)
    except Exception:   # noqa: BLE001 - any failure of the framework is an ERROR entry
        return ERROR
    return delta(_plain_keep_tuples(cfg.to_dict()))


def same(a, b):
    if a == ERROR or b == ERROR:
        return a == b
    return canon(a) == canon(b)


IDS = [" ".join(options) for options, _ in TABLE]


@pytest.mark.parametrize("options, expected", TABLE, ids=IDS)
def test_cfglint_matches_recorded_mmengine_result(options, expected):
    assert same(cfglint_result(options), expected)


@pytest.mark.parametrize("options, expected", TABLE, ids=IDS)
def test_recorded_result_is_mmengines_live(options, expected):
    assert same(mmengine_result(options), expected)


def test_errors_name_the_option_and_never_trace_back():
    with pytest.raises(CfglintError) as info:
        apply_cfg_options(to_config(copy.deepcopy(BASE)), ["a=1", "a.b=2"])
    assert (info.value.file, info.value.line) == ("<cfg-options>", 2)
    with pytest.raises(CfglintError, match="no key 'type'"):
        apply_cfg_options(to_config(copy.deepcopy(BASE)), ["pipeline.type=x"])


def test_deep_and_long_values_stay_bounded():
    import time
    start = time.perf_counter()
    with pytest.raises(CfglintError):
        apply_cfg_options(to_config({}), ["a=" + "[" * 5000 + "]" * 5000])
    apply_cfg_options(to_config({}), ["a=" + ",".join(["1"] * 20000)])
    assert time.perf_counter() - start < 5.0


def test_cli_reports_option_errors_without_a_traceback(cli):
    from tests.conftest import FIXTURES
    config = str(FIXTURES / "mmdet" / "constructs" / "base_model.py")
    result = cli("show", "--raw", config, "--opts", "a=1", "a.b=2")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "<cfg-options>:2:" in result.stderr + result.stdout
    result = cli("show", "--raw", "--format", "json", config, "--opts", "work_dir=run(1")
    assert result.returncode == 0, result.stderr
    assert '"work_dir": "run(1"' in result.stdout


def test_random_options_match_mmengine_live():
    """Differential fuzzing: random option lists, cfglint vs mmengine's DictAction + merge_from_dict."""
    pytest.importorskip("mmengine")
    import random
    rng = random.Random(12)
    keys = ["a", "a.b", "pipeline.0", "pipeline.1.scale", "pipeline.x", "model.backbone", "model.backbone.depth",
            "sizes.0", "new.k", "work_dir", "", "model.backbone.out_indices.1"]
    pieces = ["1", "2.5", "x", "(", ")", "[", "]", ",", "'", '"', " ", "None", "true", "=", "-", "1e3", "inf", "a b",
              "dict", "_delete_"]
    mismatches = []
    for _ in range(400):
        options = [rng.choice(keys) + "=" + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
                   for _ in range(rng.randint(1, 3))]
        if not same(cfglint_result(options), mmengine_result(options)):
            mismatches.append(options)
    assert mismatches == []
