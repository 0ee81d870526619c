"""torch.save's zip format: only ``<archive>/data.pkl`` is read; the storage entries are never opened.

The central directory alone says whether the archive is whole: every storage the object pickle
declares must be an entry of at least its declared size, lying inside the file.
"""
from __future__ import annotations

import io
import zipfile
from typing import Any, BinaryIO, Optional

from cfglint.checkpoint.readers.torch_storage import StorageTable
from cfglint.checkpoint.unpickler import MiB, BoundedStream, load_restricted
from cfglint.errors import CfglintError

ZIP_MAGIC = b"PK\x03\x04"  # what torch.serialization._is_zipfile checks
MAX_DATA_PKL_BYTES = 256 * MiB
_LOCAL_HEADER_BYTES = 30


def load_torch_zip(stream: BinaryIO, source: str, size: Optional[int] = None) -> Any:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError, OSError) as err:
        raise CfglintError("the zip archive's central directory is missing or damaged: the file is truncated or "
                           f"corrupt ({err})", source) from None
    try:
        entry = _data_pkl_entry(archive, source)
        if entry.file_size > MAX_DATA_PKL_BYTES:
            raise CfglintError(f"{entry.filename} declares {entry.file_size // MiB} MB, more than cfglint's "
                               f"{MAX_DATA_PKL_BYTES // MiB} MB limit for the object pickle", source)
        _refuse_encrypted(entry, source)
        # Read the (bounded) object pickle in one go: unpickling from memory avoids one call per opcode.
        with archive.open(entry) as member:
            data = BoundedStream(member, MAX_DATA_PKL_BYTES, entry.filename, source).read()
        storages = StorageTable()
        obj = load_restricted(io.BytesIO(data), source, entry.filename, storages)
        _check_storages(archive, entry.filename.rsplit("/", 1)[0], storages, size, source)
        return obj
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError) as err:
        raise CfglintError(f"not a readable torch zip checkpoint ({err})", source) from None


def _refuse_encrypted(entry: zipfile.ZipInfo, source: str) -> None:
    if entry.flag_bits & 0x1:
        raise CfglintError(f"zip entry {entry.filename} is encrypted: torch cannot load it, and neither can cfglint",
                           source)


def _check_storages(archive: zipfile.ZipFile, folder: str, storages: StorageTable, size: Optional[int],
                    source: str) -> None:
    for key, nbytes in storages.nbytes.items():
        try:
            entry = archive.getinfo(f"{folder}/data/{key}")
        except KeyError:
            raise CfglintError(f"the archive has no entry {folder}/data/{key} for a storage the tensors use: "
                               "the file is corrupt", source) from None
        _refuse_encrypted(entry, source)
        if entry.file_size < nbytes:
            raise CfglintError(f"storage entry {entry.filename} holds {entry.file_size} bytes, its tensors declare "
                               f"{nbytes}: the file is corrupt", source)
        end = entry.header_offset + _LOCAL_HEADER_BYTES + len(entry.orig_filename) + entry.compress_size
        if size is not None and end > size:
            raise CfglintError(f"storage entry {entry.filename} ends at byte {end}, after the end of the "
                               f"{size}-byte file: the file is truncated", source)


def _data_pkl_entry(archive: zipfile.ZipFile, source: str) -> zipfile.ZipInfo:
    """torch names the archive's top folder freely; its object pickle is ``<folder>/data.pkl``."""
    entries = archive.infolist()
    if not entries:
        raise CfglintError("zip archive is empty, not a torch checkpoint", source)
    folder = entries[0].filename.split("/", 1)[0]
    names = {entry.filename for entry in entries}
    if f"{folder}/constants.pkl" in names or any(name.startswith(f"{folder}/code/") for name in names):
        raise CfglintError("this is a TorchScript archive (torch.jit.save), not a checkpoint: its pickles name "
                           "compiled classes; save `model.state_dict()` with torch.save instead", source)
    for entry in entries:
        if entry.filename == f"{folder}/data.pkl":
            return entry
    raise CfglintError("zip archive has no data.pkl: not a torch checkpoint", source)
