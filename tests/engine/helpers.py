"""Build small common models by hand, so engine tests do not depend on the adapters."""
from __future__ import annotations

from typing import Any, Dict, Optional

from cfglint.model import CommonModel, Location, ResolvedConfig

COCO_FRCNN: Dict[str, Any] = {
    "arch": "faster_rcnn", "backbone.type": "ResNet", "backbone.depth": 50, "backbone.style": "caffe",
    "backbone.norm": "FrozenBN", "neck.type": "FPN", "neck.out_channels": 256, "num_classes": 80,
    "heads.mask": False, "input.channel_order": "BGR", "input.pixel_mean": [123.675, 116.28, 103.53],
    "input.pixel_std": [1.0, 1.0, 1.0], "train.resize.short_edge": [640, 800], "train.resize.sampling": "range",
    "test.resize.short_edge": 800, "test.resize.max_size": 1333, "test.score_thresh": 0.05,
    "test.nms_iou": 0.5, "test.max_detections": 100,
}


def model(path: str = "train.yaml", framework: str = "detectron2", lines: Optional[Dict[str, int]] = None,
          suppressions: Optional[dict] = None, **overrides: Any) -> CommonModel:
    """A model with COCO_FRCNN values; `overrides` use __ for dots (input__channel_order='RGB').
    Each field gets native key KEY.<field> at `path`:<line from `lines`> (default line 1)."""
    m = CommonModel(framework=framework, path=path)
    values = dict(COCO_FRCNN)
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    lines = lines or {}
    for name, value in values.items():
        m.set(name, value, f"KEY.{name}", Location(path, lines.get(name, 1)))
    m.resolved = ResolvedConfig(framework=framework, path=path, data={}, suppressions=suppressions or {})
    return m
