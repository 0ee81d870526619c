"""torch.save's zip format: only ``<archive>/data.pkl`` is read; the storage entries are never opened."""
from __future__ import annotations

import io
import zipfile
from typing import Any, BinaryIO

from cfglint.checkpoint.readers.torch_storage import storage_from_persistent_id
from cfglint.checkpoint.unpickler import MiB, BoundedStream, load_restricted
from cfglint.errors import CfglintError

ZIP_MAGIC = b"PK\x03\x04"  # what torch.serialization._is_zipfile checks
MAX_DATA_PKL_BYTES = 256 * MiB


def load_torch_zip(stream: BinaryIO, source: str) -> Any:
    try:
        archive = zipfile.ZipFile(stream)
        entry = _data_pkl_entry(archive, source)
        if entry.file_size > MAX_DATA_PKL_BYTES:
            raise CfglintError(f"{entry.filename} declares {entry.file_size // MiB} MB, more than cfglint's "
                               f"{MAX_DATA_PKL_BYTES // MiB} MB limit for the object pickle", source)
        # Read the (bounded) object pickle in one go: unpickling from memory avoids one call per opcode.
        with archive.open(entry) as member:
            data = BoundedStream(member, MAX_DATA_PKL_BYTES, entry.filename, source).read()
        return load_restricted(io.BytesIO(data), source, entry.filename, storage_from_persistent_id)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError) as err:
        raise CfglintError(f"not a readable torch zip checkpoint ({err})", source) from None


def _data_pkl_entry(archive: zipfile.ZipFile, source: str) -> zipfile.ZipInfo:
    """torch names the archive's top folder freely; its object pickle is ``<folder>/data.pkl``."""
    entries = archive.infolist()
    if not entries:
        raise CfglintError("zip archive is empty, not a torch checkpoint", source)
    folder = entries[0].filename.split("/", 1)[0]
    for entry in entries:
        if entry.filename == f"{folder}/data.pkl":
            return entry
    raise CfglintError("zip archive has no data.pkl: not a torch checkpoint", source)
