"""torch's persistent ids for storages, shared by the zip and the legacy format: a dtype, never bytes."""
from __future__ import annotations

from typing import Any

from cfglint.checkpoint.standins import MalformedRecord, StorageRef, StorageType
from cfglint.errors import UnsafeContentError


def storage_from_persistent_id(pid: Any) -> StorageRef:
    """``('storage', storage_type, key, location, numel[, view_metadata])`` as torch.save writes it."""
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
    return StorageRef(pid[1].dtype, numel if type(numel) is int else None)
