"""Which attributes some framework modules have (a shipped table, see scripts/gen_known_names.py).

`missing_attribute("torch.nn.SyncBatchNorm2d")` -> ("torch.nn", "SyncBatchNorm2d") when the table
knows every name of `torch.nn` and `SyncBatchNorm2d` is not one of them; None when the name exists
or cfglint does not know the module's names (then nothing is claimed).
"""
from __future__ import annotations

import functools
import json
import os
from typing import Dict, FrozenSet, Optional, Tuple

_TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "known_names.json")


@functools.lru_cache(maxsize=1)
def _load() -> Tuple[Dict[str, FrozenSet[str]], Dict[str, str]]:
    with open(_TABLE, encoding="utf-8") as handle:
        data = json.load(handle)
    return {m: frozenset(names) for m, names in data["modules"].items()}, dict(data.get("versions", {}))


def versions() -> str:
    """`torch 2.13.0`: the framework versions the table was made from."""
    return ", ".join(f"{k} {v}" for k, v in sorted(_load()[1].items()))


@functools.lru_cache(maxsize=1)
def package_prefixes() -> Tuple[str, ...]:
    """`("torch.",)`: what every dotted name `missing_attribute` can judge starts with."""
    return tuple(sorted({module.split(".")[0] + "." for module in _load()[0]}))


def names_of(module: str) -> FrozenSet[str]:
    return _load()[0].get(module, frozenset())


def missing_attribute(dotted: str) -> Optional[Tuple[str, str]]:
    """(module, attribute) when `dotted` names an attribute a known module does not have."""
    modules = _load()[0]
    parts = dotted.split(".")
    # the longest known module prefix decides; its next part must be one of its names
    for end in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:end])
        names = modules.get(module)
        if names is not None:
            return None if parts[end] in names else (module, parts[end])
    return None
