"""From an unpickled checkpoint to :class:`CheckpointInfo`: which dict is the state dict, what is metadata.

Follows the loaders: mmengine takes ``checkpoint['state_dict']`` (which holds the EMA weights when
EMAHook ran), Detectron2 takes ``checkpoint['model']``; both drop a ``module.`` prefix (fvcore only
when every key has it, which is the rule used here).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from cfglint.checkpoint.info import CheckpointInfo, TensorInfo
from cfglint.checkpoint.standins import ArrayStub, InertObject, NumpyTypeName, TorchDtype
from cfglint.errors import CfglintError

WRAPPER_KEYS = ("state_dict", "model", "ema_state_dict", "blobs")  # blobs: Caffe2 .pkl
DATA_PARALLEL_PREFIX = "module."
# Detectron2 model-zoo keys kept in ``meta`` next to mmengine's ``meta`` dict.
TOP_LEVEL_META_KEYS = ("__author__", "matching_heuristics", "iteration", "epoch")
MAX_META_DEPTH = 64
MAX_META_NODES = 1_000_000


def describe(source: str, fmt: str, obj: Any) -> CheckpointInfo:
    if not isinstance(obj, dict):
        raise CfglintError(f"checkpoint holds a {_kind(obj)}, not a dict of weights", source)
    wrapper, state = _pick_state_dict(obj)
    tensors = _tensors(state, source)
    if not tensors:
        raise CfglintError(f"no tensors found in the checkpoint (top-level keys: {_key_list(obj)})", source)
    prefix = None
    if all(name.startswith(DATA_PARALLEL_PREFIX) for name in tensors):
        prefix = DATA_PARALLEL_PREFIX
        tensors = {name[len(prefix):]: info for name, info in tensors.items()}
    meta = _meta(obj, source)
    return CheckpointInfo(path=source, format=fmt, tensors=tensors, wrapper=wrapper, prefix=prefix, meta=meta,
                          classes=_classes(meta), config_text=_config_text(meta),
                          top_level_keys=[str(key) for key in obj])


def _pick_state_dict(obj: Dict[Any, Any]) -> Tuple[Optional[str], Mapping[Any, Any]]:
    for key in WRAPPER_KEYS:
        if isinstance(obj.get(key), dict):
            return key, obj[key]
    return None, obj


def _tensors(state: Mapping[Any, Any], source: str) -> Dict[str, TensorInfo]:
    tensors: Dict[str, TensorInfo] = {}
    for name, value in state.items():
        info = as_tensor_info(value)
        if info is None:
            continue
        if not isinstance(name, str):
            raise CfglintError(f"state dict key {name!r:.60} is not a string", source)
        tensors[name] = info
    return tensors


def as_tensor_info(value: Any) -> Optional[TensorInfo]:
    """A fresh, validated TensorInfo for a tensor or numpy array record; None for anything else."""
    if isinstance(value, ArrayStub):
        value = value.tensor_info()
    if not isinstance(value, TensorInfo):
        return None
    shape, dtype = value.shape, value.dtype
    if not (isinstance(shape, tuple) and all(type(d) is int and d >= 0 for d in shape) and isinstance(dtype, str)):
        return None
    return TensorInfo(shape, str(dtype))


def _meta(obj: Dict[Any, Any], source: str) -> Dict[str, Any]:
    budget = [MAX_META_NODES]
    meta = obj.get("meta")
    plain = to_plain(meta, source, budget) if isinstance(meta, dict) else {}
    for key in TOP_LEVEL_META_KEYS:
        if key in obj:
            plain[key] = to_plain(obj[key], source, budget)
    return plain


def to_plain(value: Any, source: str, budget: List[int], depth: int = 0) -> Any:
    """JSON-like data (tuples and sets become lists); tensors and arrays become short descriptions.

    Depth and node count are bounded: memo references can make a small pickle describe a deep or
    exponentially wide structure.
    """
    budget[0] -= 1
    if depth > MAX_META_DEPTH or budget[0] < 0:
        raise CfglintError("checkpoint metadata is nested too deeply or is too large to read", source)
    if isinstance(value, (TorchDtype, NumpyTypeName)):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {str(key): to_plain(item, source, budget, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_plain(item, source, budget, depth + 1) for item in value]
    tensor = as_tensor_info(value)
    if tensor is not None:
        return f"<tensor {tensor.dtype} {list(tensor.shape)}>"
    if isinstance(value, InertObject):
        return repr(value)
    return f"<{type(value).__name__}>"


def _classes(meta: Dict[str, Any]) -> Optional[List[str]]:
    """mmengine ``meta['dataset_meta']['classes']``, or mmcv/mmdet 2.x ``meta['CLASSES']``."""
    dataset_meta = meta.get("dataset_meta")
    names = dataset_meta.get("classes") if isinstance(dataset_meta, dict) else None
    if names is None:
        names = meta.get("CLASSES")
    if isinstance(names, str):
        return [names]
    if isinstance(names, list) and all(isinstance(name, str) for name in names):
        return names
    return None


def _config_text(meta: Dict[str, Any]) -> Optional[str]:
    """mmengine writes ``meta['cfg']``, mmdet 2.x ``meta['config']`` (both ``Config.pretty_text``)."""
    for key in ("cfg", "config"):
        if isinstance(meta.get(key), str):
            return meta[key]
    return None


def _kind(obj: Any) -> str:
    return "tensor" if as_tensor_info(obj) is not None else type(obj).__name__


def _key_list(obj: Dict[Any, Any]) -> str:
    keys = [repr(key) for key in list(obj)[:10]]
    return ", ".join(keys) + (", ..." if len(obj) > 10 else "") if keys else "none"
