"""Reading tensor data and writing converted checkpoints (the only place that needs torch).

Reading: the file is first described by cfglint's safe reader (`read_checkpoint`), which refuses
pickles that would run code, so a hostile file fails there with cfglint's message. The tensor
*data* is then loaded with ``torch.load(weights_only=True)`` (torch's own allow-listing unpickler,
safe by design) or ``safetensors.torch.load_file``: both only rebuild tensors and plain
containers, and torch is needed to write the result anyway. torch refuses Detectron2's numpy
``.pkl`` files; their arrays come from cfglint's own reader (:mod:`cfglint.convert.d2_pickle`). torch is imported lazily so the rest
of cfglint never needs it.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

from cfglint.errors import CfglintError


def require_torch():
    try:
        import torch
    except ImportError:
        raise CfglintError("converting a checkpoint needs PyTorch to write tensors: "
                           "pip install 'cfglint[torch]' (or torch)") from None
    return torch


def load_state_dict(path: str) -> Tuple[Dict[str, Any], str]:
    """{name: tensor} of the checkpoint's model state dict, and its format."""
    from cfglint.checkpoint.readers import read_checkpoint

    info = read_checkpoint(path)          # safety and format first; raises CfglintError
    torch = require_torch()
    if info.format == "safetensors":
        from safetensors.torch import load_file
        return dict(load_file(path)), info.format
    if info.format == "d2-pkl":
        state = _d2_pickle_state(info)
    else:
        state = _torch_load_state(torch, path)
    if state is None:
        raise CfglintError("no state dict ('model', 'state_dict' or a flat name -> tensor mapping) found", path)
    tensors = {k: v if isinstance(v, torch.Tensor) else torch.as_tensor(v) for k, v in state.items()}
    if tensors and all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module."):]: v for k, v in tensors.items()}
    return tensors, info.format


def _d2_pickle_state(info) -> Dict[str, Any]:
    from cfglint.convert import d2_pickle

    d2_pickle.check_model_zoo_layout(info)
    return d2_pickle.load_model_arrays(info.path)


def _torch_load_state(torch, path: str) -> Optional[dict]:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:   # torch raises UnpicklingError/RuntimeError for what it refuses
        raise CfglintError(f"torch.load(weights_only=True) cannot read the tensors: {err}", path) from None
    return _unwrap(obj)


def _unwrap(obj: Any) -> Optional[dict]:
    if not isinstance(obj, dict):
        return None
    for key in ("model", "state_dict"):
        if isinstance(obj.get(key), dict):
            return obj[key]
    return obj if all(isinstance(k, str) for k in obj) else None


def permute_anchor_blocks(tensor, order: List[int]):
    """Reorder dim 0 in len(order) equal blocks: block i of the result is block order[i] of `tensor`."""
    blocks = tensor.shape[0] // len(order)
    view = tensor.reshape(len(order), blocks, *tensor.shape[1:])
    return view[order].reshape(tensor.shape).clone()


def zero_batches_tracked():
    torch = require_torch()
    return torch.tensor(0, dtype=torch.long)


def save_mmdet(path: str, state: Dict[str, Any], classes: Optional[List[str]]) -> None:
    """What mmdet's loader expects: {'state_dict', 'meta'} (class names in meta.dataset_meta)."""
    meta: Dict[str, Any] = {}
    if classes:
        meta["dataset_meta"] = {"classes": tuple(classes)}
    _save(path, {"state_dict": OrderedDict(state), "meta": meta})


def save_detectron2(path: str, state: Dict[str, Any], classes: Optional[List[str]]) -> None:
    """What DetectionCheckpointer expects: {'model'}."""
    _save(path, {"model": OrderedDict(state), "__author__": "cfglint convert"})


def _save(path: str, obj: Dict[str, Any]) -> None:
    torch = require_torch()
    try:
        torch.save(obj, path)
    except OSError as err:
        raise CfglintError(f"cannot write the converted checkpoint: {err.strerror or err}", path) from None
