"""Small helpers shared by the normalizers of both frameworks (ResolvedConfig -> CommonModel).

They keep the normalizer code about *meaning*: read a native value by key path, name it the way
users write it (``model.roi_head.bbox_head[2].num_classes``), and record it with its location.
"""
from __future__ import annotations

from typing import Any, FrozenSet, Iterator, Optional, Tuple

from cfglint.model import CommonModel, ResolvedConfig
from cfglint.model.resolved import KeyPath


def short_type(value: Any) -> Optional[str]:
    """The class name of a ``type`` value, whatever wrote it.

    Lazy (pure-Python) configs resolve types to dotted import paths
    (``mmdet.models.detectors.faster_rcnn.FasterRCNN``) and scoped names look like
    ``mmdet.FasterRCNN``; the registry name is the last component in both.
    """
    if not isinstance(value, str) or not value:
        return None
    return value.rsplit(".", 1)[-1]


def native_key(path: KeyPath) -> str:
    """('model', 'roi_head', 'bbox_head', 2, 'num_classes') -> 'model.roi_head.bbox_head[2].num_classes'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def as_list(value: Any) -> Any:
    """Tuples (mmengine keeps them) become lists, recursively, so values compare and print alike."""
    if isinstance(value, (list, tuple)):
        return [as_list(v) for v in value]
    return value


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def tidy_number(value: float) -> Any:
    """Integral floats print as ints (anchor size 32, not 32.0); others keep full precision."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class Writer:
    """Reads the resolved config and writes common-model fields with their provenance."""

    def __init__(self, resolved: ResolvedConfig, model: CommonModel):
        self.resolved = resolved
        self.model = model
        self.cfg = resolved.data

    def get(self, path: KeyPath, default: Any = None) -> Any:
        return self.resolved.get(path, default)

    def put(self, field: str, value: Any, path: KeyPath, default: bool = False) -> None:
        """Set `field` from the native value at `path`; `default=True` when the key is absent there
        and the value is the framework's default (so no file:line is claimed for it)."""
        location = None if default else self.resolved.location_of(path)
        self.model.set(field, value, native_key(path), location)

    def put_key(self, field: str, node: dict, path: KeyPath, key: str, default: Any = None,
                convert=lambda v: v) -> None:
        """Set `field` from `node[key]` (at `path`), or from `default` when the key is absent."""
        if key in node and node[key] is not None:
            self.put(field, convert(node[key]), path + (key,))
        elif default is not None:
            self.put(field, convert(default), path + (key,), default=True)


def walk_dicts(node: Any, path: KeyPath, skip: FrozenSet[Any] = frozenset()) -> Iterator[Tuple[dict, KeyPath]]:
    """Every dict under `node` (itself included), depth first in document order, with its key path;
    nothing under a dict key in `skip` (an explicit stack: normalization walks the model tree of
    every config)."""
    stack = [(node, path)]
    while stack:
        node, path = stack.pop()
        children = []   # (a loop, not a comprehension: on Python 3.11 that is a call per node)
        if isinstance(node, dict):
            yield node, path
            for key, value in node.items():
                if isinstance(value, (dict, list, tuple)) and key not in skip:
                    children.append((value, path + (key,)))
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                if isinstance(value, (dict, list, tuple)):
                    children.append((value, path + (i,)))
        stack.extend(reversed(children))


def last_of(node: Any, path: KeyPath) -> Tuple[Any, KeyPath]:
    """A head given as a list of stages (cascade) -> its last stage; a single head -> itself."""
    if isinstance(node, (list, tuple)) and node:
        return node[-1], path + (len(node) - 1,)
    return node, path

