"""Resolve an MMDetection/mmengine config statically: what `Config.fromfile(p).to_dict()` gives.

Old-style configs follow `Config._file2dict` step by step (text substitutions, `_base_` files
combined with plain update and a duplicate-key check, the file body evaluated with `_base_` in
scope by :mod:`interp`, `{{_base_.x}}` placeholders replaced, then `_merge_a_into_b`). Pure-Python
`read_base` configs go through :mod:`lazy_config`. Nothing is executed or imported.
"""
from __future__ import annotations

import ast
import functools
import os
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from cfglint.adapters.limits import MAX_BASE_DEPTH
from cfglint.adapters.mmdet import lazy_config
from cfglint.adapters.mmdet.cfg_options import apply_cfg_options
from cfglint.adapters.mmdet.interp import Function, Interpreter
from cfglint.adapters.mmdet.merge import merge_a_into_b
from cfglint.adapters.mmdet.sources import Source, base_entries, one_resolution, read_source, resolve_base_path
from cfglint.adapters.mmdet.values import CfgDict, TreeLocations, deep_copy, export, reaches_twice, to_config
from cfglint.adapters.suppressions import scan
from cfglint.errors import CfglintError
from cfglint.model import ResolvedConfig
from cfglint.model.resolved import MMDET

RESERVED_KEYS = ("filename", "text", "pretty_text", "env_variables")


def resolve_file(path: str, cfg_options: Sequence[str] = ()) -> ResolvedConfig:
    """`Config.fromfile(path)` (+ `--cfg-options`), as plain data with the location of every key."""
    with one_resolution():
        return _resolve_file(os.fspath(path), cfg_options)


def _resolve_file(path: str, cfg_options: Sequence[str]) -> ResolvedConfig:
    source = read_source(path)
    files: List[str] = []
    if source.tree is not None and lazy_config.is_lazy(source):
        cfg, imported = lazy_config.parse(source, files)
        cfg = CfgDict({k: v for k, v in cfg.items() if k not in imported}, config=True, locs=cfg.locs)
        syntax = "mmengine-lazy"
    else:
        cfg = _file2dict(source, files, stack=())
        syntax = "mmengine" if source.tree is not None else ("json" if path.endswith(".json") else "yaml")
    _check_reserved(cfg, source.path)
    if cfg_options:
        cfg = apply_cfg_options(cfg, cfg_options)
    return _resolved(path, cfg, syntax, files)


def resolve_text(text: str, filename: str = "<checkpoint meta>") -> ResolvedConfig:
    """A dumped config (`Config.pretty_text`, checkpoint `meta['cfg']`/`meta['config']`): literals only."""
    try:
        tree = ast.parse(text, filename=filename)
    except SyntaxError as exc:
        raise CfglintError(f"syntax error in config text: {exc.msg}", file=filename, line=exc.lineno)
    source = Source(filename, text, text, {}, tree)
    files: List[str] = []
    cfg = _file2dict(source, files, stack=(), read_bases=False)
    _check_reserved(cfg, filename)
    resolved = _resolved(filename, cfg, "mmengine", [])
    resolved.suppressions = scan(filename, text)
    return resolved


def resolve_mapping(data: dict) -> ResolvedConfig:
    """An already-resolved config dict (e.g. from a checkpoint), taken as it is."""
    if not isinstance(data, dict):
        raise CfglintError(f"expected a config mapping, got {type(data).__name__}")
    return ResolvedConfig(framework=MMDET, path="<mapping>", data=export(data), syntax="mapping")


def _resolved(path: str, cfg: CfgDict, syntax: str, files: List[str]) -> ResolvedConfig:
    suppressions: Dict[Tuple[str, int], List[str]] = {}
    for file in dict.fromkeys(files):
        try:
            suppressions.update(scan(file, read_source(file).raw))
        except CfglintError:
            pass
    shown = _shown_paths(path, files)
    registry_names: Set[str] = set()
    data = export(cfg, registry_names)
    return ResolvedConfig(framework=MMDET, path=path, data=data, syntax=syntax,
                          locations=TreeLocations(cfg, shown),
                          registry_names=frozenset(registry_names),
                          files=[shown.get(f, f) for f in dict.fromkeys(files)],
                          suppressions={(shown.get(f, f), line): ids for (f, line), ids in suppressions.items()})


