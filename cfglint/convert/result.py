"""What a conversion produces: the target text plus every setting it could not carry exactly."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass(frozen=True)
class ConversionWarning:
    """One source setting the target cannot express (or expresses only approximately)."""

    setting: str      # the source's own key, e.g. "SOLVER.IMS_PER_BATCH" or "model.neck.relu_before_extra_convs"
    message: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.message}"

    def to_json(self) -> dict:
        return {"setting": self.setting, "message": self.message}


@dataclass
class Warnings:
    """Collects warnings in the order the converter meets the settings."""

    items: List[ConversionWarning] = field(default_factory=list)

    def add(self, setting: str, message: str) -> None:
        warning = ConversionWarning(setting, message)
        if warning not in self.items:
            self.items.append(warning)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class ConfigConversion:
    """A converted config: its text in the target's idiom, the target framework and the warnings."""

    source: str
    target: str               # "mmdet" | "detectron2"
    text: str
    warnings: List[ConversionWarning]
    classes: Optional[List[str]] = None
    extra: Dict[str, Any] = field(default_factory=dict)
