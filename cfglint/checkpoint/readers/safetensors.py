"""``.safetensors``: the 8-byte header length and the JSON header give every name, shape and dtype."""
from __future__ import annotations

import json
import struct
from typing import BinaryIO, Dict, Tuple

from cfglint.checkpoint.info import TensorInfo
from cfglint.errors import CfglintError

MAGIC_LENGTH = 8
# The safetensors library refuses headers above 100 MB for the same reason.
MAX_HEADER_BYTES = 100 * 1000 * 1000

_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
           "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
           "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool",
           "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "C64": "complex64"}
_ITEM_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
               "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "C64": 8}


def looks_like_safetensors(head: bytes) -> bool:
    return len(head) > MAGIC_LENGTH and head[MAGIC_LENGTH:MAGIC_LENGTH + 1] == b"{"


def read_safetensors(stream: BinaryIO, size: int, source: str) -> Tuple[Dict[str, TensorInfo], Dict[str, str]]:
    """Tensors in data order and the ``__metadata__`` strings, validated against the file size."""
    prefix = stream.read(MAGIC_LENGTH)
    if len(prefix) < MAGIC_LENGTH:
        raise CfglintError("safetensors file is truncated (no header length)", source)
    (header_len,) = struct.unpack("<Q", prefix)
    if header_len > MAX_HEADER_BYTES or MAGIC_LENGTH + header_len > size:
        raise CfglintError(f"safetensors header length {header_len} is impossible for a {size}-byte file", source)
    try:
        header = json.loads(stream.read(header_len), object_pairs_hook=_no_duplicates)
    except (ValueError, UnicodeDecodeError) as err:
        raise CfglintError(f"safetensors header is not valid JSON ({err})", source) from None
    if not isinstance(header, dict):
        raise CfglintError("safetensors header is not a JSON object", source)
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CfglintError("safetensors __metadata__ must map names to strings", source)
    data_bytes = size - MAGIC_LENGTH - header_len
    entries = sorted((_entry(name, spec, data_bytes, source) for name, spec in header.items()), key=lambda e: e[0])
    return {name: info for _, name, info in entries}, metadata


def _entry(name: str, spec: object, data_bytes: int, source: str) -> Tuple[int, str, TensorInfo]:
    bad = CfglintError(f"safetensors entry {name!r} is malformed", source)
    if not isinstance(spec, dict) or spec.get("dtype") not in _DTYPES:
        raise bad
    shape, offsets = spec.get("shape"), spec.get("data_offsets")
    if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
        raise bad
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)):
        raise bad
    begin, end = offsets
    numel = 1
    for dim in shape:
        numel *= dim
    if not 0 <= begin <= end <= data_bytes or end - begin != numel * _ITEM_BYTES[spec["dtype"]]:
        raise CfglintError(f"safetensors entry {name!r} does not fit its data offsets {offsets}", source)
    return begin, name, TensorInfo(tuple(shape), _DTYPES[spec["dtype"]])


def _no_duplicates(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate tensor names")
    return dict(pairs)
