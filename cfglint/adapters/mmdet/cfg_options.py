"""`--cfg-options key=value ...` exactly as mmengine's DictAction + `Config.merge_from_dict` apply them.

mmengine (config/config.py, 0.10.7):
- `DictAction.__call__` splits each option on its first `=` and parses the value with
  `_parse_iterable`: quotes stripped from both ends and spaces removed at every level, `(...)` a
  tuple, `[...]` a list, a top-level `a,b` a list, else `_parse_int_float_bool`; the brackets are
  only checked for balance where a comma is searched for (`find_next_comma`), so `run(1` is the
  string `"run(1"` while `[a,b` fails. A later option with the same key replaces the value of the
  earlier one (a dict keeps the first position).
- `merge_from_dict` builds a nested dict by splitting keys on `.`; a key below a key that already
  holds a value (`a=1 a.b=2`) fails there (mmengine: `TypeError: 'int' object does not support item
  assignment`), then `Config._merge_a_into_b(..., allow_list_keys=True)` merges it into the config.
Every failure is a `<cfg-options>:N: message` error (N = the option's position), never a traceback.
"""
from __future__ import annotations

from typing import Any, Dict, Sequence, Tuple

from cfglint.adapters.mmdet.merge import merge_a_into_b
from cfglint.adapters.mmdet.values import CfgDict
from cfglint.errors import CfglintError
from cfglint.model.location import Location

OPTIONS_FILE = "<cfg-options>"
#: Deepest bracket nesting read (mmengine recurses once per level; we stop cleanly).
MAX_NESTING = 100


def parse_value(val: str, depth: int = 0) -> Any:
    """DictAction._parse_iterable: ints, floats, booleans, None, and (nested) lists/tuples."""
    if depth > MAX_NESTING:
        raise ValueError(f"brackets nest more than {MAX_NESTING} levels deep")
    val = val.strip("'\"").replace(" ", "")
    is_tuple = False
    if val.startswith("(") and val.endswith(")"):
        is_tuple, val = True, val[1:-1]
    elif val.startswith("[") and val.endswith("]"):
        val = val[1:-1]
    elif "," not in val:
        return _scalar(val)
    values = []
    # find_next_comma asserts balanced bracket counts on each remaining string; keep the counts of
    # the remainder as we go and walk by index (mmengine's loop recounts and re-slices: quadratic).
    counts = {c: val.count(c) for c in "()[]"}
    start = 0
    while start < len(val):
        if counts["("] != counts[")"] or counts["["] != counts["]"]:
            raise ValueError(f"imbalanced brackets in {val[start:]!r} (mmengine: 'Imbalanced brackets exist')")
        end = _next_comma(val, start, counts)
        values.append(parse_value(val[start:end], depth + 1))
        start = end + 1
    return tuple(values) if is_tuple else values


def _scalar(val: str) -> Any:
    """DictAction._parse_int_float_bool."""
    for convert in (int, float):
        try:
            return convert(val)
        except ValueError:
            pass
    if val.lower() in ("true", "false"):
        return val.lower() == "true"
    return None if val == "None" else val


def _next_comma(text: str, start: int, counts: Dict[str, int]) -> int:
    """find_next_comma from `start`: the first `,` with balanced bracket *counts* before it; the
    characters passed (and the comma) are taken off `counts`, the counts of the remainder."""
    parens = brackets = 0
    for idx in range(start, len(text)):
        char = text[idx]
        if char == "," and parens == 0 and brackets == 0:
            return idx
        if char in counts:
            counts[char] -= 1
        if char == "(":
            parens += 1
        elif char == ")":
            parens -= 1
        elif char == "[":
            brackets += 1
        elif char == "]":
            brackets -= 1
    return len(text)


def parse_options(options: Sequence[str]) -> Dict[str, Tuple[Any, int]]:
    """DictAction: key -> (value, position of the option that set it last)."""
    parsed: Dict[str, Tuple[Any, int]] = {}
    for position, option in enumerate(options, start=1):
        key, sep, raw = option.partition("=")
        if not sep:
            raise CfglintError(f"option {option!r} is not of the form key=value", file=OPTIONS_FILE, line=position)
        try:
            parsed[key] = (parse_value(raw), position)
        except ValueError as exc:
            raise CfglintError(f"cannot parse option {option!r}: {exc}", file=OPTIONS_FILE, line=position)
    return parsed


def apply_cfg_options(cfg: CfgDict, options: Sequence[str]) -> CfgDict:
    """Merge `key.sub=value` options into the resolved config (list indices allowed as keys)."""
    tree = CfgDict(config=True)
    for full_key, (value, position) in parse_options(options).items():
        node: Any = tree
        loc = Location(OPTIONS_FILE, position)
        parts = full_key.split(".")
        for i, part in enumerate(parts[:-1]):
            if part not in node:
                node.put(part, CfgDict(config=True), loc)
            node = node[part]
            if not isinstance(node, dict):
                prefix = ".".join(parts[:i + 1])
                raise CfglintError(f"option {full_key!r}: an earlier option set {prefix} to {node!r:.60}, "
                                   f"which has no key {parts[i + 1]!r} (mmengine fails here too: "
                                   "merge_from_dict cannot nest a key under a value)",
                                   file=OPTIONS_FILE, line=position)
        node.put(parts[-1], value, loc)
    _check_targets(tree, cfg, ())
    return merge_a_into_b(tree, cfg, allow_list_keys=True)


def _check_targets(a: Any, b: Any, path: Tuple[str, ...]) -> None:
    """Where `_merge_a_into_b` would index a list with a key that is not an index, fail cleanly.

    (An index past the end and a dict over a non-dict are reported by merge_a_into_b itself.)"""
    if not isinstance(a, dict):
        return
    for k, v in a.items():
        if isinstance(b, (list, tuple)) and not (isinstance(b, list) and isinstance(k, str) and k.isdigit()):
            where = ".".join(path) or "the config"
            loc = a.locs.get(k) if isinstance(a, CfgDict) else None
            raise CfglintError(f"option {'.'.join(path + (k,))!r}: {where} is a {type(b).__name__}, which has "
                               f"no key {k!r} (mmengine fails here too)",
                               file=loc.file if loc else OPTIONS_FILE, line=loc.line if loc else None)
        if isinstance(b, list):
            idx = int(k)
            if idx < len(b) and not isinstance(v, dict):
                loc = a.locs.get(k) if isinstance(a, CfgDict) else None
                raise CfglintError(f"option {'.'.join(path + (k,))!r}: a list element can only be changed key by "
                                   f"key ({'.'.join(path + (k, 'key'))}=...); mmengine's merge_from_dict fails on "
                                   "a whole value here", file=loc.file if loc else OPTIONS_FILE,
                                   line=loc.line if loc else None)
            if idx < len(b):
                _check_targets(v, b[idx], path + (k,))
        elif isinstance(b, dict) and isinstance(v, dict) and k in b and not v.get("_delete_", False):
            _check_targets(v, b[k], path + (k,))
