"""mmengine's `Config._merge_a_into_b`, reproduced exactly, carrying locations along.

Quirks kept on purpose because the real framework has them: `_delete_` is popped only when the
key also exists in the base (elsewhere it leaks into the result), a child dict over a base
non-dict is an error, and lists/scalars in the child replace the base value whole.
"""
from __future__ import annotations

from typing import Any, Optional

from cfglint.adapters.mmdet.values import CfgDict, hook
from cfglint.errors import CfglintError
from cfglint.model.location import Location

DELETE_KEY = "_delete_"


def _as_cfg(value: Any) -> CfgDict:
    return value if isinstance(value, CfgDict) else CfgDict(value)


def copy_dict(d: Any) -> CfgDict:
    """`b.copy()` keeping the ConfigDict flag and the locations."""
    src = _as_cfg(d)
    return CfgDict(src, config=src.config, locs=src.locs, scope=src.scope)


def merge_a_into_b(a: Any, b: Any, allow_list_keys: bool = False, where: Optional[Location] = None) -> Any:
    """Merge child `a` into base `b` (not in place), as `Config._merge_a_into_b` does."""
    if isinstance(b, list):
        b = list(b)
    else:
        b = copy_dict(b)
    a_locs = a.locs if isinstance(a, CfgDict) else {}
    for k, v in list(a.items()):
        loc = a_locs.get(k, where)
        if allow_list_keys and isinstance(k, str) and k.isdigit() and isinstance(b, list):
            idx = int(k)
            if len(b) <= idx:
                raise CfglintError(f"index {idx} is past the end of the list it overrides (length {len(b)})",
                                   file=loc.file if loc else None, line=loc.line if loc else None)
            b[idx] = merge_a_into_b(v, b[idx], allow_list_keys, loc)
        elif isinstance(v, dict):
            if k in b and not _pop_delete(v):
                allowed = (dict, list) if allow_list_keys else dict
                if not isinstance(b[k], allowed):
                    raise CfglintError(
                        f"{k}= is a dict in this config but {type(b[k]).__name__} in its base, so it cannot "
                        f"inherit from it (mmengine refuses this too); set `_delete_=True` to replace the base "
                        f"value", file=loc.file if loc else None, line=loc.line if loc else None)
                _set(b, k, merge_a_into_b(v, b[k], allow_list_keys, loc), loc)
            else:
                _set(b, k, hook(_to_configdict(v)), loc)
        else:
            _set(b, k, v, loc)
    return b


def _pop_delete(v: dict) -> bool:
    if isinstance(v, CfgDict):
        v.locs.pop(DELETE_KEY, None)
    return bool(dict.pop(v, DELETE_KEY, False))


def _to_configdict(v: Any) -> CfgDict:
    """`ConfigDict(v)`: a fresh ConfigDict, nested dicts converted too."""
    src = _as_cfg(v)
    return hook(CfgDict(src, config=False, locs=src.locs, scope=src.scope))


def _set(b: Any, k: Any, value: Any, loc: Optional[Location]) -> None:
    if isinstance(b, CfgDict):
        b.put(k, value, loc)
    else:
        b[k] = value
