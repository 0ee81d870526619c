"""What cfglint learns from a checkpoint without loading it: tensor names, shapes, dtypes, metadata."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

FORMATS = ("torch-zip", "torch-legacy", "d2-pkl", "safetensors")


@dataclass(frozen=True)
class TensorInfo:
    """A tensor's shape and dtype (torch names: ``float32``, ``bfloat16``, ``int64``...); never its data."""

    shape: Tuple[int, ...]
    dtype: str

    def to_json(self) -> dict:
        return {"shape": list(self.shape), "dtype": self.dtype}


@dataclass
class CheckpointInfo:
    """The model weights of a checkpoint as the framework would load them, plus plain metadata.

    ``tensors`` is the state dict after unwrapping ``wrapper`` (the top-level key holding it, or None
    for a bare state dict) and stripping ``prefix`` (``"module."`` when every key carried it), in
    file order. ``meta`` holds only plain data (str, int, float, bool, None, list, dict).
    """

    path: str
    format: str
    tensors: Dict[str, TensorInfo]
    wrapper: Optional[str] = None
    prefix: Optional[str] = None
    meta: Dict[str, Any] = field(default_factory=dict)
    classes: Optional[List[str]] = None
    config_text: Optional[str] = None
    top_level_keys: List[str] = field(default_factory=list)
    #: Remote files only: ``{"bytes": fetched, "requests": n, "size": file size or None}``. A ``.pkl``
    #: keeps its arrays inline: they are skipped by seeking, which a server without ranges cannot do.
    remote_read: Optional[Dict[str, Any]] = None

    def shapes(self) -> Dict[str, Tuple[int, ...]]:
        return {name: tensor.shape for name, tensor in self.tensors.items()}
