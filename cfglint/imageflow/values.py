"""The abstract values of the image dataflow: what the analysis knows about each Python value.

An :class:`Img` carries one fact per property (channel order, scale, layout, dtype, resize), each
with the script line that produced it and a few words saying how ("converts the image to RGB"). A
property the analysis cannot follow is simply absent: absent means UNKNOWN, and no rule looks at an
unknown property. Values that are not images (a predictor, a list of dicts, a module) get their own
small classes; everything else is :data:`UNKNOWN`.

Merging (two branches of an `if`, a loop that may run zero times, two `return`s) keeps a property
only when both sides agree on it, so a rule only ever sees facts that hold on every path.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

#: property -> (value, line, how the line produced it)
Fact = Tuple[Any, int, str]

ORDER, SCALE, LAYOUT, DTYPE, RESIZE, KIND = "order", "scale", "layout", "dtype", "resize", "kind"
PROPS = (KIND, ORDER, SCALE, LAYOUT, DTYPE, RESIZE)


class _Unknown:
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


class _Bottom:
    """No value yet (the element of an empty list): merges into anything."""

    def __repr__(self) -> str:
        return "BOTTOM"


BOTTOM = _Bottom()


@dataclass(frozen=True)
class Img:
    """An image (ndarray, tensor or PIL image) with the facts known about it."""

    facts: Tuple[Tuple[str, Fact], ...] = ()
    read_line: Optional[int] = None

    def get(self, prop: str) -> Optional[Fact]:
        for name, fact in self.facts:
            if name == prop:
                return fact
        return None

    def value(self, prop: str) -> Any:
        fact = self.get(prop)
        return None if fact is None else fact[0]

    def with_(self, **changes: Optional[Fact]) -> "Img":
        """A copy with facts replaced; a None fact makes that property unknown."""
        facts = dict(self.facts)
        for name, fact in changes.items():
            if fact is None:
                facts.pop(name, None)
            else:
                facts[name] = fact
        return Img(tuple(sorted(facts.items())), self.read_line)


def new_image(line: int, how: str, **values: Any) -> Img:
    """A freshly read image: every given property comes from `line`."""
    facts = tuple(sorted((name, (value, line, how)) for name, value in values.items() if value is not None))
    return Img(facts, line)


@dataclass(frozen=True)
class Str:
    """A string, or something path-like (os.path.join, a file name from a directory listing)."""

    value: Optional[str] = None


@dataclass(frozen=True)
class Num:
    value: Any = None


@dataclass(frozen=True)
class Module:
    """A module, or a name imported from one, by its qualified name ("cv2.imread")."""

    qualname: str


@dataclass(frozen=True)
class Obj:
    """An object the analysis knows by kind: a predictor, a model, a transform pipeline ..."""

    kind: str
    line: int = 0
    data: Any = None


@dataclass(frozen=True)
class Method:
    """`base.name` before it is called."""

    base: Any
    name: str


@dataclass(frozen=True)
class ListVal:
    """A list summarized by what every element is (BOTTOM: no element seen); `items` when it is a
    literal whose elements are known one by one (T.Compose([...]))."""

    elem: Any = BOTTOM
    items: Optional[Tuple[Any, ...]] = None


@dataclass(frozen=True)
class TupleVal:
    items: Tuple[Any, ...] = ()


@dataclass(frozen=True)
class DictVal:
    items: Tuple[Tuple[str, Any], ...] = ()

    def get(self, key: str) -> Any:
        for name, value in self.items:
            if name == key:
                return value
        return UNKNOWN

    def with_item(self, key: str, value: Any) -> "DictVal":
        items = dict(self.items)
        items[key] = value
        return DictVal(tuple(items.items()))


@dataclass(eq=False)
class Instance:
    """An instance of a class defined in the script; attributes set through `self.x = ...`."""

    cls: Any
    attrs: Dict[str, Any] = field(default_factory=dict)


def merge(a: Any, b: Any) -> Any:
    """What is known on both paths."""
    if a is b:
        return a
    if a is BOTTOM:
        return b
    if b is BOTTOM:
        return a
    if isinstance(a, Img) and isinstance(b, Img):
        facts = []
        for name, fact in a.facts:
            other = b.get(name)
            if other is not None and other[0] == fact[0]:
                facts.append((name, fact if fact[1] <= other[1] else other))
        return Img(tuple(facts), a.read_line if a.read_line == b.read_line else None)
    if isinstance(a, ListVal) and isinstance(b, ListVal):
        return ListVal(merge(a.elem, b.elem), a.items if a.items == b.items else None)
    if isinstance(a, TupleVal) and isinstance(b, TupleVal) and len(a.items) == len(b.items):
        return TupleVal(tuple(merge(x, y) for x, y in zip(a.items, b.items)))
    if isinstance(a, DictVal) and isinstance(b, DictVal):
        keys = [k for k, _ in a.items if any(k == j for j, _ in b.items)]
        return DictVal(tuple((k, merge(a.get(k), b.get(k))) for k in keys))
    if isinstance(a, Str) and isinstance(b, Str):
        return a if a == b else Str(None)
    if a == b:
        return a
    return UNKNOWN
