"""Synthesize small (or, for the benchmark, full-size) checkpoints in the formats cfglint reads.

Tensors are zeros of realistic Detectron2 R50-FPN shapes; only names, shapes and dtypes matter.
torch and numpy are imported by the callers' tests, never by cfglint itself.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

Shape = Tuple[int, ...]

# A few keys of each kind found in a D2 R50-FPN Mask R-CNN state dict (notes/detectron2.md §5).
SMALL_R50_FPN: List[Tuple[str, Shape, str]] = [
    ("backbone.bottom_up.stem.conv1.weight", (64, 3, 7, 7), "float32"),
    ("backbone.bottom_up.stem.conv1.norm.weight", (64,), "float32"),
    ("backbone.bottom_up.stem.conv1.norm.bias", (64,), "float32"),
    ("backbone.bottom_up.stem.conv1.norm.running_mean", (64,), "float32"),
    ("backbone.bottom_up.stem.conv1.norm.running_var", (64,), "float32"),
    ("backbone.bottom_up.stem.conv1.norm.num_batches_tracked", (), "int64"),
    ("backbone.bottom_up.res2.0.conv1.weight", (64, 64, 1, 1), "float32"),
    ("backbone.bottom_up.res2.0.shortcut.weight", (256, 64, 1, 1), "float16"),
    ("backbone.fpn_lateral2.weight", (256, 256, 1, 1), "bfloat16"),
    ("backbone.fpn_lateral2.bias", (256,), "float32"),
    ("roi_heads.box_predictor.cls_score.weight", (81, 1024), "float32"),
    ("roi_heads.box_predictor.bbox_pred.weight", (320, 1024), "float32"),
]


def _conv(name: str, out: int, inp: int, k: int) -> Iterator[Tuple[str, Shape]]:
    yield f"{name}.weight", (out, inp, k, k)
    for stat in ("weight", "bias", "running_mean", "running_var"):
        yield f"{name}.norm.{stat}", (out,)


def full_r50_fpn_shapes() -> List[Tuple[str, Shape]]:
    """Every parameter of a D2 R50-FPN Mask R-CNN (about 44M values), FrozenBN so no num_batches_tracked."""
    shapes = list(_conv("backbone.bottom_up.stem.conv1", 64, 3, 7))
    inp = 64
    for stage, (blocks, width) in enumerate([(3, 64), (4, 128), (6, 256), (3, 512)], start=2):
        out = width * 4
        for block in range(blocks):
            prefix = f"backbone.bottom_up.res{stage}.{block}"
            if block == 0:
                shapes += _conv(f"{prefix}.shortcut", out, inp, 1)
            shapes += _conv(f"{prefix}.conv1", width, inp if block == 0 else out, 1)
            shapes += _conv(f"{prefix}.conv2", width, width, 3)
            shapes += _conv(f"{prefix}.conv3", out, width, 1)
        inp = out
    for level, channels in zip(range(2, 6), (256, 512, 1024, 2048)):
        shapes += [(f"backbone.fpn_lateral{level}.weight", (256, channels, 1, 1)), (f"backbone.fpn_lateral{level}.bias", (256,)),
                   (f"backbone.fpn_output{level}.weight", (256, 256, 3, 3)), (f"backbone.fpn_output{level}.bias", (256,))]
    rpn = "proposal_generator.rpn_head"
    shapes += [(f"{rpn}.conv.weight", (256, 256, 3, 3)), (f"{rpn}.conv.bias", (256,)),
               (f"{rpn}.objectness_logits.weight", (3, 256, 1, 1)), (f"{rpn}.objectness_logits.bias", (3,)),
               (f"{rpn}.anchor_deltas.weight", (12, 256, 1, 1)), (f"{rpn}.anchor_deltas.bias", (12,))]
    shapes += [("roi_heads.box_head.fc1.weight", (1024, 12544)), ("roi_heads.box_head.fc1.bias", (1024,)),
               ("roi_heads.box_head.fc2.weight", (1024, 1024)), ("roi_heads.box_head.fc2.bias", (1024,)),
               ("roi_heads.box_predictor.cls_score.weight", (81, 1024)), ("roi_heads.box_predictor.cls_score.bias", (81,)),
               ("roi_heads.box_predictor.bbox_pred.weight", (320, 1024)), ("roi_heads.box_predictor.bbox_pred.bias", (320,))]
    for i in range(1, 5):
        shapes += [(f"roi_heads.mask_head.mask_fcn{i}.weight", (256, 256, 3, 3)), (f"roi_heads.mask_head.mask_fcn{i}.bias", (256,))]
    shapes += [("roi_heads.mask_head.deconv.weight", (256, 256, 2, 2)), ("roi_heads.mask_head.deconv.bias", (256,)),
               ("roi_heads.mask_head.predictor.weight", (80, 256, 1, 1)), ("roi_heads.mask_head.predictor.bias", (80,))]
    return shapes


def torch_state_dict(spec=SMALL_R50_FPN, prefix: str = ""):
    import torch

    return {prefix + name: torch.zeros(shape, dtype=getattr(torch, dtype)) for name, shape, dtype in spec}


def numpy_state_dict(spec=SMALL_R50_FPN) -> Dict[str, object]:
    import numpy as np

    return {name: np.zeros(shape, dtype=dtype) for name, shape, dtype in spec if dtype != "bfloat16"}


def save_torch(obj, path: Path, legacy: bool = False, protocol: int = 2) -> Path:
    import torch

    torch.save(obj, path, _use_new_zipfile_serialization=not legacy, pickle_protocol=protocol)
    return path


def save_d2_pkl(model: Dict[str, object], path: Path, protocol: int = 2, **extra) -> Path:
    with open(path, "wb") as f:
        pickle.dump({"model": model, "__author__": "Detectron2 Model Zoo", **extra}, f, protocol=protocol)
    return path


def mmdet3_checkpoint(state_dict, classes=("bolt", "nut"), cfg_text="model = dict(type='FasterRCNN')\n"):
    """The layout mmengine's Runner.save_checkpoint writes (notes/mmdetection.md §2.8), minus optimizer."""
    import numpy as np

    meta = {"epoch": 12, "iter": 3000, "cfg": cfg_text, "seed": np.int64(42), "experiment_name": "exp",
            "time": "20240101_000000", "mmengine_version": "0.10.7",
            "dataset_meta": {"classes": tuple(classes), "palette": [(220, 20, 60), (119, 11, 32)]}}
    return {"meta": meta, "state_dict": state_dict}


def expected_from_torch(path: Path, unwrap: str = None, prefix: str = "",
                        weights_only: bool = True) -> Dict[str, Tuple[Shape, str]]:
    """Names, shapes and dtypes as ``torch.load(weights_only=True)`` gives them (the reference).

    torch's weights-only unpickler rejects protocol 4+ opcodes (FRAME); for those synthetic files,
    which this process wrote itself, the full unpickler is the reference.
    """
    import torch

    loaded = torch.load(path, weights_only=weights_only, map_location="cpu")
    state = loaded[unwrap] if unwrap else loaded
    return {name[len(prefix):]: (tuple(t.shape), str(t.dtype).replace("torch.", ""))
            for name, t in state.items() if isinstance(t, torch.Tensor)}
