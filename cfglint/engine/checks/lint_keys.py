"""Unknown keyword arguments in MMDetection `dict(type=X, ...)` entries of the `model` tree.

The registry calls X(**kwargs), so a misspelled key (`num_clases`) is a TypeError at build time --
or silently swallowed by a `**kwargs`. Keys are checked against X's constructor parameters read
statically from the installed sources (cfglint.adapters.mmdet.signatures); classes that accept
arbitrary keywords ("open") and types outside mmdet/mmcv/mmengine are never judged.

Each type is looked up in the registry it is built from (signatures.lookup): the tree's
`default_scope`, a `_scope_` key (which holds for the dict and what it builds), or an explicit
`mmdet.X`. A downstream toolbox's own `IoULoss` or `YOLOXHead` is therefore never judged against
mmdet's class of the same name, and a scope cfglint has no signatures for is not judged at all.

Only OpenMMLab 3.x (mmengine) trees, and only their `model` tree, are checked. Whether a tree is
3.x is decided on the whole resolved tree, never on one fragment: it must name its registry scope
(`default_scope`, which every mmengine runtime config sets and no 2.x config has) and carry no
2.x layout (top-level `data=` / `img_norm_cfg`). A `_base_/models` fragment linted on its own has
no scope, so it is not judged -- its keys are judged in the configs that use it. mmdet 2.x trees
are written against 2.x constructors: a sweep of the 2.28 zoo gave 255 false reports
(`img_scale`, `multiscale_mode`, DETR's `transformer=`, `HungarianAssigner(cls_cost=...)`).

Keys an owner's constructor pops from a child dict before building it (DETRHead:
`loss_cls.pop('bg_cls_weight')`; mmpretrain's Flamingo: `vision_encoder.pop('pretrained')`) are
read off the sources like the parameters; a child dict the owner splats into a call
(`ExtendModule(**lang_encoder)`) is not a registry config and is not judged.

A key that a base set for another type (the child replaced `type` without `_delete_`, so mmengine's
merge kept it) is reported only when the class would refuse it (a TypeError at build); a class
whose **kwargs drops it silently loses nothing the user meant for it.
Datasets and pipelines are left out because their transforms take free-form keys more often
than model parts do. Detectron2 unknown keys are refused by the
YACS resolver itself; `cfglint lint` turns that refusal into rule L601.
"""
from __future__ import annotations

import difflib
from typing import Any, Iterator, Optional, Tuple

from cfglint.engine.checks import MAPPING, model_check
from cfglint.engine.context import ModelContext
from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule

def _typed_dicts(node: Any, path: Tuple, scope: Optional[str], popped: frozenset = frozenset()
                 ) -> Iterator[Tuple[Tuple, dict, Optional[str], frozenset, Any]]:
    """Every `dict(type=...)` under `node`, in document order: (path, dict, registry scope, keys
    its owner pops from it before building it, its signature lookup). A dict its owner splats into
    a call (`Cls(**cfg)`) is not a registry config: nothing under it is visited. (An explicit
    stack: this walks the model tree of every linted config.)"""
    from cfglint.adapters.mmdet.signatures import WHOLE, lookup

    none: frozenset = frozenset()
    stack = [(node, path, scope, popped)]
    while stack:
        node, path, scope, popped = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("_scope_"), str):
                scope = node["_scope_"]
            signature = None
            if isinstance(node.get("type"), str):
                judged, signature = lookup(node["type"], scope)
                yield path, node, scope, popped, (judged, signature)
            children = []
            consumes = signature.consumes if signature is not None else None
            for key, value in node.items():
                if not isinstance(value, (dict, list)):
                    continue
                consumed = consumes.get(key, ()) if consumes else ()
                if not consumed:
                    children.append((value, path + (key,), scope, none))
                elif WHOLE not in consumed:
                    children.append((value, path + (key,), scope, frozenset(consumed)))
            stack.extend(reversed(children))
        elif isinstance(node, list):
            children = []
            for index, value in enumerate(node):
                if isinstance(value, (dict, list)):
                    children.append((value, path + (index,), scope, popped))
            stack.extend(reversed(children))


def is_mmdet2_config(data: dict) -> bool:
    """mmdet 2.x configs keep datasets under `data=` and the normalization in `img_norm_cfg`."""
    return "data" in data or "img_norm_cfg" in data


def _file_of(where) -> Optional[str]:
    return None if where is None else where.file


@model_check("mmdet_unknown_arguments", params={"consumed": MAPPING},
             placeholders={"hint", "key", "owner", "type_name"}, fields=(), kinds=("mmdet",))
def mmdet_unknown_arguments(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    from cfglint.adapters.mmdet.signatures import ALWAYS_ALLOWED

    resolved = ctx.model.resolved
    if resolved is None or not isinstance(resolved.data.get("model"), dict) or is_mmdet2_config(resolved.data):
        return
    default_scope = resolved.data.get("default_scope")
    default_scope = default_scope if isinstance(default_scope, str) else None
    consumed = {slot: set(keys) for slot, keys in rule.params.get("consumed", {}).items()}
    for path, node, scope, taken, (judged, signature) in _typed_dicts(resolved.data["model"], ("model",),
                                                                    default_scope):
        if not judged or signature is None or signature.open:
            continue
        popped = (consumed.get(path[-1], set()) if path else set()) | taken
        params = signature.param_names
        unknown = [key for key in node if key not in params and key not in ALWAYS_ALLOWED and key not in popped]
        if not unknown:
            continue
        type_file = _file_of(resolved.location_of(path + ("type",)))
        for key in unknown:
            if signature.swallows and _file_of(resolved.location_of(path + (key,))) != type_file:
                # A leftover of a base written for another type (the child changed `type` without
                # `_delete_`), dropped by the class's **kwargs: no error, and nothing intended lost.
                continue
            close = difflib.get_close_matches(str(key), signature.params, n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            key_file = _file_of(resolved.location_of(path + (key,)))
            if key_file and type_file and key_file != type_file:
                hint += (f" (it is set in {key_file} and kept by the merge when {type_file} changed the type; "
                         "add _delete_=True to replace the whole dict)")
            dotted = ".".join(map(str, path + (key,)))
            yield ctx.finding(rule, dotted, node[key], resolved.location_of(path + (key,)), key=key,
                              type_name=node["type"], owner=".".join(map(str, path)), hint=hint)