def _shown_paths(given: str, files: List[str]) -> Dict[str, str]:
    """Files are read by absolute path (mmengine substitutes {{fileDirname}} that way), but a user
    who named a relative path reads relative locations, as the Detectron2 adapter gives them."""
    if os.path.isabs(given) or "://" in given:
        return {}
    cwd = os.getcwd()
    return {f: _relative(f, cwd) for f in set(files) if os.path.isabs(f)}


@functools.lru_cache(maxsize=4096)
def _relative(file: str, cwd: str) -> str:
    """`os.path.relpath(file)` from `cwd` (the bases of a tree are shown for each of its configs)."""
    return os.path.relpath(file, cwd)


# Resolved files: path -> (every Source read for it, files in order, result). Reused only while
# each of those files is unchanged (read_source returns the same memoized Source). A result is
# shared, never copied: nothing changes a merged config after it is made (merging copies the
# dicts it changes; a file that could change its bases in place copies them first; export and
# --cfg-options build new objects).
_RESOLVED: Dict[str, Tuple[List[Source], List[str], CfgDict]] = {}


def _file2dict(source: Source, files: List[str], stack: Tuple[str, ...], read_bases: bool = True,
               included_from: Optional[Tuple[str, int]] = None) -> CfgDict:
    """One step of mmengine's `Config._file2dict`: this file merged over its merged bases
    (memoized; the result is shared, so the caller must not change it)."""
    cached = _RESOLVED.get(source.path) if read_bases else None
    if cached is not None and source.path not in stack and \
            all(read_source(dep.path) is dep for dep in cached[0]):
        files.extend(cached[1])
        return cached[2]
    first = len(files)
    result = _file2dict_uncached(source, files, stack, read_bases, included_from)
    if read_bases:
        _RESOLVED[source.path] = ([read_source(f) for f in files[first:]], files[first:], result)
    return result


def _file2dict_uncached(source: Source, files: List[str], stack: Tuple[str, ...], read_bases: bool,
                        included_from: Optional[Tuple[str, int]]) -> CfgDict:
    if source.path in stack:
        chain = " -> ".join(os.path.basename(p) for p in stack + (source.path,))
        raise CfglintError(f"circular _base_ inheritance: {chain}", file=included_from[0] if included_from else None,
                           line=included_from[1] if included_from else None)
    if len(stack) >= MAX_BASE_DEPTH:
        raise CfglintError(f"_base_ chain is more than {MAX_BASE_DEPTH} files deep",
                           file=included_from[0] if included_from else None,
                           line=included_from[1] if included_from else None)
    if source.tree is not None and included_from and lazy_config.is_lazy(source):
        raise CfglintError("a base config uses the pure-Python (`read_base`/import) style but the config "
                           "inheriting it uses `_base_`; mmengine requires one style per chain",
                           file=included_from[0], line=included_from[1])
    data = None
    if source.tree is None:   # a YAML/JSON config: only then is PyYAML imported
        from cfglint.adapters.mmdet.data_files import load_data_config
        data = load_data_config(source.path, source.text)
    base_cfg = CfgDict(config=True)
    if read_bases:
        entries, line = base_entries(source, data.get("_base_") if data is not None else None)
        for entry in entries:
            base_path, scope = resolve_base_path(entry, source.path, line)
            base_source = read_source(base_path, included_from=(source.path, line))
            sub = _file2dict(base_source, files, stack + (source.path,), included_from=(source.path, line))
            duplicates = base_cfg.keys() & sub.keys()
            if duplicates:
                raise CfglintError(f"duplicate keys among sibling bases are not allowed (mmengine refuses them "
                                   f"too): {', '.join(sorted(map(str, duplicates)))}", file=source.path, line=line)
            if scope is not None:   # merged results are ConfigDicts already; only `_scope_` is new
                sub = to_config(sub, scope)
            for key, value in sub.items():
                base_cfg.put(key, value, sub.locs.get(key))
    files.append(source.path)
    if source.reads_base or source.base_vars:
        # `_base_.x.y = v`, `del _base_.x`, `{{_base_.x}}` values merged later: all act on the
        # bases' objects, which may be memoized ones shared with other configs.
        base_cfg = deep_copy(base_cfg)
    if data is None:
        cfg, shares_values = _evaluate(source, base_cfg)
    else:
        cfg, shares_values = data, True   # YAML anchors share values
    cfg.pop("_deprecation_", None)
    # mmengine deep-copies here; that only shows when a value is shared: reached twice in the file's
    # own values (`pipeline=train_pipeline` twice), or one of the bases' (the file reads `_base_`).
    if shares_values and (source.reads_base or source.base_vars or reaches_twice(cfg)):
        cfg = deep_copy(cfg)
    if source.base_vars:
        cfg = _substitute_base_vars(cfg, source, base_cfg)
    cfg.locs.pop("_base_", None)
    cfg.pop("_base_", None)
    merged = merge_a_into_b(cfg, base_cfg)
    for key in [k for k in merged if isinstance(k, str) and k.startswith("__")]:
        merged.remove(key)
    return merged


