"""Pickle-stream checkpoints: Detectron2 model-zoo ``.pkl`` files and torch's legacy (pre-1.6) format."""
from __future__ import annotations

from typing import Any, BinaryIO, Tuple

from cfglint.checkpoint.readers.torch_storage import storage_from_persistent_id
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


def load_pickle_checkpoint(stream: BinaryIO, source: str, keep_array_data: bool = False) -> Tuple[str, Any]:
    """Return ``(format, object)``. A legacy torch file stops after its object pickle, before the storages.

    ``keep_array_data``: numpy array records of a ``.pkl`` keep their raw bytes (``ArrayStub.data``).
    """
    what = "the file (neither a zip archive nor safetensors)"
    allowed = ALLOWED_WITH_ARRAY_DATA if keep_array_data else ALLOWED
    first = load_restricted(BoundedStream(stream, MAX_PLAIN_PICKLE_BYTES, what, source), source, what,
                            allowed=allowed)
    if type(first) is not int or first != LEGACY_MAGIC_NUMBER:
        return "d2-pkl", first
    header = BoundedStream(stream, MAX_LEGACY_HEADER_BYTES, "the legacy torch header", source)
    protocol = load_restricted(header, source, "the legacy torch header")
    if protocol != LEGACY_PROTOCOL_VERSION:
        raise CfglintError(f"unsupported legacy torch protocol version {protocol!r}", source)
    load_restricted(header, source, "the legacy torch header")  # sys_info: byte order and type sizes
    body = BoundedStream(stream, MAX_LEGACY_OBJECT_BYTES, "the legacy object pickle", source)
    return "torch-legacy", load_restricted(body, source, "the legacy object pickle", storage_from_persistent_id)
