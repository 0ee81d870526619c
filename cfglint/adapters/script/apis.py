"""What the config APIs of Detectron2 and MMDetection (and the few stdlib helpers scripts use to
build paths) do, applied to the interpreter's config states. Everything else outside the script is
an Unknown value."""
from __future__ import annotations

import ast
import copy
import os
from typing import Any, Dict, List, Optional, Tuple

from cfglint.adapters.script import zoo
from cfglint.adapters.script.values import (CONFIG_STATES, CONFIGS, D2State, Ext, LazyState, MMState, ModelObj,
                                            Node, PathVal, Sink, Unknown, View, is_unknown, to_node)
from cfglint.errors import CfglintError
from cfglint.model.location import Location
from cfglint.model.resolved import lookup

KeyPath = Tuple[Any, ...]
_D2_METHODS = {"merge_from_file", "merge_from_list", "merge_from_other_cfg", "freeze", "defrost", "clone", "get",
               "dump", "is_frozen", "set_new_allowed", "keys", "items", "values", "setdefault", "pop", "update",
               "is_new_allowed", "copy"}
_MM_METHODS = {"merge_from_dict", "get", "dump", "keys", "items", "values", "pop", "setdefault", "update", "copy",
               "to_dict", "pretty_text", "filename", "text"}


def _b(name):
    def deco(fn):
        from cfglint.adapters.script.interp import Builtin
        BUILTINS[name] = Builtin(name, fn)
        return fn
    return deco


BUILTINS: Dict[str, Any] = {}
#: Builtins that hand out the items of what they are given unchanged (not copies).
_KEEP_ITEMS = ("enumerate", "list", "reversed", "zip", "tuple")


def _pure(name, fn, types=(str, int, float, bool, list, tuple, dict, type(None))):
    def run(it, args, kwargs, node):
        if name == "len" and len(args) == 1 and isinstance(args[0], Ext) and args[0].qual == "sys.argv" and \
                not any(k.startswith("argv") for k in it.sets):
            return 1   # run with no arguments
        if name in _KEEP_ITEMS:   # `enumerate(cfg.pipeline)`: its dicts stay places in the config
            args = [_items_or(it, a) for a in args]
        args = [a if name in _KEEP_ITEMS and isinstance(a, list) else a.path if isinstance(a, PathVal)
                else it.plain(a) for a in args]
        for a in list(args) + list(kwargs.values()):
            if is_unknown(a):
                return a
        if not all(isinstance(a, types) for a in args):
            return it.unknown(node, f"{name}() of a value outside the script")
        try:
            return fn(*args, **kwargs)
        except Exception:   # noqa: BLE001 - the script would fail here
            return it.unknown(node, f"{name}() fails")
    from cfglint.adapters.script.interp import Builtin
    BUILTINS[name] = Builtin(name, run)


def _items_or(it, value):
    items = it.iterate(value) if isinstance(value, View) else None
    return value if items is None else items


def list_index(container: Any, key: Any) -> Any:
    """`key` as a place in `container`: a negative index of a list counted from its start
    (`pipeline[-3]` is `pipeline[len - 3]`, so provenance and later reads agree)."""
    if isinstance(container, list) and isinstance(key, int) and not isinstance(key, bool) and \
            -len(container) <= key < 0:
        return key + len(container)
    return key


for _name, _fn in {"len": len, "int": int, "float": float, "str": str, "bool": bool, "list": list, "tuple": tuple,
                   "dict": dict, "min": min, "max": max, "abs": abs, "round": round, "sorted": sorted, "sum": sum,
                   "any": any, "all": all, "set": set, "zip": lambda *a: list(zip(*a)),
                   "enumerate": lambda a, start=0: list(enumerate(a, start)), "reversed": lambda a: list(reversed(a)),
                   "range": lambda *a: range(*a) if len(range(*a)) <= 100_000 else None}.items():
    _pure(_name, _fn)
_pure("print", lambda *a, **k: None, types=(object,))
_pure("isinstance", lambda *a: None, types=(object,))


@_b("getattr")
def _getattr(it, args, kwargs, node):
    if len(args) >= 2 and isinstance(args[1], str):
        value = it.get_attr(args[0], args[1], node)
        if is_unknown(value) and len(args) == 3 and not is_unknown(args[0]):
            return args[2]
        return value
    result = it.unknown(node, "getattr of an unknown name")
    if args and isinstance(args[0], CONFIGS):
        result.config = args[0]
    return result


@_b("setattr")
def _setattr(it, args, kwargs, node):
    if len(args) == 3 and (isinstance(args[1], str) or is_unknown(args[1])):
        it.set_attr(args[0], args[1], args[2], node)
    return None


class FileVal:
    """`open(path)` of a literal path: its text is read (never executed) when json/yaml parse it."""

    def __init__(self, path: str):
        self.path = path


@_b("open")
def _open(it, args, kwargs, node):
    path = args[0].path if args and isinstance(args[0], PathVal) else (it.plain(args[0]) if args else None)
    mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
    if isinstance(path, str) and mode in ("r", "rt") and os.path.isfile(path):
        return FileVal(path)
    return it.unknown(node, "the content of a file the script opens")


def _file_text(it, value, node):
    from cfglint.adapters.limits import read_config_text
    if isinstance(value, FileVal):
        return read_config_text(value.path)
    if isinstance(value, PathVal):
        return read_config_text(value.path)
    return value


def _parse_data(it, root, last, args, kwargs, node):
    """json.load(s) / yaml.safe_load of a file the script names: plain data, read statically."""
    if not args:
        return it.unknown(node, f"{root}.{last}()")
    text = _file_text(it, args[0], node) if last in ("load", "safe_load") or root == "yaml" else it.plain(args[0])
    if not isinstance(text, str):
        return text if is_unknown(text) else it.unknown(node, f"{root}.{last}() of a value outside the script")
    try:
        if root == "json":
            import json
            return json.loads(text)
        from cfglint.adapters.detectron2.yaml_reader import read_yaml
        return read_yaml(text, getattr(args[0], "path", "<yaml>")).data
    except CfglintError:
        raise
    except Exception:   # noqa: BLE001 - the script would fail here
        return it.unknown(node, f"{root}.{last}() of text that does not parse")


