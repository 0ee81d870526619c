"""Where a value was written: a file and line, or nowhere (a framework default)."""
from __future__ import annotations

from typing import Any, Optional


class Location:
    """A file and line; immutable by convention (hashable, compared by value).

    A plain slotted class rather than a frozen dataclass: resolving a config makes one per key
    it reads, and a frozen dataclass's `__init__` costs three times as much."""

    __slots__ = ("file", "line")

    def __init__(self, file: str, line: Optional[int] = None):
        self.file = file
        self.line = line

    def __eq__(self, other: Any) -> bool:
        if other.__class__ is not Location:
            return NotImplemented
        return self.file == other.file and self.line == other.line

    def __hash__(self) -> int:
        return hash((self.file, self.line))

    def __repr__(self) -> str:
        return f"Location(file={self.file!r}, line={self.line!r})"

    def __reduce__(self):
        return (Location, (self.file, self.line))

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line}
