"""Tensor data of Detectron2 model-zoo ``.pkl`` files, without any unpickler that could run code.

``torch.load(weights_only=True)`` refuses these files: their numpy arrays are pickled through
``numpy._core.multiarray._reconstruct`` and ``ndarray.__setstate__``. cfglint's restricted unpickler
maps those records to inert stand-ins; asked to keep each array's raw bytes it hands them back
untouched, and the arrays are built here with ``numpy.frombuffer`` once unpickling has finished, so
nothing named by the file is ever called.

Which ``.pkl`` files hold Detectron2 state-dict names follows ``DetectionCheckpointer._load_file``
(notes/detectron2.md §5): a dict with both ``model`` and ``__author__`` is the model-zoo format;
anything else is a Caffe2/Detectron1 file whose blob names (``res2_0_branch2a_w``) Detectron2 only
matches to its model heuristically at load time, as it does when ``matching_heuristics`` is set.
The key map knows Detectron2 names only, so those files are refused rather than half converted.
"""
from __future__ import annotations

import math
from typing import Any, Dict

from cfglint.checkpoint.info import CheckpointInfo
from cfglint.checkpoint.readers.pickles import load_pickle_checkpoint
from cfglint.checkpoint.source import open_checkpoint
from cfglint.checkpoint.standins import ArrayStub
from cfglint.errors import CfglintError

# numpy dtypes whose bytes are plain numbers (anything else, e.g. object or structured, is refused).
_NUMERIC = ("bool", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
            "uint8", "uint16", "uint32", "uint64", "complex64", "complex128")

_SAVE_FIRST = ("load it into the Detectron2 model and save that (DetectionCheckpointer.save writes a .pth), "
               "then convert the .pth")


def check_model_zoo_layout(info: CheckpointInfo) -> None:
    """Refuse the .pkl layouts whose names are not Detectron2 state-dict names."""
    keys = set(info.top_level_keys)
    if not {"model", "__author__"} <= keys:
        layout = "its weights are under 'blobs'" if "blobs" in keys else "it has no 'model' and '__author__' keys"
        raise CfglintError(f"this .pkl is a Caffe2/Detectron1 checkpoint ({layout}): its Caffe2 blob names are "
                           "matched to the model only heuristically when Detectron2 loads it, and cfglint "
                           f"converts Detectron2 state-dict names only; {_SAVE_FIRST}", info.path)
    if info.meta.get("matching_heuristics"):
        author = info.meta.get("__author__")
        raise CfglintError(f"this .pkl sets matching_heuristics: its names (written by {author!r}) are not "
                           "Detectron2's and are matched to the model only when Detectron2 loads it; "
                           f"{_SAVE_FIRST}", info.path)


def load_model_arrays(path: str) -> Dict[str, Any]:
    """``{name: numpy array}`` of the file's ``model`` dict (call :func:`check_model_zoo_layout` first)."""
    np = _require_numpy()
    with open_checkpoint(path) as (stream, _):
        _, obj = load_pickle_checkpoint(stream, path, keep_array_data=True)
    arrays = {}
    for name, value in obj["model"].items():
        if not isinstance(value, ArrayStub):
            raise CfglintError(f"'{name}' is a {type(value).__name__}, not a numpy array; "
                               "Detectron2 cannot load it either", path)
        arrays[name] = _to_numpy(np, value, name, path)
        value.data = None          # keep one copy of the weights in memory, not two
    return arrays


def _to_numpy(np, stub: ArrayStub, name: str, path: str):
    """A C-ordered, native-endian, writable copy of the array the record describes."""
    dtype = stub.dtype.name if stub.dtype is not None else "unknown"
    if dtype not in _NUMERIC or stub.data is None:
        raise CfglintError(f"array '{name}' has dtype {dtype}; only numeric arrays can be converted "
                           "(reading object arrays would mean unpickling arbitrary Python objects)", path)
    stored = np.dtype(dtype).newbyteorder(stub.dtype.byteorder)   # '|' and '=' leave it native
    count = math.prod(stub.shape)
    if len(stub.data) != count * stored.itemsize:
        raise CfglintError(f"array '{name}' holds {len(stub.data)} bytes, but {dtype} of shape "
                           f"{list(stub.shape)} needs {count * stored.itemsize}: the file is corrupt", path)
    flat = np.frombuffer(stub.data, dtype=stored, count=count)
    return np.array(flat.reshape(stub.shape, order="F" if stub.fortran else "C"), dtype=dtype, order="C")


def _require_numpy():
    try:
        import numpy
    except ImportError:
        raise CfglintError("converting a Detectron2 .pkl checkpoint needs numpy to rebuild its arrays: "
                           "pip install numpy") from None
    return numpy
