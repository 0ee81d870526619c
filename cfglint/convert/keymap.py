"""State-dict names and layouts, Detectron2 <-> MMDetection (ResNet/ResNeXt + FPN detectors).

The rename is written once, Detectron2 -> mmdet (:func:`d2_to_mmdet_names`, the rules of
notes/mmdetection.md §5.3); mmdet -> Detectron2 walks the Detectron2 keys the converted config
expects and pulls each from its mmdet name, so both directions share one table.

Layout facts checked against the frameworks' source:

* Background class: both put it last (D2 ``fast_rcnn.py`` cls_score has K+1 outputs with
  background K; mmdet ``bbox_head`` ``bg_class_ind = num_classes``): ``fc_cls`` copies as is.
* Box regression: both lay class-specific deltas out as ``class * 4 + coordinate`` (D2
  ``bbox_pred`` viewed as (N, K, 4); mmdet ``fc_reg`` as (N, K, 4)); no transform.
* Anchors per location: same set, different order (:mod:`cfglint.convert.anchors`). RPN and
  RetinaNet outputs are grouped per anchor (D2 views (N, A, C, H, W); mmdet permutes to
  (N, H, W, A*C) and reshapes to (-1, C)), so their output channels are permuted block-wise.
* Batch norm: D2 FrozenBN has no ``num_batches_tracked``; mmdet BN does (filled with 0, which
  mmdet's own loader would also tolerate as missing). mmdet -> FrozenBN drops it.
* FPN: ``fpn_lateral{s}`` / ``fpn_output{s}`` index from the first FPN input stage; RetinaNet's
  ``top_block.p6/p7`` are mmdet's extra ``fpn_convs`` after the lateral levels.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from cfglint.convert.anchors import d2_to_mmdet_anchor_order, mmdet_to_d2_anchor_order


@dataclass(frozen=True)
class Layout:
    """What the rename needs to know about the Detectron2-side model."""

    first_fpn_stage: int        # 2 for R-CNN (res2..res5), 3 for RetinaNet (res3..res5)
    fpn_levels: int             # number of FPN lateral levels
    norm: str                   # RESNETS.NORM
    mask_stages: int = 0        # mmdet mask heads a D2 mask head maps to (cascade: one per stage)
    num_sizes: int = 1          # anchor sizes per location
    num_ratios: int = 3         # anchor aspect ratios per location


_DROP = re.compile(r"^(pixel_mean|pixel_std|proposal_generator\.anchor_generator\..*|anchor_generator\..*)$")

_RULES: List[Tuple[re.Pattern, str]] = [(re.compile(p), t) for p, t in [
    (r"^backbone\.bottom_up\.stem\.conv1\.weight$", "backbone.conv1.weight"),
    (r"^backbone\.bottom_up\.stem\.conv1\.norm\.(\w+)$", r"backbone.{norm}1.\1"),
    (r"^backbone\.bottom_up\.res(\d)\.(\d+)\.conv(\d)\.weight$", r"backbone.layer{s-1:\1}.\2.conv\3.weight"),
    (r"^backbone\.bottom_up\.res(\d)\.(\d+)\.conv(\d)\.norm\.(\w+)$", r"backbone.layer{s-1:\1}.\2.{norm}\3.\4"),
    (r"^backbone\.bottom_up\.res(\d)\.(\d+)\.shortcut\.weight$", r"backbone.layer{s-1:\1}.\2.downsample.0.weight"),
    (r"^backbone\.bottom_up\.res(\d)\.(\d+)\.shortcut\.norm\.(\w+)$", r"backbone.layer{s-1:\1}.\2.downsample.1.\3"),
    (r"^backbone\.fpn_lateral(\d)\.(\w+)$", r"neck.lateral_convs.{fpn:\1}.conv.\2"),
    (r"^backbone\.fpn_output(\d)\.(\w+)$", r"neck.fpn_convs.{fpn:\1}.conv.\2"),
    (r"^backbone\.top_block\.p6\.(\w+)$", r"neck.fpn_convs.{extra:0}.conv.\1"),
    (r"^backbone\.top_block\.p7\.(\w+)$", r"neck.fpn_convs.{extra:1}.conv.\1"),
    (r"^proposal_generator\.rpn_head\.conv\.(\w+)$", r"rpn_head.rpn_conv.\1"),
    (r"^proposal_generator\.rpn_head\.objectness_logits\.(\w+)$", r"rpn_head.rpn_cls.\1"),
    (r"^proposal_generator\.rpn_head\.anchor_deltas\.(\w+)$", r"rpn_head.rpn_reg.\1"),
    (r"^roi_heads\.box_head\.((?:\d+\.)?)fc(\d)\.(\w+)$", r"roi_head.bbox_head.\1shared_fcs.{k-1:\2}.\3"),
    (r"^roi_heads\.box_predictor\.((?:\d+\.)?)cls_score\.(\w+)$", r"roi_head.bbox_head.\1fc_cls.\2"),
    (r"^roi_heads\.box_predictor\.((?:\d+\.)?)bbox_pred\.(\w+)$", r"roi_head.bbox_head.\1fc_reg.\2"),
    (r"^roi_heads\.mask_head\.mask_fcn(\d)\.(\w+)$", r"roi_head.mask_head.{stage}convs.{k-1:\1}.conv.\2"),
    (r"^roi_heads\.mask_head\.deconv\.(\w+)$", r"roi_head.mask_head.{stage}upsample.\1"),
    (r"^roi_heads\.mask_head\.predictor\.(\w+)$", r"roi_head.mask_head.{stage}conv_logits.\1"),
    (r"^head\.cls_subnet\.(\d+)\.(\w+)$", r"bbox_head.cls_convs.{half:\1}.conv.\2"),
    (r"^head\.bbox_subnet\.(\d+)\.(\w+)$", r"bbox_head.reg_convs.{half:\1}.conv.\2"),
    (r"^head\.cls_score\.(\w+)$", r"bbox_head.retina_cls.\1"),
    (r"^head\.bbox_pred\.(\w+)$", r"bbox_head.retina_reg.\1"),
]]
_PLACEHOLDER = re.compile(r"\{(s-1|fpn|extra|k-1|half):(\d+)\}")

# Output convolutions whose channels are grouped per anchor (Detectron2 names).
_PER_ANCHOR = re.compile(r"^(proposal_generator\.rpn_head\.(objectness_logits|anchor_deltas)"
                         r"|head\.(cls_score|bbox_pred))\.(weight|bias)$")


def d2_to_mmdet_names(d2_key: str, layout: Layout) -> Optional[List[str]]:
    """The mmdet key(s) a Detectron2 key becomes: [] = dropped on purpose, None = unknown key."""
    if _DROP.match(d2_key):
        return []
    for pattern, template in _RULES:
        match = pattern.match(d2_key)
        if match:
            name = match.expand(template).replace("{norm}", "gn" if layout.norm == "GN" else "bn")
            name = _PLACEHOLDER.sub(lambda m: str(_index(m.group(1), int(m.group(2)), layout)), name)
            if "{stage}" in name:
                stages = [f"{i}." for i in range(layout.mask_stages)] if layout.mask_stages else [""]
                return [name.replace("{stage}", stage) for stage in stages]
            return [name]
    return None


def _index(kind: str, value: int, layout: Layout) -> int:
    if kind == "s-1":
        return value - 1
    if kind == "fpn":
        return value - layout.first_fpn_stage
    if kind == "extra":
        return layout.fpn_levels + value
    if kind == "k-1":
        return value - 1
    return value // 2       # Sequential(conv, ReLU, conv, ReLU, ...): conv i sits at 2*i


def anchor_permutation(d2_key: str, layout: Layout, to_mmdet: bool) -> Optional[List[int]]:
    """The per-anchor block order for the output conv `d2_key`, or None when no permutation applies."""
    if not _PER_ANCHOR.match(d2_key) or layout.num_sizes == 1 or layout.num_ratios == 1:
        return None
    if to_mmdet:
        return d2_to_mmdet_anchor_order(layout.num_sizes, layout.num_ratios)
    return mmdet_to_d2_anchor_order(layout.num_sizes, layout.num_ratios)


def layout_of(d2_cfg: dict, mask_stages: int = 0) -> Layout:
    """The Layout of a resolved Detectron2 config (the source, or the converted target)."""
    model = d2_cfg["MODEL"]
    retina = model["META_ARCHITECTURE"] == "RetinaNet"
    sizes = model["ANCHOR_GENERATOR"]["SIZES"]
    ratios = model["ANCHOR_GENERATOR"]["ASPECT_RATIOS"]
    in_features = model["FPN"]["IN_FEATURES"]
    return Layout(first_fpn_stage=int(in_features[0][-1]), fpn_levels=len(in_features),
                  norm=model["RESNETS"]["NORM"], mask_stages=mask_stages,
                  num_sizes=len(sizes[0]), num_ratios=len(ratios[0]))
