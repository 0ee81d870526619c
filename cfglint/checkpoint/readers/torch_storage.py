"""torch's persistent ids for storages, shared by the zip and the legacy format: a dtype, never bytes."""
from __future__ import annotations

from typing import Any, Dict, Tuple

from cfglint.checkpoint.standins import MalformedRecord, StorageRef, StorageType
from cfglint.errors import UnsafeContentError

# Bytes per element of each storage dtype (a legacy UntypedStorage counts bytes).
ELEMENT_BYTES = {"float32": 4, "float64": 8, "float16": 2, "bfloat16": 2, "int64": 8, "int32": 4, "int16": 2,
                 "int8": 1, "uint8": 1, "bool": 1, "complex64": 8, "complex128": 16, "qint8": 1, "quint8": 1,
                 "qint32": 4, "quint4x2": 1, "quint2x4": 1}


def storage_from_persistent_id(pid: Any) -> StorageRef:
    """``('storage', storage_type, key, location, numel[, view_metadata])`` as torch.save writes it."""
    return _parse(pid)[0]


def _parse(pid: Any) -> Tuple[StorageRef, Any, Any]:
    if isinstance(pid, tuple) and pid and pid[0] == "module":
        raise UnsafeContentError("refusing a legacy checkpoint that embeds a pickled nn.Module class "
                                 "(its source code would be run)")
    if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
            and isinstance(pid[1], StorageType)):
        raise MalformedRecord(f"unknown persistent id {pid!r:.80}")
    numel = pid[4]
    view = pid[5] if len(pid) == 6 else None
    if isinstance(view, tuple) and len(view) == 3:  # legacy views: (view_key, offset, view_size)
        numel = view[2]
    return StorageRef(pid[1].dtype, numel if type(numel) is int else None), pid[2], pid[4]


class StorageTable:
    """A persistent-id handler that also records each storage's declared size in bytes, by key.

    The declared sizes are what the storage data must occupy in the file; comparing them with the
    file (legacy) or the archive entries (zip) finds truncated and corrupt files without reading data.
    """

    def __init__(self) -> None:
        self.nbytes: Dict[str, int] = {}

    def __call__(self, pid: Any) -> StorageRef:
        ref, key, numel = _parse(pid)
        if type(numel) is not int or numel < 0:
            raise MalformedRecord(f"storage {key!r:.40} declares an invalid size {numel!r:.40}")
        self.nbytes.setdefault(str(key), numel * ELEMENT_BYTES.get(pid[1].dtype, 1))
        return ref
