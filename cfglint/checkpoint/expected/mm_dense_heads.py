"""MMDetection dense heads: RPNHead, RetinaHead (and FSAFHead), FCOSHead, ATSSHead, GFLHead.

Mirrors mmdet/models/dense_heads/{anchor_head,rpn_head,retina_head,anchor_free_head,fcos_head,
atss_head,fsaf_head,gfl_head}.py. Channels come from the head's own config (mmdet never infers them from the neck).
"""
from __future__ import annotations

from typing import Optional

from cfglint.checkpoint.expected.layers import Layer, UnsupportedArchitecture, concat, conv, prefixed
from cfglint.checkpoint.expected.mm_layers import conv_module

GN32 = {"type": "GN", "num_groups": 32, "requires_grad": True}
FOCAL = {"type": "FocalLoss", "use_sigmoid": True}


def anchors_per_location(anchor_cfg: dict) -> int:
    """`AnchorGenerator.num_base_priors[0]`: ratios x scales (or x scales_per_octave)."""
    if anchor_cfg.get("type") != "AnchorGenerator":
        raise UnsupportedArchitecture(f"anchor generator {anchor_cfg.get('type')} is not modelled")
    scales = anchor_cfg.get("scales")
    count = len(scales) if scales is not None else anchor_cfg["scales_per_octave"]
    return len(anchor_cfg["ratios"]) * count


def class_channels(cfg: dict, default_loss: Optional[dict] = None) -> int:
    """num_classes with a sigmoid classifier, num_classes + 1 with softmax (`use_sigmoid_cls`)."""
    loss = cfg.get("loss_cls", default_loss or {})
    return cfg["num_classes"] + (0 if loss.get("use_sigmoid", False) else 1)


def _stacked_convs(cfg: dict, norm_cfg: Optional[dict], dcn_on_last: bool = False) -> Layer:
    """`cls_convs` then `reg_convs`, each `stacked_convs` ConvModules."""
    in_ch, feat = cfg["in_channels"], cfg.get("feat_channels", 256)
    n = cfg.get("stacked_convs", 4)
    out: Layer = []
    for branch in ("cls_convs", "reg_convs"):
        for i in range(n):
            conv_cfg = {"type": "DCNv2"} if dcn_on_last and i == n - 1 else cfg.get("conv_cfg")
            bias = cfg.get("conv_bias", "auto")
            out += prefixed(f"{branch}.{i}", conv_module(in_ch if i == 0 else feat, feat, 3, norm_cfg, conv_cfg, bias))
    return out


def rpn_head(cfg: dict) -> Layer:
    in_ch, feat = cfg["in_channels"], cfg.get("feat_channels", 256)
    anchors = anchors_per_location(cfg["anchor_generator"])
    cls_ch = class_channels(cfg, {"use_sigmoid": True})
    num_convs = cfg.get("num_convs", 1)
    if num_convs > 1:
        convs = concat(*[prefixed(f"rpn_conv.{i}", conv_module(in_ch if i == 0 else feat, feat, 3))
                         for i in range(num_convs)])
    else:
        convs = prefixed("rpn_conv", conv(feat, in_ch, 3))
    return concat(convs, prefixed("rpn_cls", conv(anchors * cls_ch, feat, 1)),
                  prefixed("rpn_reg", conv(anchors * 4, feat, 1)))


def retina_head(cfg: dict) -> Layer:
    feat = cfg.get("feat_channels", 256)
    anchors = anchors_per_location(cfg["anchor_generator"])
    return concat(_stacked_convs(cfg, cfg.get("norm_cfg")),
                  prefixed("retina_cls", conv(anchors * class_channels(cfg, FOCAL), feat, 3)),
                  prefixed("retina_reg", conv(anchors * 4, feat, 3)))


def fcos_head(cfg: dict) -> Layer:
    feat = cfg.get("feat_channels", 256)
    strides = cfg.get("strides", (4, 8, 16, 32, 64))
    return concat(_stacked_convs(cfg, cfg.get("norm_cfg", GN32), cfg.get("dcn_on_last_conv", False)),
                  prefixed("conv_cls", conv(class_channels(cfg, FOCAL), feat, 3)),
                  prefixed("conv_reg", conv(4, feat, 3)),
                  prefixed("conv_centerness", conv(1, feat, 3)),
                  [(f"scales.{i}.scale", ()) for i in range(len(strides))])


def atss_head(cfg: dict) -> Layer:
    feat = cfg.get("feat_channels", 256)
    anchors = anchors_per_location(cfg["anchor_generator"])
    kernel = cfg.get("pred_kernel_size", 3)
    levels = len(cfg["anchor_generator"]["strides"])
    return concat(_stacked_convs(cfg, cfg.get("norm_cfg", GN32)),
                  prefixed("atss_cls", conv(anchors * class_channels(cfg, FOCAL), feat, kernel)),
                  prefixed("atss_reg", conv(anchors * 4, feat, kernel)),
                  prefixed("atss_centerness", conv(anchors, feat, kernel)),
                  [(f"scales.{i}.scale", ()) for i in range(levels)])


def gfl_head(cfg: dict) -> Layer:
    """GFLHead: one anchor per location, a distribution of reg_max + 1 bins per box side."""
    feat = cfg.get("feat_channels", 256)
    if anchors_per_location(cfg["anchor_generator"]) != 1:
        raise UnsupportedArchitecture("GFLHead needs exactly one anchor per location")
    bins = cfg.get("reg_max", 16) + 1
    levels = len(cfg["anchor_generator"]["strides"])
    return concat(_stacked_convs(cfg, cfg.get("norm_cfg", GN32)),
                  prefixed("gfl_cls", conv(class_channels(cfg, FOCAL), feat, 3)),
                  prefixed("gfl_reg", conv(4 * bins, feat, 3)),
                  [(f"scales.{i}.scale", ()) for i in range(levels)],
                  [("integral.project", (bins,))])


# FSAFHead is a RetinaHead with other anchors, coder and losses: same layers.
DENSE_HEADS = {"RPNHead": rpn_head, "RetinaHead": retina_head, "FSAFHead": retina_head, "FCOSHead": fcos_head,
               "ATSSHead": atss_head, "GFLHead": gfl_head}


def dense_head(cfg: dict) -> Layer:
    kind = cfg.get("type")
    if kind not in DENSE_HEADS:
        raise UnsupportedArchitecture(f"dense head {kind} is not modelled")
    return DENSE_HEADS[kind](cfg)


def describe(cfg: dict) -> str:
    """The config-level explanation of a dense head's keys."""
    kind = cfg.get("type")
    detail = f"num_classes={cfg.get('num_classes')}"
    if "anchor_generator" in cfg and kind != "FCOSHead":
        detail += f", {anchors_per_location(cfg['anchor_generator'])} anchors per location from anchor_generator"
    return f"{kind} ({detail})"
