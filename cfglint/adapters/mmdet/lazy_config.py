"""Pure-Python ("lazy import") mmengine configs: `with read_base(): from .x import *`.

Mirrors `Config._parse_lazy_import`: bases named in the `read_base` block are evaluated
recursively and their names copied in; every other import becomes a LazyObject, dumped by
`to_dict()` as its dotted path (`mmdet.models.FasterRCNN`). Nothing is imported. mmengine reads
these files without text substitutions, so the raw text is parsed.
"""
from __future__ import annotations

import ast
import collections
import os
from typing import Dict, List, Set, Tuple

from cfglint.adapters.mmdet.interp import Interpreter
from cfglint.adapters.mmdet.sources import Source, installed_package_dir, is_builtin_module, read_source
from cfglint.adapters.mmdet.values import CfgDict, LazyObject, to_config
from cfglint.errors import CfglintError
from cfglint.model.location import Location

_RAW_TREES: Dict[int, ast.Module] = {}


def is_lazy(source: Source) -> bool:
    """mmengine's `Config._is_lazy_import`: the first telling node in breadth-first order decides."""
    if "is_lazy" not in source.facts:
        source.facts["is_lazy"] = _is_lazy(source)
    return source.facts["is_lazy"]


def _is_lazy(source: Source) -> bool:
    nodes = collections.deque([source.tree])   # breadth first; a file with no `_base_` is walked whole
    while nodes:
        node = nodes.popleft()
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "_base_":
            return False
        if isinstance(node, ast.With):
            _check_read_base(node, source.path)
            return True
        if isinstance(node, ast.ImportFrom):
            if node.level:
                return True
            if node.module == "mmengine" and [a.name for a in node.names] == ["Config"]:
                pass
            elif isinstance(node.module, str) and not is_builtin_module(node.module):
                return True
        if isinstance(node, ast.Import) and any(not is_builtin_module(a.name) for a in node.names):
            return True
        nodes.extend(ast.iter_child_nodes(node))
    return False


def _check_read_base(node: ast.With, path: str) -> None:
    expr = node.items[0].context_expr
    if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "read_base") \
            or len(node.items) > 1:
        raise CfglintError("only the `read_base()` context manager can be used in a config",
                           file=path, line=node.lineno)


def parse(source: Source, files: List[str], stack: Tuple[str, ...] = ()) -> Tuple[CfgDict, Set[str]]:
    """The globals of a pure-Python config (as ConfigDicts) and the names it imported."""
    if source.path in stack:
        raise CfglintError("circular read_base import", file=stack[-1])
    tree = _raw_tree(source)
    body, base_modules = _split_read_base(tree, source.path)
    base_dict: Dict[str, CfgDict] = {}
    imported: Set[str] = set()
    for module, line in base_modules:
        path = _module_path(module, source.path, line)
        base, base_imported = parse(read_source(path, included_from=(source.path, line)), files,
                                    stack + (source.path,))
        imported |= base_imported
        base_dict[module] = base
    files.append(source.path)
    env = CfgDict()
    env["__file__"] = source.path
    body = _bind_absolute_imports(body, env, imported, source.path)
    handler = _ImportHandler(base_dict, imported)
    Interpreter(source.path, env, import_handler=handler).run(body)
    out = CfgDict(locs=env.locs)
    for key, value in env.items():
        if not key.startswith("__"):
            out[key] = value
    return to_config(out), imported


def _raw_tree(source: Source) -> ast.Module:
    tree = _RAW_TREES.get(id(source))
    if tree is None:
        try:
            tree = ast.parse(source.raw, filename=source.path)
        except SyntaxError as exc:
            raise CfglintError(f"syntax error: {exc.msg}", file=source.path, line=exc.lineno)
        _RAW_TREES[id(source)] = tree
    return tree


def _split_read_base(tree: ast.Module, path: str) -> Tuple[List[ast.stmt], List[Tuple[str, int]]]:
    """Unwrap the first `with read_base():` block and list the base modules it imports."""
    body = list(tree.body)
    for idx, node in enumerate(body):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "_base_":
            raise CfglintError("a pure-Python config (read_base/imports) cannot also assign `_base_`",
                               file=path, line=node.lineno)
        if not isinstance(node, ast.With):
            continue
        _check_read_base(node, path)
        modules = []
        for inner in node.body:
            if not isinstance(inner, ast.ImportFrom) or inner.module is None:
                raise CfglintError("only `from <config module> import ...` can appear inside `with read_base()`",
                                   file=path, line=inner.lineno)
            modules.append(("." * inner.level + inner.module, inner.lineno))
        return body[:idx] + list(node.body) + body[idx + 1:], modules
    return body, []


