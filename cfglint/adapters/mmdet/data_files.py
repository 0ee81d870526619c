"""YAML/JSON mmengine configs: loaded as data (never constructing Python objects), with key lines."""
from __future__ import annotations

import json
from typing import Any, List, Optional

import yaml

from cfglint.adapters.limits import MAX_YAML_NODES
from cfglint.adapters.mmdet.values import CfgDict
from cfglint.errors import CfglintError, UnsafeContentError
from cfglint.model.location import Location
from cfglint.printable import excerpt


def load_data_config(path: str, text: str) -> CfgDict:
    """The top-level mapping of a YAML/JSON config, every dict a CfgDict with each key's line."""
    if path.endswith(".json"):
        return _load_json(path, text)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise CfglintError("the YAML nests too deeply to read", file=path) from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise CfglintError(f"cannot parse config: {exc.problem or exc}", file=path, line=line)
    except yaml.YAMLError as exc:
        raise CfglintError(f"cannot parse config: {exc}", file=path)
    if node is None:
        return CfgDict()
    try:
        value = _construct(node, path)
    except RecursionError:
        raise CfglintError("the YAML nests too deeply to read", file=path) from None
    if not isinstance(value, CfgDict):
        raise CfglintError("a config file must contain a mapping at top level", file=path, line=1)
    return value


def _construct(node: yaml.Node, path: str, budget: Optional[List[int]] = None) -> Any:
    """Plain data from a composed node; `budget` counts expanded nodes so aliases cannot explode."""
    budget = [MAX_YAML_NODES] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        raise CfglintError(f"the YAML expands to more than {MAX_YAML_NODES} nodes (recursive or exponential "
                           "aliases?)", file=path, line=node.start_mark.line + 1)
    line = node.start_mark.line + 1
    if node.tag.startswith("tag:yaml.org,2002:python/") or node.tag.startswith("!"):
        raise UnsafeContentError(f"YAML tag {excerpt(node.tag, 80)} asks for a Python object to be built; refusing it",
                                 file=path, line=line)
    kind = type(node)
    if node.tag not in _PLAIN_TAGS.get(kind, ()):
        raise CfglintError(f"the YAML tag {excerpt(node.tag, 80)} is not supported in a config", file=path, line=line)
    if isinstance(node, yaml.MappingNode):
        out = CfgDict()
        loader = yaml.SafeLoader("")
        try:
            loader.flatten_mapping(node)
        except yaml.YAMLError as exc:
            raise CfglintError(f"YAML error: {getattr(exc, 'problem', None) or 'bad merge key'}", file=path,
                               line=line) from None
        for key_node, value_node in node.value:
            key = _construct(key_node, path, budget)
            if not isinstance(key, str):
                raise CfglintError(f"config keys must be strings; this key is read as {type(key).__name__} "
                                   "(quote it)", file=path, line=key_node.start_mark.line + 1)
            out.put(key, _construct(value_node, path, budget), Location(path, key_node.start_mark.line + 1))
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, path, budget) for item in node.value]
    from cfglint.adapters.detectron2.yaml_reader import construct_scalar
    return construct_scalar(yaml.SafeLoader(""), node, path)


_Y = "tag:yaml.org,2002:"
#: The only tags a data config may carry: plain data, nothing PyYAML would have to look up.
_PLAIN_TAGS = {
    yaml.ScalarNode: {_Y + t for t in ("str", "int", "float", "bool", "null", "timestamp")},
    yaml.SequenceNode: {_Y + "seq"},
    yaml.MappingNode: {_Y + "map"},
}


def _load_json(path: str, text: str) -> CfgDict:
    """JSON values come from `json` (as mmengine loads them); key lines from a YAML parse when it can."""
    try:
        value = json.loads(text, object_pairs_hook=CfgDict, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise CfglintError(f"cannot parse config: {exc.msg}", file=path, line=exc.lineno)
    except ValueError as exc:   # an integer past Python's 4300-digit limit
        raise CfglintError("cannot parse config: a number is too large to read" if "digit" in str(exc)
                           else "cannot parse config: invalid JSON", file=path) from None
    except RecursionError:
        raise CfglintError("the JSON nests too deeply to read", file=path) from None
    if not isinstance(value, CfgDict):
        raise CfglintError("a config file must contain a mapping at top level", file=path, line=1)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        node = None
    try:
        _attach_lines(value, node, path)
    except RecursionError:
        raise CfglintError("the JSON nests too deeply to read", file=path) from None
    return value


def _no_constant(name: str) -> float:
    # json accepts NaN/Infinity, as mmengine's json.load does; keep them (strict output writes strings).
    return float(name.replace("Infinity", "inf"))


def _attach_lines(value: Any, node: Any, path: str) -> None:
    if isinstance(value, CfgDict):
        pairs = node.value if isinstance(node, yaml.MappingNode) else []
        key_nodes = {}
        for key_node, value_node in pairs:
            key_nodes.setdefault(getattr(key_node, "value", None), (key_node, value_node))
        for key, item in value.items():
            key_node, value_node = key_nodes.get(key, (None, None))
            value.locs[key] = Location(path, key_node.start_mark.line + 1 if key_node is not None else 1)
            _attach_lines(item, value_node, path)
    elif isinstance(value, list):
        items = node.value if isinstance(node, yaml.SequenceNode) else []
        for i, item in enumerate(value):
            _attach_lines(item, items[i] if i < len(items) else None, path)
