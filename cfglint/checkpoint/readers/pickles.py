"""Pickle-stream checkpoints: Detectron2 model-zoo ``.pkl`` files and torch's legacy (pre-1.6) format."""
from __future__ import annotations

from typing import Any, BinaryIO, Optional, Tuple

from cfglint.checkpoint.readers.skipping import PayloadSkippingReader
from cfglint.checkpoint.readers.torch_storage import StorageTable
from cfglint.checkpoint.standins import ALLOWED, ALLOWED_WITH_ARRAY_DATA
from cfglint.checkpoint.unpickler import MiB, BoundedStream, load_restricted
from cfglint.errors import CfglintError

# torch.serialization's legacy header: three small pickles before the object pickle.
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
MAX_LEGACY_HEADER_BYTES = 1 * MiB
MAX_LEGACY_OBJECT_BYTES = 256 * MiB
# A model-zoo .pkl carries the weights inline (the largest published ones are under 1 GB).
MAX_PLAIN_PICKLE_BYTES = 4096 * MiB


def load_pickle_checkpoint(stream: BinaryIO, source: str, keep_array_data: bool = False,
                           size: Optional[int] = None) -> Tuple[str, Any]:
    """Return ``(format, object)``. A legacy torch file stops after its object pickle, before the storages.

    ``keep_array_data``: numpy array records of a ``.pkl`` keep their raw bytes (``ArrayStub.data``).
    ``size`` (the file size): a legacy file must be long enough for the storages it declares.
    """
    what = "the file (neither a zip archive nor safetensors)"
    allowed = ALLOWED_WITH_ARRAY_DATA if keep_array_data else ALLOWED
    bounded = BoundedStream(stream, MAX_PLAIN_PICKLE_BYTES, what, source)
    # Inline array bytes are skipped unread unless the caller wants them (peak memory stays small).
    first = load_restricted(bounded if keep_array_data else PayloadSkippingReader(bounded), source, what,
                            allowed=allowed)
    if type(first) is not int or first != LEGACY_MAGIC_NUMBER:
        return "d2-pkl", first
    header = BoundedStream(stream, MAX_LEGACY_HEADER_BYTES, "the legacy torch header", source)
    protocol = load_restricted(header, source, "the legacy torch header")
    if protocol != LEGACY_PROTOCOL_VERSION:
        raise CfglintError(f"unsupported legacy torch protocol version {protocol!r}", source)
    load_restricted(header, source, "the legacy torch header")  # sys_info: byte order and type sizes
    body = BoundedStream(stream, MAX_LEGACY_OBJECT_BYTES, "the legacy object pickle", source)
    storages = StorageTable()
    obj = load_restricted(body, source, "the legacy object pickle", storages)
    if size is not None:
        _check_legacy_storages(stream, size, storages, source)
    return "torch-legacy", obj


def _check_legacy_storages(stream: BinaryIO, size: int, storages: StorageTable, source: str) -> None:
    """After the object pickle come the sorted storage keys, then per storage an 8-byte count and its
    bytes: the file must hold all of them, else torch fails (or reads garbage) at load time."""
    what = "the legacy storage list"
    keys = load_restricted(BoundedStream(stream, MAX_LEGACY_HEADER_BYTES * 16, what, source), source, what)
    if not (isinstance(keys, list) and all(isinstance(key, str) for key in keys)) or \
            set(keys) != set(storages.nbytes):
        raise CfglintError("the legacy storage list does not match the storages the tensors use: "
                           "the file is corrupt", source)
    needed = stream.tell() + sum(8 + storages.nbytes[key] for key in keys)
    if size < needed:
        raise CfglintError(f"the file is truncated: the storages its tensors declare need {needed} bytes, "
                           f"the file has {size}", source)