def _module_path(module: str, path: str, line: int) -> str:
    level = len(module) - len(module.lstrip("."))
    if level:
        parts = [".."] * (level - 1) + [module[level:].replace(".", "/") + ".py"]
        target = os.path.join(os.path.dirname(path), *parts)
    else:
        names = module.split(".")
        if len(names) == 1:
            raise CfglintError(f"a base config must be a module inside a package, not the package {module!r}",
                               file=path, line=line)
        root = installed_package_dir(names[0])
        if root is None:
            raise CfglintError(f"base config module {module!r} needs the package {names[0]}, which is not "
                               f"installed", file=path, line=line)
        target = os.path.join(root, *names[1:]) + ".py"
    from cfglint.adapters import roots
    roots.confine(target, path, written=module, at_file=path, at_line=line, what="base config module")
    if not os.path.isfile(target):
        raise CfglintError(f"base config module {module!r} not found (looked for {target})", file=path, line=line)
    return target


def _bind_absolute_imports(body: List[ast.stmt], env: CfgDict, imported: Set[str], path: str) -> List[ast.stmt]:
    """`import a.b` / `import a.c` (no alias) become `a = LazyObject(['a.b', 'a.c'])`, bound first."""
    grouped: Dict[str, List[str]] = {}
    lines: Dict[str, int] = {}
    kept = []
    for node in body:
        if isinstance(node, ast.Import) and node.names[0].asname is None \
                and not all(is_builtin_module(a.name) for a in node.names):
            for alias in node.names:
                top = alias.name.split(".")[0]
                grouped.setdefault(top, []).append(alias.name)
                lines.setdefault(top, node.lineno)
            continue
        kept.append(node)
    for top, names in grouped.items():
        env.put(top, LazyObject(names), Location(path, lines[top]))
        imported.add(top)
    return kept


class _ImportHandler:
    """What each remaining import statement of a pure-Python config binds."""

    def __init__(self, base_dict: Dict[str, CfgDict], imported: Set[str]):
        self.base_dict = base_dict
        self.imported = imported

    def __call__(self, interp: Interpreter, node: ast.stmt) -> None:
        loc = interp.loc(node)
        if isinstance(node, ast.Import):
            alias = node.names[0]
            if len(node.names) > 1:
                raise interp.unsupported(node, "imports several modules in one statement")
            if is_builtin_module(alias.name.split(".")[0]):
                raise interp.unsupported(node, f"imports the standard-library module `{alias.name}`, which "
                                               f"mmengine would really import")
            name = alias.asname or alias.name.split(".")[0]
            interp.env.put(name, LazyObject(alias.name), loc)
            self.imported.add(name)
            return
        module = "." * node.level + str(node.module)
        if module.startswith("mmengine.config"):
            for alias in node.names:   # read_base and friends: names of no consequence for the result
                self.imported.add(alias.asname or alias.name)
            return
        if is_builtin_module(module):
            raise interp.unsupported(node, f"imports from the standard-library module `{module}`, which "
                                           f"mmengine would really import")
        if module in self.base_dict:
            base = self.base_dict[module]
            for alias in node.names:
                if alias.name == "*":
                    for key, value in base.items():
                        interp.env.put(key, value, base.locs.get(key, loc))
                    return
                if alias.name not in base:
                    raise CfglintError(f"base config {module!r} defines no {alias.name!r}", file=interp.file,
                                       line=node.lineno)
                interp.env.put(alias.asname or alias.name, base[alias.name], base.locs.get(alias.name, loc))
            return
        for alias in node.names:
            if alias.name == "*":
                raise CfglintError("`from ... import *` is only allowed for base configs inside "
                                   "`with read_base()`", file=interp.file, line=node.lineno)
            name = alias.asname or alias.name
            interp.env.put(name, LazyObject(module, alias.name), loc)
            self.imported.add(name)
