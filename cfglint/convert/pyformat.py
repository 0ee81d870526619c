"""Render plain data as an mmengine Python config: ``name = dict(key=value, ...)`` blocks.

mmdet's own configs write nested ``dict(...)`` calls one key per line, lists inline when short;
this mirrors that so a converted config reads like a hand-written one.
"""
from __future__ import annotations

import keyword
from typing import Any, List

_WIDTH = 100
_INDENT = "    "


def render_assignments(assignments: List[tuple]) -> str:
    """``[(name, value), ...]`` -> the config file body, one blank line between top-level names."""
    return "\n\n".join(f"{name} = {render(value, 0)}" for name, value in assignments) + "\n"


def render(value: Any, depth: int) -> str:
    inline = _inline(value)
    if inline is not None and len(inline) + depth * len(_INDENT) <= _WIDTH:
        return inline
    pad = _INDENT * (depth + 1)
    if isinstance(value, dict):
        items = [f"{pad}{k}={render(v, depth + 1)}" for k, v in value.items()]
        return "dict(\n" + ",\n".join(items) + ")"
    if isinstance(value, (list, tuple)):
        open_, close = ("[", "]") if isinstance(value, list) else ("(", ")")
        items = [f"{pad}{render(v, depth + 1)}" for v in value]
        trailing = "," if isinstance(value, tuple) and len(value) == 1 else ""
        return open_ + "\n" + ",\n".join(items) + trailing + close
    return _scalar(value)


def _inline(value: Any) -> Any:
    if isinstance(value, dict):
        _check_keys(value)
        return "dict(" + ", ".join(f"{k}={_inline(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(_inline(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return _scalar(value)


def _check_keys(value: dict) -> None:
    for key in value:
        if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key) or not key.isascii():
            from cfglint.errors import CfglintError
            from cfglint.printable import excerpt
            raise CfglintError(f"cannot write the key {excerpt(key, 40)!r} as a dict(...) keyword")


def _scalar(value: Any) -> str:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return f"float({str(value)!r})"   # repr would be a bare name (inf, nan)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 14000:
        from cfglint.errors import CfglintError
        raise CfglintError("cannot write an integer of thousands of digits into a config")
    if isinstance(value, (bool, type(None), int, float, str)):
        return repr(value)
    from cfglint.errors import CfglintError
    raise CfglintError(f"cannot write a {type(value).__name__} into a config")
