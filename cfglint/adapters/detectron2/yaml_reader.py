"""Read one Detectron2 YAML file safely, remembering the line of every key.

fvcore loads configs with `yaml.safe_load` and falls back to `yaml.unsafe_load`, which runs any
`!!python/...` tag. cfglint never does: the one tag real configs use,
`!!python/object/apply:eval ["<expression>"]` (configs/Base-RetinaNet.yaml), is computed by the
restricted evaluator in cfglint.adapters.expr, and every other Python tag is refused with
UnsafeContentError. Aliases are expanded with a node budget, so a "billion laughs" file fails
fast instead of exhausting memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

import yaml

from cfglint.adapters import expr
from cfglint.adapters.limits import MAX_YAML_NODES
from cfglint.errors import CfglintError, UnsafeContentError

KeyPath = Tuple[str, ...]

#: libyaml's scanner and composer when PyYAML was built with it (the wheels are): the same nodes
#: as PyYAML's pure-Python loader, which fvcore's `yaml.safe_load` uses, about 10x faster.
#: libyaml caps nesting at 1000 levels, so its C composer cannot exhaust the stack.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_PYTHON_TAG_PREFIX = "tag:yaml.org,2002:python/"
_EVAL_TAG = _PYTHON_TAG_PREFIX + "object/apply:eval"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_TOO_DEEP = "the YAML nests lists or mappings too deeply to read"
_SCALAR_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp", "binary")}


@dataclass
class YamlFile:
    """A parsed file: its top-level mapping and the line of every key path in it."""

    data: Dict[str, Any]
    key_lines: Dict[KeyPath, int] = field(default_factory=dict)


def read_yaml(text: str, file: str) -> YamlFile:
    """Parse `text` (the content of `file`) into plain data, without running anything."""
    try:
        loader, node = _compose(_Loader, text)
    except (yaml.YAMLError, RecursionError):
        # PyYAML's own loader says what is wrong, in the words detectron2 users see (and decides,
        # should libyaml ever refuse what PyYAML reads)
        loader, node = _compose(yaml.SafeLoader, text, file)
    if node is None:
        raise CfglintError("the config file is empty; Detectron2 cannot merge an empty YAML", file, 1)
    if not isinstance(node, yaml.MappingNode) or node.tag != _MAP_TAG:
        raise CfglintError("a Detectron2 config must be a mapping of KEY: value at the top level",
                           file, node.start_mark.line + 1)
    builder = _Builder(loader, file)
    try:
        data = builder.mapping(node, ())
    except RecursionError:
        raise CfglintError(_TOO_DEEP, file) from None
    return YamlFile(data, builder.key_lines)


def _compose(loader_class, text: str, file: Optional[str] = None):
    """(loader, root node). With `file`, errors become CfglintError; without, they propagate."""
    try:
        loader = loader_class(text)  # its reader refuses control characters
    except yaml.YAMLError as exc:
        if file is None:
            raise
        raise CfglintError(f"YAML error: {str(exc).splitlines()[0]}", file) from None
    try:
        return loader, loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        if file is None:
            raise
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise CfglintError(f"YAML syntax error: {problem}", file, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        if file is None:
            raise
        raise CfglintError(f"YAML error: {exc}", file) from None
    except RecursionError:  # PyYAML composes nested collections recursively
        if file is None:
            raise
        raise CfglintError(_TOO_DEEP, file) from None
    finally:
        loader.dispose()


def construct_scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode, file: str) -> Any:
    """A plain scalar, or a one-line error for one PyYAML cannot build (an integer past Python's
    4300-digit limit, a date that does not exist, bad base64)."""
    line = node.start_mark.line + 1
    if node.tag == "tag:yaml.org,2002:int" and len(node.value) > 4000:
        raise CfglintError(f"an integer of {len(node.value)} characters is too large to read", file, line)
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError, yaml.YAMLError) as exc:
        kind = node.tag.rsplit(":", 1)[-1]
        detail = "too large" if "digits" in str(exc) else "not valid"
        raise CfglintError(f"the YAML {kind} value on this line is {detail}", file, line) from None


class _Builder:
    """Turns a composed YAML node graph into plain data, recording where each key is."""

    def __init__(self, loader: yaml.SafeLoader, file: str):
        self.loader = loader
        self.file = file
        self.key_lines: Dict[KeyPath, int] = {}
        self.nodes = 0

    def value(self, node: yaml.Node, path: KeyPath) -> Any:
        self.nodes += 1
        line = node.start_mark.line + 1
        if self.nodes > MAX_YAML_NODES:
            raise CfglintError(f"the YAML expands to more than {MAX_YAML_NODES} nodes (recursive or "
                               "exponential aliases?)", self.file, line)
        tag = node.tag or ""
        if tag == _EVAL_TAG:
            return self.eval_tag(node)
        if tag.startswith(_PYTHON_TAG_PREFIX):
            from cfglint.printable import excerpt
            short = "!!python/" + excerpt(tag[len(_PYTHON_TAG_PREFIX):], 80)
            raise UnsafeContentError(f"the YAML tag {short} would run Python code when Detectron2 loads "
                                     "this file; cfglint refuses it", self.file, line)
        if isinstance(node, yaml.MappingNode) and tag == _MAP_TAG:
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode) and tag == _SEQ_TAG:
            return [self.value(item, path) for item in node.value]
        if isinstance(node, yaml.ScalarNode) and tag in _SCALAR_TAGS:
            return construct_scalar(self.loader, node, self.file)
        from cfglint.printable import excerpt
        raise CfglintError(f"the YAML tag {excerpt(tag, 60)} is not supported in a Detectron2 config", self.file, line)

    def mapping(self, node: yaml.MappingNode, path: KeyPath) -> Dict[str, Any]:
        try:
            self.loader.flatten_mapping(node)  # YAML merge keys (<<: *base)
        except yaml.MarkedYAMLError as exc:
            raise CfglintError(f"YAML error: {exc.problem}", self.file, node.start_mark.line + 1) from None
        out: Dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:str"):
                shown = getattr(key_node, "value", "?")
                from cfglint.printable import excerpt
                shown = excerpt(shown, 40) if isinstance(shown, str) else "a " + type(key_node).__name__[:-4].lower()
                raise CfglintError(f"config keys must be strings; {shown!r} is read as "
                                   f"{excerpt(key_node.tag.rsplit(':', 1)[-1], 40)} (quote it)", self.file, line)
            key = key_node.value
            self.key_lines[path + (key,)] = line
            out[key] = self.value(value_node, path + (key,))
        return out

    def eval_tag(self, node: yaml.Node) -> Any:
        """`!!python/object/apply:eval ["expr"]`, computed by the restricted evaluator."""
        line = node.start_mark.line + 1
        args = node.value
        if isinstance(node, yaml.MappingNode):  # the long form {args: [...]}
            entries = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
            args = entries.get("args").value if set(entries) == {"args"} and "args" in entries else None
        if (not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], yaml.ScalarNode)):
            raise UnsafeContentError("!!python/object/apply:eval must have exactly one expression string "
                                     "argument to be evaluated safely", self.file, line)
        return expr.evaluate(args[0].value, file=self.file, line=line)
