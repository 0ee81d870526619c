"""Checkpoint conversion: rename and re-lay out every tensor for the converted config's model.

The target's expected state dict (cfglint.checkpoint.expected, computed from the converted
config) drives the result: every expected key must be filled, so a conversion is never a silent
partial result; source keys that map nowhere are reported as warnings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from cfglint.convert import checkpoint_io, keymap
from cfglint.convert.proof import written_config
from cfglint.convert.result import ConfigConversion, ConversionWarning, Warnings
from cfglint.errors import CfglintError


@dataclass
class CheckpointConversion:
    source: str
    target: str
    output: str
    config: ConfigConversion               # the converted config the checkpoint is checked against
    warnings: List[ConversionWarning] = field(default_factory=list)
    converted: int = 0


def convert_checkpoint(checkpoint: str, config: str, target: str, output: str,
                       framework: Optional[str] = None) -> CheckpointConversion:
    """`framework`: the framework of `config` (detected when None)."""
    from cfglint.adapters import kinds, resolve
    from cfglint.checkpoint.expected import expected_state_dict
    from cfglint.convert import convert_config

    target_kind = kinds.get(target)
    conversion = convert_config(config, target, framework=framework)
    source_cfg = resolve(config, framework=framework)
    with written_config(conversion.text, target_kind.config_suffix) as path:
        target_cfg = resolve(path)
    expected = expected_state_dict(target, target_cfg.data).keys
    tensors, _ = checkpoint_io.load_state_dict(checkpoint)
    warn = Warnings()
    state = target_kind.endpoint("convert_state_dict")(tensors, source_cfg.data, target_cfg.data, expected, warn)
    state = _fill_and_order(state, expected, checkpoint)
    target_kind.endpoint("save_checkpoint")(output, state, conversion.classes)
    return CheckpointConversion(checkpoint, target, output, conversion, list(warn), len(state))


def _mask_stages(mm_cfg: dict) -> int:
    """mmdet mask heads per D2 mask head: a cascade has one per stage (even when its config writes
    one dict, CascadeRoIHead replicates it), others one (0 = keys without a stage index)."""
    roi_head = mm_cfg["model"].get("roi_head") or {}
    if not roi_head.get("mask_head") or roi_head.get("type") != "CascadeRoIHead":
        return 0
    return roi_head["num_stages"]


def detectron2_to_mmdet(tensors: Dict[str, Any], d2_cfg: dict, mm_cfg: dict, expected: Dict[str, tuple],
                        warn: Warnings) -> Dict[str, Any]:
    """Endpoint of the MMDetection kind: a Detectron2 state dict laid out for the mmdet model."""
    layout = keymap.layout_of(d2_cfg, _mask_stages(mm_cfg))
    state: Dict[str, Any] = {}
    for key, tensor in tensors.items():
        names = keymap.d2_to_mmdet_names(key, layout)
        if names is None:
            warn.add(key, "no MMDetection counterpart; not converted")
            continue
        order = keymap.anchor_permutation(key, layout, to_mmdet=True)
        value = checkpoint_io.permute_anchor_blocks(tensor, order) if order else tensor
        for name in names:
            state[name] = value
    return state


def mmdet_to_detectron2(tensors: Dict[str, Any], mm_cfg: dict, d2_cfg: dict, expected: Dict[str, tuple],
                        warn: Warnings) -> Dict[str, Any]:
    """Endpoint of the Detectron2 kind: an mmdet state dict laid out for the Detectron2 model."""
    stages = _mask_stages(mm_cfg)
    layout = keymap.layout_of(d2_cfg, stages)
    state: Dict[str, Any] = {}
    used = set()
    for key in expected:
        names = keymap.d2_to_mmdet_names(key, layout)
        if not names or names[-1] not in tensors:
            continue
        used.add(names[-1])
        order = keymap.anchor_permutation(key, layout, to_mmdet=False)
        state[key] = checkpoint_io.permute_anchor_blocks(tensors[names[-1]], order) if order else tensors[names[-1]]
    if stages > 1:
        warn.add("roi_head.mask_head", f"only the last of {stages} cascade mask heads is kept (Detectron2 has one)")
    for key in tensors:
        if key in used or key.startswith("roi_head.mask_head.") and stages > 1:
            continue
        if key.endswith("num_batches_tracked") and layout.norm == "FrozenBN":
            continue   # FrozenBatchNorm2d has no such buffer
        warn.add(key, "no Detectron2 counterpart; not converted")
    return state


def _fill_and_order(state: Dict[str, Any], expected: Dict[str, tuple], source: str) -> Dict[str, Any]:
    """Expected order; a missing num_batches_tracked is 0 (it only counts training steps); else fail."""
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    if missing:
        raise CfglintError(f"the checkpoint lacks {len(missing)} tensors the converted model needs, e.g. "
                           f"{', '.join(missing[:3])}", source)
    ordered = {k: state[k] if k in state else checkpoint_io.zero_batches_tracked() for k in expected}
    return ordered
