"""MMDetection 3.x / 2.x serving APIs on the interpreter's `Config` states (mmdet 3.3 semantics)."""
from __future__ import annotations

import copy
import os
from typing import Any, Dict, List

from cfglint.adapters.script import zoo
from cfglint.adapters.script.apis import (_Checkpointer, _lookup, _Method, _MISSING, _path_arg, _set, _sink)
from cfglint.adapters.script.values import MMState, ModelObj, PathVal, Unknown, View, is_unknown
from cfglint.errors import CfglintError
from cfglint.model.location import Location

DELETE_KEY = "_delete_"


def fromfile(it, path: Any, node) -> MMState:
    if isinstance(path, str) and "://" not in path and not os.path.isfile(path):
        path = it.unknown(node, f"{path} does not exist (relative paths are read from the working directory)")
    if is_unknown(path):
        it.note(path)
        state = MMState({})
        state.unknown_from = path
        return state
    from cfglint.adapters.mmdet import evaluator
    try:
        resolved = evaluator.resolve_file(path)
    except CfglintError as err:
        if err.file is None:
            loc = it.loc(node)
            raise CfglintError(err.message, loc.file, loc.line) from None
        raise
    state = MMState(resolved.data, dict(resolved.locations), list(resolved.files))
    state.suppressions.update(resolved.suppressions)
    return state


def _config_arg(it, value: Any, node) -> Any:
    value = value.path if isinstance(value, PathVal) else value
    if isinstance(value, View) and isinstance(value.state, MMState):
        return value.state
    if isinstance(value, MMState):
        return value
    if isinstance(value, str) or is_unknown(value):
        return fromfile(it, value, node)
    return fromfile(it, it.unknown(node, "a config that is not a path or a Config"), node)


def merge_from_dict(it, state: MMState, options: Any, node) -> None:
    """mmengine `Config.merge_from_dict(options, allow_list_keys=True)`."""
    from cfglint.adapters.script.apis import changed_unknowably
    options = it.plain(options)
    if is_unknown(options):     # any key may change: the config is unknown from here on
        changed_unknowably(it, state, options, node)
        return
    if not isinstance(options, dict):
        changed_unknowably(it, state, it.unknown(node, "merge_from_dict of a value that is not a dict"), node)
        return
    where = it.loc(node)
    nested: Dict[str, Any] = {}
    for full_key, value in options.items():
        if it.conditions:
            value = it.conditions[-1]
        if is_unknown(full_key):
            changed_unknowably(it, state, full_key, node)
            continue
        d = nested
        keys = str(full_key).split(".")
        for sub in keys[:-1]:
            d = d.setdefault(sub, {})
        d[keys[-1]] = value
    _merge_into(it, nested, state.data, (), state, where, node)


def _merge_into(it, a: Dict[str, Any], b: Any, prefix, state: MMState, where: Location, node) -> None:
    for key, value in a.items():
        k: Any = key
        if isinstance(b, list) and isinstance(key, str) and key.isdigit():
            k = int(key)
            if k >= len(b):
                raise CfglintError(f"index {k} exceeds the length of list {'.'.join(map(str, prefix))}",
                                   where.file, where.line)
            if isinstance(value, dict) and isinstance(b[k], (dict, list)):
                _merge_into(it, value, b[k], prefix + (k,), state, where, node)
            else:
                _put(state, b, k, value, prefix + (k,), where)
            continue
        if isinstance(value, dict) and isinstance(b, dict) and k in b and isinstance(b[k], (dict, list)):
            value = dict(value)
            if value.pop(DELETE_KEY, False):
                _put(state, b, k, value, prefix + (k,), where)
            else:
                _merge_into(it, value, b[k], prefix + (k,), state, where, node)
        elif isinstance(b, dict):
            if isinstance(value, dict):
                value = {kk: vv for kk, vv in value.items() if kk != DELETE_KEY}
            _put(state, b, k, value, prefix + (k,), where)


def _put(state: MMState, parent, key, value, path, where: Location) -> None:
    parent[key] = copy.deepcopy(value)
    for stale in [p for p in state.locations if p[:len(path)] == path]:
        del state.locations[stale]
    state.locations[path] = where


def init_detector(it, args, kwargs, node) -> Any:
    config = args[0] if args else kwargs.get("config")
    checkpoint = args[1] if len(args) > 1 else kwargs.get("checkpoint")
    cfg_options = args[4] if len(args) > 4 else kwargs.get("cfg_options")
    state = _config_arg(it, config, node)
    cfg_options = it.plain(cfg_options)
    if state.unknown_from is None and _is_mmdet2_config(state.data):
        _init_detector_2x(it, state, cfg_options, node)
    elif cfg_options is not None:
        merge_from_dict(it, state, cfg_options, node)
    elif state.unknown_from is None:
        backbone = _lookup(state.data, ("model", "backbone"))
        if isinstance(backbone, dict) and "init_cfg" in backbone:
            _set(it, state, ("model", "backbone", "init_cfg"), None, node)
    model = _sink(it, "init_detector", state, node)
    _checkpoint(it, model, checkpoint, node)
    return model


