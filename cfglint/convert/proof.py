"""A conversion proves itself: the engine's diff of source and result, and the state-dict check.

The diff runs the same rules as `cfglint diff` with the source on the left and the converted
config on the right; a faithful conversion leaves no error or warning on the fields that change
the network, its input or its output. The checkpoint check is `cfglint.checkpoint.verify`'s
key-by-key comparison of the converted checkpoint with the state dict the converted config builds.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, List, Optional

from cfglint.adapters import kinds
from cfglint.engine import Finding


@dataclass
class Proof:
    diff: List[Finding] = field(default_factory=list)
    verify: Optional[Any] = None     # cfglint.checkpoint.verify.VerifyReport

    def to_json(self) -> dict:
        return {"diff": [f.to_json() for f in self.diff],
                "verify": None if self.verify is None else self.verify.to_json()}


def diff_configs(source_path: str, target_text: str, target: str, framework: Optional[str] = None) -> List[Finding]:
    """Engine diff of the source config (left, of `framework` when given) and the converted text
    (right), read from a temp file."""
    from cfglint import engine
    from cfglint.adapters import load

    with written_config(target_text, kinds.get(target).config_suffix) as path:
        return engine.diff(load(source_path, framework=framework), load(path))


def verify_checkpoint(checkpoint_path: str, config_text: str, target: str):
    """cfglint.checkpoint.verify of the converted checkpoint against the converted config."""
    from cfglint.adapters import load
    from cfglint.checkpoint.verify import verify

    with written_config(config_text, kinds.get(target).config_suffix) as path:
        return verify(checkpoint_path, load(path))


class written_config:
    """A temporary config file holding `text` (the adapters read files, and name them in findings)."""

    def __init__(self, text: str, suffix: str):
        self.text, self.suffix = text, suffix

    def __enter__(self) -> str:
        fd, self.path = tempfile.mkstemp(prefix="cfglint-convert-", suffix=self.suffix)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.text)
        return self.path

    def __exit__(self, *exc) -> None:
        os.unlink(self.path)