# ---------------------------------------------------------------------------------------- calls


def _name_tail(qual: str) -> Tuple[str, List[str]]:
    parts = qual.lstrip(".").split(".")
    return parts[0], parts


def call(it, func: Any, args: List[Any], kwargs: Dict[str, Any], node: ast.AST) -> Any:
    if isinstance(func, _Method):
        return func.fn(it, func.target, args, kwargs, node)
    if isinstance(func, Ext):
        return _call_ext(it, func.qual, args, kwargs, node)
    if isinstance(func, ModelObj):
        return it.unknown(node, "the output of the model")
    return it.unknown(node, "a call of a value that cannot be known")


def _call_ext(it, qual: str, args: List[Any], kwargs: Dict[str, Any], node: ast.AST) -> Any:
    root, parts = _name_tail(qual)
    last = parts[-1]
    last2 = ".".join(parts[-2:])
    if root in ("os", "posixpath", "ntpath") or qual.startswith("os.path"):
        return _os(it, parts, args, kwargs, node)
    if root == "pathlib" and last in ("Path", "PurePath", "PosixPath"):
        return _path_new(it, args, node)
    if qual in ("sys.path.insert", "sys.path.append"):
        where = args[-1] if args else None
        where = where.path if isinstance(where, PathVal) else it.plain(where)
        if isinstance(where, str):   # modules the script imports next may live there
            it.extra_roots.append(os.path.abspath(where))
        return None
    if root == "sys":
        return it.unknown(node, f"{qual}() at run time")
    if root == "argparse" and last == "ArgumentParser":
        from cfglint.adapters.script.interp import Parser
        return Parser(it.loc(node))
    if qual in ("types.SimpleNamespace", "argparse.Namespace") and not args:
        from cfglint.adapters.script.interp import Namespace   # `args = SimpleNamespace(config_file=...)`
        return Namespace(dict(kwargs))
    if root == "copy" and last == "deepcopy" and args:
        return _clone(args[0])
    if (root == "json" and last in ("load", "loads")) or (root == "yaml" and last in ("safe_load", "load")):
        if root == "yaml" and last == "load" and "Safe" not in str(getattr(kwargs.get("Loader"), "qual", "")):
            return it.unknown(node, "yaml.load with a loader that may construct objects")
        return _parse_data(it, root, last, args, kwargs, node)
    if root in ("detectron2", "fvcore", "yacs"):
        return _d2_call(it, parts, last, last2, args, kwargs, node)
    if root in ("mmdet", "mmengine", "mmcv", "mmrotate", "mmyolo"):
        return _mm_call(it, parts, last, last2, args, kwargs, node)
    if last.startswith("add_") and last.endswith("config") and args and isinstance(_state_of(args[0]), D2State):
        _external_addon(it, _state_of(args[0]), qual, node)
        return None
    if last == "VisualizationDemo" and args and isinstance(args[0], (D2State, View)):
        return _d2_sink(it, "VisualizationDemo", _state_of(args[0]), node)
    if qual == "dataclasses.field" and ("default" in kwargs or "default_factory" in kwargs):
        # a dataclass field's default: what an instance built without that argument holds
        if "default" in kwargs:
            return kwargs["default"]
        return it.call(kwargs["default_factory"], [], {}, node)
    if qual == "functools.reduce" and len(args) >= 2:
        return _reduce(it, args, node)
    if root == "omegaconf" and last == "create" and args and isinstance(it.plain(args[0]), (dict, list)):
        return copy.deepcopy(it.plain(args[0]))   # `OmegaConf.create({...})`: that data
    if root == "omegaconf" and last in ("update", "merge") and args and isinstance(_state_of(args[0]), LazyState):
        return _omegaconf(it, last, [args[0] if isinstance(args[0], View) else View(args[0], ()), *args[1:]],
                          kwargs, node)
    result = it.unknown(node, f"{qual}() is outside the script")
    if last[:1].islower():
        # a function may hand back (part of) a config it was given: changed later, that config is
        # unknown. A class (`Wrapper(cfg)`) builds a new object: setting its attributes changes no config.
        result.config = next((a for a in [*args, *kwargs.values()]
                              if isinstance(a, CONFIGS)), None)
    return result


def _omegaconf(it, last, args, kwargs, node):
    """`OmegaConf.update(cfg, "a.b", value)` (in place) and `OmegaConf.merge(cfg, {...})` (a new
    config: dicts merged key by key, anything else replaced) on a LazyConfig."""
    target: View = args[0]
    if last == "update":
        key = it.plain(args[1]) if len(args) > 1 else it.plain(kwargs.get("key"))
        value = args[2] if len(args) > 2 else kwargs.get("value")
        if not isinstance(key, str):
            changed_unknowably(it, target, key if is_unknown(key) else it.unknown(node, "an update key"), node)
            return None
        _set(it, target.state, target.path + tuple(key.split(".")), value, node)
        return None
    merged = View(target.state.clone(), target.path)
    for other in args[1:]:
        data = it.plain(other)
        if not isinstance(data, dict) or isinstance(other, View):
            changed_unknowably(it, merged, data if is_unknown(data) else
                               it.unknown(node, "OmegaConf.merge with a config cfglint cannot read"), node)
            break
        for path, value in _merge_leaves(data, ()):
            _set(it, merged.state, merged.path + path, value, node)
    return merged


def _merge_leaves(data: dict, prefix: KeyPath):
    for key, value in data.items():
        if isinstance(value, dict) and value:
            yield from _merge_leaves(value, prefix + (key,))
        else:
            yield prefix + (key,), value


def _reduce(it, args, node):
    """`functools.reduce(fn, items[, initial])`, e.g. `reduce(getattr, "MODEL.ROI_HEADS".split("."), cfg)`."""
    items = it.iterate(args[1])
    if items is None:
        return it.unknown(node, "reduce() over values cfglint cannot list")
    if len(args) < 3 and not items:
        return it.unknown(node, "reduce() of an empty sequence")
    value, rest = (args[2], items) if len(args) >= 3 else (items[0], items[1:])
    for item in rest:
        value = it.call(args[0], [value, item], {}, node)
    return value