def _evaluate(source: Source, base_cfg: CfgDict) -> Tuple[CfgDict, bool]:
    """Run the file body (minus `_base_ = ...`) with `_base_` bound to the merged bases; also say
    whether the body read a dict or list by name (its result may then share values)."""
    # mmengine's RemoveAssignFromAST drops only assignments whose *first* target is `_base_`;
    # `a = _base_ = ...` runs, so it reaches the interpreter (which refuses to rebind `_base_`).
    body = [n for n in source.tree.body
            if not (isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id == "_base_")]
    env = CfgDict()
    env["_base_"] = base_cfg
    interpreter = Interpreter(source.path, env, reserved=("_base_",))
    interpreter.run(body)
    cfg = CfgDict()
    for key, value in env.items():
        if key == "_base_" or key.startswith("__") or isinstance(value, Function):
            continue
        cfg.put(key, value, env.locs.get(key))
    return cfg, interpreter.read_containers


def _substitute_base_vars(value: Any, source: Source, base_cfg: CfgDict) -> Any:
    """Replace every value equal to a `{{_base_.x}}` placeholder by the base value (mmengine does
    this after the file ran, so in-place changes to `_base_` are seen)."""
    if isinstance(value, str) and value in source.base_vars:
        node: Any = base_cfg
        for part in source.base_vars[value].split("."):
            if not isinstance(node, dict) or part not in node:
                raise CfglintError(f"{{{{_base_.{source.base_vars[value]}}}}} names a key the bases do not "
                                   f"define", file=source.path, line=_line_of_var(source, value))
            node = node[part]
        return node
    if isinstance(value, dict):
        for key in list(value):
            value[key] = _substitute_base_vars(value[key], source, base_cfg)
        return value
    if isinstance(value, list):
        return [_substitute_base_vars(v, source, base_cfg) for v in value]
    if isinstance(value, tuple):
        return tuple(_substitute_base_vars(v, source, base_cfg) for v in value)
    return value


def _line_of_var(source: Source, token: str) -> Optional[int]:
    idx = source.text.find(token)
    return None if idx < 0 else source.text.count("\n", 0, idx) + 1


def _check_reserved(cfg: CfgDict, path: str) -> None:
    for key in RESERVED_KEYS:
        if key in cfg:
            loc = cfg.locs.get(key)
            raise CfglintError(f"`{key}` is reserved by mmengine and cannot be a top-level config key",
                               file=loc.file if loc else path, line=loc.line if loc else None)
