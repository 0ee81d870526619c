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
from cfglint.model.resolved import REGISTRY_KEYS


def _targets(root: Any, root_path: Tuple) -> Iterator[Tuple[Tuple, str]]:
    """(key path, dotted string) of every `_target_`/`type` that could name an attribute of a
    module cfglint knows all the names of (it starts with one of their packages), depth first.
    (An explicit stack, not recursion; run only on a config known to name such a package.)"""
    from cfglint.adapters import known_names

    packages = known_names.package_prefixes()
    stack = [(root_path, root)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key in REGISTRY_KEYS:
                value = node.get(key)
                if isinstance(value, str) and value.startswith(packages):
                    yield path + (key,), value
            children = [(path + (key,), value) for key, value in node.items() if isinstance(value, (dict, list))]
        elif isinstance(node, list):
            children = [(path + (i,), value) for i, value in enumerate(node) if isinstance(value, (dict, list))]
        else:
            continue
        stack.extend(reversed(children))


def _names_a_package(resolved: Any, packages: Tuple[str, ...]) -> bool:
    """Whether any `_target_`/`type` string of the config starts with one of `packages`: from the
    names its adapter collected, else by a walk without key paths (nearly every config: False)."""
    if resolved.registry_names is not None:
        return any(name.startswith(packages) for name in resolved.registry_names)
    stack = [resolved.data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in REGISTRY_KEYS:
                value = node.get(key)
                if isinstance(value, str) and value.startswith(packages):
                    return True
            for value in node.values():
                if isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(node, list):
            for value in node:
                if isinstance(value, (dict, list)):
                    stack.append(value)
    return False


@model_check("target_exists", placeholders={"module", "attribute", "versions", "hint"}, fields=())
def target_exists(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    from cfglint.adapters import known_names

    resolved = ctx.model.resolved
    if resolved is None or not isinstance(resolved.data, dict):
        return
    packages = known_names.package_prefixes()
    if not packages or not _names_a_package(resolved, packages):
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