def _os(it, parts, args, kwargs, node):
    name = ".".join(parts)
    args = [a.path if isinstance(a, PathVal) else it.plain(a) for a in args]
    for a in args:
        if is_unknown(a):
            return a
    strings = all(isinstance(a, str) for a in args)
    if name in ("os.path.join",) and args and strings:
        return os.path.join(*args)
    if name == "os.path.dirname" and len(args) == 1 and strings:
        return os.path.dirname(args[0])
    if name == "os.path.basename" and len(args) == 1 and strings:
        return os.path.basename(args[0])
    if name in ("os.path.abspath", "os.path.realpath") and len(args) == 1 and strings:
        return os.path.abspath(args[0])
    if name == "os.path.normpath" and len(args) == 1 and strings:
        return os.path.normpath(args[0])
    if name == "os.path.expanduser" and len(args) == 1 and strings:
        return os.path.expanduser(args[0])
    if name == "os.path.splitext" and len(args) == 1 and strings:
        return os.path.splitext(args[0])
    if name in ("os.path.exists", "os.path.isfile", "os.path.isdir") and len(args) == 1 and strings:
        return getattr(os.path, parts[-1])(args[0])
    if name == "os.getcwd":
        return os.getcwd()
    if name in ("os.makedirs", "os.mkdir"):
        return None
    if name in ("os.environ.get", "os.getenv"):
        return it.unknown(node, "an environment variable")
    return it.unknown(node, f"{name}() at run time")


def _path_new(it, args, node):
    parts = []
    for a in args:
        a = a.path if isinstance(a, PathVal) else a
        if is_unknown(a):
            return a
        if not isinstance(a, str):
            return it.unknown(node, "a Path of a value outside the script")
        parts.append(a)
    return PathVal(os.path.join(*parts) if parts else ".")


def _path_attr(it, p: PathVal, name: str, node):
    if name == "parent":
        return PathVal(os.path.dirname(p.path) or ".")
    if name == "name":
        return os.path.basename(p.path)
    if name == "stem":
        return os.path.splitext(os.path.basename(p.path))[0]
    if name == "suffix":
        return os.path.splitext(p.path)[1]
    if name == "parents":
        out, cur = [], p.path
        for _ in range(32):
            cur = os.path.dirname(cur)
            out.append(PathVal(cur or "."))
            if not cur or cur == os.path.dirname(cur):
                break
        return out
    methods = {"resolve": lambda: PathVal(os.path.abspath(p.path)), "absolute": lambda: PathVal(os.path.abspath(p.path)),
               "as_posix": lambda: p.path, "exists": lambda: os.path.exists(p.path),
               "is_file": lambda: os.path.isfile(p.path), "expanduser": lambda: PathVal(os.path.expanduser(p.path))}
    if name in methods:
        fn = methods[name]
        return _Method(lambda it, target, args, kwargs, node: fn(), p)
    if name == "joinpath":
        return _Method(lambda it, target, args, kwargs, node: _path_new(it, [target, *args], node), p)
    if name == "with_suffix":
        return _Method(lambda it, target, args, kwargs, node: PathVal(os.path.splitext(target.path)[0] + args[0])
                       if args and isinstance(args[0], str) else it.unknown(node, "with_suffix"), p)
    return it.unknown(node, f"Path.{name}")


class _Method:
    def __init__(self, fn, target):
        self.fn, self.target = fn, target


# ---------------------------------------------------------------------------------------- Detectron2


def _d2_call(it, parts, last, last2, args, kwargs, node):
    where = it.loc(node)
    if last.startswith("add_") and last.endswith("config") and args and isinstance(_state_of(args[0]), D2State):
        _external_addon(it, _state_of(args[0]), ".".join(parts), node)
        return None
    if last == "get_cfg":
        return _new_d2(it, where)
    if last == "load_cfg" and last2 in ("CfgNode.load_cfg", "CN.load_cfg"):
        # yacs `CfgNode.load_cfg(file or YAML text)`: that YAML alone as a CfgNode (no defaults)
        data = _parse_data(it, "yaml", "safe_load", args, kwargs, node)
        if is_unknown(data):
            return data
        if not isinstance(data, dict):
            return it.unknown(node, "CfgNode.load_cfg of YAML that is not a mapping")
        return View(D2State(to_node(data), origin="CN"), ())
    if last == "CfgNode" or last == "CN":
        init = it.plain(args[0]) if args else it.plain(kwargs.get("init_dict"))
        new_allowed = kwargs.get("new_allowed", args[2] if len(args) > 2 else False)
        if is_unknown(init):
            return init
        state = D2State(to_node(init or {}, new_allowed=bool(new_allowed) is True), origin="CN")
        return View(state, ())
    if last == "get_config_file" and "model_zoo" in parts:
        name = it.plain(args[0]) if args else kwargs.get("config_path")
        if not isinstance(name, str):
            return name if is_unknown(name) else it.unknown(node, "a model-zoo name")
        found = zoo.config_file(name, it.script)
        return found if found is not None else it.unknown(node, f"the model-zoo config {name} is not available "
                                                                "(pass the configs root)")
    if last == "get_checkpoint_url" and "model_zoo" in parts:
        name = it.plain(args[0]) if args else None
        url = zoo.checkpoint_url(name) if isinstance(name, str) else None
        return url if url is not None else it.unknown(node, _no_checkpoint(name))
    if last == "get_config" and "model_zoo" in parts:
        return _zoo_config(it, args, kwargs, node, where)
    if parts[-2:] == ["model_zoo", "get"]:   # get_config(name, trained), built, its weights loaded
        return _zoo_model(it, args, kwargs, node, where)
    if last2 == "LazyConfig.load":
        path = _path_arg(it, args, kwargs, "filename", node)
        if isinstance(path, str) and not os.path.isfile(path):
            path = it.unknown(node, f"{path} does not exist (relative paths are read from the working directory)")
        if is_unknown(path):
            it.note(path)
        return LazyState(path, where)
    if last2 == "LazyConfig.apply_overrides":
        target = args[0] if args else kwargs.get("cfg")
        overrides = it.plain(args[1]) if len(args) > 1 else it.plain(kwargs.get("overrides"))
        if isinstance(target, LazyState) and isinstance(overrides, (list, tuple)):
            for item in overrides:
                if isinstance(item, str):
                    target.overrides.append(item)
                    target.override_lines[item] = where
                else:
                    it.note(item if is_unknown(item) else it.unknown(node, "an override"))
        elif is_unknown(overrides):
            it.note(overrides)
        return target
    if last == "instantiate":
        target = args[0] if args else kwargs.get("cfg")
        if isinstance(target, View) and isinstance(target.state, LazyState):
            return _sink(it, "instantiate", target.state, node)
        return it.unknown(node, "an object built from a config")
    if last == "DefaultPredictor":
        state = _state_of(args[0] if args else kwargs.get("cfg"))
        if isinstance(state, D2State):
            return _d2_sink(it, "DefaultPredictor", state, node)
        return it.unknown(node, "a predictor of an unknown config")
    if last == "build_model" and parts[-2] != "DefaultTrainer":
        state = _state_of(args[0] if args else kwargs.get("cfg"))
        if isinstance(state, D2State):
            return _d2_sink(it, "build_model", state, node, checkpoint=False)
        return it.unknown(node, "a model of an unknown config")
    if last in ("DetectionCheckpointer", "Checkpointer"):
        model = args[0] if args else kwargs.get("model")
        return _Checkpointer(model)
    if last in ("default_argument_parser",):
        from cfglint.adapters.script.interp import Parser
        return Parser(where, d2_defaults=True)
    if last in ("default_setup", "setup_logger", "register_coco_instances", "launch"):
        return None
    return it.unknown(node, f"{'.'.join(parts)}() is outside the script")


