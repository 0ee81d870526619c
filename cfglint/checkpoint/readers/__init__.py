"""Read a checkpoint's tensor names, shapes, dtypes and metadata without loading it.

The format is decided from the first bytes, as torch does (a zip archive, else a pickle stream),
with the safetensors header recognised before both. Nothing here imports torch or numpy, reads
tensor bytes (except the arrays inlined in a ``.pkl`` pickle stream) or runs pickled code.
"""
from __future__ import annotations

from typing import Dict, Tuple

from cfglint.checkpoint.info import CheckpointInfo
from cfglint.checkpoint.readers.pickles import load_pickle_checkpoint
from cfglint.checkpoint.readers.safetensors import looks_like_safetensors, read_safetensors
from cfglint.checkpoint.readers.torch_zip import ZIP_MAGIC, load_torch_zip
from cfglint.checkpoint.source import open_checkpoint
from cfglint.checkpoint.unwrap import describe
from cfglint.errors import CfglintError

_PROTO_OPCODE = b"\x80"  # every pickle of protocol 2 or later starts with it


def read_checkpoint(path_or_url: str) -> CheckpointInfo:
    """Describe a local or remote (fsspec URL) checkpoint; any unreadable or unsafe input is a CfglintError."""
    with open_checkpoint(path_or_url) as (stream, size):
        head = stream.read(16)
        stream.seek(0)
        if not head:
            raise CfglintError("checkpoint file is empty", path_or_url)
        if head.startswith(ZIP_MAGIC):
            return describe(path_or_url, "torch-zip", load_torch_zip(stream, path_or_url))
        if not head.startswith(_PROTO_OPCODE) and (
                looks_like_safetensors(head) or path_or_url.endswith(".safetensors")):
            tensors, metadata = read_safetensors(stream, size, path_or_url)
            return CheckpointInfo(path=path_or_url, format="safetensors", tensors=tensors, meta=dict(metadata))
        fmt, obj = load_pickle_checkpoint(stream, path_or_url)
        return describe(path_or_url, fmt, obj)


def read_state_dict_shapes(path_or_url: str) -> Dict[str, Tuple[int, ...]]:
    """The unwrapped state dict's ``{name: shape}``, in file order."""
    return read_checkpoint(path_or_url).shapes()
