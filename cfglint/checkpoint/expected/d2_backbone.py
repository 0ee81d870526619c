"""Detectron2 backbones: ResNet/ResNeXt (optionally deformable), FPN, RetinaNet FPN.

Mirrors detectron2/modeling/backbone/{resnet,fpn}.py `build_*_backbone`; each builder adds its
keys and returns the output features as {name: (channels, stride)}, as `output_shape()` would.
"""
from __future__ import annotations

import math
from typing import Dict, List, Tuple

from cfglint.checkpoint.expected.layers import (RESNET_BLOCKS, ExpectedStateDict, Layer, UnsupportedArchitecture,
                                                affine_only, batch_norm, concat, conv, frozen_batch_norm, prefixed)

Features = Dict[str, Tuple[int, int]]

_BN_KINDS = ("BN", "SyncBN", "nnSyncBN", "naiveSyncBN", "naiveSyncBN_N")


def norm(kind: str, channels: int) -> Layer:
    """`detectron2.layers.get_norm(kind, channels)` as state-dict entries."""
    if not kind:
        return []
    if kind == "FrozenBN":
        return frozen_batch_norm(channels)
    if kind in _BN_KINDS:
        return batch_norm(channels)
    if kind in ("GN", "LN"):
        return affine_only(channels)
    raise UnsupportedArchitecture(f"norm {kind!r} is not modelled")


def conv_norm(out_ch: int, in_ch: int, kernel: int, norm_kind: str, groups: int = 1, bias: bool = False) -> Layer:
    """detectron2.layers.Conv2d with its `norm` child."""
    return concat(conv(out_ch, in_ch, kernel, groups=groups, bias=bias), prefixed("norm", norm(norm_kind, out_ch)))


def bottleneck(in_ch: int, bottleneck_ch: int, out_ch: int, groups: int, norm_kind: str,
               deform: bool = False, modulated: bool = False, deform_groups: int = 1) -> Layer:
    """BottleneckBlock / DeformBottleneckBlock (shortcut, conv1, [conv2_offset], conv2, conv3)."""
    layer: Layer = []
    if in_ch != out_ch:
        layer += prefixed("shortcut", conv_norm(out_ch, in_ch, 1, norm_kind))
    layer += prefixed("conv1", conv_norm(bottleneck_ch, in_ch, 1, norm_kind))
    if deform:
        offsets = (27 if modulated else 18) * deform_groups
        layer += prefixed("conv2_offset", conv(offsets, bottleneck_ch, 3))
    layer += prefixed("conv2", conv_norm(bottleneck_ch, bottleneck_ch, 3, norm_kind, groups=groups))
    layer += prefixed("conv3", conv_norm(out_ch, bottleneck_ch, 1, norm_kind))
    return layer


def basic_block(in_ch: int, out_ch: int, norm_kind: str) -> Layer:
    layer: Layer = []
    if in_ch != out_ch:
        layer += prefixed("shortcut", conv_norm(out_ch, in_ch, 1, norm_kind))
    layer += prefixed("conv1", conv_norm(out_ch, in_ch, 3, norm_kind))
    layer += prefixed("conv2", conv_norm(out_ch, out_ch, 3, norm_kind))
    return layer