def _external_addon(it, state: D2State, name: str, node) -> None:
    state.external_addons.append((name, it.loc(node)))


class _Checkpointer:
    def __init__(self, model):
        self.model = model


def _zoo_config(it, args, kwargs, node, where):
    """detectron2's `model_zoo.get_config(config_path, trained=False)`."""
    name = it.plain(args[0]) if args else it.plain(kwargs.get("config_path"))
    trained = it.plain(kwargs.get("trained", args[1] if len(args) > 1 else False))
    if not isinstance(name, str):
        return name if is_unknown(name) else it.unknown(node, "a model-zoo name")
    found = zoo.config_file(name, it.script)
    if found is None:
        return it.unknown(node, f"the model-zoo config {name} is not available")
    if name.endswith(".py"):
        state = LazyState(found, where)
        if trained is not False:   # detectron2 sets cfg.train.init_checkpoint = the URL
            _set(it, state, ("train", "init_checkpoint"), zoo.checkpoint_url(name) or
                 it.unknown(node, _no_checkpoint(name)), node)
        return state
    view = _new_d2(it, where)
    _merge_from_file(it, view.state, [found], {}, node)
    if trained is not False:
        _set(it, view.state, ("MODEL", "WEIGHTS"), zoo.checkpoint_url(name) or
             it.unknown(node, _no_checkpoint(name)), node)
    return view


def _zoo_model(it, args, kwargs, node, where):
    """detectron2's `model_zoo.get(config_path, trained=False, device=None)`: the model of
    `get_config(config_path, trained)` on `device`, with `DetectionCheckpointer(model).load()` of
    MODEL.WEIGHTS (a LazyConfig: train.init_checkpoint)."""
    config = _zoo_config(it, args[:2], {k: v for k, v in kwargs.items() if k != "device"}, node, where)
    if is_unknown(config):
        it.note(config)
        return it.unknown(node, "a model of an unknown config")
    if isinstance(config, LazyState):   # detectron2 sets no device on a LazyConfig
        model = _sink(it, "model_zoo.get", config, node)
        url = zoo.checkpoint_url(it.plain(args[0]) if args else it.plain(kwargs.get("config_path")))
        trained = it.plain(kwargs.get("trained", args[1] if len(args) > 1 else False))
        if trained is not False and url is not None:
            model.sink.checkpoint, model.sink.checkpoint_where = url, where
        return model
    device = it.plain(kwargs.get("device", args[2] if len(args) > 2 else None))
    if device is None:   # detectron2: "cpu" when torch.cuda.is_available() is false, else the config's
        device = it.unknown(node, "model_zoo.get(device=None) uses 'cpu' on a machine without CUDA")
    _set(it, config.state, ("MODEL", "DEVICE"), device, node)
    return _d2_sink(it, "model_zoo.get", config.state, node)


def _no_checkpoint(name: str) -> str:
    return (f"{name} has no trained checkpoint in detectron2's model-zoo table; "
            "detectron2 raises RuntimeError there")


def _new_d2(it, where: Location) -> View:
    from cfglint.adapters.detectron2.defaults_table import DEFAULTS
    return View(D2State(to_node(copy.deepcopy(DEFAULTS))), ())


def _state_of(value: Any) -> Any:
    if isinstance(value, View):
        return value.state
    return value


def _d2_sink(it, kind, state: D2State, node, checkpoint=True):
    sink = _sink(it, kind, state, node)
    if checkpoint:
        weights = _lookup(state.root, ("MODEL", "WEIGHTS"))
        if weights is not _MISSING:
            sink.sink.checkpoint = weights
            sink.sink.checkpoint_where = state.locations.get(("MODEL", "WEIGHTS"))
    return sink


def _sink(it, kind, state, node) -> ModelObj:
    sink = Sink(kind, it.loc(node), state.clone())
    it.sinks.append(sink)
    model = ModelObj(sink)
    it.models.append(model)
    return model


def _path_arg(it, args, kwargs, name, node):
    value = args[0] if args else kwargs.get(name)
    value = value.path if isinstance(value, PathVal) else it.plain(value)
    if value is None:
        return it.unknown(node, "a missing path")
    if not isinstance(value, str) and not is_unknown(value):
        return it.unknown(node, "a path that is not a string")
    return value