def _is_mmdet2_config(data: Dict[str, Any]) -> bool:
    """An MMDetection 2.x config (`data=dict(train=..., test=...)`, no 3.x dataloaders): served by
    mmdet 2.x, whose init_detector differs from 3.x."""
    return isinstance(data.get("data"), dict) and "test_dataloader" not in data and "train_dataloader" not in data


def _init_detector_2x(it, state: MMState, cfg_options: Any, node) -> None:
    """mmdet 2.x `init_detector`: cfg_options merged, then `pretrained` (or the backbone's init_cfg)
    dropped and `model.train_cfg` set to None."""
    if cfg_options is not None:
        merge_from_dict(it, state, cfg_options, node)
    model = _lookup(state.data, ("model",))
    if not isinstance(model, dict):
        return
    if "pretrained" in model:
        _set(it, state, ("model", "pretrained"), None, node)
    elif isinstance(model.get("backbone"), dict) and "init_cfg" in model["backbone"]:
        _set(it, state, ("model", "backbone", "init_cfg"), None, node)
    _set(it, state, ("model", "train_cfg"), None, node)


def _checkpoint(it, model: ModelObj, checkpoint: Any, node) -> None:
    checkpoint = checkpoint.path if isinstance(checkpoint, PathVal) else it.plain(checkpoint)
    if checkpoint is None:
        return
    model.sink.checkpoint = checkpoint
    model.sink.checkpoint_where = it.loc(node)
    it.checkpoints.append((checkpoint, it.loc(node)))


def det_inferencer(it, args, kwargs, node) -> Any:
    model = args[0] if args else kwargs.get("model")
    weights = args[1] if len(args) > 1 else kwargs.get("weights")
    if not (isinstance(model, View) and isinstance(model.state, MMState)) and not isinstance(model, MMState):
        model = model.path if isinstance(model, PathVal) else it.plain(model)   # a Config stays one
    if isinstance(model, str) and not model.endswith(".py"):
        found = zoo.mmdet_model(model)
        if found is None:
            model = it.unknown(node, f"the mmdet model name {model!r} is not in the installed mmdet's metafiles")
        else:
            model, default_weights = found
            if weights is None:
                weights = default_weights
    state = _config_arg(it, model, node)
    # mmengine BaseInferencer._init_model: `pretrained` is dropped before the model is built
    if isinstance(_lookup(state.data, ("model",)), dict) and _lookup(state.data, ("model", "pretrained")) \
            not in (_MISSING, None):
        from cfglint.adapters.script.apis import delete
        delete(it, View(state, ("model",)), "pretrained", node)
    sink = _sink(it, "DetInferencer", state, node)
    _checkpoint(it, sink, weights, node)
    return sink


def call(it, parts: List[str], last: str, last2: str, args, kwargs, node) -> Any:
    if last2 == "Config.fromfile" or (last == "fromfile" and "Config" in parts):
        path = _path_arg(it, args, kwargs, "filename", node)
        return View(fromfile(it, path, node), ())
    if last == "Config":
        data = it.plain(args[0]) if args else it.plain(kwargs.get("cfg_dict", {}))
        if not isinstance(data, dict):
            state = MMState({})
            state.unknown_from = data if is_unknown(data) else it.unknown(node, "a Config of an unknown dict")
            return View(state, ())
        return View(MMState(copy.deepcopy(data)), ())
    if last in ("init_detector", "init_model"):
        return init_detector(it, args, kwargs, node)
    if last == "DetInferencer":
        return det_inferencer(it, args, kwargs, node)
    if last2 == "MODELS.build" or last == "build_detector":
        target = args[0] if args else kwargs.get("cfg")
        if isinstance(target, View) and isinstance(target.state, MMState):
            return _sink(it, last2 if last2 == "MODELS.build" else last, target.state, node)
        state = MMState({})
        state.unknown_from = target if is_unknown(target) else it.unknown(node, "a model built from a dict")
        return _sink(it, last, state, node)
    if last in ("load_checkpoint", "_load_checkpoint"):
        model = args[0] if args else kwargs.get("model")
        path = args[1] if len(args) > 1 else kwargs.get("filename")
        if isinstance(model, ModelObj):
            _checkpoint(it, model, path, node)
        return it.unknown(node, "the checkpoint content")
    if last in ("init_default_scope", "register_all_modules"):
        return None
    if last in ("imread",):
        return it.unknown(node, "an image")
    return it.unknown(node, f"{'.'.join(parts)}() is outside the script")


__all__ = ["call", "fromfile", "merge_from_dict", "_Checkpointer", "_Method"]
