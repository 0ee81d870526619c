"""Fidelity: the static YACS resolver against what real detectron2 resolved (oracles/detectron2/resolved).

Every corpus YAML with an oracle must give exactly the oracle's JSON, compared type-strictly
(an int where detectron2 has a float, or a bool where it has an int, is a failure).
"""
from __future__ import annotations

import json

import pytest

from cfglint.adapters.detectron2.yacs import resolve_yaml
from tests.conftest import HAVE_SHARED, SHARED, requires_shared

pytestmark = [pytest.mark.slow, requires_shared]

ORACLES = SHARED / "oracles" / "detectron2" / "resolved"
CORPUS = SHARED / "corpus" / "detectron2"
ORACLE_CONFIGS = sorted(p.relative_to(ORACLES).with_suffix(".yaml").as_posix()
                        for p in ORACLES.rglob("*.json")) if HAVE_SHARED else []


def type_strict_differences(ours, oracle, path="config"):
    """Paths where values or exact types differ (json round-trip: tuples are lists on both sides)."""
    if type(ours) is not type(oracle):
        return [f"{path}: {type(ours).__name__} {ours!r} != {type(oracle).__name__} {oracle!r}"]
    if isinstance(ours, dict):
        diffs = [f"{path}.{k}: only in {'oracle' if k in oracle else 'ours'}" for k in set(ours) ^ set(oracle)]
        for key in set(ours) & set(oracle):
            diffs += type_strict_differences(ours[key], oracle[key], f"{path}.{key}")
        return diffs
    if isinstance(ours, list):
        if len(ours) != len(oracle):
            return [f"{path}: {ours!r} != {oracle!r}"]
        return [d for i, (a, b) in enumerate(zip(ours, oracle)) for d in type_strict_differences(a, b, f"{path}[{i}]")]
    return [] if ours == oracle else [f"{path}: {ours!r} != {oracle!r}"]


def test_comparison_is_type_strict():
    assert type_strict_differences({"a": 1}, {"a": 1.0})
    assert type_strict_differences({"a": True}, {"a": 1})
    assert type_strict_differences([1, [2]], [1, [2, 3]])
    assert not type_strict_differences({"a": [0.5, "x"]}, {"a": [0.5, "x"]})


def test_every_oracle_has_a_corpus_config():
    assert len(ORACLE_CONFIGS) == 110
    assert all((CORPUS / rel).is_file() for rel in ORACLE_CONFIGS)


@pytest.mark.parametrize("rel", ORACLE_CONFIGS)
def test_resolved_config_equals_oracle(rel):
    resolved = resolve_yaml(str(CORPUS / rel))
    ours = json.loads(json.dumps(resolved.data))
    oracle = json.loads((ORACLES / rel).with_suffix(".json").read_text())
    assert type_strict_differences(ours, oracle) == []


CLI_SAMPLE = [
    "configs/Base-RetinaNet.yaml",                                        # !!python/object/apply:eval
    "configs/quick_schedules/keypoint_rcnn_R_50_FPN_inference_acc_test.yaml",  # 3-deep _BASE_ chain
    "projects/PointRend/configs/InstanceSegmentation/implicit_pointrend_R_50_FPN_1x_coco.yaml",  # add-on
    "projects/DeepLab/configs/Cityscapes-SemanticSegmentation/deeplab_v3_plus_R_103_os16_mg124_poly_90k_bs16.yaml",
]


def test_cli_show_raw_json_equals_oracle(cli):
    paths = [str(CORPUS / rel) for rel in CLI_SAMPLE]
    proc = cli("show", "--raw", "--format", "json", *paths)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(paths)
    for path, rel, line in zip(paths, CLI_SAMPLE, lines):
        record = json.loads(line)
        assert set(record) == {"path", "framework", "config"}
        assert record["path"] == path and record["framework"] == "detectron2"
        oracle = json.loads((ORACLES / rel).with_suffix(".json").read_text())
        assert type_strict_differences(record["config"], oracle) == []