def _merge_from_file(it, state: D2State, args, kwargs, node):
    from cfglint.adapters.detectron2 import yacs
    path = _path_arg(it, args, kwargs, "cfg_filename", node)
    if it.stop_at_merge:
        from cfglint.adapters.script.interp import StopScript
        it.stopped_state = state.clone()
        raise StopScript()
    if not is_unknown(path) and not os.path.isfile(path):
        path = it.unknown(node, f"{path} does not exist (relative paths are read from the working directory)")
    if not is_unknown(path) and it.conditions:
        path = it.conditions[-1]
    if is_unknown(path):
        it.note(path)
        state.unknown_from = state.unknown_from or path
        return None
    _check_frozen(it, state, node)
    try:
        try:
            loaded = yacs.merge_file_into(state.root, path, state.locations, allow_new_keys=it.allow_new_keys)
        except CfglintError as err:
            if not state.external_addons or not err.message.startswith("unknown config key"):
                raise
            # the keys come from an add-on outside the repository: read, not checked
            name, where = state.external_addons[0]
            it.note(Unknown(where, f"{name} is outside the repository: the keys it adds are not known, so the "
                                   "config's keys are not checked against them"))
            loaded = yacs.merge_file_into(state.root, path, state.locations, allow_new_keys=True)
    except CfglintError as err:
        if err.file is None or err.file == path and err.line is None:
            raise CfglintError(err.message, *_where(it, node)) from None
        raise
    state.files.extend(loaded.files)
    state.suppressions.update(loaded.suppressions)
    return None


def _where(it, node):
    loc = it.loc(node)
    return loc.file, loc.line


def _check_frozen(it, state: D2State, node):
    if state.frozen:
        raise CfglintError("the script changes the config after cfg.freeze(); Detectron2 raises here",
                           *_where(it, node))


def _merge_from_list(it, state: D2State, args, kwargs, node):
    from cfglint.adapters.detectron2 import yacs
    opts = it.plain(args[0]) if args else it.plain(kwargs.get("cfg_list"))
    if is_unknown(opts):        # any key may change: the config is unknown from here on
        changed_unknowably(it, state, opts, node)
        return None
    if not isinstance(opts, (list, tuple)):
        return None
    _check_frozen(it, state, node)
    where = it.loc(node)
    opts = list(opts)
    known: List[Any] = []
    for key, value in zip(opts[0::2], opts[1::2]):
        if it.conditions and not is_unknown(key):
            value = it.conditions[-1]
        if is_unknown(key):
            changed_unknowably(it, state, key, node)
            continue
        if is_unknown(value):
            _set(it, state, tuple(str(key).split(".")), value, node)
            continue
        known += [key, value]
    if len(opts) % 2:
        known.append(opts[-1])
    yacs.merge_list_into(state.root, known, state.locations, where)
    return None


def _lookup(root: Any, path: KeyPath) -> Any:
    return lookup(root, path, _MISSING)


_MISSING = object()


def _set(it, state, path: KeyPath, value: Any, node) -> None:
    """`cfg.A.B = value` (D2: a new key is added, as yacs does on an unfrozen node; mmengine: the same)."""
    where = it.loc(node)
    if it.conditions and not is_unknown(value):
        value = it.conditions[-1]
    if isinstance(state, LazyState):
        hidden = value if is_unknown(value) else _unknown_inside(it.plain(value))
        if hidden is not None:   # an override needs the whole value: `[L(T.X)(...)]` is unknown as a whole
            state.unknown_keys[tuple(path)] = hidden
            return
        state.unknown_keys.pop(tuple(path), None)
        value = it.plain(value)
        text = f"{'.'.join(map(str, path))}={value!r}"
        state.overrides.append(text)
        state.override_lines[text] = where
        state._resolved = None
        return
    if isinstance(state, D2State):
        _check_frozen(it, state, node)
    graft_locations: Dict[KeyPath, Location] = {}
    if isinstance(value, View) and isinstance(value.state, (D2State, MMState)):
        src = value.state
        sub = _lookup(src.root if isinstance(src, D2State) else src.data, value.path)
        graft_locations = {path + p[len(value.path):]: loc for p, loc in src.locations.items()
                           if p[:len(value.path)] == value.path}
        value = copy.deepcopy(sub)
    else:
        value = _clone_plain(it.plain(value))
    root = state.root if isinstance(state, D2State) else state.data
    parent = _lookup(root, path[:-1])
    if parent is _MISSING or not isinstance(parent, (dict, list)):
        it.note(it.unknown(node, f"sets {'.'.join(map(str, path))} under a key that does not exist"))
        return
    if isinstance(parent, list):
        if not isinstance(path[-1], int) or not -len(parent) <= path[-1] < len(parent):
            return
        path = path[:-1] + (list_index(parent, path[-1]),)
    parent[path[-1]] = value
    for stale in [p for p in state.locations if p[:len(path)] == path]:
        del state.locations[stale]
    state.locations[path] = where
    state.locations.update(graft_locations)


def _unknown_inside(value: Any) -> Optional[Unknown]:
    """The first unknown value inside a list/tuple/dict, if any."""
    if is_unknown(value):
        return value
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _unknown_inside(item)
            if found is not None:
                return found
    return None


