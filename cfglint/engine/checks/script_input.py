"""Checks about serving scripts (cfglint.adapters.script): the values they leave unknown."""
from __future__ import annotations

from typing import Iterator

from cfglint.engine.checks import model_check
from cfglint.engine.context import ModelContext
from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule


@model_check("script_unknowns", placeholders={"line", "key", "reason"}, fields=())
def script_unknowns(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    resolved = getattr(ctx.model, "resolved", None)
    if not getattr(resolved, "from_script", False):
        return
    if resolved.unknown_config is not None:
        reason = next((why for loc, why in resolved.notes if loc == resolved.unknown_config), "not known statically")
        yield ctx.finding(rule, "config", None, resolved.unknown_config, line=str(resolved.unknown_config),
                          key="the whole config", reason=reason)
    for key, loc in resolved.unknown.items():
        yield ctx.finding(rule, key, None, loc, line=str(loc), key=key,
                          reason=resolved.unknown_reasons.get(key, "not known statically"))
