"""Every oracle state dict verifies against its own config with no error.

The manifests are what the real frameworks build from each config (``build_model`` /
``MODELS.build`` on the meta device), so a finding of severity error here is a false positive by
construction. Architectures cfglint does not model key by key must say so with K713 (info).
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from cfglint.checkpoint.info import CheckpointInfo, TensorInfo
from cfglint.checkpoint.verify import verify
from tests.conftest import HAVE_SHARED, SHARED

D2_ROOT = SHARED / "oracles/detectron2/state_dicts"
MM_ROOT = SHARED / "oracles/mmdet3/state_dicts"
D2_MANIFESTS = sorted(D2_ROOT.rglob("*.json")) if HAVE_SHARED else []
MM_MANIFESTS = sorted(MM_ROOT.rglob("*.json")) if HAVE_SHARED else []

pytestmark = [pytest.mark.shared, pytest.mark.skipif(not HAVE_SHARED, reason="../shared is not present")]


def _mmdet_root() -> Path:
    spec = importlib.util.find_spec("mmdet")
    if spec is None:
        pytest.skip("mmdet is not installed (its zoo configs are the mmdet oracles' configs)")
    return Path(list(spec.submodule_search_locations)[0]) / ".mim"


def as_info(manifest: Path) -> CheckpointInfo:
    shapes = json.loads(manifest.read_text())
    return CheckpointInfo(path=str(manifest), format="torch-zip",
                          tensors={k: TensorInfo(tuple(v), "float32") for k, v in shapes.items()})


def _assert_clean(manifest: Path, config: Path):
    report = verify(as_info(manifest), str(config))
    errors = [f"{f.rule}: {f.message}" for f in report.findings if f.severity == "error"]
    assert not errors, "\n".join(errors)
    if report.state_dict.ran:
        assert report.state_dict.checked == len(json.loads(manifest.read_text()))
    else:
        assert any(f.rule == "K713" for f in report.findings), "skipped check without saying so"
    return report


@pytest.mark.slow
@pytest.mark.parametrize("manifest", D2_MANIFESTS, ids=[str(p.relative_to(D2_ROOT)) for p in D2_MANIFESTS])
def test_detectron2_oracle_verifies_against_its_config(manifest):
    _assert_clean(manifest, SHARED / "corpus/detectron2" / manifest.relative_to(D2_ROOT).with_suffix(".yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("manifest", MM_MANIFESTS, ids=[str(p.relative_to(MM_ROOT)) for p in MM_MANIFESTS])
def test_mmdet_oracle_verifies_against_its_config(manifest):
    _assert_clean(manifest, _mmdet_root() / manifest.relative_to(MM_ROOT).with_suffix(".py"))


# The families that failed before: fast, each named once.
@pytest.mark.parametrize("rel", [
    "configs/COCO-Detection/fast_rcnn_R_50_FPN_1x.json",
    "projects/PointRend/configs/InstanceSegmentation/pointrend_rcnn_R_50_FPN_1x_coco.json",
    "projects/TridentNet/configs/tridentnet_fast_R_50_C4_1x.json",
])
def test_detectron2_families_that_look_like_others(rel):
    _assert_clean(D2_ROOT / rel, SHARED / "corpus/detectron2" / Path(rel).with_suffix(".yaml"))


@pytest.mark.parametrize("rel", ["configs/ms_rcnn/ms-rcnn_r50_fpn_1x_coco.json", "configs/fsaf/fsaf_r50_fpn_1x_coco.json",
                                 "configs/libra_rcnn/libra-fast-rcnn_r50_fpn_1x_coco.json"])
def test_mmdet_families_that_look_like_others(rel):
    _assert_clean(MM_ROOT / rel, _mmdet_root() / Path(rel).with_suffix(".py"))


def test_fast_rcnn_weights_with_a_faster_rcnn_config_are_refused():
    """The family check still bites: no RPN weights for a config that builds an RPN."""
    report = verify(as_info(D2_ROOT / "configs/COCO-Detection/fast_rcnn_R_50_FPN_1x.json"),
                    str(SHARED / "corpus/detectron2/configs/COCO-Detection/faster_rcnn_R_50_FPN_1x.yaml"))
    rules = [f.rule for f in report.findings if f.severity == "error"]
    assert "K705" in rules and "K710" in rules


@pytest.mark.parametrize("weights, config", [("FPN", "C4"), ("C4", "FPN")])
def test_fpn_and_c4_swapped_reports_the_neck_first(weights, config):
    rel = "configs/COCO-InstanceSegmentation/mask_rcnn_R_50_{}_3x"
    report = verify(as_info(D2_ROOT / (rel.format(weights) + ".json")),
                    str(SHARED / "corpus/detectron2" / (rel.format(config) + ".yaml")))
    errors = [f for f in report.findings if f.severity == "error"]
    assert errors[0].rule == "K704", [f.rule for f in errors]
    assert "MODEL.BACKBONE.NAME" in errors[0].message
