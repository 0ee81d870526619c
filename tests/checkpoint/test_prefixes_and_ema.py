"""Keys grouped by what they are: a wrapper's prefix is said once, EMA copies are one note.

Shapes come from the oracle manifests (what the frameworks build); the prefixes and ``ema_*``
buffers are added the way Lightning, ``torch.compile`` and mmcv's EMAHook add them (mmcv:
``ema_`` + the parameter name with dots replaced by underscores, one buffer per parameter).
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from cfglint.checkpoint.info import CheckpointInfo, TensorInfo
from cfglint.checkpoint.verify import verify
from tests.conftest import HAVE_SHARED, SHARED

pytestmark = [pytest.mark.shared, pytest.mark.skipif(not HAVE_SHARED, reason="../shared is not present")]

D2_SD = SHARED / "oracles/detectron2/state_dicts/configs"
MM_SD = SHARED / "oracles/mmdet3/state_dicts/configs"
D2_CFG = SHARED / "corpus/detectron2/configs"


def _mm_cfg(rel: str) -> Path:
    spec = importlib.util.find_spec("mmdet")
    if spec is None:
        pytest.skip("mmdet is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / ".mim/configs" / rel


CASES = {
    "d2-retinanet": (D2_SD / "COCO-Detection/retinanet_R_50_FPN_1x.json",
                     lambda: D2_CFG / "COCO-Detection/retinanet_R_50_FPN_1x.yaml"),
    "mm-faster": (MM_SD / "faster_rcnn/faster-rcnn_r50_fpn_1x_coco.json",
                  lambda: _mm_cfg("faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py")),
}


def _run(shapes: dict, config: Path):
    info = CheckpointInfo(path="ckpt", format="torch-zip",
                          tensors={k: TensorInfo(tuple(v), "float32") for k, v in shapes.items()})
    report = verify(info, str(config))
    return report, [f for f in report.findings if f.severity == "error"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("prefix", ["model.", "_orig_mod.", "model.detector."])
def test_wrapper_prefix_is_one_finding(case, prefix):
    manifest, config = CASES[case]
    shapes = json.loads(manifest.read_text())
    report, errors = _run({prefix + k: v for k, v in shapes.items()}, config())
    assert [f.rule for f in errors] == ["K715"], [f.message for f in errors]
    assert f"strip the `{prefix}` prefix" in errors[0].message
    assert report.state_dict.checked == len(shapes) and not report.state_dict.missing


@pytest.mark.parametrize("case", CASES)
def test_wrapper_prefix_still_reports_a_real_mismatch(case):
    manifest, config = CASES[case]
    shapes = json.loads(manifest.read_text())
    head = next(k for k in shapes if k.endswith(("cls_score.weight", "fc_cls.weight")))
    shapes[head] = [shapes[head][0] + 3] + shapes[head][1:]
    _, errors = _run({"model." + k: v for k, v in shapes.items()}, config())
    rules = {f.rule for f in errors}
    assert "K715" in rules and rules & {"K702", "K712"}


def test_other_modules_next_to_the_prefix_are_mentioned():
    manifest, config = CASES["mm-faster"]
    shapes = json.loads(manifest.read_text())
    extra = {f"teacher_loss.w{i}.weight": [4] for i in range(2)}
    _, errors = _run({**{"model." + k: v for k, v in shapes.items()}, **extra}, config())
    assert [f.rule for f in errors] == ["K715"]
    assert "2 other keys" in errors[0].message


@pytest.mark.parametrize("case", CASES)
def test_ddp_prefix_needs_no_finding(case):
    manifest, config = CASES[case]
    shapes = json.loads(manifest.read_text())
    _, errors = _run({"module." + k: v for k, v in shapes.items()}, config())
    assert errors == []


def test_a_plain_state_dict_gets_no_prefix_finding():
    """Control: without a prefix nothing is said, so the finding above is caused by the prefix."""
    manifest, config = CASES["d2-retinanet"]
    _, errors = _run(json.loads(manifest.read_text()), config())
    assert errors == []


@pytest.mark.parametrize("case", CASES)
def test_mmcv_ema_buffers_are_one_info(case):
    manifest, config = CASES[case]
    shapes = json.loads(manifest.read_text())
    params = [k for k in shapes if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    ema = {"ema_" + k.replace(".", "_"): shapes[k] for k in params}
    report, errors = _run({**shapes, **ema}, config())
    assert errors == []
    notes = [f for f in report.findings if f.rule == "K714" and "EMA" in f.message]
    assert len(notes) == 1 and notes[0].message.startswith(f"{len(ema)} keys")


def test_ema_lookalike_that_names_no_parameter_is_still_unexpected():
    manifest, config = CASES["mm-faster"]
    shapes = json.loads(manifest.read_text())
    _, errors = _run({**shapes, "ema_head_extra_weight": [3]}, config())
    assert [f.rule for f in errors] == ["K711"]
