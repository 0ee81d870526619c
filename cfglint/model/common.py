"""The common model: one vocabulary for what a detector config *means*, whatever wrote it.

Field names are the public contract (``../shared/spec/contract.md`` section 1); adapters fill them
with the value the framework would effectively use, and a field the config cannot express is
``None``. Each value carries its :class:`Provenance` so findings can say
"infer.yaml:7 sets MODEL.ROI_HEADS.NUM_CLASSES to 80".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from cfglint.model.location import Location


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str   # "str", "int", "float", "bool", "floats", "ints", "strs", "sizes"
    doc: str
    group: str  # heading in `cfglint show`


def _f(name: str, kind: str, doc: str) -> FieldSpec:
    group = name.split(".")[0] if "." in name else "model"
    return FieldSpec(name, kind, doc, group)


FIELDS: Dict[str, FieldSpec] = {
    f.name: f
    for f in [
        _f("arch", "str", "canonical detector family (faster_rcnn, mask_rcnn, cascade_rcnn, retinanet, ...)"),
        _f("backbone.type", "str", "backbone family (ResNet, ResNeXt, RegNet, Swin, ...)"),
        _f("backbone.depth", "int", "backbone depth where the family has one"),
        _f("backbone.style", "str", "ResNet bottleneck stride placement: caffe (1x1) or pytorch (3x3)"),
        _f("backbone.norm", "str", "normalization layers of the backbone (FrozenBN, BN, SyncBN, GN, ...)"),
        _f("backbone.groups", "int", "ResNeXt cardinality (1 for plain ResNet)"),
        _f("backbone.width_per_group", "int", "ResNeXt width per group"),
        _f("backbone.frozen_stages", "int", "stages frozen during training, mmdet numbering (D2 FREEZE_AT - 1)"),
        _f("backbone.dilation", "int", "C5 dilation: 1 (none) or 2 (DC5)"),
        _f("neck.type", "str", "FPN, ... or null (C4/DC5 heads on the backbone)"),
        _f("neck.out_channels", "int", "channels of every neck output"),
        _f("num_classes", "int", "foreground classes of the detection head(s)"),
        _f("classes", "strs", "class names when the config names them"),
        _f("heads.mask", "bool", "has an instance-mask head"),
        _f("heads.keypoint", "bool", "has a keypoint head"),
        _f("heads.cls_agnostic_bbox_reg", "bool", "class-agnostic box regression in the final box head"),
        _f("heads.bbox_reg_weights", "floats", "box coder weights of the final box head (D2 BBOX_REG_WEIGHTS)"),
        _f("heads.num_stages", "int", "cascade stages of the ROI head (1 when not cascade)"),
        _f("anchors.sizes", "sizes", "anchor sizes per feature level"),
        _f("anchors.aspect_ratios", "sizes", "anchor aspect ratios"),
        _f("input.channel_order", "str", "channel order the network consumes: RGB or BGR"),
        _f("input.pixel_mean", "floats", "pixel mean, always in RGB order, 0-255 scale as written"),
        _f("input.pixel_std", "floats", "pixel std, always in RGB order"),
        _f("train.resize.short_edge", "ints", "training short-edge sizes (choice) or [min, max] (range)"),
        _f("train.resize.sampling", "str", "choice or range"),
        _f("train.resize.max_size", "int", "cap on the long edge at training time"),
        _f("test.resize.short_edge", "int", "short edge at test time (0 = no resize)"),
        _f("test.resize.max_size", "int", "long-edge cap at test time"),
        _f("test.resize.keep_ratio", "bool", "test resize keeps the aspect ratio"),
        _f("test.score_thresh", "float", "score threshold of the final detections"),
        _f("test.nms_iou", "float", "IoU threshold of the final NMS"),
        _f("test.max_detections", "int", "detections kept per image"),
        _f("test.mask_thresh", "float", "binarization threshold of predicted masks"),
        _f("test.rpn.nms_iou", "float", "RPN NMS IoU at test time"),
        _f("test.rpn.pre_nms_topk", "int", "RPN proposals kept before NMS at test time (per level for FPN)"),
        _f("test.rpn.post_nms_topk", "int", "RPN proposals kept after NMS at test time"),
        _f("weights", "str", "weights the config loads (D2 MODEL.WEIGHTS, mmdet load_from / init_cfg)"),
    ]
}


@dataclass(frozen=True)
class Provenance:
    """Where a common-model value came from: the native key, and its file:line (None = default)."""

    native_key: str
    location: Optional[Location] = None

    @property
    def is_default(self) -> bool:
        return self.location is None

    def to_json(self) -> dict:
        if self.location is None:
            return {"default": True, "key": self.native_key}
        return {"file": self.location.file, "line": self.location.line, "key": self.native_key}

    def describe(self, value: Any) -> str:
        """'infer.yaml:7 sets MODEL.ROI_HEADS.NUM_CLASSES to 80' / 'the default MODEL... is 80'."""
        if self.location is None:
            return f"{self.native_key} is {value!r} by default"
        return f"{self.location} sets {self.native_key} to {value!r}"


@dataclass
class Inconsistency:
    """Native values that should agree inside one config but do not (e.g. num_classes per head)."""

    field: str
    values: Dict[str, Any]                 # native key -> value
    locations: Dict[str, Optional[Location]]
    message: str


@dataclass
class CommonModel:
    framework: str
    path: str
    values: Dict[str, Any] = field(default_factory=dict)
    provenance: Dict[str, Provenance] = field(default_factory=dict)
    inconsistencies: List[Inconsistency] = field(default_factory=list)
    resolved: Any = None   # the ResolvedConfig it was built from (for rules that need native detail)

    def __post_init__(self) -> None:
        for name in FIELDS:
            self.values.setdefault(name, None)

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def set(self, name: str, value: Any, native_key: str, location: Optional[Location] = None) -> None:
        if name not in FIELDS:
            raise KeyError(f"unknown common-model field {name!r}")
        self.values[name] = value
        self.provenance[name] = Provenance(native_key, location)

    def nested(self) -> Dict[str, Any]:
        """The values nested by their dots, as in `cfglint show --format json`."""
        out: Dict[str, Any] = {}
        for name, value in self.values.items():
            node = out
            parts = name.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
        return out

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "framework": self.framework,
            "model": self.nested(),
            "provenance": {k: p.to_json() for k, p in sorted(self.provenance.items())},
        }
