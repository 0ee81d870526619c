"""MMDetection backbones (ResNet, ResNeXt, ResNetV1d) and necks (FPN, BFP) as state-dict entries.

Mirrors mmdet/models/backbones/{resnet,resnext}.py and mmdet/models/necks/{fpn,bfp}.py; values
absent from a config dict take the constructor defaults written here.
"""
from __future__ import annotations

import math
from typing import Optional

from cfglint.checkpoint.expected.layers import (RESNET_BLOCKS, ExpectedStateDict, Layer, UnsupportedArchitecture,
                                                concat, prefixed)
from cfglint.checkpoint.expected.mm_layers import conv_layer, conv_module, norm

DEFAULT_BN = {"type": "BN", "requires_grad": True}


def _named_norm(norm_cfg: dict, channels: int, postfix: str) -> Layer:
    name, layer = norm(norm_cfg, channels, postfix)
    return prefixed(name, layer)


def bottleneck(inplanes: int, planes: int, norm_cfg: dict, downsample: Optional[Layer], dcn: Optional[dict],
               groups: int = 1, base_width: int = 4, base_channels: int = 64) -> Layer:
    """ResNet/ResNeXt Bottleneck: conv1, bn1, conv2, bn2, conv3, bn3, downsample."""
    width = planes if groups == 1 else math.floor(planes * (base_width / base_channels)) * groups
    conv2_cfg = None if dcn is None or dcn.get("fallback_on_stride") else dcn
    return concat(prefixed("conv1", conv_layer(None, width, inplanes, 1, bias=False)),
                  _named_norm(norm_cfg, width, "1"),
                  prefixed("conv2", conv_layer(conv2_cfg, width, width, 3, groups=groups, bias=False)),
                  _named_norm(norm_cfg, width, "2"),
                  prefixed("conv3", conv_layer(None, planes * 4, width, 1, bias=False)),
                  _named_norm(norm_cfg, planes * 4, "3"),
                  prefixed("downsample", downsample or []))


def basic_block(inplanes: int, planes: int, norm_cfg: dict, downsample: Optional[Layer]) -> Layer:
    return concat(prefixed("conv1", conv_layer(None, planes, inplanes, 3, bias=False)),
                  _named_norm(norm_cfg, planes, "1"),
                  prefixed("conv2", conv_layer(None, planes, planes, 3, bias=False)),
                  _named_norm(norm_cfg, planes, "2"),
                  prefixed("downsample", downsample or []))


def res_layer(depth: int, inplanes: int, planes: int, num_blocks: int, stride: int, norm_cfg: dict,
              dcn: Optional[dict] = None, avg_down: bool = False, groups: int = 1, base_width: int = 4,
              base_channels: int = 64) -> Layer:
    """mmdet `ResLayer`: block 0 carries the downsample (AvgPool first when avg_down)."""
    expansion = 1 if depth in (18, 34) else 4
    downsample = None
    if stride != 1 or inplanes != planes * expansion:
        offset = 1 if avg_down else 0
        name, norm_layer = norm(norm_cfg, planes * expansion)
        downsample = concat(prefixed(str(offset), conv_layer(None, planes * expansion, inplanes, 1, bias=False)),
                            prefixed(str(offset + 1), norm_layer) if name else [])
    layer: Layer = []
    for b in range(num_blocks):
        block_in = inplanes if b == 0 else planes * expansion
        block_down = downsample if b == 0 else None
        if expansion == 1:
            if dcn is not None:
                raise UnsupportedArchitecture("BasicBlock (ResNet-18/34) does not support dcn")
            block = basic_block(block_in, planes, norm_cfg, block_down)
        else:
            block = bottleneck(block_in, planes, norm_cfg, block_down, dcn, groups, base_width, base_channels)
        layer += prefixed(str(b), block)
    return layer


