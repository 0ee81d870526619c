"""JSON as every command prints it: one strict encoder, so every output stream has the same rules."""
from __future__ import annotations

import json
from typing import Any, Optional


def dump_json(obj: Any, indent: Optional[int] = None) -> str:
    """Strict JSON (RFC 8259): no NaN/Infinity (written as strings), string keys only, integers
    past Python's printable size as strings, lone surrogates escaped."""
    return json.dumps(strict_json(obj), ensure_ascii=False, allow_nan=False, indent=indent)


def strict_json(obj: Any, depth: int = 0) -> Any:
    """`obj` as plain JSON data (see :func:`dump_json`)."""
    if depth > 400:
        return "<nested too deeply>"
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, str):
        return _strict_str(obj)
    if isinstance(obj, int):
        return obj if obj.bit_length() < 14000 else _big_int(obj)
    if isinstance(obj, float):
        if obj != obj:
            return "NaN"
        if obj in (float("inf"), float("-inf")):
            return "Infinity" if obj > 0 else "-Infinity"
        return obj
    if isinstance(obj, dict):
        return {_json_key(k): strict_json(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v, depth + 1) for v in obj]
    if isinstance(obj, (set, frozenset)):
        items = [strict_json(v, depth + 1) for v in obj]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    to_json = getattr(obj, "to_json", None)
    if callable(to_json):
        return strict_json(to_json(), depth + 1)
    from cfglint.printable import _str
    return _strict_str(_str(obj))


def _strict_str(text: str) -> str:
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:   # lone surrogates: printable, still the same text to a reader
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _big_int(value: int) -> str:
    return f"<integer of about {int(value.bit_length() * 0.30103)} digits>"


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return _strict_str(key)
    if isinstance(key, int) and not isinstance(key, bool) and key.bit_length() >= 14000:
        return _big_int(key)
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key) if not isinstance(key, float) or key == key and abs(key) != float("inf") \
            else str(key)
    from cfglint.printable import _str
    return _strict_str(_str(key))
