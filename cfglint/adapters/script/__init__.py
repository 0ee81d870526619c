"""Serving scripts as an input kind: the config a Python script builds and gives to a model.

`builds_config(path, text)` says (one parse, no evaluation) whether a .py file ends in a
model-building call; `resolve_script(path, ...)` interprets it statically (:mod:`.interp`, never
running or importing it) and returns the native config the model would get as a normal
ResolvedConfig: `framework` of that config, `syntax` the native syntax of its data ("yacs" for a
CfgNode, "lazyconfig", "mmengine"), `input == "script"`, the served checkpoint, and every value
the script makes unknown with the line that made it so.
"""
from __future__ import annotations

import ast
import copy
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from cfglint.errors import CfglintError
from cfglint.model import ResolvedConfig
from cfglint.model.location import Location
from cfglint.model.resolved import DETECTRON2, MMDET

__all__ = ["builds_config", "resolve_script", "ScriptResolved", "NOT_A_CONFIG", "mask_unknown"]

NOT_A_CONFIG = "not a config: this Python file builds no config for a model (no DefaultPredictor, build_model, " \
               "init_detector, DetInferencer, MODELS.build, build_detector or instantiate of a config)"
OPTS_FILE = "--opts"
#: `--set NAME=VALUE` of the command line (cli/main.py), used when resolve_script gets no `sets`.
CLI_SETS: List[str] = []


@dataclass
class ScriptResolved(ResolvedConfig):
    from_script = True                                # (a class attribute, not a field)
    input: str = "script"
    script: str = ""
    sink: Optional[str] = None                        # "DefaultPredictor", "init_detector", ...
    sink_location: Optional[Location] = None
    served_checkpoint: Optional[str] = None
    served_checkpoint_location: Optional[Location] = None
    #: dotted native key -> the line that made its value unknown ("" = the whole config)
    unknown: Dict[str, Location] = field(default_factory=dict)
    unknown_reasons: Dict[str, str] = field(default_factory=dict)
    unknown_config: Optional[Location] = None         # the config file itself is not known
    unknown_config_reason: Optional[str] = None
    notes: List[Tuple[Location, str]] = field(default_factory=list)
    tree: Any = None                                  # the script's ast.Module (image-flow analysis)
    sinks: List[Any] = field(default_factory=list)    # every Sink reached, in order
    models: List[Any] = field(default_factory=list)


def builds_config(path: str, text: str) -> bool:
    """Whether this .py builds a config and gives it to a model (one parse; see detect.py)."""
    from cfglint.adapters.script.detect import builds_config as _builds
    return _builds(path, text)


def sink_calls(tree):
    from cfglint.adapters.script.detect import sink_calls as _sinks
    return _sinks(tree)


