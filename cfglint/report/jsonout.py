"""JSON as every command prints it: one encoder, so every output stream has the same rules."""
from __future__ import annotations

import json
from typing import Any


def dump_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=True, default=_json_default)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, tuple):
        return list(obj)
    to_json = getattr(obj, "to_json", None)
    if callable(to_json):
        return to_json()
    return str(obj)
