"""Checkpoint conversion: synthesized oracle-shaped checkpoints convert and verify key by key,
and the anchor-channel permutation puts each anchor's outputs where the target expects them."""
from __future__ import annotations

import json
import os

import pytest

from cfglint.convert import convert_checkpoint
from cfglint.convert.anchors import d2_to_mmdet_anchor_order, mmdet_to_d2_anchor_order
from cfglint.convert.proof import verify_checkpoint
from tests.conftest import SHARED, requires_shared

pytestmark = pytest.mark.slow   # real torch checkpoints converted over the oracle corpus

torch = pytest.importorskip("torch")

ORACLES = SHARED / "oracles"
D2 = SHARED / "corpus" / "detectron2" / "configs"
D2_CASES = ["COCO-Detection/faster_rcnn_R_50_FPN_3x", "COCO-Detection/retinanet_R_50_FPN_3x",
            "Misc/cascade_mask_rcnn_R_50_FPN_3x"]
MM_CASES = ["faster_rcnn/faster-rcnn_r50-caffe_fpn_1x_coco", "retinanet/retinanet_r50_fpn_1x_coco",
            "cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco"]


def _synthesize(manifest, path, wrapper):
    shapes = json.loads(manifest.read_text())
    state = {k: torch.zeros(v, dtype=torch.long) if k.endswith("num_batches_tracked") else torch.randn(v)
             for k, v in shapes.items()}
    torch.save({wrapper: state}, path)
    return state


def _assert_verified(report, expected_count):
    sd = report.state_dict
    assert (sd.missing, sd.unexpected, sd.mismatched) == ([], [], [])
    assert sd.checked == expected_count
    assert [f for f in report.findings if f.severity == "error"] == []


@requires_shared
@pytest.mark.parametrize("name", D2_CASES)
def test_detectron2_checkpoint_to_mmdet_verifies(name, tmp_path):
    src, out = tmp_path / "d2.pth", tmp_path / "mm.pth"
    _synthesize(ORACLES / "detectron2" / "state_dicts" / "configs" / f"{name}.json", src, "model")
    result = convert_checkpoint(str(src), str(D2 / f"{name}.yaml"), "mmdet", str(out))
    report = verify_checkpoint(str(out), result.config.text, "mmdet")
    _assert_verified(report, result.converted)
    saved = torch.load(out, weights_only=True)
    assert set(saved) == {"state_dict", "meta"}


@requires_shared
@pytest.mark.parametrize("name", MM_CASES)
def test_mmdet_checkpoint_to_detectron2_verifies(name, tmp_path):
    import mmdet

    src, out = tmp_path / "mm.pth", tmp_path / "d2.pth"
    _synthesize(ORACLES / "mmdet3" / "state_dicts" / "configs" / f"{name}.json", src, "state_dict")
    config = os.path.join(os.path.dirname(mmdet.__file__), ".mim", "configs", f"{name}.py")
    result = convert_checkpoint(str(src), config, "detectron2", str(out))
    report = verify_checkpoint(str(out), result.config.text, "detectron2")
    _assert_verified(report, result.converted)
    assert set(torch.load(out, weights_only=True)) >= {"model"}


def test_anchor_orders_by_hand():
    # 2 sizes x 3 ratios. Detectron2 a = s*3 + r; mmdet a = r*2 + s.
    assert d2_to_mmdet_anchor_order(2, 3) == [0, 3, 1, 4, 2, 5]
    assert mmdet_to_d2_anchor_order(2, 3) == [0, 2, 4, 1, 3, 5]


@requires_shared
def test_retinanet_channels_follow_their_anchor(tmp_path):
    """Tag each RetinaNet output channel with (size index, ratio index, class); after conversion
    mmdet's channel a*K + k must carry mmdet's anchor a = ratio * S + size."""
    name = "COCO-Detection/retinanet_R_50_FPN_3x"
    src, out = tmp_path / "d2.pth", tmp_path / "mm.pth"
    state = _synthesize(ORACLES / "detectron2" / "state_dicts" / "configs" / f"{name}.json", src, "model")
    sizes, ratios, classes = 3, 3, 80
    tag = torch.tensor([float(1000 * (a // ratios) + 100 * (a % ratios) + k)
                        for a in range(sizes * ratios) for k in range(classes)])   # D2: a = s*R + r
    state["head.cls_score.bias"] = tag
    torch.save({"model": state}, src)
    convert_checkpoint(str(src), str(D2 / f"{name}.yaml"), "mmdet", str(out))
    converted = torch.load(out, weights_only=True)["state_dict"]["bbox_head.retina_cls.bias"]
    for a_mm in range(sizes * ratios):
        ratio, size = divmod(a_mm, sizes)                                          # mmdet: a = r*S + s
        for k in (0, 79):
            assert converted[a_mm * classes + k].item() == 1000 * size + 100 * ratio + k
    # and back: mmdet -> Detectron2 restores the original order
    restored = torch.tensor([0.0])
    from cfglint.convert.checkpoint_io import permute_anchor_blocks
    restored = permute_anchor_blocks(converted, mmdet_to_d2_anchor_order(sizes, ratios))
    assert torch.equal(restored, tag)
