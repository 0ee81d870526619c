"""MMCV building blocks (norm layers, ConvModule, deformable convs) as state-dict entries.

Names follow mmcv: `build_norm_layer` names a norm by its abbreviation (`bn`, `gn`, ...) plus a
postfix, and `ConvModule` holds `conv` then that norm. A config dict missing a key means the
constructor default, so every reader passes the default it mirrors.
"""
from __future__ import annotations

from typing import Optional, Tuple

from cfglint.checkpoint.expected.layers import (Layer, UnsupportedArchitecture, affine_only, batch_norm, concat,
                                                conv, prefixed)

_BN_TYPES = ("BN", "BN2d", "SyncBN", "MMSyncBN", "naiveSyncBN")


def norm(norm_cfg: Optional[dict], channels: int, postfix: str = "") -> Tuple[str, Layer]:
    """`mmcv.cnn.build_norm_layer`: (name, entries); name is '' when there is no norm."""
    if not norm_cfg:
        return "", []
    kind = norm_cfg.get("type")
    if kind in _BN_TYPES:
        return f"bn{postfix}", batch_norm(channels)
    if kind == "GN":
        return f"gn{postfix}", affine_only(channels)
    if kind in ("LN", "LN2d"):
        return f"ln{postfix}", affine_only(channels)
    raise UnsupportedArchitecture(f"norm_cfg type {kind!r} is not modelled")


def conv_layer(conv_cfg: Optional[dict], out_ch: int, in_ch: int, kernel: int, groups: int = 1,
               bias: bool = True) -> Layer:
    """`mmcv.cnn.build_conv_layer`: plain Conv2d, or a deformable conv with its `conv_offset`."""
    kind = (conv_cfg or {}).get("type", "Conv2d")
    if kind in ("Conv", "Conv2d"):
        return conv(out_ch, in_ch, kernel, groups=groups, bias=bias)
    deform_groups = (conv_cfg or {}).get("deform_groups", 1)
    if kind in ("DCN", "DCNv2"):
        per_group = 2 if kind == "DCN" else 3
        # DeformConv2d never has a bias; ModulatedDeformConv2d has one only when asked.
        weight = conv(out_ch, in_ch, kernel, groups=groups, bias=bias and kind == "DCNv2")
        offset = conv(deform_groups * per_group * kernel * kernel, in_ch, kernel)
        return concat(weight, prefixed("conv_offset", offset))
    raise UnsupportedArchitecture(f"conv_cfg type {kind!r} is not modelled")


def conv_module(in_ch: int, out_ch: int, kernel: int, norm_cfg: Optional[dict] = None,
                conv_cfg: Optional[dict] = None, bias="auto", groups: int = 1) -> Layer:
    """`mmcv.cnn.ConvModule`: `conv` (bias unless normed, for bias='auto') then its norm."""
    norm_name, norm_layer = norm(norm_cfg, out_ch)
    with_bias = not norm_name if bias == "auto" else bool(bias)
    return concat(prefixed("conv", conv_layer(conv_cfg, out_ch, in_ch, kernel, groups=groups, bias=with_bias)),
                  prefixed(norm_name, norm_layer) if norm_name else [])
