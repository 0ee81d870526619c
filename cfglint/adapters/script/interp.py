"""A tolerant abstract interpreter for Python that builds a config. It never runs or imports anything.

Statements are followed as Python would follow them when the script runs with no arguments from
the working directory (`__name__ == "__main__"`, argparse defaults). What cannot be known (a
`sys.argv` read, an argparse option without default, an environment lookup, a call into code
outside the repository) becomes an :class:`Unknown` carrying the line that made it unknown; it is
never guessed. The config APIs of Detectron2 and MMDetection (see :mod:`.apis`) act on config
states; user functions, classes and modules inside the repository are interpreted.
"""
from __future__ import annotations

import ast
import copy
import operator
import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from cfglint.adapters.limits import read_config_text
from cfglint.adapters.script.values import (CONFIGS, LIST_MUTATORS, D2State, Ext, LazyState, MMState, ModelObj,
                                            Node, PathVal, Sink, Unknown, UnknownOfKnownTruth, View, is_unknown)
from cfglint.errors import CfglintError
from cfglint.model.location import Location

#: Statements and expressions evaluated per script (with its modules); real scripts need a few thousand.
MAX_STEPS = 200_000
#: Methods that change the object they are called on: called on a value that may be part of a
#: config (an alias cfglint could not follow), they make that config unknown instead of being lost.
_MUTATING_METHODS = LIST_MUTATORS | {"update", "merge_from_list", "merge_from_file", "merge_from_other_cfg",
                                     "merge_from_dict", "setdefault", "popitem", "set_new_allowed", "__setitem__",
                                     "__setattr__", "__delitem__"}
MAX_DEPTH = 40
MAX_LOOP = 10_000
MAX_ITEMS = 100_000


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class StopScript(Exception):
    """Raised by a handler to stop interpretation (e.g. the first merge_from_file of a setup())."""


class Func:
    def __init__(self, node: ast.AST, module: "Module", scope: Optional[Dict[str, Any]], defaults: List[Any],
                 kw_defaults: List[Any]):
        self.node, self.module, self.scope = node, module, scope
        self.defaults, self.kw_defaults = defaults, kw_defaults
        self.name = getattr(node, "name", "<lambda>")


class Class:
    def __init__(self, node: ast.ClassDef, module: "Module", attrs: Dict[str, Any], bases: List[Any]):
        self.node, self.module, self.attrs, self.bases = node, module, attrs, bases
        self.name = node.name

    def lookup(self, name: str) -> Any:
        if name in self.attrs:
            return self.attrs[name]
        for base in self.bases:
            if isinstance(base, Class):
                found = base.lookup(name)
                if found is not _MISSING:
                    return found
        return _MISSING


class Instance:
    def __init__(self, cls: Class):
        self.cls = cls
        self.attrs: Dict[str, Any] = {}


class Bound:
    def __init__(self, func: Any, self_value: Any):
        self.func, self.self_value = func, self_value


class Builtin:
    def __init__(self, name: str, fn: Callable):
        self.name, self.fn = name, fn


def _without_effects(expr: ast.AST) -> bool:
    """Names, constants, attributes, subscripts, comparisons and boolean operators only: no call."""
    return all(isinstance(n, (ast.Name, ast.Constant, ast.Attribute, ast.Subscript, ast.Compare, ast.BoolOp,
                              ast.UnaryOp, ast.Load, ast.cmpop, ast.boolop, ast.unaryop, ast.Tuple, ast.Slice))
               for n in ast.walk(expr))


def _is_path(expr: ast.AST) -> bool:
    """`cfg`, `cfg.MODEL.PIXEL_MEAN`, `cfg.pipeline[2]`: names, attributes and constant or name
    subscripts only (evaluating it twice has no effect)."""
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        if isinstance(expr, ast.Subscript) and not isinstance(expr.slice, (ast.Constant, ast.Name, ast.UnaryOp)):
            return False
        expr = expr.value
    return isinstance(expr, ast.Name)


class Namespace:
    """`argparse.Namespace`: dest -> value (Unknown for options the user must pass)."""

    def __init__(self, values: Dict[str, Any]):
        self.values = values


class Parser:
    def __init__(self, where: Location, d2_defaults: bool = False):
        self.where = where
        self.values: Dict[str, Any] = {}
        #: (option strings, dest, action, nargs, type) of each add_argument, for explicit argv lists
        self.specs: List[Tuple[List[str], str, Any, Any, Any]] = []
        if d2_defaults:
            self.specs = [(["--config-file"], "config_file", None, None, None),
                          (["--resume"], "resume", "store_true", None, None),
                          (["--eval-only"], "eval_only", "store_true", None, None),
                          (["--num-gpus"], "num_gpus", None, None, "int"),
                          (["--num-machines"], "num_machines", None, None, "int"),
                          (["--machine-rank"], "machine_rank", None, None, "int"),
                          (["--dist-url"], "dist_url", None, None, None),
                          (["opts"], "opts", None, "...", None)]
        if d2_defaults:   # detectron2.engine.default_argument_parser(), run with no arguments
            self.values.update({"config_file": Unknown(where, "--config-file is given on the command line"),
                                "resume": False, "eval_only": False, "num_gpus": 1, "num_machines": 1,
                                "machine_rank": 0, "dist_url": "tcp://127.0.0.1:49152", "opts": []})


class Module:
    def __init__(self, path: str, shown: str, tree: ast.Module, name: str):
        self.path, self.shown, self.tree, self.name = path, shown, tree, name
        self.env: Dict[str, Any] = {}
        self.loaded = False


_MISSING = object()
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
           ast.BitOr: operator.or_, ast.BitAnd: operator.and_}
_CMPOPS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
           ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
           ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
_PLAIN = (str, int, float, bool, type(None), list, tuple, dict, set)


