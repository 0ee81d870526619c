"""A pickle stream with its large byte payloads left unread: arrays inlined in a ``.pkl`` cost nothing.

A Detectron2 ``.pkl`` carries every array's bytes inside the pickle (``BINSTRING`` in Python 2
files, ``_codecs.encode(<latin-1 str>)`` under protocol 2, ``BINBYTES`` under 3+). The unpickler's
memo keeps each of them alive until the end, so peak memory was about the file size. This reader
sits between the file and the unpickler and rewrites the opcode stream: a byte payload longer than
:data:`SKIP_ABOVE` is skipped in the file (a seek when the file can seek) and replaced by a short
placeholder of the same kind; ``FRAME`` opcodes are dropped (they are optional, and the frame
lengths change). Text payloads are left alone unless they are ``_codecs.encode``'s argument, i.e.
bytes. It stops right after ``STOP``, so the next pickle of a legacy torch file starts where it should.
"""
from __future__ import annotations

import struct
from typing import Any, Optional, Set

SKIP_ABOVE = 64 * 1024
#: Opcodes this (Python) scanner handles before it hands the rest of the stream to the unpickler
#: unchanged: a real ``.pkl`` has a few per array, a hostile one millions (which must stay fast).
MAX_SCANNED_OPS = 200_000
_TRIM_AT = 1 << 20

# Opcodes with a length-prefixed byte payload: opcode -> (length bytes, struct format).
_BYTES_OPS = {b"T": (4, "<i"), b"U": (1, "<B"), b"B": (4, "<I"), b"C": (1, "<B"), b"\x8e": (8, "<Q"),
              b"\x96": (8, "<Q")}
_TEXT_OPS = {b"X": (4, "<I"), b"\x8c": (1, "<B"), b"\x8d": (8, "<Q")}
_LONG_OPS = {b"\x8a": (1, "<B"), b"\x8b": (4, "<i")}   # LONG1, LONG4: length-prefixed, never skipped
_FIXED = {b"J": 4, b"K": 1, b"M": 2, b"G": 8, b"h": 1, b"j": 4, b"q": 1, b"r": 4, b"\x82": 1, b"\x83": 2,
          b"\x84": 4, b"\x80": 1}
_LINE_OPS = {b"I", b"L", b"S", b"V", b"F", b"g", b"p", b"P"}
_TWO_LINE_OPS = {b"c", b"i"}
_NO_ARG = set(b")t\x85\x86\x87}dsu\x8f\x90\x91012(]aelN\x88\x89\x94\x93Rb\x81\x92oQ\x97\x98")
_PUTS = {b"q", b"r", b"p", b"\x94"}
_GETS = {b"h", b"j", b"g"}