def resnet(sd: ExpectedStateDict, cfg: dict, prefix: str = "backbone") -> None:
    kind = cfg.get("type")
    if kind not in ("ResNet", "ResNeXt", "ResNetV1d"):
        raise UnsupportedArchitecture(f"backbone type {kind} is not modelled")
    if cfg.get("plugins"):
        raise UnsupportedArchitecture("ResNet plugins are not modelled")
    depth = cfg["depth"]
    if depth not in RESNET_BLOCKS:
        raise UnsupportedArchitecture(f"ResNet depth {depth} is not one of {sorted(RESNET_BLOCKS)}")
    v1d = kind == "ResNetV1d"
    deep_stem, avg_down = cfg.get("deep_stem", v1d), cfg.get("avg_down", v1d)
    norm_cfg = cfg.get("norm_cfg", DEFAULT_BN)
    base = cfg.get("base_channels", 64)
    stem = cfg.get("stem_channels") or base
    in_ch = cfg.get("in_channels", 3)
    norm_type = norm_cfg.get("type")
    if deep_stem:
        half = stem // 2
        layer: Layer = []
        for index, (c_in, c_out) in enumerate([(in_ch, half), (half, half), (half, stem)]):
            layer += prefixed(str(3 * index), conv_layer(None, c_out, c_in, 3, bias=False))
            layer += prefixed(str(3 * index + 1), norm(norm_cfg, c_out)[1])
        sd.add(f"{kind} deep stem (deep_stem=True, norm_cfg {norm_type})", f"{prefix}.stem", layer)
    else:
        sd.add(f"{kind} stem (norm_cfg {norm_type})", prefix,
               concat(prefixed("conv1", conv_layer(None, stem, in_ch, 7, bias=False)),
                      _named_norm(norm_cfg, stem, "1")))
    num_stages = cfg.get("num_stages", 4)
    strides = cfg.get("strides", (1, 2, 2, 2))
    dcn = cfg.get("dcn")
    with_dcn = cfg.get("stage_with_dcn", (False,) * 4)
    groups = cfg.get("groups", 1) if kind == "ResNeXt" else 1
    base_width = cfg.get("base_width", 4)
    expansion = 1 if depth in (18, 34) else 4
    inplanes = stem
    for i, blocks in enumerate(RESNET_BLOCKS[depth][:num_stages]):
        planes = base * 2 ** i
        stage_dcn = dict(dcn) if dcn and with_dcn[i] else None
        layer = res_layer(depth, inplanes, planes, blocks, strides[i], norm_cfg, stage_dcn, avg_down,
                          groups, base_width, base)
        detail = f"depth={depth}, norm_cfg {norm_type}"
        if groups > 1:
            detail += f", groups={groups}, base_width={base_width}"
        if stage_dcn:
            detail += f", dcn {stage_dcn.get('type')}"
        sd.add(f"layer{i + 1} stage of {kind} ({detail})", f"{prefix}.layer{i + 1}", layer)
        inplanes = planes * expansion


def fpn(cfg: dict) -> Layer:
    """mmdet FPN: lateral_convs then fpn_convs (extra levels are convs only with add_extra_convs)."""
    in_channels, out = cfg["in_channels"], cfg["out_channels"]
    num_outs, start = cfg["num_outs"], cfg.get("start_level", 0)
    end = cfg.get("end_level", -1)
    backbone_end = len(in_channels) if end in (-1, len(in_channels) - 1) else end + 1
    extra_mode = cfg.get("add_extra_convs", False)
    if extra_mode is True:
        extra_mode = "on_input"
    norm_cfg, conv_cfg = cfg.get("norm_cfg"), cfg.get("conv_cfg")
    lateral_norm = None if cfg.get("no_norm_on_lateral", False) else norm_cfg
    lateral: Layer = []
    outputs: Layer = []
    for n, i in enumerate(range(start, backbone_end)):
        lateral += prefixed(str(n), conv_module(in_channels[i], out, 1, lateral_norm, conv_cfg))
        outputs += prefixed(str(n), conv_module(out, out, 3, norm_cfg, conv_cfg))
    extra_levels = num_outs - backbone_end + start
    if extra_mode and extra_levels >= 1:
        for i in range(extra_levels):
            c_in = in_channels[backbone_end - 1] if i == 0 and extra_mode == "on_input" else out
            outputs += prefixed(str(backbone_end - start + i), conv_module(c_in, out, 3, norm_cfg, conv_cfg))
    return concat(prefixed("lateral_convs", lateral), prefixed("fpn_convs", outputs))


def bfp(cfg: dict) -> Layer:
    """Libra R-CNN balanced feature pyramid: an optional refine conv or non-local block."""
    c, refine = cfg["in_channels"], cfg.get("refine_type")
    conv_cfg, norm_cfg = cfg.get("conv_cfg"), cfg.get("norm_cfg")
    if refine is None:
        return []
    if refine == "conv":
        return prefixed("refine", conv_module(c, c, 3, norm_cfg, conv_cfg))
    # mmcv NonLocal2d(reduction=1, mode='embedded_gaussian'): g, conv_out, theta, phi.
    return prefixed("refine", concat(prefixed("g", conv_module(c, c, 1, None, conv_cfg)),
                                     prefixed("conv_out", conv_module(c, c, 1, norm_cfg, conv_cfg)),
                                     prefixed("theta", conv_module(c, c, 1, None, conv_cfg)),
                                     prefixed("phi", conv_module(c, c, 1, None, conv_cfg))))


NECKS = {"FPN": fpn, "BFP": bfp}


def neck(sd: ExpectedStateDict, cfg) -> None:
    """One neck at `neck`, or a list of necks as an nn.Sequential (`neck.0`, `neck.1`, ...)."""
    items = [("neck", cfg)] if isinstance(cfg, dict) else [(f"neck.{i}", c) for i, c in enumerate(cfg)]
    for prefix, item in items:
        kind = item.get("type")
        if kind not in NECKS:
            raise UnsupportedArchitecture(f"neck type {kind} is not modelled")
        detail = f"in_channels={item.get('in_channels')}, out_channels={item.get('out_channels')}, " \
                 f"num_outs={item.get('num_outs')}" if kind == "FPN" else f"refine_type={item.get('refine_type')}"
        sd.add(f"{kind} neck ({detail})", prefix, NECKS[kind](item))
