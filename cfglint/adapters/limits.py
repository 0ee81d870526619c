"""Resource limits shared by every config reader, so hostile files fail fast instead of hanging.

A linter reads files it does not trust; each limit here is far above what real configs need
(the largest Detectron2/MMDetection configs are tens of kilobytes, with `_base_` chains a few
levels deep) and far below what would exhaust a CI machine. The per-evaluator limits on what a
config may *compute* (sequence lengths, integer sizes) live next to each evaluator
(`expr.MAX_ITEMS`, `lazy_interp.MAX_ITEMS`, `mmdet.interp.MAX_SEQUENCE`); checkpoint limits are in
`cfglint.checkpoint.readers`. Nesting too deep for Python's recursion is refused where it happens
(and, as a last resort, by `cfglint.adapters.resolve`).
"""
from __future__ import annotations

from typing import Optional

from cfglint.errors import CfglintError

MiB = 1 << 20
#: Largest config file cfglint reads; a larger one is refused after reading this many bytes.
MAX_CONFIG_BYTES = 16 * MiB
#: Expanded YAML nodes one file may produce (a full dumped config has about 400); stops alias bombs.
MAX_YAML_NODES = 200_000
#: Longest `_BASE_`/`_base_` inheritance chain (real ones are 2-4 files); a cycle is reported as such.
MAX_BASE_DEPTH = 64


def read_config_text(path: str, shown: Optional[str] = None) -> str:
    """A config file's text, decoded as UTF-8; too large, unreadable or not text is a CfglintError.

    Only a regular file is opened (a FIFO or device is refused before a byte is read), and at most
    MAX_CONFIG_BYTES + 1 bytes are read, so a huge or growing file is refused after a bounded read.
    A file a config *names* must also pass :func:`cfglint.adapters.roots.confine` at the place
    that resolves the name. `shown` is the
    name used in messages. Newlines are translated as text-mode `open` does.
    """
    from cfglint.adapters import roots
    shown = shown or path
    roots.check_input(path, shown)   # its symlinks may not lead out of its project
    data = roots.read_bytes(path, MAX_CONFIG_BYTES, shown)   # regular files only, never blocks
    if len(data) > MAX_CONFIG_BYTES:
        raise CfglintError(f"the file is larger than {MAX_CONFIG_BYTES // MiB} MB, cfglint's limit for a "
                           "config file; refusing to read it", shown)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CfglintError(f"the file is not UTF-8 text (byte {exc.start} cannot be decoded)", shown) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_yaml_expansion(node, shown: str, limit: int = MAX_YAML_NODES) -> None:
    """Refuse a composed YAML graph that expands (aliases followed) to more than `limit` nodes.

    PyYAML shares an aliased node instead of copying it, so a "billion laughs" file composes
    quickly, but anything that walks or prints the data afterwards would do exponential work.
    The walk stops as soon as the budget is spent, so it is bounded by `limit` itself."""
    import yaml
    if node is None:
        return
    budget = limit
    stack = [node]
    while stack:
        current = stack.pop()
        budget -= 1
        if budget < 0:
            raise CfglintError(f"the YAML expands to more than {limit} nodes (recursive or exponential aliases?)",
                               shown, current.start_mark.line + 1)
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.append(key)
                stack.append(value)


#: Largest rule file cfglint reads.
MAX_RULE_FILE_BYTES = 4 * MiB


def read_rule_file_text(path: str) -> str:
    """A rule file's text: a regular file (never a FIFO or /dev/zero), bounded, UTF-8."""
    from cfglint.adapters import roots
    data = roots.read_bytes(path, MAX_RULE_FILE_BYTES, str(path), kind="rule file")
    if len(data) > MAX_RULE_FILE_BYTES:
        raise CfglintError(f"the rule file is larger than {MAX_RULE_FILE_BYTES // MiB} MB; refusing to read it",
                           str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CfglintError(f"the rule file is not UTF-8 text (byte {exc.start} cannot be decoded)", str(path)) from None


#: Values (containers and leaves) the files of one config may hold once imported; a chain of
#: imports that each use an imported object twice doubles it at every file.
MAX_IMPORTED_VALUES = 100_000


def check_data_size(value, shown: str, limit: int = MAX_IMPORTED_VALUES) -> None:
    """Refuse data of more than `limit` values (dicts, lists, call records and leaves); the walk
    stops as soon as the budget is spent."""
    budget = limit
    stack = [value]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            raise CfglintError(f"the config holds more than {limit:,} values once its imports are applied "
                               "(imports that double an object at every file?); refusing it", shown)
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
        else:
            inner = getattr(node, "__dict__", None)
            if isinstance(inner, dict) and not isinstance(node, type):
                stack.extend(v for v in inner.values() if isinstance(v, (dict, list, tuple)))
