"""Read a checkpoint's tensor names, shapes, dtypes and metadata without loading it.

The format is decided from the first bytes, as torch does (a zip archive, else a pickle stream),
with the safetensors header recognised before both. Nothing here imports torch or numpy, reads
tensor bytes (except the arrays inlined in a ``.pkl`` pickle stream) or runs pickled code.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

from cfglint.checkpoint.info import CheckpointInfo
from cfglint.checkpoint.readers.pickles import load_pickle_checkpoint
from cfglint.checkpoint.readers.safetensors import looks_like_safetensors, read_safetensors
from cfglint.checkpoint.readers.torch_zip import ZIP_MAGIC, load_torch_zip
from cfglint.checkpoint.source import RemoteStream, open_checkpoint
from cfglint.checkpoint.unwrap import describe
from cfglint.errors import CfglintError

_PROTO_OPCODE = b"\x80"  # every pickle of protocol 2 or later starts with it


def read_checkpoint(path_or_url: str, timeout: Optional[float] = None) -> CheckpointInfo:
    """Describe a local or remote (fsspec URL) checkpoint; any unreadable or unsafe input is a CfglintError.

    ``timeout``: seconds a remote server may stay silent (default ``source.DEFAULT_TIMEOUT``).
    """
    with open_checkpoint(path_or_url, timeout) as (stream, size):
        info = _read(stream, size, path_or_url)
        if isinstance(stream, RemoteStream):
            info.remote_read = {"bytes": stream.bytes_fetched, "requests": stream.requests, "size": size}
        return info


def _read(stream, size: Optional[int], path_or_url: str) -> CheckpointInfo:
    head = stream.read(64)
    stream.seek(0)
    if not head:
        raise CfglintError("checkpoint file is empty", path_or_url)
    if head.startswith(ZIP_MAGIC):
        return describe(path_or_url, "torch-zip", load_torch_zip(stream, path_or_url, size))
    # A safetensors header length can start with the byte 0x80 (a length of 128 + 256k): the '{' at
    # byte 8 and a length that fits the file decide, not the first byte.
    plausible = looks_like_safetensors(head) and (size is None or int.from_bytes(head[:8], "little") + 8 <= size)
    if plausible or not head.startswith(_PROTO_OPCODE) and path_or_url.endswith(".safetensors"):
        if size is None:
            stream.seek(0, 2)   # raises the "no file size" error: the header must be checked against it
        tensors, metadata = read_safetensors(stream, size, path_or_url)
        return CheckpointInfo(path=path_or_url, format="safetensors", tensors=tensors, meta=dict(metadata))
    _refuse_known_non_checkpoints(head, path_or_url)
    fmt, obj = load_pickle_checkpoint(stream, path_or_url, size=size)
    return describe(path_or_url, fmt, obj)


def _refuse_known_non_checkpoints(head: bytes, source: str) -> None:
    """Files people get instead of a checkpoint, named as what they are rather than as a bad pickle."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"version https://git-lfs"):
        raise CfglintError("this is a Git LFS pointer file, not the checkpoint: fetch the weights "
                           "(git lfs pull) and verify the downloaded file", source)
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<!--")):
        raise CfglintError("this is an HTML/XML page, not a checkpoint (a download link that returned a web "
                           "page, a login or an error page?)", source)
    if head.startswith(b"PK"):
        raise CfglintError("this is a zip archive that does not start with a file entry (damaged or not "
                           "written by torch.save)", source)
    if head[:1] not in _PICKLE_FIRST_BYTES:
        raise CfglintError(f"not a checkpoint: neither a torch zip or pickle file, safetensors nor a Detectron2 "
                           f".pkl (it starts with {head[:16]!r})", source)


# The opcodes a pickle of a dict can start with: PROTO (2+), or protocol 0/1 MARK, EMPTY_DICT, GLOBAL,
# INT/LONG (the legacy magic number), BININT*, LONG1, EMPTY_LIST, DICT...
_PICKLE_FIRST_BYTES = {bytes([b]) for b in b"\x80(}cIJKLM\x8a]d"}


def read_state_dict_shapes(path_or_url: str) -> Dict[str, Tuple[int, ...]]:
    """The unwrapped state dict's ``{name: shape}``, in file order."""
    return read_checkpoint(path_or_url).shapes()
