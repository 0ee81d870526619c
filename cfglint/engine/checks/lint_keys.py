"""Unknown keyword arguments in MMDetection `dict(type=X, ...)` entries of the `model` tree.

The registry calls X(**kwargs), so a misspelled key (`num_clases`) is a TypeError at build time --
or silently swallowed by a `**kwargs`. Keys are checked against X's constructor parameters read
statically from the installed sources (cfglint.adapters.mmdet.signatures); classes that accept
arbitrary keywords ("open") and types outside mmdet/mmcv/mmengine are never judged.

Only mmdet 3.x configs, and only their `model` tree, are checked: the signatures are those of the
installed 3.x sources, and mmdet 2.x configs (detected by their top-level `data=` / `img_norm_cfg`)
are written against 2.x constructors -- a sweep of the 2.28 zoo gave 255 false reports
(`img_scale`, `multiscale_mode`, DETR's `transformer=`, `HungarianAssigner(cls_cost=...)`).
Datasets and pipelines are left out because their transforms take free-form keys more often
than model parts do. Detectron2 unknown keys are refused by the
YACS resolver itself; `cfglint lint` turns that refusal into rule L601.
"""
from __future__ import annotations

import difflib
from typing import Any, Iterator, Tuple

from cfglint.engine.checks import MAPPING, model_check
from cfglint.engine.context import ModelContext
from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule

_OWN_SCOPES = ("mmdet.", "mmcv.", "mmengine.")


def _typed_dicts(node: Any, path: Tuple) -> Iterator[Tuple[Tuple, dict]]:
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            yield path, node
        for key, value in node.items():
            yield from _typed_dicts(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _typed_dicts(value, path + (index,))


def is_mmdet2_config(data: dict) -> bool:
    """mmdet 2.x configs keep datasets under `data=` and the normalization in `img_norm_cfg`."""
    return "data" in data or "img_norm_cfg" in data


@model_check("mmdet_unknown_arguments", params={"consumed": MAPPING},
             placeholders={"hint", "key", "owner", "type_name"}, fields=(), kinds=("mmdet",))
def mmdet_unknown_arguments(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    from cfglint.adapters.mmdet.signatures import ALWAYS_ALLOWED, load_signatures

    resolved = ctx.model.resolved
    if resolved is None or not isinstance(resolved.data.get("model"), dict) or is_mmdet2_config(resolved.data):
        return
    signatures = load_signatures()
    consumed = {slot: set(keys) for slot, keys in rule.params.get("consumed", {}).items()}
    for path, node in _typed_dicts(resolved.data["model"], ("model",)):
        type_name = node["type"]
        popped = consumed.get(path[-1], set()) if path else set()
        for scope in _OWN_SCOPES:
            type_name = type_name[len(scope):] if type_name.startswith(scope) else type_name
        signature = signatures.get(type_name)
        if signature is None or signature.open:
            continue
        for key in node:
            if key in signature.params or key in ALWAYS_ALLOWED or key in popped:
                continue
            close = difflib.get_close_matches(str(key), signature.params, n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            dotted = ".".join(map(str, path + (key,)))
            yield ctx.finding(rule, dotted, node[key], resolved.location_of(path + (key,)), key=key,
                              type_name=node["type"], owner=".".join(map(str, path)), hint=hint)
