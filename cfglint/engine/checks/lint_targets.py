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


def _targets(root: Any, root_path: Tuple) -> Iterator[Tuple[Tuple, str]]:
    """(key path, dotted string) of every `_target_`/`type` naming a dotted path, in document order
    (an explicit stack, not recursion: this walks every value of every linted config)."""
    stack = [(root_path, root)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            children = []
            for key, value in node.items():
                if key in _KEYS and isinstance(value, str):
                    if "." in value:
                        children.append((path + (key,), value, True))
                elif isinstance(value, (dict, list)):
                    children.append((path + (key,), value, False))
        elif isinstance(node, list):
            children = [(path + (i,), v, False) for i, v in enumerate(node) if isinstance(v, (dict, list))]
        else:
            continue
        for child_path, value, is_target in reversed(children):
            if is_target:
                stack.append((child_path, _Target(value)))
            else:
                stack.append((child_path, value))
        while stack and isinstance(stack[-1][1], _Target):
            target_path, target = stack.pop()
            yield target_path, target.value


class _Target:
    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value


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
