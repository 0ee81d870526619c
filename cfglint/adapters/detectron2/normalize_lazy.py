"""LazyConfig (``.py``) configs -> common model.

A LazyConfig file holds constructor arguments, not a complete table: an argument the file omits
takes the default of the Python signature it is passed to, and those defaults are not the YAML
ones. The defaults that matter are written down here, each with where detectron2 declares it:

* FastRCNNOutputLayers(test_score_thresh=0.0, test_nms_thresh=0.5, test_topk_per_image=100,
  cls_agnostic_bbox_reg=False)  (detectron2/modeling/roi_heads/fast_rcnn.py)
* RetinaNet(test_score_thresh=0.05, test_nms_thresh=0.5, max_detections_per_image=100) and
  FCOS(0.2, 0.6, 100)  (detectron2/modeling/meta_arch/retinanet.py, fcos.py)
* RPN(nms_thresh=0.7); BottleneckBlock(stride_in_1x1=False, norm="BN", num_groups=1, dilation=1);
  ResNet(freeze_at=0); ResizeShortestEdge(max_size=sys.maxsize, sample_style="range")

``${..x}`` interpolations are resolved first (the lazy adapter's resolver), so a value read
through one is the value it points at. The channel order is the one the data loader produces
(``dataloader.test.mapper.image_format``, else the train mapper's); ``model.input_format`` only
drives visualisation, and a disagreement between them is recorded as an Inconsistency.
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional

from cfglint.adapters.detectron2 import normalize_shared as shared
from cfglint.adapters.detectron2.lazy import resolve_interpolations
from cfglint.adapters.normalize_common import Writer, native_key, short_type
from cfglint.model.resolved import KeyPath

_ABSENT = object()
_RPN_TARGETS = ("RPN", "RRPN")
#: Test-time defaults of the one-stage detectors: (test_score_thresh, test_nms_thresh, max_detections_per_image).
_DENSE_TEST_DEFAULTS = {"RetinaNet": (0.05, 0.5, 100), "FCOS": (0.2, 0.6, 100)}

MODEL: KeyPath = ("model",)
ROI_HEADS: KeyPath = ("model", "roi_heads")
PROPOSALS: KeyPath = ("model", "proposal_generator")
BACKBONE: KeyPath = ("model", "backbone")


class _LazyWriter:
    """Reads the interpolation-resolved tree; writes fields with the path that set them."""

    def __init__(self, writer: Writer, data: Any):
        self.writer = writer
        self.model = writer.model
        self.data = data

    def get(self, path: KeyPath, default: Any = None) -> Any:
        node = self.data
        for part in path:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
                node = node[part]
            else:
                return default
        return node

    def has(self, path: KeyPath) -> bool:
        return self.get(path, _ABSENT) is not _ABSENT

    def target(self, path: KeyPath) -> str:
        """Class name of the LazyCall at `path` ('' when there is none)."""
        return short_type(self.get(path + ("_target_",))) or ""

    def arg(self, field: str, path: KeyPath, default: Any = _ABSENT,
            convert: Callable[[Any], Any] = lambda v: v) -> None:
        """field := the argument at `path`, or the signature `default` when the file omits it."""
        value = self.get(path, _ABSENT)
        if value is not _ABSENT:
            converted = shared.convert_value(convert, value, ".".join(map(str, path)), field, self.location(path))
            self.writer.put(field, converted, path)
        elif default is not _ABSENT:
            self.writer.put(field, convert(default), path, default=True)

    def derive(self, field: str, value: Any, path: KeyPath) -> None:
        """field := a value computed from the config, provenance the entry that decided it."""
        self.writer.put(field, value, path, default=not self.has(path))

    def location(self, path: KeyPath):
        return self.writer.resolved.location_of(path) if self.has(path) else None


def fill(writer: Writer) -> None:
    cfg = _LazyWriter(writer, resolve_interpolations(writer.resolved.data))
    meta_arch = cfg.target(MODEL)
    _arch_and_heads(cfg, meta_arch)
    _backbone(cfg)
    _input(cfg)
    _detection(cfg, meta_arch)
    cfg.arg("weights", ("train", "init_checkpoint"), convert=shared.weights_path)


def _has_node(cfg: _LazyWriter, path: KeyPath) -> bool:
    return isinstance(cfg.get(path), dict)


def _final_predictor(cfg: _LazyWriter) -> KeyPath:
    """The box predictor that produces the final boxes: the last cascade stage, or the only one."""
    stages = cfg.get(ROI_HEADS + ("box_predictors",))
    if isinstance(stages, list) and stages:
        return ROI_HEADS + ("box_predictors", len(stages) - 1)
    return ROI_HEADS + ("box_predictor",)


def _arch_and_heads(cfg: _LazyWriter, meta_arch: str) -> None:
    has_roi_heads = meta_arch in shared.ROI_META_ARCHS
    mask = has_roi_heads and _has_node(cfg, ROI_HEADS + ("mask_head",))
    keypoint = has_roi_heads and _has_node(cfg, ROI_HEADS + ("keypoint_head",))
    if meta_arch:
        family, decided_by = shared.detector_family(
            meta_arch, roi_heads=cfg.target(ROI_HEADS), mask=mask, keypoint=keypoint,
            mask_head=cfg.target(ROI_HEADS + ("mask_head",)), proposals=cfg.target(PROPOSALS))
        cfg.derive("arch", family, {
            "meta_arch": MODEL + ("_target_",), "roi_heads": ROI_HEADS + ("_target_",),
            "mask": ROI_HEADS + ("mask_head",), "keypoint": ROI_HEADS + ("keypoint_head",),
            "mask_head": ROI_HEADS + ("mask_head", "_target_"), "proposals": PROPOSALS}[decided_by])
    # Without ROI heads the meta-architecture alone decides that there are no such heads.
    cfg.derive("heads.mask", mask, ROI_HEADS + ("mask_head",) if has_roi_heads else MODEL + ("_target_",))
    cfg.derive("heads.keypoint", keypoint,
               ROI_HEADS + ("keypoint_head",) if has_roi_heads else MODEL + ("_target_",))
    if mask:
        cfg.model.set("test.mask_thresh", shared.MASK_THRESHOLD, shared.MASK_THRESHOLD_KEY, None)
    if not has_roi_heads:
        return
    predictor = _final_predictor(cfg)
    cfg.arg("heads.cls_agnostic_bbox_reg", predictor + ("cls_agnostic_bbox_reg",), default=False)
    cfg.arg("heads.bbox_reg_weights", predictor + ("box2box_transform", "weights"), convert=shared.floats)
    stages = cfg.get(ROI_HEADS + ("box_predictors",))
    if isinstance(stages, list):
        cfg.derive("heads.num_stages", len(stages), ROI_HEADS + ("box_predictors",))
    else:
        cfg.derive("heads.num_stages", 1, ROI_HEADS + ("_target_",))


def _backbone(cfg: _LazyWriter) -> None:
    """FPN(bottom_up=ResNet(...)) and SimpleFeaturePyramid(net=ViT(...)) are neck + trunk."""
    if not _has_node(cfg, BACKBONE):
        return
    trunk = next((BACKBONE + (k,) for k in ("bottom_up", "net") if _has_node(cfg, BACKBONE + (k,))), None)
    if trunk is None:
        trunk = BACKBONE
        cfg.derive("neck.type", None, BACKBONE + ("_target_",))
    else:
        cfg.derive("neck.type", cfg.target(BACKBONE) or None, BACKBONE + ("_target_",))
        cfg.arg("neck.out_channels", BACKBONE + ("out_channels",))
    if cfg.target(trunk) != "ResNet":  # ViT, RegNet, ...: their own arguments, no ResNet defaults
        cfg.derive("backbone.type", cfg.target(trunk) or None, trunk + ("_target_",))
        cfg.arg("backbone.norm", trunk + ("norm",))
        cfg.arg("backbone.frozen_stages", trunk + ("freeze_at",), convert=lambda at: at - 1)
        return
    cfg.arg("backbone.frozen_stages", trunk + ("freeze_at",), default=0, convert=lambda at: at - 1)
    stages = trunk + ("stages",)
    if cfg.target(stages) != "make_default_stages":
        cfg.derive("backbone.type", "ResNet", trunk + ("_target_",))
        return  # stages built block by block: no single depth/style to report
    groups = cfg.get(stages + ("num_groups",), 1)
    cfg.arg("backbone.type", stages + ("num_groups",), default=1, convert=shared.backbone_family)
    cfg.arg("backbone.groups", stages + ("num_groups",), default=1)
    cfg.arg("backbone.depth", stages + ("depth",))
    if isinstance(cfg.get(stages + ("depth",)), int) and cfg.get(stages + ("depth",)) >= 50:
        # make_default_stages gives res2 64 bottleneck channels, split over the groups.
        cfg.derive("backbone.width_per_group", 64 // groups if isinstance(groups, int) and groups else None,
                   stages + ("num_groups",))
    cfg.arg("backbone.style", stages + ("stride_in_1x1",), default=False, convert=shared.stride_style)
    cfg.arg("backbone.norm", stages + ("norm",), default="BN")
    cfg.arg("backbone.dilation", stages + ("dilation",), default=1)


def _input(cfg: _LazyWriter) -> None:
    format_paths = [("dataloader", "test", "mapper", "image_format"),
                    ("dataloader", "train", "mapper", "image_format"), MODEL + ("input_format",)]
    written = [p for p in format_paths if cfg.get(p) is not None]
    order = None
    if written:
        order = shared.channel_order(cfg.get(written[0]))
        cfg.derive("input.channel_order", order, written[0])
        shared.add_disagreement(
            cfg.model, "input.channel_order",
            [(native_key(p), shared.channel_order(cfg.get(p)), cfg.location(p)) for p in written],
            "the model's input_format should name the channel order the data loader produces")
    cfg.arg("input.pixel_mean", MODEL + ("pixel_mean",), convert=lambda v: shared.rgb_order(v, order))
    cfg.arg("input.pixel_std", MODEL + ("pixel_std",), convert=lambda v: shared.rgb_order(v, order))
    _train_resize(cfg)
    _test_resize(cfg)


def _augmentations(cfg: _LazyWriter, split: str) -> Optional[List[KeyPath]]:
    """Paths of the augmentations of dataloader.<split>.mapper, None when there is no such list."""
    path = ("dataloader", split, "mapper", "augmentations")
    augs = cfg.get(path)
    if not isinstance(augs, list):
        return None
    return [path + (i,) for i in range(len(augs))]


def _find(cfg: _LazyWriter, augs: List[KeyPath], name: str) -> Optional[KeyPath]:
    return next((p for p in augs if cfg.target(p) == name), None)


def _train_resize(cfg: _LazyWriter) -> None:
    augs = _augmentations(cfg, "train")
    resize = _find(cfg, augs or [], "ResizeShortestEdge")
    if resize is None:
        return  # e.g. LSJ's ResizeScale + FixedSizeCrop: no short-edge resize to describe
    style = cfg.get(resize + ("sample_style",), "range")
    cfg.arg("train.resize.short_edge", resize + ("short_edge_length",),
            convert=lambda sizes: shared.short_edges(sizes, style))
    cfg.arg("train.resize.sampling", resize + ("sample_style",), default="range")
    cfg.arg("train.resize.max_size", resize + ("max_size",), default=None)  # sys.maxsize: no cap


def _test_resize(cfg: _LazyWriter) -> None:
    augs = _augmentations(cfg, "test")
    if augs is None:
        return
    resize = _find(cfg, augs, "ResizeShortestEdge")
    if resize is not None:
        cfg.arg("test.resize.short_edge", resize + ("short_edge_length",), convert=_single_size)
        cfg.arg("test.resize.max_size", resize + ("max_size",), default=None)  # sys.maxsize: no cap
        cfg.derive("test.resize.keep_ratio", True, resize + ("_target_",))
        return
    fixed = _find(cfg, augs, "Resize")
    if fixed is not None:  # T.Resize(shape) stretches to a fixed size
        cfg.derive("test.resize.keep_ratio", False, fixed + ("_target_",))
    else:
        cfg.derive("test.resize.short_edge", 0, ("dataloader", "test", "mapper", "augmentations"))


def _single_size(value: Any) -> Any:
    """A test-time short edge: (800, 800) and [800] are the one size 800."""
    if isinstance(value, (list, tuple)) and value and all(v == value[0] for v in value):
        return value[0]
    return value


def _detection(cfg: _LazyWriter, meta_arch: str) -> None:
    if meta_arch in shared.ROI_META_ARCHS:
        cfg.arg("num_classes", ROI_HEADS + ("num_classes",))
        predictor = _final_predictor(cfg)
        cfg.arg("test.score_thresh", predictor + ("test_score_thresh",), default=0.0)
        cfg.arg("test.nms_iou", predictor + ("test_nms_thresh",), default=0.5)
        cfg.arg("test.max_detections", predictor + ("test_topk_per_image",), default=100)
        _heads_agree(cfg, ROI_HEADS, ["box_predictor", "box_predictors", "mask_head"])
    elif meta_arch in _DENSE_TEST_DEFAULTS:
        score, nms, topk = _DENSE_TEST_DEFAULTS[meta_arch]
        cfg.arg("num_classes", MODEL + ("num_classes",))
        cfg.arg("test.score_thresh", MODEL + ("test_score_thresh",), default=score)
        cfg.arg("test.nms_iou", MODEL + ("test_nms_thresh",), default=nms)
        cfg.arg("test.max_detections", MODEL + ("max_detections_per_image",), default=topk)
        cfg.arg("heads.bbox_reg_weights", MODEL + ("box2box_transform", "weights"), convert=shared.floats)
        _anchors(cfg, MODEL + ("anchor_generator",))
        _heads_agree(cfg, MODEL, ["head"])
    elif meta_arch == "ProposalNetwork":
        cfg.arg("test.nms_iou", PROPOSALS + ("nms_thresh",), default=0.7)
        cfg.arg("test.max_detections", PROPOSALS + ("post_nms_topk", 1))
    if cfg.target(PROPOSALS) in _RPN_TARGETS:
        cfg.arg("test.rpn.nms_iou", PROPOSALS + ("nms_thresh",), default=0.7)
        cfg.arg("test.rpn.pre_nms_topk", PROPOSALS + ("pre_nms_topk", 1))  # (train, test)
        cfg.arg("test.rpn.post_nms_topk", PROPOSALS + ("post_nms_topk", 1))
        _anchors(cfg, PROPOSALS + ("anchor_generator",))


def _anchors(cfg: _LazyWriter, generator: KeyPath) -> None:
    if _has_node(cfg, generator):
        cfg.arg("anchors.sizes", generator + ("sizes",), convert=shared.anchor_levels)
        cfg.arg("anchors.aspect_ratios", generator + ("aspect_ratios",), convert=shared.anchor_levels)


def _heads_agree(cfg: _LazyWriter, owner: KeyPath, heads: List[str]) -> None:
    """Every head's num_classes (usually "${..num_classes}") must equal its owner's."""
    entries = [(native_key(owner + ("num_classes",)), cfg.get(owner + ("num_classes",)),
                cfg.location(owner + ("num_classes",)))]
    for name in heads:
        node = cfg.get(owner + (name,))
        paths = [owner + (name, i) for i in range(len(node))] if isinstance(node, list) else [owner + (name,)]
        for path in paths:
            if cfg.has(path + ("num_classes",)):
                key = path + ("num_classes",)
                entries.append((native_key(key), cfg.get(key), cfg.location(key)))
    shared.add_disagreement(cfg.model, "num_classes", entries,
                            "every head must predict the same foreground classes")
