"""`_target_` / `type` strings naming an attribute their module does not have (rule L603).

Only modules whose complete set of names cfglint ships (cfglint.adapters.known_names) are
judged; anything else is never reported.
"""
from __future__ import annotations

import difflib
from typing import Any, Iterator, Tuple

from cfglint.engine.checks import model_check
from cfglint.engine.context import ModelContext
from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule

_KEYS = ("_target_", "type")


def _targets(node: Any, path: Tuple) -> Iterator[Tuple[Tuple, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _KEYS and isinstance(value, str) and "." in value:
                yield path + (key,), value
            else:
                yield from _targets(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _targets(value, path + (index,))


@model_check("target_exists", placeholders={"module", "attribute", "versions", "hint"}, fields=())
def target_exists(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    from cfglint.adapters import known_names

    resolved = ctx.model.resolved
    if resolved is None or not isinstance(resolved.data, dict):
        return
    for path, dotted in _targets(resolved.data, ()):
        missing = known_names.missing_attribute(dotted)
        if missing is None:
            continue
        module, attribute = missing
        field = ".".join(map(str, path))
        close = difflib.get_close_matches(attribute, known_names.names_of(module), n=1, cutoff=0.75)
        hint = f"; did you mean {module}.{close[0]}?" if close else ""
        yield ctx.finding(rule, field, dotted, resolved.location_of(path), module=module, attribute=attribute,
                          hint=hint, versions=known_names.versions())
