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

_KEYS = ("_target_", "type")   # the keys ResolvedConfig.registry_names is collected under


def _targets(root: Any, root_path: Tuple) -> Iterator[Tuple[Tuple, str]]:
    """(key path, dotted string) of every `_target_`/`type` that could name an attribute of a
    module cfglint knows all the names of (it starts with one of their packages), depth first.
    (An explicit stack, not recursion: this walks every container of every linted config.)"""
    from cfglint.adapters import known_names

    packages = known_names.package_prefixes()
    if not packages or not _names_a_package(root, packages):
        return
    stack = [(root_path, root)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key in _KEYS:
                value = node.get(key)
                if isinstance(value, str) and value.startswith(packages):
                    yield path + (key,), value
            children = [(path + (key,), value) for key, value in node.items() if isinstance(value, (dict, list))]
        elif isinstance(node, list):
            children = [(path + (i,), value) for i, value in enumerate(node) if isinstance(value, (dict, list))]
        else:
            continue
        stack.extend(reversed(children))


def _names_a_package(root: Any, packages: Tuple[str, ...]) -> bool:
    """Whether any `_target_`/`type` string under `root` starts with one of `packages`: the same
    walk without key paths, which nearly every config ends with False."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in _KEYS:
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
    names = getattr(resolved, "registry_names", None)   # collected by the adapter: no walk needed
    packages = known_names.package_prefixes()
    if names is not None and not any(name.startswith(packages) for name in names):
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
