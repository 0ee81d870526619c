"""Detectron2 -> common model: one entry point for both config systems.

YACS configs (a merged ``CfgNode``) and LazyConfig files (a tree of ``L(...)`` calls) express the
same model in different places, so each has its own reader (:mod:`.normalize_yacs`,
:mod:`.normalize_lazy`); what they share (detector family names, RGB canonicalisation) lives in
:mod:`.normalize_shared`.
"""
from __future__ import annotations

from cfglint.adapters.normalize_common import Writer
from cfglint.errors import CfglintError
from cfglint.model import CommonModel, ResolvedConfig
from cfglint.model.resolved import DETECTRON2

#: ResolvedConfig.syntax values whose data is a merged CfgNode (a YAML file, a CfgNode object, a mapping).
YACS_SYNTAXES = ("yacs", "cfgnode", "mapping")
LAZY_SYNTAXES = ("lazyconfig",)


def normalize(resolved: ResolvedConfig) -> CommonModel:
    """The common model of a resolved Detectron2 config, each value with the key that decided it."""
    model = CommonModel(framework=DETECTRON2, path=resolved.path)
    model.resolved = resolved
    writer = Writer(resolved, model)
    # Imported per kind: a YAML run (the pre-commit common case) never loads the Lazy interpreter.
    if resolved.syntax in YACS_SYNTAXES:
        from cfglint.adapters.detectron2 import normalize_yacs
        normalize_yacs.fill(writer)
    elif resolved.syntax in LAZY_SYNTAXES:
        from cfglint.adapters.detectron2 import normalize_lazy
        normalize_lazy.fill(writer)
    else:
        raise CfglintError(f"cannot read a Detectron2 config of kind {resolved.syntax or 'unknown'!r}; "
                           f"expected a YAML (CfgNode) or LazyConfig (.py) config", file=resolved.path)
    return model
