"""`--cfg-options key=value ...` exactly as mmengine's DictAction + `Config.merge_from_dict` apply them."""
from __future__ import annotations

from typing import Any, Sequence

from cfglint.adapters.mmdet.merge import merge_a_into_b
from cfglint.adapters.mmdet.values import CfgDict
from cfglint.errors import CfglintError
from cfglint.model.location import Location

OPTIONS_FILE = "<cfg-options>"


def parse_value(val: str) -> Any:
    """DictAction: ints, floats, booleans, None, and (nested) lists/tuples written `a,b` or `[a,(b,c)]`."""
    if val.count("(") != val.count(")") or val.count("[") != val.count("]"):
        raise ValueError(f"imbalanced brackets in {val!r}")
    val = val.strip("'\"").replace(" ", "")
    is_tuple = False
    if val.startswith("(") and val.endswith(")"):
        is_tuple, val = True, val[1:-1]
    elif val.startswith("[") and val.endswith("]"):
        val = val[1:-1]
    elif "," not in val:
        return _scalar(val)
    values = []
    while val:
        end = _next_comma(val)
        values.append(parse_value(val[:end]))
        val = val[end + 1:]
    return tuple(values) if is_tuple else values


def _scalar(val: str) -> Any:
    for convert in (int, float):
        try:
            return convert(val)
        except ValueError:
            pass
    if val.lower() in ("true", "false"):
        return val.lower() == "true"
    return None if val == "None" else val


def _next_comma(text: str) -> int:
    for idx, char in enumerate(text):
        pre = text[:idx]
        if char == "," and pre.count("(") == pre.count(")") and pre.count("[") == pre.count("]"):
            return idx
    return len(text)


def apply_cfg_options(cfg: CfgDict, options: Sequence[str]) -> CfgDict:
    """Merge `key.sub=value` options into the resolved config (list indices allowed as keys)."""
    parsed = {}
    for position, option in enumerate(options, start=1):
        key, sep, raw = option.partition("=")
        if not sep or not key:
            raise CfglintError(f"option {option!r} is not of the form key=value", file=OPTIONS_FILE, line=position)
        try:
            parsed[key] = (parse_value(raw), position)
        except ValueError as exc:
            raise CfglintError(f"cannot parse option {option!r}: {exc}", file=OPTIONS_FILE, line=position)
    tree = CfgDict(config=True)
    for full_key, (value, position) in parsed.items():
        node = tree
        loc = Location(OPTIONS_FILE, position)
        parts = full_key.split(".")
        for part in parts[:-1]:
            if part not in node:
                node.put(part, CfgDict(config=True), loc)
            node = node[part]
        node.put(parts[-1], value, loc)
    return merge_a_into_b(tree, cfg, allow_list_keys=True)