class Interpreter:
    """One script (and the repository modules it uses), interpreted once."""

    def __init__(self, script: str, sets: Optional[Dict[str, Any]] = None, stop_at_merge: bool = False,
                 allow_new_keys: bool = False):
        from cfglint.adapters.script import apis
        self.script = script
        self.cwd = os.getcwd()
        self.sets = sets or {}
        self.used_sets: set = set()
        self.steps = 0
        self.depth = 0
        self.sinks: List[Sink] = []
        self.models: List[ModelObj] = []
        self.checkpoints: List[Tuple[Any, Location]] = []
        self.notes: List[Unknown] = []
        self.modules: Dict[str, Module] = {}
        self.stop_at_merge = stop_at_merge
        self.allow_new_keys = allow_new_keys
        self.stopped_state: Optional[D2State] = None
        self.apis = apis
        self.repo_root = _repo_root(os.path.dirname(os.path.abspath(script)))
        self.current: Optional[Module] = None
        self.addon_calls: List[Tuple[str, str]] = []
        self.extra_roots: List[str] = []        # sys.path.insert/append of literal directories
        self.conditions: List[Unknown] = []     # unknown conditions around the statement being run

    # ------------------------------------------------------------------ modules

    def run_script(self, as_main: bool = True) -> Module:
        text = read_config_text(self.script)
        try:
            tree = ast.parse(text, filename=self.script)
        except SyntaxError as exc:
            raise CfglintError(f"syntax error: {exc.msg}", self.script, exc.lineno) from None
        module = Module(os.path.abspath(self.script), self.script, tree,
                        "__main__" if as_main else os.path.splitext(os.path.basename(self.script))[0])
        self.modules[module.path] = module
        self.main = module
        self.exec_module(module)
        return module

    def exec_module(self, module: Module) -> None:
        module.loaded = True
        module.env.update({"__name__": module.name, "__file__": module.shown})
        previous, self.current = self.current, module
        try:
            self.exec_block(module.tree.body, module.env, None)
        except _Return:
            pass
        finally:
            self.current = previous

    def load_module(self, path: str) -> Optional[Module]:
        path = os.path.abspath(path)
        if path in self.modules:
            return self.modules[path]
        try:
            text = read_config_text(path)
            tree = ast.parse(text, filename=path)
        except (CfglintError, SyntaxError, ValueError):
            return None
        shown = os.path.relpath(path) if not os.path.isabs(self.script) else path
        module = Module(path, shown, tree, os.path.splitext(os.path.basename(path))[0])
        self.modules[path] = module
        self.exec_module(module)
        return module

    def find_module(self, name: str, level: int, from_file: str) -> Optional[str]:
        """The repository file (or package dir) a module name means; None when it is outside."""
        parts = [p for p in name.split(".") if p]
        if level:
            base = os.path.dirname(os.path.abspath(from_file))
            for _ in range(level - 1):
                base = os.path.dirname(base)
            roots = [base]
        else:
            roots = [*reversed(self.extra_roots), os.path.dirname(os.path.abspath(from_file)),
                     os.path.dirname(os.path.abspath(self.script)), self.cwd]
            directory = os.path.dirname(os.path.abspath(from_file))
            while self.repo_root and directory.startswith(self.repo_root) and directory != self.repo_root:
                directory = os.path.dirname(directory)
                roots.append(directory)
            if parts[:2] == ["detectron2", "projects"] and len(parts) > 2 and self.repo_root:
                projects = os.path.join(self.repo_root, "projects")
                if os.path.isdir(projects):
                    for project in sorted(os.listdir(projects)):
                        candidate = os.path.join(projects, project)
                        if os.path.isdir(os.path.join(candidate, parts[2])):
                            roots.insert(0, candidate)
                parts = parts[2:]
        if not parts:
            return roots[0]
        if not level and parts[0] in _EXTERNAL_ROOTS:
            return None
        for root in dict.fromkeys(roots):
            base = os.path.join(root, *parts)
            if os.path.isfile(base + ".py"):
                return base + ".py"
            if os.path.isdir(base) and (os.path.isfile(os.path.join(base, "__init__.py")) or level or
                                        any(f.endswith(".py") for f in _listdir(base))):
                return base
        return None

    def resolve_lazy(self, scope: Dict[str, Any], name: str) -> Any:
        value = scope[name]
        if isinstance(value, LazyImport):
            value = scope[name] = self.import_from(value.target, value.name, value.where)
        return value

    def import_from(self, target: str, name: str, where: Location) -> Any:
        """`from <target> import name` for a repository file or package directory."""
        if os.path.isdir(target):
            init = os.path.join(target, "__init__.py")
            if os.path.isfile(init):
                module = self.load_module(init)
                if module is not None and name in module.env:
                    return self.resolve_lazy(module.env, name)
            sub = os.path.join(target, name)
            if os.path.isfile(sub + ".py"):
                return self.load_module(sub + ".py")
            if os.path.isdir(sub):
                return ModuleRef(sub)
            for file in sorted(_listdir(target)):   # a package whose __init__ re-exports it
                if file.endswith(".py") and file != "__init__.py":
                    path = os.path.join(target, file)
                    if _defines(path, name):
                        module = self.load_module(path)
                        if module is not None and name in module.env:
                            return self.resolve_lazy(module.env, name)
            return Unknown(where, f"cannot find {name} in {os.path.relpath(target)}")
        module = self.load_module(target)
        if module is None:
            return Unknown(where, f"cannot read {os.path.relpath(target)}")
        if name in module.env:
            return self.resolve_lazy(module.env, name)
        return Unknown(where, f"{os.path.relpath(target)} defines no {name}")

    # ------------------------------------------------------------------ statements

    def loc(self, node: ast.AST) -> Location:
        module = self.current
        return Location(module.shown if module else self.script, getattr(node, "lineno", None))

    def unknown(self, node: ast.AST, why: str) -> Unknown:
        return Unknown(self.loc(node), why)

    def tick(self, node: ast.AST) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise CfglintError(f"the script needs more than {MAX_STEPS} evaluation steps to read statically",
                               *self._where(node))

    def _where(self, node: ast.AST) -> Tuple[str, Optional[int]]:
        loc = self.loc(node)
        return loc.file, loc.line

    def exec_block(self, body: Sequence[ast.stmt], env: Dict[str, Any], local: Optional[Dict[str, Any]]) -> None:
        for stmt in body:
            self.exec_stmt(stmt, env, local)

    def exec_stmt(self, stmt: ast.stmt, env: Dict[str, Any], local: Optional[Dict[str, Any]]) -> None:
        self.tick(stmt)
        scope = local if local is not None else env
        if isinstance(stmt, ast.Expr):
            self.eval(stmt.value, env, local)
        elif isinstance(stmt, ast.Assign):
            value = self.eval(stmt.value, env, local)
            for target in stmt.targets:
                self.assign(target, value, env, local, stmt)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, self.eval(stmt.value, env, local), env, local, stmt)
        elif isinstance(stmt, ast.AugAssign):
            current = self.eval(_load(stmt.target), env, local)
            value = self.binop(stmt.op, current, self.eval(stmt.value, env, local), stmt)
            self.assign(stmt.target, value, env, local, stmt)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            func = self.make_func(stmt, env, local)
            for deco in stmt.decorator_list:
                name = ast.unparse(deco) if hasattr(ast, "unparse") else ""
                if name in ("staticmethod", "classmethod", "property"):
                    func = (name, func)
            scope[stmt.name] = func
        elif isinstance(stmt, ast.ClassDef):
            bases = [self.eval(b, env, local) for b in stmt.bases]
            attrs: Dict[str, Any] = {}
            cls = Class(stmt, self.current, attrs, bases)
            for item in stmt.body:
                try:
                    self.exec_stmt(item, env, attrs)
                except (_Return, _Break, _Continue):
                    pass
            for value in attrs.values():   # a class body is no closure of its methods
                func = value[1] if isinstance(value, tuple) else value
                if isinstance(func, Func) and func.scope is attrs:
                    func.scope = None
            scope[stmt.name] = cls
        elif isinstance(stmt, ast.Return):
            raise _Return(None if stmt.value is None else self.eval(stmt.value, env, local))
        elif isinstance(stmt, ast.If):
            test = self.truth(self.eval(stmt.test, env, local))
            if test is None:
                # Both branches are followed; what they set in a config is unknown (never guessed),
                # a model they build is still the one the script serves.
                cond = self.unknown(stmt, "set under a condition that cannot be known statically")
                self.uncertain(stmt.body, env, local, cond)
                self.uncertain(stmt.orelse, env, local, cond)
                return
            self.exec_block(stmt.body if test else stmt.orelse, env, local)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            iterable = self.eval(stmt.iter, env, local)
            items = self.iterate(iterable)
            if items is None:
                cond = iterable if is_unknown(iterable) else self.unknown(stmt, "a loop over unknown items")
                self.assign(stmt.target, cond, env, local, stmt)
                self.uncertain(stmt.body, env, local, cond)
                return
            try:
                for count, item in enumerate(items):
                    if count > MAX_LOOP:
                        raise CfglintError(f"a loop runs more than {MAX_LOOP} times", *self._where(stmt))
                    self.assign(stmt.target, item, env, local, stmt)
                    try:
                        self.exec_block(stmt.body, env, local)
                    except _Continue:
                        continue
                else:
                    self.exec_block(stmt.orelse, env, local)
            except _Break:
                pass
        elif isinstance(stmt, ast.While):
            # How often a loop runs is not followed: its body once, what it sets unknown.
            test = self.truth(self.eval(stmt.test, env, local))
            if test is not False:
                self.uncertain(stmt.body, env, local, self.unknown(stmt, "set in a loop"))
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                value = self.eval(item.context_expr, env, local)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, value, env, local, stmt)
            self.exec_block(stmt.body, env, local)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            try:
                self.exec_block(stmt.body, env, local)
                self.exec_block(stmt.orelse, env, local)
            finally:
                self.exec_block(stmt.finalbody, env, local)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    scope[alias.asname] = self.import_module(alias.name, 0, stmt)
                else:
                    head = alias.name.split(".")[0]
                    scope[head] = self.import_module(head, 0, stmt)
        elif isinstance(stmt, ast.ImportFrom):
            self.exec_import_from(stmt, scope)
        elif isinstance(stmt, ast.Break):
            raise _Break()
        elif isinstance(stmt, ast.Continue):
            raise _Continue()
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                self.delete(target, env, local)
        # pass, global, nonlocal, raise, assert: nothing a config depends on

    def uncertain(self, body: Sequence[ast.stmt], env, local, cond: Unknown) -> None:
        if not body:
            return
        self.conditions.append(cond)
        try:
            self.exec_block(body, env, local)
        except (_Return, _Break, _Continue):
            pass
        finally:
            self.conditions.pop()

    def import_module(self, name: str, level: int, node: ast.AST) -> Any:
        target = self.find_module(name, level, self.current.path)
        if target is None:
            return Ext(name)
        if os.path.isdir(target):
            init = os.path.join(target, "__init__.py")
            return self.load_module(init) if os.path.isfile(init) else ModuleRef(target)
        return self.load_module(target) or Ext(name)

    def exec_import_from(self, stmt: ast.ImportFrom, scope: Dict[str, Any]) -> None:
        module = stmt.module or ""
        target = self.find_module(module, stmt.level, self.current.path)
        for alias in stmt.names:
            if alias.name == "*":
                if target is not None:
                    loaded = self.load_module(target if not os.path.isdir(target)
                                              else os.path.join(target, "__init__.py"))
                    if loaded is not None:
                        scope.update({k: v for k, v in loaded.env.items() if not k.startswith("_")})
                continue
            bind = alias.asname or alias.name
            if target is None:
                scope[bind] = Ext(f"{module}.{alias.name}" if module else alias.name)
            else:   # read when first used: a training script imports far more than its setup() needs
                scope[bind] = LazyImport(target, alias.name, self.loc(stmt))

    def make_func(self, node: ast.AST, env: Dict[str, Any], local: Optional[Dict[str, Any]]) -> Func:
        args = node.args
        defaults = [self.eval(d, env, local) for d in args.defaults]
        kw_defaults = [None if d is None else self.eval(d, env, local) for d in args.kw_defaults]
        return Func(node, self.current, local, defaults, kw_defaults)

    def assign(self, target: ast.AST, value: Any, env: Dict[str, Any], local: Optional[Dict[str, Any]],
               stmt: ast.AST) -> None:
        scope = local if local is not None else env
        if isinstance(target, ast.Name):
            if is_unknown(value) and target.id in self.sets and local is None:
                self.used_sets.add(target.id)
                value = self.sets[target.id]
            scope[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = self.iterate(value)
            starred = [i for i, e in enumerate(target.elts) if isinstance(e, ast.Starred)]
            if items is not None and len(starred) == 1 and len(items) >= len(target.elts) - 1:
                # `*parents, leaf = key.split(".")`: the starred name takes the middle, as a list
                star, after = starred[0], len(target.elts) - starred[0] - 1
                items = items[:star] + [list(items[star:len(items) - after])] + items[len(items) - after:]
            elif items is None or len(items) != len(target.elts) or starred:
                for elt in target.elts:
                    inner = elt.value if isinstance(elt, ast.Starred) else elt
                    if items is not None and not starred:
                        self.assign(inner, self.unknown(stmt, "unpacking of the wrong length"), env, local, stmt)
                    else:
                        self.assign(inner, value if is_unknown(value) else self.unknown(stmt, "unpacking"),
                                    env, local, stmt)
                return
            for elt, item in zip(target.elts, items):
                self.assign(elt, item, env, local, stmt)
        elif isinstance(target, ast.Attribute):
            obj = self.eval(target.value, env, local)
            self.set_attr(obj, target.attr, value, stmt)
        elif isinstance(target, ast.Subscript):
            obj = self.eval(target.value, env, local)
            key = self.eval(target.slice, env, local)
            self.set_item(obj, key, value, stmt)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, value, env, local, stmt)

    def delete(self, target: ast.AST, env: Dict[str, Any], local: Optional[Dict[str, Any]]) -> None:
        if isinstance(target, ast.Name):
            (local if local is not None else env).pop(target.id, None)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            if isinstance(target, ast.Subscript) and _is_path(target.value):   # `del cfg.MODEL.PIXEL_STD[0]`
                place = self._place(target.value, env, local)
                if place is not None and not isinstance(place.state, LazyState) and \
                        self.apis.delete_item(self, place, self.eval(target.slice, env, local), target):
                    return
            obj = self.eval(target.value, env, local)
            key = target.attr if isinstance(target, ast.Attribute) else self.eval(target.slice, env, local)
            if isinstance(obj, View):
                self.apis.delete(self, obj, key, target)
            elif isinstance(obj, dict) and not is_unknown(key):
                obj.pop(key, None)

    def _set_in_config(self, obj: Any, key: Any, value: Any, node: ast.AST) -> None:
        """`cfg.X = v`, `cfg[k] = v`, `setattr(cfg, name, v)`: a key cfglint cannot know changes
        what is under `obj`, unknown from here on."""
        if is_unknown(key):
            self.apis.changed_unknowably(self, obj, key, node)
        else:
            self.apis.set_key(self, obj, key, value, node)

    def _changed_through(self, alias: Unknown, what: str, node: ast.AST) -> None:
        """`what` done to a value that may be part of a config cfglint could not follow."""
        self.apis.changed_unknowably(self, alias.config, self.unknown(
            node, f"{what} a value cfglint cannot follow ({alias.why}, line {alias.where.line})"), node)

    def set_attr(self, obj: Any, name: str, value: Any, node: ast.AST) -> None:
        if isinstance(obj, CONFIGS):
            self._set_in_config(obj, name, value, node)
        elif is_unknown(obj) and obj.config is not None:
            self._changed_through(obj, f"sets {name} on", node)
        elif isinstance(obj, Instance):
            obj.attrs[name] = value
        elif isinstance(obj, Namespace):
            obj.values[name] = value
        elif isinstance(obj, ModelObj):
            obj.attrs[name] = value
        elif isinstance(obj, Class):
            obj.attrs[name] = value

    def set_item(self, obj: Any, key: Any, value: Any, node: ast.AST) -> None:
        if isinstance(obj, CONFIGS):
            self._set_in_config(obj, key, value, node)
        elif is_unknown(obj) and obj.config is not None:
            self._changed_through(obj, "sets an item of", node)
        elif isinstance(obj, (dict, list)) and not is_unknown(key):
            try:
                obj[key] = value
            except (IndexError, TypeError):
                pass

    def note(self, unknown: Unknown) -> None:
        if all(u.where != unknown.where for u in self.notes):
            self.notes.append(unknown)

    # ------------------------------------------------------------------ expressions

    def eval(self, node: ast.AST, env: Dict[str, Any], local: Optional[Dict[str, Any]]) -> Any:
        self.tick(node)
        method = getattr(self, "_e_" + type(node).__name__, None)
        if method is None:
            return self.unknown(node, f"{type(node).__name__} expression")
        return method(node, env, local)

    def _e_Constant(self, node, env, local):
        return node.value

    def _e_Name(self, node, env, local):
        if local is not None and node.id in local:
            return self.resolve_lazy(local, node.id)
        if node.id in env:
            return self.resolve_lazy(env, node.id)
        builtin = self.apis.BUILTINS.get(node.id)
        if builtin is not None:
            return builtin
        return self.unknown(node, f"the name {node.id} is not defined in the script")

    def _e_JoinedStr(self, node, env, local):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                inner = self.eval(value.value, env, local)
                if is_unknown(inner):
                    return inner
                if not isinstance(inner, (str, int, float, bool, type(None))):
                    return self.unknown(node, "an f-string of a non-literal value")
                spec = ""
                if value.format_spec is not None:
                    spec = self.eval(value.format_spec, env, local)
                    if not isinstance(spec, str):
                        return self.unknown(node, "an f-string format")
                try:
                    parts.append(format(inner, spec))
                except (ValueError, TypeError):
                    return self.unknown(node, "an f-string format")
        return "".join(parts)

    def _e_FormattedValue(self, node, env, local):
        return self.unknown(node, "a formatted value")

    def _seq(self, elts, env, local):
        out = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                items = self.iterate(self.eval(elt.value, env, local))
                if items is None:
                    return None
                out.extend(items)
            else:
                out.append(self.eval(elt, env, local))
        return out

    def _e_List(self, node, env, local):
        items = self._seq(node.elts, env, local)
        return self.unknown(node, "a list of unknown length") if items is None else items

    def _e_Tuple(self, node, env, local):
        items = self._seq(node.elts, env, local)
        return self.unknown(node, "a tuple of unknown length") if items is None else tuple(items)

    def _e_Set(self, node, env, local):
        items = self._seq(node.elts, env, local)
        if items is None or any(is_unknown(i) for i in items):
            return self.unknown(node, "a set of unknown items")
        try:
            return set(items)
        except TypeError:
            return self.unknown(node, "a set of unhashable items")

    def _e_Dict(self, node, env, local):
        out: Dict[Any, Any] = {}
        for key, value in zip(node.keys, node.values):
            if key is None:
                inner = self.plain(self.eval(value, env, local))
                if not isinstance(inner, dict):
                    return self.unknown(node, "a ** of an unknown mapping")
                out.update(inner)
                continue
            k = self.eval(key, env, local)
            if is_unknown(k):
                return k
            try:
                out[k] = self.eval(value, env, local)
            except TypeError:
                return self.unknown(node, "an unhashable key")
        return out

    def _e_BinOp(self, node, env, local):
        return self.binop(node.op, self.eval(node.left, env, local), self.eval(node.right, env, local), node)

    def binop(self, op, left, right, node):
        if is_unknown(left):
            return left
        if is_unknown(right):
            return right
        if isinstance(op, ast.Div) and (isinstance(left, PathVal) or isinstance(right, PathVal)):
            l = left.path if isinstance(left, PathVal) else left
            r = right.path if isinstance(right, PathVal) else right
            if isinstance(l, str) and isinstance(r, str):
                return PathVal(os.path.join(l, r))
        if isinstance(op, ast.Mod) and isinstance(left, str):
            try:
                return left % (tuple(right) if isinstance(right, list) else right)
            except (TypeError, ValueError):
                return self.unknown(node, "a % format")
        fn = _BINOPS.get(type(op))
        if fn is None or not isinstance(left, _PLAIN) or not isinstance(right, _PLAIN):
            return self.unknown(node, "an operation on values outside the script")
        if isinstance(op, ast.Pow) and isinstance(right, int) and (abs(right) > 64 or
                                                                 (isinstance(left, int) and abs(left) > 2 ** 64)):
            return self.unknown(node, "a large power")
        if isinstance(op, ast.Mult) and isinstance(left, (str, list, tuple)) and isinstance(right, int) and \
                len(left) * right > MAX_ITEMS:
            return self.unknown(node, "a very long sequence")
        if isinstance(op, ast.Add) and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)) \
                and len(left) + len(right) > MAX_ITEMS * 10:
            return self.unknown(node, "a very long sequence")
        try:
            result = fn(left, right)
        except Exception:   # noqa: BLE001 - a runtime error of the script: its value is not known
            return self.unknown(node, "an operation that fails")
        if isinstance(result, int) and not isinstance(result, bool) and result.bit_length() > 4096:
            return self.unknown(node, "a very large number")
        return result

    def _e_UnaryOp(self, node, env, local):
        value = self.eval(node.operand, env, local)
        if isinstance(node.op, ast.Not):
            truth = self.truth(value)
            return self.unknown(node, "a condition") if truth is None else not truth
        if is_unknown(value) or not isinstance(value, (int, float, bool)):
            return value if is_unknown(value) else self.unknown(node, "an operation")
        return {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}[type(node.op)](value)

    def _e_BoolOp(self, node, env, local):
        value = None
        for i, expr in enumerate(node.values):
            value = self.eval(expr, env, local)
            truth = self.truth(value)
            if truth is None:
                unknown = value if is_unknown(value) else self.unknown(node, "a condition")
                return self._decided_later(node, node.values[i + 1:], unknown, env, local)
            if isinstance(node.op, ast.And) and not truth:
                return value
            if isinstance(node.op, ast.Or) and truth:
                return value
        return value

    def _decided_later(self, node, rest, unknown: Unknown, env, local) -> Unknown:
        """`<unknown> and <known false>` is false whatever the unknown is (`or`: true), when the
        operands after it have no effect to run twice; its value stays unknown."""
        deciding = not isinstance(node.op, ast.And)
        for expr in rest:
            if not _without_effects(expr):
                return unknown
            if self.truth(self.eval(expr, env, local)) is deciding:
                return UnknownOfKnownTruth(unknown.where, unknown.why, deciding)
        return unknown

    def _e_Compare(self, node, env, local):
        left = self.eval(node.left, env, local)
        for op, comp in zip(node.ops, node.comparators):
            right = self.eval(comp, env, local)
            if is_unknown(left) or is_unknown(right):
                return left if is_unknown(left) else right
            if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, View):
                right = self.plain(right)
            if not isinstance(left, _PLAIN) or not isinstance(right, _PLAIN):
                if isinstance(op, (ast.Is, ast.IsNot)) and (left is None or right is None):
                    result = (left is right) == isinstance(op, ast.Is)
                    if not result:
                        return False
                    left = right
                    continue
                return self.unknown(node, "a comparison of values outside the script")
            try:
                if not _CMPOPS[type(op)](left, right):
                    return False
            except TypeError:
                return self.unknown(node, "a comparison that fails")
            left = right
        return True

    def _e_IfExp(self, node, env, local):
        truth = self.truth(self.eval(node.test, env, local))
        if truth is None:
            return self.unknown(node, "a condition that cannot be known statically")
        return self.eval(node.body if truth else node.orelse, env, local)

    def _e_Lambda(self, node, env, local):
        return self.make_func(node, env, local)

    def _e_NamedExpr(self, node, env, local):
        value = self.eval(node.value, env, local)
        self.assign(node.target, value, env, local, node)
        return value

    def _e_Starred(self, node, env, local):
        return self.eval(node.value, env, local)

    def _comp(self, node, env, local, make):
        scope = dict(local or {})
        results: List[Any] = []

        def walk(generators):
            if not generators:
                results.append(make(scope))
                return True
            gen = generators[0]
            items = self.iterate(self.eval(gen.iter, env, scope))
            if items is None:
                return False
            for item in items:
                self.assign(gen.target, item, env, scope, node)
                ok = True
                for cond in gen.ifs:
                    truth = self.truth(self.eval(cond, env, scope))
                    if truth is None:
                        return False
                    ok = ok and truth
                if ok and not walk(generators[1:]):
                    return False
                if len(results) > MAX_ITEMS:
                    return False
            return True

        if not walk(node.generators):
            return None
        return results

    def _e_ListComp(self, node, env, local):
        out = self._comp(node, env, local, lambda scope: self.eval(node.elt, env, scope))
        return self.unknown(node, "a comprehension over unknown items") if out is None else out

    def _e_GeneratorExp(self, node, env, local):
        return self._e_ListComp(node, env, local)

    def _e_SetComp(self, node, env, local):
        out = self._e_ListComp(node, env, local)
        try:
            return out if is_unknown(out) else set(out)
        except TypeError:
            return self.unknown(node, "a set of unhashable items")

    def _e_DictComp(self, node, env, local):
        out = self._comp(node, env, local,
                         lambda scope: (self.eval(node.key, env, scope), self.eval(node.value, env, scope)))
        if out is None or any(is_unknown(k) for k, _ in out):
            return self.unknown(node, "a comprehension over unknown items")
        return dict(out)

    def _e_Subscript(self, node, env, local):
        obj = self.eval(node.value, env, local)
        key = self.eval(node.slice, env, local)
        return self.get_item(obj, key, node)

    def _e_Slice(self, node, env, local):
        parts = [None if p is None else self.eval(p, env, local) for p in (node.lower, node.upper, node.step)]
        if any(is_unknown(p) for p in parts):
            return next(p for p in parts if is_unknown(p))
        return slice(*parts)

    def _e_Index(self, node, env, local):   # Python 3.8
        return self.eval(node.value, env, local)

    def get_item(self, obj: Any, key: Any, node: ast.AST) -> Any:
        if is_unknown(obj):
            return obj
        if is_unknown(key):
            return key
        if isinstance(obj, CONFIGS):
            return self.apis.get_key(self, obj, key, node)
        if isinstance(obj, Ext):
            return self.apis.ext_item(self, obj, key, node)
        if isinstance(obj, ModelObj):
            return self.unknown(node, "an item of a model")
        if isinstance(obj, (dict, list, tuple, str)):
            try:
                return obj[key]
            except (KeyError, IndexError, TypeError):
                return self.unknown(node, "a missing item")
        return self.unknown(node, "an item of a value outside the script")

    def _e_Attribute(self, node, env, local):
        return self.get_attr(self.eval(node.value, env, local), node.attr, node)

    def get_attr(self, obj: Any, name: str, node: ast.AST) -> Any:
        if is_unknown(obj):
            if obj.config is not None and name in _MUTATING_METHODS:   # `node.update(...)` of an alias
                return Builtin(name, lambda it, args, kwargs, call_node, obj=obj:
                               it._changed_through(obj, f"calls {name}() on", call_node))
            return obj
        if isinstance(obj, Ext):
            return Ext(f"{obj.qual}.{name}")
        if isinstance(obj, Module):
            if name in obj.env:
                return self.resolve_lazy(obj.env, name)
            sub = self.find_module(name, 1, os.path.join(os.path.dirname(obj.path), "x.py")) \
                if os.path.basename(obj.path) == "__init__.py" else None
            if sub is not None:
                return self.import_module(name, 1, node) if not os.path.isdir(sub) else ModuleRef(sub)
            return self.unknown(node, f"{obj.shown} defines no {name}")
        if isinstance(obj, ModuleRef):
            return self.import_from(obj.path, name, self.loc(node))
        if isinstance(obj, Namespace):
            if name in obj.values:
                value = obj.values[name]
                if is_unknown(value) and name in self.sets:
                    self.used_sets.add(name)
                    return self.sets[name]
                return value
            return self.unknown(node, f"args.{name} is not an option of the parser")
        if isinstance(obj, Instance):
            if name in obj.attrs:
                return obj.attrs[name]
            found = obj.cls.lookup(name)
            if found is _MISSING:
                return self.unknown(node, f"{obj.cls.name} has no attribute {name}")
            return self._bind(found, obj)
        if isinstance(obj, _Super):
            for base in obj.inst.cls.bases:
                if isinstance(base, Class):
                    found = base.lookup(name)
                    if found is not _MISSING:
                        return self._bind(found, obj.inst)
                elif isinstance(base, Ext) and name == "__init__":
                    return _SuperInit(base, obj.inst)
            return self.unknown(node, f"super().{name}")
        if isinstance(obj, Instance) and name not in obj.attrs and "__base_result__" in obj.attrs and \
                obj.cls.lookup(name) is _MISSING:
            return self.get_attr(obj.attrs["__base_result__"], name, node)
        if isinstance(obj, Class):
            found = obj.lookup(name)
            if found is _MISSING:
                return self.unknown(node, f"{obj.name} has no attribute {name}")
            if isinstance(found, tuple) and found[0] == "classmethod":
                return Bound(found[1], obj)
            return found[1] if isinstance(found, tuple) else found
        return self.apis.get_attr(self, obj, name, node)

    def _bind(self, found: Any, inst: Instance) -> Any:
        if isinstance(found, tuple):
            kind, func = found
            if kind == "staticmethod":
                return func
            if kind == "classmethod":
                return Bound(func, inst.cls)
            if kind == "property":
                return self.call(func, [inst], {}, func.node)
        if isinstance(found, Func):
            return Bound(found, inst)
        return found

    def _e_Call(self, node, env, local):
        if isinstance(node.func, ast.Name) and node.func.id == "super" and local is not None and \
                (local is None or "super" not in local) and "super" not in env:
            first = next(iter(local.values()), None) if local else None
            return _Super(first) if isinstance(first, Instance) else self.unknown(node, "super() outside a method")
        place = self._list_place(node, env, local)
        func = self.eval(node.func, env, local) if place is None else None
        args: List[Any] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                items = self.iterate(self.eval(arg.value, env, local))
                if items is None:
                    return self.unknown(node, "a call with *args of unknown length")
                args.extend(items)
            else:
                args.append(self.eval(arg, env, local))
        kwargs: Dict[str, Any] = {}
        for kw in node.keywords:
            value = self.eval(kw.value, env, local)
            if kw.arg is None:
                value = self.plain(value)
                if not isinstance(value, dict):
                    return self.unknown(node, "a call with **kwargs that cannot be known")
                kwargs.update(value)
            else:
                kwargs[kw.arg] = value
        if place is not None:
            return self.apis.mutate_list(self, place, node.func.attr, args, kwargs, node)
        return self.call(func, args, kwargs, node)

    def _list_place(self, node: ast.Call, env, local) -> Optional[View]:
        """`<config list>.append(...)` and the other list mutators: the place of that list in its
        config (None for anything else, which is called as usual)."""
        if not (isinstance(node.func, ast.Attribute) and node.func.attr in LIST_MUTATORS
                and _is_path(node.func.value)):
            return None
        place = self._place(node.func.value, env, local)
        if place is None or isinstance(place.state, LazyState) or not isinstance(self.plain(place), list):
            return None
        return place

    def _place(self, expr: ast.AST, env, local) -> Optional[View]:
        """Where in a config a path expression (`cfg.MODEL.PIXEL_MEAN`, `pipeline[2]`) points."""
        if isinstance(expr, ast.Name):
            value = self.eval(expr, env, local)
            return value if isinstance(value, View) else None
        parent = self.eval(expr.value, env, local)
        if isinstance(parent, (D2State, MMState)):
            parent = View(parent, ())
        if not isinstance(parent, View):
            return None
        key = expr.attr if isinstance(expr, ast.Attribute) else self.eval(expr.slice, env, local)
        if not isinstance(key, (str, int)):
            return None
        if isinstance(key, int) and key < 0:
            key = self.apis.list_index(self.plain(parent), key)
        return View(parent.state, parent.path + (key,))

    def call(self, func: Any, args: List[Any], kwargs: Dict[str, Any], node: ast.AST) -> Any:
        if is_unknown(func):
            return func
        if isinstance(func, Func):
            return self.call_func(func, args, kwargs, node)
        if isinstance(func, Bound):
            return self.call(func.func, [func.self_value, *args], kwargs, node)
        if isinstance(func, tuple) and len(func) == 2 and isinstance(func[1], Func):
            return self.call(func[1], args, kwargs, node)
        if isinstance(func, Class):
            inst = Instance(func)
            init = func.lookup("__init__")
            external = _external_base(func)
            if isinstance(init, Func):
                self.call_func(init, [inst, *args], kwargs, node)
            elif external is not None:   # `class MyPredictor(DefaultPredictor)` without its own __init__
                inst.attrs["__base_result__"] = self.call(external, args, kwargs, node)
            elif args or kwargs:
                fields = [st.target.id for st in func.node.body
                          if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name)]
                if not any("dataclass" in ast.dump(d) or "NamedTuple" in ast.dump(d)
                           for d in func.node.decorator_list + func.node.bases) or len(args) > len(fields):
                    return self.unknown(node, f"an instance of {func.name} built by code outside the script")
                inst.attrs.update(zip(fields, args))
                inst.attrs.update({k: v for k, v in kwargs.items() if k in fields})
            return inst
        if isinstance(func, Builtin):
            return func.fn(self, args, kwargs, node)
        if isinstance(func, _SuperInit):
            result = self.call(func.base, args, kwargs, node)
            func.inst.attrs["__base_result__"] = result
            return None
        return self.apis.call(self, func, args, kwargs, node)

    def call_func(self, func: Func, args: List[Any], kwargs: Dict[str, Any], node: ast.AST) -> Any:
        if self.depth >= MAX_DEPTH:
            return self.unknown(node, "calls nested too deeply to follow")
        local = self.bind_args(func, args, kwargs, node)
        if func.name.startswith("add_") and func.name.endswith("_config"):
            self.addon_calls.append((func.name, func.module.shown))
        previous = self.current
        self.current = func.module
        self.depth += 1
        try:
            if isinstance(func.node, ast.Lambda):
                return self.eval(func.node.body, func.module.env, local)
            try:
                self.exec_block(func.node.body, func.module.env, local)
            except _Return as ret:
                return ret.value
            except (_Break, _Continue):
                pass
            return None
        finally:
            self.depth -= 1
            self.current = previous

    def bind_args(self, func: Func, args: List[Any], kwargs: Dict[str, Any], node: ast.AST) -> Dict[str, Any]:
        spec = func.node.args
        local: Dict[str, Any] = dict(func.scope or {}) if func.scope is not None and not isinstance(func.scope, dict) else {}
        if isinstance(func.scope, dict) and func.scope is not func.module.env:
            local.update(func.scope)
        positional = [*getattr(spec, "posonlyargs", []), *spec.args]
        defaults = [None] * (len(positional) - len(func.defaults)) + list(func.defaults)
        where = Location(func.module.shown, getattr(func.node, "lineno", None))
        for i, param in enumerate(positional):
            if i < len(args):
                local[param.arg] = args[i]
            elif param.arg in kwargs:
                local[param.arg] = kwargs.pop(param.arg)
            elif i >= len(positional) - len(func.defaults):
                local[param.arg] = defaults[i]
            else:
                local[param.arg] = Unknown(where, f"parameter {param.arg} of {func.name} is not given")
        if spec.vararg is not None:
            local[spec.vararg.arg] = tuple(args[len(positional):])
        for param, default in zip(spec.kwonlyargs, func.kw_defaults):
            if param.arg in kwargs:
                local[param.arg] = kwargs.pop(param.arg)
            else:
                local[param.arg] = default if default is not None or True else None
        if spec.kwarg is not None:
            local[spec.kwarg.arg] = dict(kwargs)
        return local

    # ------------------------------------------------------------------ helpers

    def truth(self, value: Any) -> Optional[bool]:
        if is_unknown(value):
            return getattr(value, "truth", None)
        if isinstance(value, CONFIGS):
            value = self.plain(value)
            if is_unknown(value):
                return None
        if isinstance(value, _PLAIN):
            try:
                return bool(value)
            except Exception:   # noqa: BLE001
                return None
        if isinstance(value, PathVal):
            return True
        if isinstance(value, (Func, Class, Instance, Module, ModelObj, Bound, Builtin)):
            return True
        return None

    def iterate(self, value: Any) -> Optional[List[Any]]:
        if isinstance(value, View) and not isinstance(value.state, LazyState):
            data = self.plain(value)
            if isinstance(data, list):
                # the items of a config list are the config's own dicts: `for t in cfg.pipeline:
                # t["scale"] = ...` changes the config, so a dict or list item is a place in it
                return [View(value.state, value.path + (i,)) if isinstance(item, (dict, list)) else item
                        for i, item in enumerate(data)]
            value = data
        if isinstance(value, (View, D2State, MMState)):
            value = self.plain(value)
        if isinstance(value, (list, tuple, str, set)):
            return list(value)
        if isinstance(value, dict):
            return list(value)
        if isinstance(value, range):
            return list(value) if len(value) <= MAX_ITEMS else None
        if isinstance(value, _Items):
            return value.items
        return None

    def plain(self, value: Any) -> Any:
        """A config view as plain data (a copy); a script's own list or dict holding views (the loop
        variables of a config list, collected) with those views as data; other values as they are."""
        if isinstance(value, CONFIGS):
            return self.apis.plain(self, value)
        if isinstance(value, (list, tuple)) and any(isinstance(v, (View, list, tuple, dict)) for v in value):
            items = [self.plain(v) for v in value]
            if any(a is not b for a, b in zip(items, value)):
                return items if isinstance(value, list) else tuple(items)
        elif isinstance(value, dict) and any(isinstance(v, (View, list, tuple, dict)) for v in value.values()):
            items = {k: self.plain(v) for k, v in value.items()}
            if any(items[k] is not v for k, v in value.items()):
                return items
        return value


