"""YACS (``CfgNode``) configs -> common model.

The resolved data is the whole merged CfgNode, defaults included, so every key exists; what takes
care is *which* key the built model actually reads (detectron2/config/defaults.py and the
``from_config`` of each module):

* RetinaNet reads MODEL.RETINANET.{NUM_CLASSES, SCORE_THRESH_TEST, NMS_THRESH_TEST} and ignores
  MODEL.ROI_HEADS.*; a ProposalNetwork has no classes and its final NMS is the RPN's.
* A SemanticSegmentor has no detection head: detection fields are None.
* MODEL.PIXEL_MEAN/STD are listed in INPUT.FORMAT order; the common model lists them in RGB order.
* BACKBONE.FREEZE_AT counts the stem as stage 1; MMDetection's frozen_stages counts it as 0, so
  backbone.frozen_stages = FREEZE_AT - 1 (FREEZE_AT 2 = stem + res2 frozen = frozen_stages 1).
* Masks are binarized at 0.5 by ``detector_postprocess``; no key changes it, so test.mask_thresh
  is 0.5 (as a default) whenever there is a mask head.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from cfglint.adapters.detectron2 import normalize_shared as shared
from cfglint.adapters.normalize_common import Writer
from cfglint.errors import CfglintError

#: Proposal generators that run an RPN at test time (and so have RPN.* test settings).
_RPN_GENERATORS = ("RPN", "RRPN", "TridentRPN")


class _YacsWriter:
    """Writes fields from dotted CfgNode keys ('MODEL.ROI_HEADS.NUM_CLASSES')."""

    def __init__(self, writer: Writer):
        self.writer = writer
        self.model = writer.model

    def value(self, key: str) -> Any:
        return self.writer.get(tuple(key.split(".")))

    def location(self, key: str):
        return self.writer.resolved.location_of(tuple(key.split(".")))

    def copy(self, field: str, key: str, convert: Optional[Callable[[Any], Any]] = None) -> None:
        """field := (convert of) the value of `key`, provenance `key`."""
        value = self.value(key)
        if convert:
            value = shared.convert_value(convert, value, key, field, self.location(key))
        self.derive(field, value, key)

    def derive(self, field: str, value: Any, key: str) -> None:
        """field := a value computed from the config, provenance the key that decided it."""
        self.writer.put(field, value, tuple(key.split(".")))

    def fixed(self, field: str, value: Any, native_key: str) -> None:
        """field := a value the framework hard-codes (no key can change it)."""
        self.model.set(field, value, native_key, None)


#: Keys detectron2 looks up in a registry; YACS lets any of them be None, the registry does not.
_REGISTRY_NAME_KEYS = ("MODEL.META_ARCHITECTURE", "MODEL.ROI_HEADS.NAME", "MODEL.ROI_MASK_HEAD.NAME",
                       "MODEL.PROPOSAL_GENERATOR.NAME", "MODEL.BACKBONE.NAME")


def _check_registry_names(cfg: _YacsWriter) -> None:
    for key in _REGISTRY_NAME_KEYS:
        value = cfg.value(key)
        if not isinstance(value, str):
            loc = cfg.location(key)
            raise CfglintError(f"{key} must name a registered class, got {value!r:.80}",
                               loc.file if loc else None, loc.line if loc else None)


def fill(writer: Writer) -> None:
    cfg = _YacsWriter(writer)
    _check_registry_names(cfg)
    meta_arch = cfg.value("MODEL.META_ARCHITECTURE")
    has_roi_heads = meta_arch in shared.ROI_META_ARCHS
    _arch_and_heads(cfg, meta_arch, has_roi_heads)
    _backbone(cfg)
    _input(cfg)
    _detection(cfg, meta_arch, has_roi_heads)
    cfg.copy("weights", "MODEL.WEIGHTS", shared.weights_path)
    # `classes` stays None: a YAML names datasets, never their class names.
    _num_classes_agreement(cfg, meta_arch)


def _arch_and_heads(cfg: _YacsWriter, meta_arch: str, has_roi_heads: bool) -> None:
    mask = bool(cfg.value("MODEL.MASK_ON")) and has_roi_heads
    keypoint = bool(cfg.value("MODEL.KEYPOINT_ON")) and has_roi_heads
    family, decided_by = shared.detector_family(
        meta_arch, roi_heads=cfg.value("MODEL.ROI_HEADS.NAME"), mask=mask, keypoint=keypoint,
        mask_head=cfg.value("MODEL.ROI_MASK_HEAD.NAME"), proposals=cfg.value("MODEL.PROPOSAL_GENERATOR.NAME"))
    cfg.derive("arch", family, {
        "meta_arch": "MODEL.META_ARCHITECTURE", "roi_heads": "MODEL.ROI_HEADS.NAME", "mask": "MODEL.MASK_ON",
        "keypoint": "MODEL.KEYPOINT_ON", "mask_head": "MODEL.ROI_MASK_HEAD.NAME",
        "proposals": "MODEL.PROPOSAL_GENERATOR.NAME"}[decided_by])
    # Without ROI heads MASK_ON/KEYPOINT_ON are ignored: the meta-architecture decides.
    cfg.derive("heads.mask", mask, "MODEL.MASK_ON" if has_roi_heads else "MODEL.META_ARCHITECTURE")
    cfg.derive("heads.keypoint", keypoint, "MODEL.KEYPOINT_ON" if has_roi_heads else "MODEL.META_ARCHITECTURE")
    if mask:
        cfg.fixed("test.mask_thresh", shared.MASK_THRESHOLD, shared.MASK_THRESHOLD_KEY)
    if not has_roi_heads:
        return
    cfg.copy("heads.cls_agnostic_bbox_reg", "MODEL.ROI_BOX_HEAD.CLS_AGNOSTIC_BBOX_REG")
    if cfg.value("MODEL.ROI_HEADS.NAME") == "CascadeROIHeads":
        # The last stage's box coder decodes the final boxes.
        cfg.copy("heads.bbox_reg_weights", "MODEL.ROI_BOX_CASCADE_HEAD.BBOX_REG_WEIGHTS",
                 lambda stages: shared.floats(stages[-1]))
        cfg.copy("heads.num_stages", "MODEL.ROI_BOX_CASCADE_HEAD.IOUS", len)
    else:
        cfg.copy("heads.bbox_reg_weights", "MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS", shared.floats)
        cfg.derive("heads.num_stages", 1, "MODEL.ROI_HEADS.NAME")


def _backbone(cfg: _YacsWriter) -> None:
    builder = cfg.value("MODEL.BACKBONE.NAME") or ""
    if "resnet" in builder:  # build_resnet_*, build_retinanet_resnet_fpn_*, deeplab, trident
        cfg.copy("backbone.type", "MODEL.RESNETS.NUM_GROUPS", shared.backbone_family)
        cfg.copy("backbone.depth", "MODEL.RESNETS.DEPTH")
        cfg.copy("backbone.style", "MODEL.RESNETS.STRIDE_IN_1X1", shared.stride_style)
        cfg.copy("backbone.norm", "MODEL.RESNETS.NORM")
        cfg.copy("backbone.groups", "MODEL.RESNETS.NUM_GROUPS")
        cfg.copy("backbone.width_per_group", "MODEL.RESNETS.WIDTH_PER_GROUP")
        cfg.copy("backbone.dilation", "MODEL.RESNETS.RES5_DILATION")
    cfg.copy("backbone.frozen_stages", "MODEL.BACKBONE.FREEZE_AT", lambda at: at - 1)
    if "fpn" in builder:
        cfg.derive("neck.type", "FPN", "MODEL.BACKBONE.NAME")
        cfg.copy("neck.out_channels", "MODEL.FPN.OUT_CHANNELS")
    else:
        cfg.derive("neck.type", None, "MODEL.BACKBONE.NAME")


def _input(cfg: _YacsWriter) -> None:
    order = shared.channel_order(cfg.value("INPUT.FORMAT"))
    cfg.derive("input.channel_order", order, "INPUT.FORMAT")
    cfg.copy("input.pixel_mean", "MODEL.PIXEL_MEAN", lambda v: shared.rgb_order(v, order))
    cfg.copy("input.pixel_std", "MODEL.PIXEL_STD", lambda v: shared.rgb_order(v, order))
    sampling = cfg.value("INPUT.MIN_SIZE_TRAIN_SAMPLING")
    cfg.copy("train.resize.short_edge", "INPUT.MIN_SIZE_TRAIN", lambda v: shared.short_edges(v, sampling))
    cfg.copy("train.resize.sampling", "INPUT.MIN_SIZE_TRAIN_SAMPLING")
    cfg.copy("train.resize.max_size", "INPUT.MAX_SIZE_TRAIN")
    cfg.copy("test.resize.short_edge", "INPUT.MIN_SIZE_TEST")
    cfg.copy("test.resize.max_size", "INPUT.MAX_SIZE_TEST")
    cfg.fixed("test.resize.keep_ratio", True, "ResizeShortestEdge")


def _detection(cfg: _YacsWriter, meta_arch: str, has_roi_heads: bool) -> None:
    proposals = cfg.value("MODEL.PROPOSAL_GENERATOR.NAME")
    has_rpn = (has_roi_heads or meta_arch == "ProposalNetwork") and proposals in _RPN_GENERATORS
    if has_roi_heads:
        cfg.copy("num_classes", "MODEL.ROI_HEADS.NUM_CLASSES")
        cfg.copy("test.score_thresh", "MODEL.ROI_HEADS.SCORE_THRESH_TEST")
        cfg.copy("test.nms_iou", "MODEL.ROI_HEADS.NMS_THRESH_TEST")
        cfg.copy("test.max_detections", "TEST.DETECTIONS_PER_IMAGE")
    elif meta_arch == "RetinaNet":
        cfg.copy("num_classes", "MODEL.RETINANET.NUM_CLASSES")
        cfg.copy("test.score_thresh", "MODEL.RETINANET.SCORE_THRESH_TEST")
        cfg.copy("test.nms_iou", "MODEL.RETINANET.NMS_THRESH_TEST")
        cfg.copy("test.max_detections", "TEST.DETECTIONS_PER_IMAGE")
        cfg.copy("heads.bbox_reg_weights", "MODEL.RETINANET.BBOX_REG_WEIGHTS", shared.floats)
    elif meta_arch == "ProposalNetwork":
        # The proposals are the detections: class-agnostic, kept by the RPN's own NMS and top-k.
        cfg.copy("test.nms_iou", "MODEL.RPN.NMS_THRESH")
        cfg.copy("test.max_detections", "MODEL.RPN.POST_NMS_TOPK_TEST")
        cfg.copy("heads.bbox_reg_weights", "MODEL.RPN.BBOX_REG_WEIGHTS", shared.floats)
    if has_rpn:
        cfg.copy("test.rpn.nms_iou", "MODEL.RPN.NMS_THRESH")
        cfg.copy("test.rpn.pre_nms_topk", "MODEL.RPN.PRE_NMS_TOPK_TEST")
        cfg.copy("test.rpn.post_nms_topk", "MODEL.RPN.POST_NMS_TOPK_TEST")
    if has_rpn or meta_arch == "RetinaNet":
        cfg.copy("anchors.sizes", "MODEL.ANCHOR_GENERATOR.SIZES", shared.anchor_levels)
        cfg.copy("anchors.aspect_ratios", "MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS", shared.anchor_levels)


def _num_classes_agreement(cfg: _YacsWriter, meta_arch: str) -> None:
    """PointRend's point head predicts the same classes as the head it refines.

    (ROI_HEADS vs SEM_SEG_HEAD.NUM_CLASSES in PanopticFPN is *not* a disagreement: things vs stuff.)
    """
    if cfg.value("MODEL.POINT_HEAD.NUM_CLASSES") is None:
        return
    if meta_arch in shared.ROI_META_ARCHS and cfg.value("MODEL.MASK_ON") \
            and cfg.value("MODEL.ROI_MASK_HEAD.NAME") in shared.POINTREND_MASK_HEADS:
        refined = "MODEL.ROI_HEADS.NUM_CLASSES"
    elif cfg.value("MODEL.SEM_SEG_HEAD.NAME") == "PointRendSemSegHead":
        refined = "MODEL.SEM_SEG_HEAD.NUM_CLASSES"
    else:
        return
    keys = (refined, "MODEL.POINT_HEAD.NUM_CLASSES")
    shared.add_disagreement(cfg.model, "num_classes", [(k, cfg.value(k), cfg.location(k)) for k in keys],
                            "PointRend's point head must predict the classes of the head it refines")
