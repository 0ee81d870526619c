"""Parameter/buffer signatures of the torch layers detectors are made of, without torch.

A "layer" here is an ordered list of ``(relative name, shape)`` pairs, in the order
``nn.Module.state_dict()`` lists them (a module's own parameters, then its buffers, then its
children). Norm signatures differ per framework only in the *name* of the child, so they take
the norm kind as the framework spells it and leave naming to the caller.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

from cfglint.errors import UnsupportedError

Shape = Tuple[int, ...]

# ResNet blocks per stage by depth; identical in Detectron2 (resnet.py) and mmdet (arch_settings).
RESNET_BLOCKS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}
Layer = List[Tuple[str, Shape]]


class UnsupportedArchitecture(UnsupportedError):
    """A valid config whose model cfglint does not model natively (verify falls back to a fingerprint)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class ExpectedStateDict:
    """Names and shapes a config's model has, plus which config setting explains each key prefix."""

    keys: Dict[str, Shape] = field(default_factory=dict)
    groups: Dict[str, List[str]] = field(default_factory=dict)

    def add(self, group: str, prefix: str, layer: Layer) -> None:
        """Add `layer` under `prefix` (a dotted module path) and record it in `group`."""
        for name, shape in layer:
            self.keys[f"{prefix}.{name}" if prefix else name] = tuple(shape)
        prefixes = self.groups.setdefault(group, [])
        if prefix not in prefixes:
            prefixes.append(prefix)

    def merge(self, other: "ExpectedStateDict") -> None:
        """Append `other` after what is already here (for modules registered out of build order)."""
        self.keys.update(other.keys)
        for group, prefixes in other.groups.items():
            mine = self.groups.setdefault(group, [])
            mine.extend(prefix for prefix in prefixes if prefix not in mine)

    def group_of(self, key: str) -> str:
        """The explanation whose prefix is the longest match of `key` (None if no group covers it)."""
        best, best_len = None, -1
        for group, prefixes in self.groups.items():
            for prefix in prefixes:
                if (key == prefix or key.startswith(prefix + ".")) and len(prefix) > best_len:
                    best, best_len = group, len(prefix)
        return best


def conv(out_ch: int, in_ch: int, kernel: int, groups: int = 1, bias: bool = True) -> Layer:
    """nn.Conv2d: weight (out, in/groups, k, k) and an optional bias."""
    if in_ch % groups:
        raise UnsupportedArchitecture(f"{in_ch} input channels cannot be split into {groups} groups")
    layer: Layer = [("weight", (out_ch, in_ch // groups, kernel, kernel))]
    if bias:
        layer.append(("bias", (out_ch,)))
    return layer


def conv_transpose(in_ch: int, out_ch: int, kernel: int, bias: bool = True) -> Layer:
    """nn.ConvTranspose2d stores its weight as (in, out, k, k)."""
    layer: Layer = [("weight", (in_ch, out_ch, kernel, kernel))]
    if bias:
        layer.append(("bias", (out_ch,)))
    return layer


def linear(out_features: int, in_features: int, bias: bool = True) -> Layer:
    layer: Layer = [("weight", (out_features, in_features))]
    if bias:
        layer.append(("bias", (out_features,)))
    return layer


def batch_norm(channels: int) -> Layer:
    """nn.BatchNorm2d / SyncBatchNorm: affine params, running stats and num_batches_tracked."""
    return [("weight", (channels,)), ("bias", (channels,)), ("running_mean", (channels,)),
            ("running_var", (channels,)), ("num_batches_tracked", ())]


def frozen_batch_norm(channels: int) -> Layer:
    """Detectron2 FrozenBatchNorm2d: four buffers and no num_batches_tracked."""
    return batch_norm(channels)[:4]


def affine_only(channels: int) -> Layer:
    """GroupNorm / LayerNorm: weight and bias only, no running statistics."""
    return [("weight", (channels,)), ("bias", (channels,))]


def prefixed(prefix: str, layer: Layer) -> Layer:
    return [(f"{prefix}.{name}", shape) for name, shape in layer]


def concat(*layers: Sequence[Tuple[str, Shape]]) -> Layer:
    out: Layer = []
    for layer in layers:
        out.extend(layer)
    return out