class _Super:
    def __init__(self, inst: "Instance"):
        self.inst = inst


class _SuperInit:
    def __init__(self, base: Ext, inst: "Instance"):
        self.base, self.inst = base, inst


def _external_base(cls: "Class") -> Optional[Ext]:
    for base in cls.bases:
        if isinstance(base, Ext):
            return base
        if isinstance(base, Class) and not isinstance(base.lookup("__init__"), Func):
            found = _external_base(base)
            if found is not None:
                return found
    return None


class LazyImport:
    """`from pkg import name` of a repository module, read on first use."""

    def __init__(self, target: str, name: str, where: Location):
        self.target, self.name, self.where = target, name, where


class ModuleRef:
    """A package directory without an `__init__.py` we can read (a namespace package)."""

    def __init__(self, path: str):
        self.path = path


class _Items:
    def __init__(self, items: List[Any]):
        self.items = items


#: Packages that are never in the repository being read: their names are external at once.
_EXTERNAL_ROOTS = {"os", "sys", "pathlib", "argparse", "json", "yaml", "cv2", "numpy", "np", "torch", "torchvision",
                   "PIL", "detectron2", "mmdet", "mmengine", "mmcv", "fvcore", "yacs", "logging", "glob", "time",
                   "collections", "typing", "functools", "itertools", "re", "math", "random", "copy", "shutil",
                   "subprocess", "tqdm", "matplotlib", "pandas", "dataclasses", "warnings", "pickle", "io",
                   "datetime", "tempfile", "multiprocessing", "socket", "requests", "flask", "fastapi", "uvicorn",
                   "omegaconf", "hydra", "scipy", "skimage", "albumentations", "pycocotools", "__future__"}


def _listdir(path: str) -> List[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _defines(path: str, name: str) -> bool:
    try:
        text = read_config_text(path)
    except CfglintError:
        return False
    return f"def {name}(" in text or f"class {name}(" in text or f"class {name}:" in text or \
        f"\n{name} =" in text


def _repo_root(directory: str) -> Optional[str]:
    """The repository a script lives in: the nearest ancestor with a VCS or project marker."""
    current = directory
    for _ in range(12):
        if any(os.path.exists(os.path.join(current, m)) for m in (".git", "pyproject.toml", "setup.py", "setup.cfg",
                                                                   "LICENSE", ".hg")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return directory


def _load(target: ast.AST) -> ast.AST:
    node = copy.copy(target)
    node.ctx = ast.Load()
    return node
