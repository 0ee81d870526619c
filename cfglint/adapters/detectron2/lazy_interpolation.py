"""OmegaConf `${...}` interpolations, resolved the way OmegaConf resolves them, without OmegaConf.

LazyConfig data keeps interpolations as written (``num_classes: "${..num_classes}"``); the
normalizer needs the value the model will actually receive. Semantics (notes/detectron2.md 2.5):

* ``${.x}`` is relative to the container that holds the key; each extra dot goes up one level,
  and a list counts as a level (cascade predictors in a list use ``"${...num_classes}"``);
* ``${a.b}`` without a leading dot is absolute from the root;
* path parts are split on dots, and ``a[0]`` / ``a.0`` index lists.

A reference that cannot be resolved (missing key, a resolver such as ``${oc.env:X}``, a cycle) is
left as written, so callers can still see what the config says.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from cfglint.errors import CfglintError

_INTERPOLATION = re.compile(r"\$\{([^${}]*)\}")
_MISSING = object()
#: Values (containers, scalars, characters/64) the resolved copy may hold: a reference used twice
#: per level doubles it, so without a budget 60 levels would need 2**60 of them.
MAX_RESOLVED_SIZE = 2_000_000


def _size(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_size(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return 1 + sum(_size(v) for v in value)
    if isinstance(value, str):
        return 1 + len(value) // 64
    return 1


def resolve_interpolations(data: Any) -> Any:
    """A resolved copy of `data` (a dict of config objects); `data` itself is not modified."""
    return _Resolver(data).resolve(data, ())


class _Resolver:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.active: List[Tuple[Any, ...]] = []   # paths being resolved, to stop on cycles
        #: target path -> (resolved value, its size): a value referenced many times is resolved once
        self.memo: Dict[Tuple[Any, ...], Tuple[Any, int]] = {}
        self.cuts = 0       # cycles cut so far: a value computed across a cut is not memoized
        self.spent = 0      # size of everything produced, reuses counted in full

    def charge(self, amount: int) -> None:
        self.spent += amount
        if self.spent > MAX_RESOLVED_SIZE:
            raise CfglintError(f"the config's ${{...}} interpolations expand to more than {MAX_RESOLVED_SIZE:,} "
                               "values (references that double at every level?); refusing to resolve them")

    def resolve(self, value: Any, path: Tuple[Any, ...]) -> Any:
        if isinstance(value, dict):
            return {k: self.resolve(v, path + (k,)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.resolve(v, path + (i,)) for i, v in enumerate(value)]
        if isinstance(value, str) and "${" in value:
            out = self.resolve_string(value, path)
            if isinstance(out, str):
                self.charge(len(out) // 64)
            return out
        self.charge(1)
        return value

    def resolve_string(self, text: str, path: Tuple[Any, ...]) -> Any:
        whole = _INTERPOLATION.fullmatch(text)
        if whole:
            found = self.lookup(whole.group(1), path)
            return text if found is _MISSING else found

        def substitute(match: "re.Match[str]") -> str:
            found = self.lookup(match.group(1), path)
            return match.group(0) if found is _MISSING else str(found)

        return _INTERPOLATION.sub(substitute, text)

    def lookup(self, ref: str, path: Tuple[Any, ...]) -> Any:
        target = _target_path(ref.strip(), path)
        if target is None or target in self.active:
            self.cuts += target is not None
            return _MISSING
        if target in self.memo:
            value, size = self.memo[target]
            self.charge(size)
            return value
        node = self.root
        for part in target:
            node = _child(node, part)
            if node is _MISSING:
                return _MISSING
        self.active.append(target)
        cuts, spent = self.cuts, self.spent
        try:
            value = self.resolve(node, target)
        finally:
            self.active.pop()
        if self.cuts == cuts:
            self.memo[target] = (value, max(1, self.spent - spent))
        return value


def _target_path(ref: str, path: Tuple[Any, ...]) -> Optional[Tuple[Any, ...]]:
    """The absolute key path `ref` points to, seen from the value at `path`; None if not a key path."""
    if ":" in ref or not ref:
        return None   # a resolver call such as oc.env:HOME
    dots = len(ref) - len(ref.lstrip("."))
    rest = ref[dots:]
    parts: List[Any] = []
    for piece in re.split(r"\.|(?=\[)", rest) if rest else []:
        if not piece:
            return None
        if piece.startswith("["):
            if not piece.endswith("]"):
                return None
            piece = piece[1:-1]
        parts.append(int(piece) if piece.isdigit() else piece)
    if dots == 0:
        return tuple(parts)
    up = len(path) - dots   # one dot: the container of the key at `path`
    if up < 0:
        return None
    return tuple(path[:up]) + tuple(parts)


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, dict):
        if part in node:
            return node[part]
        return node.get(str(part), _MISSING)
    if isinstance(node, (list, tuple)) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _MISSING
