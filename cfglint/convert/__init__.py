"""`cfglint convert`: Detectron2 <-> MMDetection configs and checkpoints, each proven by cfglint.

Configs are converted from the *resolved* native config (every inherited and default value
explicit); checkpoints by renaming keys with the layout transforms the target needs
(:mod:`cfglint.convert.keymap`). Every conversion then proves itself (:mod:`cfglint.convert.proof`):
the engine's diff of source and result, and the key-by-key state-dict check of a converted
checkpoint against the converted config.
"""
from __future__ import annotations

from cfglint.convert.result import ConfigConversion, ConversionWarning
from cfglint.errors import CfglintError
from cfglint.model.resolved import DETECTRON2, MMDET

TARGETS = (DETECTRON2, MMDET)

__all__ = ["convert_config", "convert_checkpoint", "ConfigConversion", "ConversionWarning", "TARGETS"]


def convert_config(path: str, target: str, allow_new_keys: bool = False) -> ConfigConversion:
    """Convert the config at `path` to `target` ("mmdet" or "detectron2")."""
    from cfglint.adapters import normalize, resolve

    if target not in TARGETS:
        raise CfglintError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")
    resolved = resolve(path, allow_new_keys=allow_new_keys)
    if resolved.framework == target:
        raise CfglintError(f"the config is already a {target} config", path)
    if resolved.framework == DETECTRON2 and resolved.syntax != "yacs":
        raise CfglintError("only Detectron2 YAML (yacs) configs can be converted, not LazyConfig files", path)
    model = normalize(resolved)
    if target == MMDET:
        from cfglint.convert.to_mmdet import convert
    else:
        from cfglint.convert.to_detectron2 import convert
    return convert(resolved, model)


def convert_checkpoint(checkpoint: str, config: str, target: str, output: str):
    """Convert `checkpoint` (trained with `config`) to `target` and write it to `output`."""
    from cfglint.convert.checkpoints import convert_checkpoint as _convert
    return _convert(checkpoint, config, target, output)
