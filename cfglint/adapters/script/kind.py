"""The serving-script kind: a Python script that builds a config and gives it to a model.

An input-only kind: it owns detection (`builds_config`, one parse) and resolution
(`resolve_script`, a static interpretation); the ResolvedConfig it returns belongs to the framework
whose config the script builds, whose kind normalizes it (values the script leaves unknown are
then masked, see :func:`cfglint.adapters.script.mask_unknown`).
"""
from __future__ import annotations

from typing import Sequence

from cfglint.adapters.kinds import Kind, suffix_of
from cfglint.model import ResolvedConfig


class ScriptKind(Kind):
    name = "script"
    title = "serving script"
    is_framework = False
    config_suffix = ".py"

    def detect(self, path: str, text: str, named: bool = False) -> bool:
        if suffix_of(path) != ".py" or "import" not in text:
            return False
        from cfglint.adapters.script.detect import builds_config
        return builds_config(path, text)

    def resolve_file(self, path: str, opts: Sequence[str] = (), allow_new_keys: bool = False) -> ResolvedConfig:
        from cfglint.adapters.script import resolve_script
        return resolve_script(path, opts=opts, allow_new_keys=allow_new_keys)


KIND = ScriptKind()
