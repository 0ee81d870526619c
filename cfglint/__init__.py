"""cfglint: catch train/serve drift in Detectron2 and MMDetection configs before it ships.

Pipeline: files -> adapters -> model (common model + provenance) -> engine (rules) -> findings
-> report. The public Python API is re-exported here and imports nothing heavy.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from cfglint.errors import CfglintError

__version__ = "0.1.0"
__all__ = ["load", "resolve", "verify", "CfglintError", "__version__"]


def load(source: Any, framework: Optional[str] = None, opts: Sequence[str] = (), allow_new_keys: bool = False):
    """Load a config (path, Detectron2 ``CfgNode`` or mapping) into the common model."""
    from cfglint.adapters import load as _load
    return _load(source, framework=framework, opts=opts, allow_new_keys=allow_new_keys)


def resolve(source: Any, framework: Optional[str] = None, opts: Sequence[str] = (), allow_new_keys: bool = False):
    """Resolve a config to its native form exactly as the framework would (no code runs)."""
    from cfglint.adapters import resolve as _resolve
    return _resolve(source, framework=framework, opts=opts, allow_new_keys=allow_new_keys)


def verify(checkpoint: Any, config: Any, opts: Sequence[str] = (), framework: Optional[str] = None):
    """Check a checkpoint (path, URL) against a config (path, CfgNode, mapping or CommonModel).

    Returns a report with ``.ok``, ``.findings`` and ``.raise_for_errors()``; serving code can call
    it at start-up. Reads key names and shapes only; nothing in the checkpoint is executed.
    """
    from cfglint import app
    return app.verify(checkpoint, config, app.Settings(opts=list(opts), framework=framework))
