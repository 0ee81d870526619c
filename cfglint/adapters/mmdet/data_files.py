"""YAML/JSON mmengine configs: loaded as data (never constructing Python objects), with key lines."""
from __future__ import annotations

import json
from typing import Any, List, Optional

import yaml

from cfglint.adapters.limits import MAX_YAML_NODES
from cfglint.adapters.mmdet.values import CfgDict
from cfglint.errors import CfglintError, UnsafeContentError
from cfglint.model.location import Location


def load_data_config(path: str, text: str) -> CfgDict:
    """The top-level mapping of a YAML/JSON config, every dict a CfgDict with each key's line."""
    if path.endswith(".json"):
        return _load_json(path, text)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise CfglintError(f"cannot parse config: {exc.problem or exc}", file=path, line=line)
    except yaml.YAMLError as exc:
        raise CfglintError(f"cannot parse config: {exc}", file=path)
    if node is None:
        return CfgDict()
    value = _construct(node, path)
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
    if node.tag.startswith("tag:yaml.org,2002:python/") or node.tag.startswith("!"):
        raise UnsafeContentError(f"YAML tag {node.tag} asks for a Python object to be built; refusing it",
                                 file=path, line=node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out = CfgDict()
        loader = yaml.SafeLoader("")
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = _construct(key_node, path, budget)
            out.put(key, _construct(value_node, path, budget), Location(path, key_node.start_mark.line + 1))
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, path, budget) for item in node.value]
    return yaml.SafeLoader("").construct_object(node)


def _load_json(path: str, text: str) -> CfgDict:
    """JSON values come from `json` (as mmengine loads them); key lines from a YAML parse when it can."""
    try:
        value = json.loads(text, object_pairs_hook=CfgDict)
    except json.JSONDecodeError as exc:
        raise CfglintError(f"cannot parse config: {exc.msg}", file=path, line=exc.lineno)
    if not isinstance(value, CfgDict):
        raise CfglintError("a config file must contain a mapping at top level", file=path, line=1)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        node = None
    _attach_lines(value, node, path)
    return value


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