def _clone_plain(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return copy.deepcopy(value)
    return value


def _clone(value: Any) -> Any:
    if isinstance(value, View):
        state = value.state.clone()
        return View(state, value.path)
    return copy.deepcopy(value)


def set_key(it, obj: Any, key: Any, value: Any, node) -> None:
    if isinstance(obj, View):
        _set(it, obj.state, obj.path + (key,), value, node)
    elif isinstance(obj, CONFIG_STATES):
        _set(it, obj, (key,), value, node)


def delete(it, obj: View, key: Any, node) -> None:
    state = obj.state
    if isinstance(state, (D2State, MMState)):
        root = state.root if isinstance(state, D2State) else state.data
        parent = _lookup(root, obj.path)
        if isinstance(parent, dict) and not is_unknown(key):
            parent.pop(key, None)
            path = obj.path + (key,)
            for stale in [p for p in state.locations if p[:len(path)] == path]:
                del state.locations[stale]


def get_key(it, obj: Any, key: Any, node) -> Any:
    if not isinstance(obj, View):
        obj = View(obj, ())
    state = obj.state
    path = obj.path + (key,)
    if isinstance(state, LazyState):
        resolved = state.resolved()
        if resolved is None:
            return state.path if is_unknown(state.path) else it.unknown(node, "a LazyConfig that cannot be read")
        value = _lookup(resolved.data, path)
        if value is _MISSING:
            return it.unknown(node, f"the config has no {'.'.join(map(str, path))}")
        return View(state, path) if isinstance(value, (dict, list)) else value
    root = state.root if isinstance(state, D2State) else state.data
    if state.unknown_from is not None and isinstance(state, MMState) and not state.data:
        return state.unknown_from
    container = _lookup(root, obj.path)
    if isinstance(key, slice) and isinstance(container, list):   # `mean[::-1]`: a new list
        return copy.deepcopy(container[key])
    path = obj.path + (list_index(container, key),)
    value = _lookup(root, path)
    if value is _MISSING:
        if isinstance(state, D2State) and state.unknown_from is not None:
            return state.unknown_from
        return it.unknown(node, f"the config has no {'.'.join(map(str, path))}")
    if isinstance(value, dict) or (isinstance(value, list) and isinstance(state, MMState)):
        return View(state, path)
    return value


def get_attr(it, obj: Any, name: str, node) -> Any:
    if isinstance(obj, CONFIG_STATES):
        obj = View(obj, ())
    if isinstance(obj, View):
        state = obj.state
        if isinstance(state, D2State) and name in _D2_METHODS:
            return _Method(_D2_METHOD_FNS.get(name, _generic_method(name)), obj)
        if isinstance(state, MMState) and name in _MM_METHODS:
            return _Method(_MM_METHOD_FNS.get(name, _generic_method(name)), obj)
        return get_key(it, obj, name, node)
    if isinstance(obj, PathVal):
        if name == "read_text":
            return _Method(lambda it, target, args, kwargs, node: _file_text(it, target, node)
                           if os.path.isfile(target.path) else it.unknown(node, "a file that does not exist"), obj)
        return _path_attr(it, obj, name, node)
    if isinstance(obj, FileVal):
        if name == "read":
            return _Method(lambda it, target, args, kwargs, node: _file_text(it, target, node), obj)
        if name in ("__enter__", "close"):
            return _Method(lambda it, target, args, kwargs, node: target, obj)
        return it.unknown(node, f"file.{name}")
    if isinstance(obj, str):
        return _str_method(it, obj, name, node)
    if isinstance(obj, dict) and name in ("get", "items", "keys", "values", "copy", "update", "setdefault", "pop"):
        return _Method(_dict_method(name), obj)
    if isinstance(obj, list) and name in ("append", "extend", "insert", "copy", "index", "pop"):
        return _Method(_list_method(name), obj)
    if isinstance(obj, _Checkpointer) and name in ("load", "resume_or_load"):
        return _Method(_checkpointer_load, obj)
    from cfglint.adapters.script.interp import Parser, Namespace
    if isinstance(obj, Parser):
        if name in ("add_argument",):
            return _Method(_add_argument, obj)
        if name in ("parse_args", "parse_known_args"):
            return _Method(_parse_args, obj)
        if name in ("add_argument_group", "add_mutually_exclusive_group"):
            return _Method(lambda it, target, args, kwargs, node: target, obj)
        return _Method(lambda it, target, args, kwargs, node: None, obj)
    if isinstance(obj, ModelObj):
        if name in obj.attrs:
            return obj.attrs[name]
        if name == "cfg" and isinstance(obj.sink.state, (D2State, MMState)):
            return View(obj.sink.state, ())
        if name in ("eval", "to", "cuda", "cpu", "train"):
            return _Method(lambda it, target, args, kwargs, node: target, obj)
        return it.unknown(node, f"the model's {name}")
    return it.unknown(node, f"the attribute {name} of a value outside the script")


def _generic_method(name):
    def fn(it, view, args, kwargs, node):
        value = it.plain(view)
        if name in ("get",) and isinstance(value, dict):
            key = args[0] if args else None
            if is_unknown(key):
                return key
            if key in value:
                return get_key(it, view, key, node)
            return args[1] if len(args) > 1 else kwargs.get("default")
        if name in ("keys", "values", "items") and isinstance(value, dict):
            return list(getattr(value, name)())
        if name in ("clone", "copy"):
            return _clone(view)
        if name == "to_dict":
            return value
        if name in ("dump", "pretty_text"):
            return it.unknown(node, "a dumped config")
        if name == "pop" and isinstance(value, dict) and args and not is_unknown(args[0]):
            got = value.get(args[0], args[1] if len(args) > 1 else None)
            delete(it, view, args[0], node)
            return got
        if name == "setdefault" and isinstance(value, dict) and args and not is_unknown(args[0]):
            if args[0] not in value:
                _set(it, view.state, view.path + (args[0],), args[1] if len(args) > 1 else None, node)
            return get_key(it, view, args[0], node)
        if name == "update" and (args or kwargs):
            other = it.plain(args[0]) if args else {}
            if not isinstance(other, dict):
                changed_unknowably(it, view, other if is_unknown(other) else
                                   it.unknown(node, "update() with a value that is not a dict"), node)
                return None
            _update(it, view, {**other, **kwargs}, node)
            return None
        return it.unknown(node, f"cfg.{name}()")
    return fn


def mutate_list(it, place: View, method: str, args, kwargs, node) -> Any:
    """`cfg.MODEL.PIXEL_MEAN.reverse()`, `pipeline.pop(2)`: the list method applied to the config's
    own list (a copy of it, written back at its place). `_MISSING` when `place` holds no list."""
    current = it.plain(place)
    if not isinstance(current, list):
        return _MISSING
    values = [it.plain(a) for a in args]
    options = {k: it.plain(v) for k, v in kwargs.items()}
    unknown = next((v for v in [*values, *options.values()] if is_unknown(v)), None)
    if unknown is not None or (method == "sort" and options.get("key") is not None):
        changed_unknowably(it, place, unknown or it.unknown(node, "sort() with a key function"), node)
        return unknown
    try:
        result = getattr(current, method)(*values, **options)
    except Exception:   # noqa: BLE001 - the script would fail here
        return it.unknown(node, f"{method}() fails on this list")
    _set(it, place.state, place.path, current, node)
    return result


def delete_item(it, place: View, key: Any, node) -> bool:
    """`del cfg.MODEL.PIXEL_STD[0]`: True when `place` is a config list (the item is removed)."""
    current = it.plain(place)
    if not isinstance(current, list):
        return False
    if is_unknown(key):
        changed_unknowably(it, place, key, node)
        return True
    try:
        del current[key]
    except (IndexError, TypeError):
        return True   # the script would fail here
    _set(it, place.state, place.path, current, node)
    return True


def _update(it, view: View, other: dict, node) -> None:
    """`node.update(other)`: a yacs CfgNode is a dict (keys replaced); an mmengine ConfigDict
    merges a dict into a dict key recursively (`ConfigDict.update`)."""
    current = it.plain(view)
    for key, value in other.items():
        value = it.plain(value)
        if isinstance(view.state, MMState) and isinstance(current, dict) and \
                isinstance(current.get(key), dict) and isinstance(value, dict):
            _update(it, View(view.state, view.path + (key,)), value, node)
        else:
            _set(it, view.state, view.path + (key,), value, node)


def changed_unknowably(it, target: Any, unknown: Unknown, node) -> None:
    """The script changes `target` (a config, or a place in one) in a way cfglint cannot follow:
    everything under it is unknown from here on (one info finding says which line), rather than
    silently left as it was."""
    it.note(unknown)
    view = target if isinstance(target, View) else View(target, ()) if isinstance(target, CONFIG_STATES) else None
    if view is None:
        return
    state = view.state
    if view.path:
        _set(it, state, view.path, unknown, node)
    elif isinstance(state, LazyState):
        state.path = unknown
        state._resolved = None
    else:
        state.unknown_from = state.unknown_from or unknown


def _d2_freeze(it, view, args, kwargs, node):
    view.state.frozen = True


def _d2_defrost(it, view, args, kwargs, node):
    view.state.frozen = False


def _d2_other(it, view, args, kwargs, node):
    other = args[0] if args else None
    if isinstance(other, View) and isinstance(other.state, D2State):
        from cfglint.adapters.detectron2.yacs import _YacsMerge
        data = copy.deepcopy(_lookup(other.state.root, other.path))
        _check_frozen(it, view.state, node)
        target = _lookup(view.state.root, view.path)
        _YacsMerge(view.state.root, view.state.locations, False, it.loc(node).file).merge(data, target, view.path)
        for p in _leaves(data, view.path):
            view.state.locations[p] = other.state.locations.get(p[len(view.path):] and other.path + p[len(view.path):],
                                                                it.loc(node))
    else:   # whatever it holds is merged under this node
        changed_unknowably(it, view, other if is_unknown(other) else
                           it.unknown(node, "merge_from_other_cfg of a config cfglint cannot read"), node)


def _leaves(data, prefix):
    for k, v in data.items():
        if isinstance(v, dict):
            yield from _leaves(v, prefix + (k,))
        else:
            yield prefix + (k,)


def _set_new_allowed(it, view, args, kwargs, node):
    target = _lookup(view.state.root, view.path)
    if isinstance(target, Node) and args and isinstance(args[0], bool):
        def mark(n):
            n.new_allowed = args[0]
            for v in n.values():
                if isinstance(v, Node):
                    mark(v)
        mark(target)


_D2_METHOD_FNS = {
    "merge_from_file": lambda it, view, args, kwargs, node: _merge_from_file(it, view.state, args, kwargs, node),
    "merge_from_list": lambda it, view, args, kwargs, node: _merge_from_list(it, view.state, args, kwargs, node),
    "merge_from_other_cfg": _d2_other,
    "freeze": _d2_freeze, "defrost": _d2_defrost, "set_new_allowed": _set_new_allowed,
    "is_frozen": lambda it, view, args, kwargs, node: view.state.frozen,
}


def _mm_merge(it, view, args, kwargs, node):
    from cfglint.adapters.script import mm
    mm.merge_from_dict(it, view.state, args[0] if args else kwargs.get("options"), node)


_MM_METHOD_FNS = {"merge_from_dict": _mm_merge}


def _checkpointer_load(it, ckpt, args, kwargs, node):
    path = args[0] if args else kwargs.get("path")
    path = path.path if isinstance(path, PathVal) else path
    model = ckpt.model
    if isinstance(model, ModelObj):
        model.sink.checkpoint = path
        model.sink.checkpoint_where = it.loc(node)
    it.checkpoints.append((path, it.loc(node)))
    return it.unknown(node, "the checkpoint content")


def _add_argument(it, parser, args, kwargs, node):
    names = [a for a in args if isinstance(a, str)]
    if not names:
        return None
    dest = kwargs.get("dest")
    if not isinstance(dest, str):
        longs = [n for n in names if n.startswith("--")]
        dest = (longs[0] if longs else names[0]).lstrip("-").replace("-", "_")
    positional = not names[0].startswith("-")
    where = it.loc(node)
    action = kwargs.get("action")
    nargs = kwargs.get("nargs")
    if "default" in kwargs:
        value = kwargs["default"]
        convert = kwargs.get("type")
        if isinstance(value, str) and isinstance(convert, Builtin_types()):
            value = it.call(convert, [value], {}, node)
    elif action == "store_true":
        value = False
    elif action == "store_false":
        value = True
    elif positional and nargs in ("*", "...", "?") or nargs == argparse_remainder():
        value = [] if nargs != "?" else None
    else:
        flag = names[0]
        value = Unknown(where, f"{flag} has no default: its value is given on the command line")
    parser.values[dest] = value
    parser.specs.append((names, dest, action, nargs, kwargs.get("type")))
    return None


def Builtin_types():
    from cfglint.adapters.script.interp import Builtin
    return Builtin


def argparse_remainder():
    return "..."


def _parse_args(it, parser, args, kwargs, node):
    from cfglint.adapters.script.interp import Namespace
    values = dict(parser.values)
    argv = it.plain(args[0]) if args else it.plain(kwargs.get("args"))
    if argv not in (None, []):
        parsed = _parse_argv(it, parser, argv, node)
        if is_unknown(parsed):
            return parsed
        values.update(parsed)
    ns = Namespace(values)
    return (ns, []) if node and isinstance(getattr(node, "func", None), ast.Attribute) and \
        node.func.attr == "parse_known_args" else ns


def _parse_argv(it, parser, argv, node):
    """argparse on an explicit list of literal strings (`parse_args(["--config-file", "x.yaml"])`)."""
    if not isinstance(argv, (list, tuple)) or not all(isinstance(a, str) for a in argv):
        return argv if is_unknown(argv) else it.unknown(node, "parse_args of an argument list that is not known")
    options = {name: spec for spec in parser.specs for name in spec[0] if name.startswith("-")}
    positionals = [spec for spec in parser.specs if not spec[0][0].startswith("-")]
    out: Dict[str, Any] = {}
    rest: List[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("-") and token != "-" and not rest:
            name, eq, inline = token.partition("=")
            spec = options.get(name)
            if spec is None:
                return it.unknown(node, f"parse_args of the unknown option {name}")
            _, dest, action, nargs, kind = spec
            if action in ("store_true", "store_false"):
                out[dest] = action == "store_true"
                i += 1
                continue
            if nargs in ("+", "*"):
                j = i + 1
                while j < len(argv) and not argv[j].startswith("-"):
                    j += 1
                out[dest] = [_typed(it, v, kind, node) for v in argv[i + 1:j]]
                i = j
                continue
            if eq:
                out[dest] = _typed(it, inline, kind, node)
                i += 1
            elif i + 1 < len(argv):
                out[dest] = _typed(it, argv[i + 1], kind, node)
                i += 2
            else:
                return it.unknown(node, f"{name} without a value")
            continue
        rest.append(token)
        i += 1
    for spec in positionals:
        _, dest, _, nargs, kind = spec
        if nargs in ("...", "*", "+"):
            out[dest] = list(rest)
            rest = []
        elif rest:
            out[dest] = _typed(it, rest.pop(0), kind, node)
    return out


def _typed(it, value: str, kind, node):
    if kind in ("int", "float"):
        kind = BUILTINS[kind]
    from cfglint.adapters.script.interp import Builtin
    if isinstance(kind, Builtin):
        return kind.fn(it, [value], {}, node)
    return value


def _dict_method(name):
    def fn(it, d, args, kwargs, node):
        if name == "get":
            if args and is_unknown(args[0]):
                return args[0]
            return d.get(args[0], args[1] if len(args) > 1 else None) if args else None
        if name in ("items", "keys", "values"):
            return list(getattr(d, name)())
        if name == "copy":
            return dict(d)
        if name == "update":
            other = it.plain(args[0]) if args else {}
            if isinstance(other, dict):
                d.update(other)
            d.update(kwargs)
            return None
        if name == "setdefault":
            return d.setdefault(args[0], args[1] if len(args) > 1 else None) if args else None
        if name == "pop":
            return d.pop(args[0], args[1] if len(args) > 1 else None) if args else None
    return fn


def _list_method(name):
    def fn(it, lst, args, kwargs, node):
        if name == "append" and args:
            lst.append(args[0])
        elif name == "extend" and args:
            items = it.iterate(args[0])
            if items is None:
                it.note(it.unknown(node, "a list extended by unknown items"))
            else:
                lst.extend(items)
        elif name == "insert" and len(args) == 2 and isinstance(args[0], int):
            lst.insert(args[0], args[1])
        elif name == "copy":
            return list(lst)
        else:
            return it.unknown(node, f"list.{name}")
        return None
    return fn


def _str_method(it, s: str, name: str, node):
    simple = {"lower", "upper", "strip", "lstrip", "rstrip", "replace", "format", "split", "join", "endswith",
              "startswith", "rsplit", "title", "zfill"}
    if name not in simple:
        return it.unknown(node, f"str.{name}")

    def fn(it, target, args, kwargs, node):
        args = [it.plain(a) for a in args]
        if any(is_unknown(a) for a in list(args) + list(kwargs.values())):
            return next(a for a in list(args) + list(kwargs.values()) if is_unknown(a))
        try:
            if name == "join":
                return target.join(args[0])
            return getattr(target, name)(*args, **kwargs)
        except Exception:   # noqa: BLE001
            return it.unknown(node, f"str.{name} fails")
    return _Method(fn, s)


def ext_item(it, obj: Ext, key: Any, node) -> Any:
    if obj.qual == "sys.argv" and (key == 0 or key == -1 and not it.sets):
        return it.script   # run with no arguments: sys.argv == [script]
    if obj.qual == "sys.argv" and isinstance(key, slice) and not it.sets:
        return [it.script][key]
    if obj.qual in ("sys.argv",):
        name = f"argv[{key}]" if not isinstance(key, slice) else "argv"
        if name in it.sets:
            it.used_sets.add(name)
            return it.sets[name]
        return it.unknown(node, "sys.argv is given on the command line")
    if obj.qual in ("os.environ",):
        name = f"env.{key}"
        if name in it.sets:
            it.used_sets.add(name)
            return it.sets[name]
        return it.unknown(node, "an environment variable")
    return it.unknown(node, f"an item of {obj.qual}")


def plain(it, value: Any) -> Any:
    if isinstance(value, CONFIG_STATES):
        value = View(value, ())
    state = value.state
    if isinstance(state, LazyState):
        resolved = state.resolved()
        if resolved is None:
            return state.path if is_unknown(state.path) else it.unknown(None, "a LazyConfig")
        got = _lookup(resolved.data, value.path)
        return copy.deepcopy(got) if got is not _MISSING else Unknown(state.where, "a missing key")
    root = state.root if isinstance(state, D2State) else state.data
    got = _lookup(root, value.path)
    return copy.deepcopy(got) if got is not _MISSING else Unknown(Location(it.script), "a missing key")


# ---------------------------------------------------------------------------------------- MMDetection


def _mm_call(it, parts, last, last2, args, kwargs, node):
    from cfglint.adapters.script import mm
    return mm.call(it, parts, last, last2, args, kwargs, node)
