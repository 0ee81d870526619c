"""`cfglint convert`: Detectron2 <-> MMDetection configs and checkpoints, each proven by cfglint.

Configs are converted from the *resolved* native config (every inherited and default value
explicit); checkpoints by renaming keys with the layout transforms the target needs
(:mod:`cfglint.convert.keymap`). Every conversion then proves itself (:mod:`cfglint.convert.proof`):
the engine's diff of source and result, and the key-by-key state-dict check of a converted
checkpoint against the converted config.
"""
from __future__ import annotations

from typing import Optional

from cfglint.convert.result import ConfigConversion, ConversionWarning
from cfglint.errors import CfglintError

__all__ = ["convert_config", "convert_checkpoint", "ConfigConversion", "ConversionWarning"]


def convert_config(path: str, target: str, allow_new_keys: bool = False,
                   framework: Optional[str] = None) -> ConfigConversion:
    """Convert the config at `path` (of `framework`, detected when None) to the framework `target`."""
    from cfglint.adapters import kinds, normalize, resolve

    target_kind = kinds.get(target)
    resolved = resolve(path, framework=framework, allow_new_keys=allow_new_keys)
    source_kind = kinds.of(resolved)
    if source_kind is target_kind:
        raise CfglintError(f"the config is already a {target_kind.name} config", path)
    refusal = source_kind.conversion_refusal(resolved)
    if refusal:
        raise CfglintError(refusal, path)
    return target_kind.endpoint("convert_config")(resolved, normalize(resolved))


def convert_checkpoint(checkpoint: str, config: str, target: str, output: str, framework: Optional[str] = None):
    """Convert `checkpoint` (trained with `config`) to `target` and write it to `output`."""
    from cfglint.convert.checkpoints import convert_checkpoint as _convert
    return _convert(checkpoint, config, target, output, framework=framework)
