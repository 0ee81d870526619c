"""Values inside one config that must agree but do not (recorded by the adapters)."""
from __future__ import annotations

from typing import Iterator

from cfglint.engine.checks import model_check
from cfglint.engine.context import ModelContext
from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule


@model_check("inconsistencies", placeholders={"detail"}, fields=())
def inconsistencies(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    for inc in ctx.model.inconsistencies:
        where = next((loc for loc in inc.locations.values() if loc is not None), None)
        yield ctx.finding(rule, inc.field, dict(inc.values), where, detail=inc.message)