def resnet(sd: ExpectedStateDict, model: dict, prefix: str) -> Features:
    """`build_resnet_backbone`: stem + res2..resN where N is the deepest of RESNETS.OUT_FEATURES."""
    r = model["RESNETS"]
    depth, norm_kind = r["DEPTH"], r["NORM"]
    if depth not in RESNET_BLOCKS:
        raise UnsupportedArchitecture(f"MODEL.RESNETS.DEPTH={depth} is not a ResNet depth")
    stem_ch = r["STEM_OUT_CHANNELS"]
    sd.add(f"ResNet stem (MODEL.RESNETS.STEM_OUT_CHANNELS={stem_ch}, MODEL.RESNETS.NORM={norm_kind})",
           f"{prefix}stem", prefixed("conv1", conv_norm(stem_ch, len(model["PIXEL_MEAN"]), 7, norm_kind)))
    features: Features = {"stem": (stem_ch, 4)}
    stage_of = {"res2": 2, "res3": 3, "res4": 4, "res5": 5}
    last_stage = max([stage_of.get(f, 0) for f in r["OUT_FEATURES"]] + [0])
    in_ch, out_ch, groups = stem_ch, r["RES2_OUT_CHANNELS"], r["NUM_GROUPS"]
    bottleneck_ch = groups * r["WIDTH_PER_GROUP"]
    stride = 4
    for idx, stage in enumerate(range(2, last_stage + 1)):
        dilated = stage == 5 and r["RES5_DILATION"] == 2
        if idx > 0 and not dilated:
            stride *= 2
        deform = bool(r["DEFORM_ON_PER_STAGE"][idx])
        blocks: Layer = []
        for b in range(RESNET_BLOCKS[depth][idx]):
            block_in = in_ch if b == 0 else out_ch
            if depth in (18, 34):
                block = basic_block(block_in, out_ch, norm_kind)
            else:
                block = bottleneck(block_in, bottleneck_ch, out_ch, groups, norm_kind, deform,
                                   r["DEFORM_MODULATED"], r["DEFORM_NUM_GROUPS"])
            blocks += prefixed(str(b), block)
        detail = f"MODEL.RESNETS.DEPTH={depth}, MODEL.RESNETS.NORM={norm_kind}"
        if groups > 1:
            detail += f", MODEL.RESNETS.NUM_GROUPS={groups}"
        if deform:
            detail += ", MODEL.RESNETS.DEFORM_ON_PER_STAGE"
        sd.add(f"res{stage} stage ({detail})", f"{prefix}res{stage}", blocks)
        features[f"res{stage}"] = (out_ch, stride)
        in_ch, out_ch, bottleneck_ch = out_ch, out_ch * 2, bottleneck_ch * 2
    return features


def fpn(sd: ExpectedStateDict, model: dict, prefix: str, retinanet_top: bool) -> Features:
    """`build_resnet_fpn_backbone` / `build_retinanet_resnet_fpn_backbone` (LastLevelP6P7 on res5)."""
    f = model["FPN"]
    out_ch, norm_kind = f["OUT_CHANNELS"], f["NORM"]
    group = f"FPN (MODEL.BACKBONE.NAME={model['BACKBONE']['NAME']}, MODEL.FPN.IN_FEATURES={f['IN_FEATURES']})"
    # FPN registers its lateral/output convs and top block before `bottom_up`; keep that order.
    bottom_up_sd = ExpectedStateDict()
    bottom_up = resnet(bottom_up_sd, model, prefix + "bottom_up.")
    features: Features = {}
    stage = 0
    for name in f["IN_FEATURES"]:
        if name not in bottom_up:
            raise UnsupportedArchitecture(f"MODEL.FPN.IN_FEATURES names {name!r}, which the ResNet does not output")
        in_ch, stride = bottom_up[name]
        stage = int(math.log2(stride))
        sd.add(group, f"{prefix}fpn_lateral{stage}", conv_norm(out_ch, in_ch, 1, norm_kind, bias=not norm_kind))
        sd.add(group, f"{prefix}fpn_output{stage}", conv_norm(out_ch, out_ch, 3, norm_kind, bias=not norm_kind))
        features[f"p{stage}"] = (out_ch, stride)
    if retinanet_top:
        p6_in = bottom_up["res5"][0]
        sd.add("RetinaNet P6/P7 (MODEL.BACKBONE.NAME=build_retinanet_resnet_fpn_backbone)", f"{prefix}top_block",
               concat(prefixed("p6", conv(out_ch, p6_in, 3)), prefixed("p7", conv(out_ch, out_ch, 3))))
        extra = 2
    else:
        extra = 1  # LastLevelMaxPool: p6 without parameters
    for s in range(stage + 1, stage + 1 + extra):
        features[f"p{s}"] = (out_ch, 2 ** s)
    sd.merge(bottom_up_sd)
    return features


def build_backbone(sd: ExpectedStateDict, model: dict) -> Features:
    name = model["BACKBONE"]["NAME"]
    if name == "build_resnet_backbone":
        return resnet(sd, model, "backbone.")
    if name == "build_resnet_fpn_backbone":
        return fpn(sd, model, "backbone.", retinanet_top=False)
    if name == "build_retinanet_resnet_fpn_backbone":
        return fpn(sd, model, "backbone.", retinanet_top=True)
    raise UnsupportedArchitecture(f"MODEL.BACKBONE.NAME={name} is not modelled")


def same_channels(features: Features, names: List[str], what: str) -> int:
    """The common channel count of the named features (Detectron2 heads assert they agree)."""
    missing = [n for n in names if n not in features]
    if missing:
        raise UnsupportedArchitecture(f"{what} reads {missing}, which the backbone does not output")
    channels = {features[n][0] for n in names}
    if len(channels) != 1:
        raise UnsupportedArchitecture(f"{what} reads features of different widths {sorted(channels)}")
    return channels.pop()
