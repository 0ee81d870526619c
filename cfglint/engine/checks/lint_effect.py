"""Settings that do nothing in this config: Detectron2 keys read only by a part the model lacks.

Only keys the linted file itself writes are reported: the official bases (Base-RCNN-FPN.yaml sets
ROI_MASK_HEAD for every child, with or without masks) and the framework defaults set such keys
harmlessly, and the user can only act on their own file.
"""
from __future__ import annotations

import os
from typing import Iterator, List, Tuple

from cfglint.adapters import kinds
from cfglint.engine.checks import LIST, MAPPING, model_check
from cfglint.engine.context import ModelContext
from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule
from cfglint.model import Location


def keys_set_by_file(ctx: ModelContext) -> List[Tuple[str, Location]]:
    """(dotted native key, location) of every value the linted file itself writes."""
    resolved = ctx.model.resolved
    own = os.path.abspath(ctx.model.path)
    return sorted((".".join(map(str, key)), loc) for key, loc in resolved.locations.items()
                  if loc is not None and loc.file and os.path.abspath(loc.file) == own)


@model_check("ignored_keys", params={"when": MAPPING, "prefixes": LIST}, placeholders={"condition", "key"},
             fields=(), syntaxes=("yacs",))
def ignored_keys(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    """params.when: {native key: value} that makes the part absent (all must hold);
    params.prefixes: the native key prefixes that part reads."""
    resolved = ctx.model.resolved
    when = {tuple(key.split(".")): value for key, value in rule.params.get("when", {}).items()}
    if not all(resolved.get(key) == value for key, value in when.items()):
        return
    if kinds.of(ctx.model).is_partial(ctx.model.path) and any(key not in resolved.locations for key in when):
        return   # a base leaves MASK_ON at its default for the children to set
    condition = ", ".join(f"{'.'.join(key)} is {value!r}" for key, value in when.items())
    for key, where in keys_set_by_file(ctx):
        if key.startswith(tuple(rule.params.get("prefixes", ()))):
            yield ctx.finding(rule, key, resolved.get(tuple(key.split("."))), where, key=key, condition=condition)
