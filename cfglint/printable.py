"""Text from untrusted files made printable: one line, control characters and lone surrogates escaped.

The lowest layer (adapters, checkpoint readers and converters quote input in their messages);
:mod:`cfglint.report.safe` builds the output streams' guard on it.
"""
from __future__ import annotations

import re

_INLINE_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_BLOCK_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _code(match: "re.Match[str]") -> str:
    ch = match.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    return f"\\u{ord(ch):04x}"   # valid inside a JSON string too


def escape(text: object) -> str:
    """`text` as one printable line: control characters and lone surrogates escaped."""
    text = text if isinstance(text, str) else _str(text)
    return _INLINE_UNSAFE.sub(_code, text)


def escape_block(text: str) -> str:
    """Like :func:`escape` but newlines and tabs stay (a block of output lines)."""
    return _BLOCK_UNSAFE.sub(_code, text)


def excerpt(text: object, limit: int = 80) -> str:
    """A short, escaped quote of input: at most `limit` characters (then `...`)."""
    text = text if isinstance(text, str) else _str(text)
    cut = text[:limit + 1]
    shown = escape(cut[:limit])
    return shown + ("..." if len(cut) > limit else "")


def _str(value: object) -> str:
    try:
        return str(value)
    except (ValueError, RecursionError, MemoryError):  # e.g. an int past Python's digit limit
        if isinstance(value, int):
            return f"<integer of about {int(value.bit_length() * 0.30103)} digits>"
        return f"<{type(value).__name__}>"