def _parse_sets(sets: Sequence[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for item in sets:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise CfglintError(f"--set {item!r} must look like NAME=VALUE", "--set")
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = text.strip()
        name = name.strip()
        for prefix in ("args.", "--"):
            if name.startswith(prefix):
                name = name[len(prefix):]
        out[name.replace("-", "_") if not name.startswith(("argv", "env.")) else name] = value
    return out


def resolve_script(path: str, opts: Sequence[str] = (), sets: Sequence[str] = (),
                   allow_new_keys: bool = False) -> ResolvedConfig:
    """The config the script at `path` builds, as the model would get it (nothing is run)."""
    from cfglint.adapters.script.interp import Interpreter
    from cfglint.adapters.script.values import D2State, LazyState, MMState

    interp = Interpreter(path, sets=_parse_sets(list(sets) or CLI_SETS), allow_new_keys=allow_new_keys)
    module = interp.run_script()
    if not interp.sinks:
        _call_uncalled(interp, module)
    if not interp.sinks:
        calls = sink_calls(module.tree)
        if not calls:
            raise CfglintError(NOT_A_CONFIG, path)
        return _unreached(path, module, calls[0])
    sink = interp.sinks[0]
    state = sink.state
    if isinstance(state, D2State):
        result = _d2_result(interp, state, opts, path)
    elif isinstance(state, MMState):
        result = _mm_result(interp, state, opts, path)
    else:
        result = _lazy_result(interp, state, opts, path)
    result.script = path
    result.sink, result.sink_location = sink.kind, sink.where
    result.tree = module.tree
    result.sinks, result.models = list(interp.sinks), list(interp.models)
    checkpoint = sink.checkpoint
    from cfglint.adapters.script.values import is_unknown
    if is_unknown(checkpoint):
        result.notes.append((checkpoint.where, f"the checkpoint cannot be known: {checkpoint.why}"))
    elif isinstance(checkpoint, str) and checkpoint:
        result.served_checkpoint = checkpoint
        result.served_checkpoint_location = sink.checkpoint_where or sink.where
    for unknown in interp.notes:
        if all(unknown.where != loc for loc, _ in result.notes):
            result.notes.append((unknown.where, unknown.why))
    return result


def _unreached(path: str, module, first) -> "ScriptResolved":
    """The script builds a model (`first`) on a path the reader cannot follow: its config is unknown."""
    from cfglint.adapters.script.detect import FRAMEWORK_OF_SINK
    kind, call = first
    where = Location(path, call.lineno)
    framework = FRAMEWORK_OF_SINK.get(kind, DETECTRON2)
    result = ScriptResolved(framework=framework, path=path, data={}, syntax="yacs" if framework == DETECTRON2
                            else "mmengine", files=[path], script=path, sink=kind, sink_location=where,
                            tree=module.tree, unknown_config=where,
                            unknown_config_reason=f"the call of {kind} is not reached with the script's default "
                                                  "arguments")
    result.notes.append((where, f"the config given to {kind} cannot be known statically (the call is not reached "
                                "with the script's default arguments)"))
    return result


def _call_uncalled(interp, module) -> None:
    """A module that only defines `get_predictor(cfg_path, ...)`: follow its functions, parameters unknown."""
    from cfglint.adapters.script.interp import Class, Func, Instance
    sink_lines = {call.lineno for _, call in sink_calls(module.tree)}
    for stmt in module.tree.body:
        if interp.sinks:
            return
        end = getattr(stmt, "end_lineno", stmt.lineno)
        if not any(stmt.lineno <= line <= end for line in sink_lines):
            continue
        value = module.env.get(getattr(stmt, "name", None))
        if isinstance(value, Func):
            interp.call(value, [], {}, stmt)
        elif isinstance(value, Class):
            inst = interp.call(value, [], {}, stmt)
            for item in stmt.body:
                if interp.sinks:
                    return
                if isinstance(item, ast.FunctionDef) and item.name != "__init__" and isinstance(inst, Instance):
                    iend = getattr(item, "end_lineno", item.lineno)
                    if any(item.lineno <= line <= iend for line in sink_lines):
                        interp.call(interp.get_attr(inst, item.name, item), [], {}, item)


def _export(value: Any, path: Tuple[Any, ...], unknown: Dict[Tuple[Any, ...], Any]) -> Any:
    from cfglint.adapters.script.values import Unknown, PathVal
    if isinstance(value, Unknown):
        unknown[path] = value
        return None
    if isinstance(value, PathVal):
        return value.path
    if isinstance(value, dict):
        return {k: _export(v, path + (k,), unknown) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_export(v, path + (i,), unknown) for i, v in enumerate(value))
    if isinstance(value, list):
        return [_export(v, path + (i,), unknown) for i, v in enumerate(value)]
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    from cfglint.adapters.script.values import Unknown as U
    unknown[path] = U(Location("<script>"), f"a {type(value).__name__} value")
    return None


def _finish(result: "ScriptResolved", unknown: Dict[Tuple[Any, ...], Any], whole) -> None:
    for key_path, value in unknown.items():
        dotted = ".".join(map(str, key_path))
        result.unknown[dotted] = value.where
        result.unknown_reasons[dotted] = value.why
        result.locations[key_path] = value.where
        result.notes.append((value.where, f"{dotted} cannot be known statically: {value.why}"))
    if whole is not None:
        result.unknown_config, result.unknown_config_reason = whole.where, whole.why
        result.notes.append((whole.where, f"the config cannot be known statically: {whole.why}"))


def _d2_result(interp, state, opts: Sequence[str], path: str) -> "ScriptResolved":
    from cfglint.adapters.detectron2 import yacs
    root = state.root
    if opts:
        yacs.merge_list_into(root, list(opts), state.locations, Location(OPTS_FILE))
    unknown: Dict[Tuple[Any, ...], Any] = {}
    data = _export(root, (), unknown)
    locations = yacs.leaf_locations(data, state.locations)
    result = ScriptResolved(framework=DETECTRON2, path=path, data=data, locations=locations, syntax="yacs",
                            files=list(dict.fromkeys(state.files + [path])), suppressions=dict(state.suppressions))
    _finish(result, unknown, state.unknown_from)
    for name, where in state.external_addons:
        key = f"the keys {name.split('.')[-1]} adds"
        result.unknown[key] = where
        result.unknown_reasons[key] = f"{name} is outside the repository"
    return result


def _mm_result(interp, state, opts: Sequence[str], path: str) -> "ScriptResolved":
    if opts:
        from cfglint.adapters.mmdet.cfg_options import parse_value
        from cfglint.adapters.script.mm import _merge_into
        nested: Dict[str, Any] = {}
        for option in opts:
            key, sep, raw = option.partition("=")
            if not sep:
                raise CfglintError(f"option {option!r} is not of the form key=value", OPTS_FILE)
            d = nested
            keys = key.strip().split(".")
            for sub in keys[:-1]:
                d = d.setdefault(sub, {})
            d[keys[-1]] = parse_value(raw)
        _merge_into(interp, nested, state.data, (), state, Location(OPTS_FILE), None)
    unknown: Dict[Tuple[Any, ...], Any] = {}
    data = _export(state.data, (), unknown)
    result = ScriptResolved(framework=MMDET, path=path, data=data, locations=dict(state.locations),
                            syntax="mmengine", files=list(dict.fromkeys(state.files + [path])),
                            suppressions=dict(state.suppressions))
    _finish(result, unknown, state.unknown_from)
    return result


def _lazy_result(interp, state, opts: Sequence[str], path: str) -> "ScriptResolved":
    from cfglint.adapters.script.values import is_unknown
    if is_unknown(state.path):
        result = ScriptResolved(framework=DETECTRON2, path=path, data={}, syntax="lazyconfig", files=[path])
        _finish(result, {}, state.path)
        return result
    state = state.clone()
    state.overrides.extend(opts)
    resolved = state.resolved()
    locations = {}
    for key_path, loc in resolved.locations.items():
        if loc.file == "<override>":
            dotted = ".".join(map(str, key_path))
            for text, where in state.override_lines.items():
                key = text.split("=", 1)[0].strip()
                if dotted == key or dotted.startswith(key + "."):
                    loc = where
        locations[key_path] = loc
    result = ScriptResolved(framework=DETECTRON2, path=path, data=resolved.data, locations=locations,
                            syntax="lazyconfig", files=list(dict.fromkeys(resolved.files + [path])),
                            suppressions=dict(resolved.suppressions))
    unknown: Dict[Tuple[Any, ...], Any] = {}
    for key_path, value in state.unknown_keys.items():
        result.data = _with_null(result.data, key_path)   # null, as the other kinds export a value they cannot know
        unknown[key_path] = value
    _finish(result, unknown, None)
    return result


def _with_null(data: Any, key_path: Tuple[Any, ...]) -> Any:
    """`data` (copied along `key_path`) with None at `key_path`, where that place exists (a dict
    key may be new; a list index must exist); anything else is returned as it is."""
    head, rest = key_path[0], key_path[1:]
    if isinstance(data, dict):
        out = dict(data)
        if not rest:
            out[head] = None
        elif head in out:
            out[head] = _with_null(out[head], rest)
        return out
    if isinstance(data, list) and isinstance(head, int) and -len(data) <= head < len(data):
        out = list(data)
        out[head] = None if not rest else _with_null(out[head], rest)
        return out
    return data


def mask_unknown(model, resolved: "ScriptResolved"):
    """Common-model fields that depend on a value the script makes unknown become None (never guessed)."""
    if not isinstance(resolved, ScriptResolved):
        return model
    unknown_locs = set(resolved.unknown.values())
    keys = set(resolved.unknown)
    masked = set()
    model.unknown_fields = masked
    for name in list(model.values):
        prov = model.provenance.get(name)
        if resolved.unknown_config is not None:
            known = prov is not None and prov.location is not None and prov.location not in unknown_locs and \
                prov.location.file == resolved.script
            if not known:
                model.values[name] = None
                model.provenance.pop(name, None)
                masked.add(name)
            continue
        if prov is None:
            continue
        key = prov.native_key
        if prov.location in unknown_locs or key in keys or any(key.startswith(k + ".") for k in keys):
            model.values[name] = None
            model.provenance.pop(name, None)
            masked.add(name)
    return model