class PayloadSkippingReader:
    """``read``/``readline``/``readinto`` over ``source`` (a file-like with ``read``/``readline``,
    and ``skip(n)``), yielding the rewritten pickle."""

    def __init__(self, source: Any):
        self._src = source
        self._out = bytearray()
        self._pos = 0
        self._done = False
        self._memo_size = 0
        self._encode_ids: Set[Any] = set()     # memo indices holding the _codecs.encode global
        self._encode_pending = False            # the next text payload is _codecs.encode's argument
        self._last_texts = [None, None]         # for STACK_GLOBAL ('_codecs', 'encode')
        self.skipped = 0
        self._ops = 0
        self._passthrough = False   # past MAX_SCANNED_OPS: the source is read as it is

    # -- file protocol ------------------------------------------------------------------------
    def read(self, size: int = -1) -> bytes:
        while not self._done and not self._passthrough and \
                (size is None or size < 0 or len(self._out) - self._pos < size):
            self._step()
        end = len(self._out) if size is None or size < 0 else min(len(self._out), self._pos + size)
        data = bytes(self._out[self._pos:end])
        self._pos = end
        self._trim()
        if self._passthrough and not self._done and (size is None or size < 0 or len(data) < size):
            data += self._src.read(-1 if size is None or size < 0 else size - len(data))
        return data

    def readline(self, size: int = -1) -> bytes:
        while not self._done and not self._passthrough and self._out.find(b"\n", self._pos) < 0:
            self._step()
        newline = self._out.find(b"\n", self._pos)
        end = len(self._out) if newline < 0 else newline + 1
        if size is not None and size >= 0:
            end = min(end, self._pos + size)
        data = bytes(self._out[self._pos:end])
        self._pos = end
        if self._passthrough and not self._done and not data.endswith(b"\n") and \
                (size is None or size < 0 or len(data) < size):
            data += self._src.readline(-1 if size is None or size < 0 else size - len(data))
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def _trim(self) -> None:
        if self._pos > _TRIM_AT:
            del self._out[:self._pos]
            self._pos = 0

    # -- the opcode scanner -------------------------------------------------------------------
    def _take(self, n: int) -> bytes:
        return self._src.read(n) if n else b""

    def _step(self) -> None:
        self._ops += 1
        if self._ops > MAX_SCANNED_OPS:
            self._passthrough = True
            return
        op = self._src.read(1)
        if not op:
            self._done = True
            return
        pending, self._encode_pending = self._encode_pending, False
        out = self._out
        if op == b".":
            out += op
            self._done = True
        elif op == b"\x95":           # FRAME: dropped
            self._take(8)
        elif op in _FIXED:
            arg = self._take(_FIXED[op])
            out += op + arg
            if op in _PUTS:
                self._put(arg, op, pending)
            elif op in _GETS and self._memo_key(op, arg) in self._encode_ids:
                self._encode_pending = True
        elif op in _BYTES_OPS or op in _TEXT_OPS:
            width, fmt = _BYTES_OPS.get(op) or _TEXT_OPS[op]
            raw = self._take(width)
            if len(raw) < width:
                out += op + raw
                self._done = True
                return
            (length,) = struct.unpack(fmt, raw)
            if length > SKIP_ABOVE and length >= 0 and (op in _BYTES_OPS or pending):
                self._src.skip(length)
                self.skipped += length
                out += _placeholder(op, length)
                self._last_texts = [self._last_texts[1], None]
                return
            payload = self._take(max(length, 0))
            out += op + raw + payload
            if op in _TEXT_OPS:
                self._last_texts = [self._last_texts[1], payload]
        elif op in _LONG_OPS:
            width, fmt = _LONG_OPS[op]
            raw = self._take(width)
            length = struct.unpack(fmt, raw)[0] if len(raw) == width else 0
            out += op + raw + self._take(max(length, 0))
        elif op in _LINE_OPS:
            arg = self._src.readline()
            out += op + arg
            if op == b"p":
                self._put(arg, op, pending)
            elif op == b"g" and arg.strip() in self._encode_ids:
                self._encode_pending = True
        elif op in _TWO_LINE_OPS:
            module, name = self._src.readline(), self._src.readline()
            out += op + module + name
            if op == b"c" and (module, name) == (b"_codecs\n", b"encode\n"):
                self._encode_pending = True
        elif op[0] in _NO_ARG:
            out += op
            if op == b"\x93" and self._last_texts == [b"_codecs", b"encode"]:
                self._encode_pending = True
            if op == b"\x94":
                self._put(None, op, pending)
        else:                         # not an opcode: let the unpickler report it
            out += op
            self._done = True
            return
        if op not in _PUTS and op not in _TEXT_OPS:
            self._last_texts = [None, None]   # STACK_GLOBAL's two names come right before it

    def _memo_key(self, op: bytes, arg: bytes) -> Any:
        return struct.unpack("<B" if op in (b"h", b"q") else "<I", arg)[0]

    def _put(self, arg: Optional[bytes], op: bytes, pending: bool) -> None:
        """Memoising the encode global: remember its index so a later GET of it counts too."""
        if op == b"\x94":
            key: Any = self._memo_size
        elif op == b"p":
            key = arg.strip() if arg is not None else None
        else:
            key = self._memo_key(op, arg)
        self._memo_size += 1
        if pending:
            self._encode_ids.add(key)
            self._encode_pending = True   # PUT after the global: the payload still follows


def _placeholder(op: bytes, length: int) -> bytes:
    """A payload of the same kind (bytes, Python 2 str, text) saying what was not read."""
    text = f"<cfglint: {length} bytes not read>".encode()
    if op in (b"T", b"U"):
        return b"U" + bytes([len(text)]) + text
    if op in _TEXT_OPS:
        return b"\x8c" + bytes([len(text)]) + text
    if op == b"\x96":
        return b"\x96" + struct.pack("<Q", len(text)) + text
    return b"C" + bytes([len(text)]) + text
