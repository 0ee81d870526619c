"""Writing what `convert` produces."""
from __future__ import annotations

from pathlib import Path

from cfglint.errors import CfglintError


def write_text(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as err:
        raise CfglintError(f"cannot write the converted config: {err.strerror or err}", path) from None
