"""A restricted interpreter for the Python subset mmengine configs are written in.

mmengine *executes* config files; cfglint must not. This walks the AST and evaluates only what a
config legitimately needs (literals, `dict()`, names, arithmetic, comprehensions, f-strings,
`_base_` references, `.update/.pop/.get`, a few pure builtins, attribute and item assignment,
`del`). Anything else (arbitrary calls, dunder access, `open()`, imports) is refused with the
file:line that asked for it, before any of it could run. What is allowed, and the budget that bounds
a file's work, is the policy of :mod:`cfglint.adapters.pycore`; this module keeps mmengine's
semantics (ConfigDict vs dict, recursive `.update`, `_base_`).
"""
from __future__ import annotations

import ast
from typing import Any, Callable, Dict, List, Optional, Tuple

from cfglint.adapters import pycore
from cfglint.adapters.mmdet.values import CfgDict, LazyAttr, LazyObject, deep_copy
from cfglint.adapters.pycore import Budget, Refusal
from cfglint.errors import CfglintError, UnsafeContentError, UnsupportedError
from cfglint.model.location import Location


def _checked_range(*args: int) -> List[int]:
    return list(pycore.bounded_range(*args))


def _builtin_dict(*args: Any, **kwargs: Any) -> CfgDict:
    out = CfgDict(dict(*args, **kwargs))
    if args and isinstance(args[0], CfgDict):
        out.locs.update(args[0].locs)
    return out


# The pure builtins of pycore.MMDET_BUILTINS; mmengine-specific: `dict()` makes a (located) dict,
# and iterators are materialized as lists (configs consume them at once).
SAFE_BUILTINS: Dict[str, Callable] = {
    **{name: pycore.PURE_BUILTINS[name] for name in pycore.MMDET_BUILTINS},
    "dict": _builtin_dict, "range": _checked_range,
    "enumerate": lambda *a: list(enumerate(*a)), "zip": lambda *a: list(zip(*a)),
    "reversed": lambda s: list(reversed(s)),
}
SAFE_CONSTANTS = {"True": True, "False": False, "None": None}

_DICT_METHODS = {"get", "keys", "values", "items", "copy", "pop", "setdefault", "update", "merge"}
_LIST_METHODS = {"append", "extend", "insert", "pop", "copy", "index", "count", "remove"}


class Function:
    """A `def`/`lambda` in a config: bound (and later dropped, as mmengine drops functions), never run."""

    def __init__(self, name: str, loc: Optional[Location] = None):
        self.name = name
        self.loc = loc

    def unsupported_in_result(self, path: tuple) -> UnsupportedError:
        """Only pure-Python configs keep functions in their result; that is not config data."""
        key = ".".join(map(str, path))
        return UnsupportedError(f"`{key}` is the function `{self.name}`, which cfglint cannot represent as "
                                f"config data", file=self.loc.file if self.loc else None,
                                line=self.loc.line if self.loc else None)


ImportHandler = Callable[["Interpreter", ast.stmt], None]


#: (interpreter class, node class) -> its unbound `eval_<Node>` method, or False when it has none.
_EVAL_METHODS: Dict[Tuple[type, type], Any] = {}


class Interpreter:
    """Evaluates one config module's statements into `env` (its globals, with locations)."""

    def __init__(self, file: str, env: CfgDict, import_handler: Optional[ImportHandler] = None,
                 reserved: tuple = ()):
        self.file = file
        self.env = env
        self.import_handler = import_handler
        #: Names the file may not bind (`_base_`: mmengine reads it only as the first target of a
        #: top-level assignment; bound any other way it would not be the base list cfglint reads).
        self.reserved = reserved
        self.budget = Budget()
        self._scopes: List[Dict[str, Any]] = []
        #: Whether the code read a dict/list by name (so a value may be shared between two keys,
        #: or with `_base_`). Only then must the result be deep-copied as mmengine does.
        self.read_containers = False

    # ---- errors -------------------------------------------------------------------------
    def loc(self, node: ast.AST) -> Location:
        return Location(self.file, getattr(node, "lineno", None))

    def unsupported(self, node: ast.AST, what: str) -> UnsupportedError:
        return UnsupportedError(f"{what}; cfglint evaluates configs statically and does not run this",
                                file=self.file, line=getattr(node, "lineno", None))

    def unsafe(self, node: ast.AST, what: str) -> UnsafeContentError:
        return UnsafeContentError(f"{what}; refusing to evaluate it", file=self.file,
                                  line=getattr(node, "lineno", None))

    # ---- statements ---------------------------------------------------------------------
    def run(self, body: List[ast.stmt]) -> None:
        """Evaluate a module body; values it shares by name are measured before anyone copies them."""
        self.run_block(body)
        if self.read_containers:   # `_base_` was measured when the bases were evaluated and changed
            try:
                self.budget.measure([v for k, v in self.env.items() if k not in self.reserved],
                                    body[-1] if body else None)
            except Refusal as refusal:
                raise refusal.error(self.file) from None

    def run_block(self, body: List[ast.stmt]) -> None:
        for stmt in body:
            try:
                self.exec_stmt(stmt)
            except CfglintError:
                raise
            except Refusal as refusal:
                raise refusal.error(self.file, getattr(refusal.node, "lineno", None) or stmt.lineno) from None
            except RecursionError:
                raise CfglintError("expression nested too deeply", file=self.file, line=stmt.lineno)
            except Exception as exc:  # a config error mmengine would raise too, e.g. a missing key
                raise CfglintError(_describe(exc), file=self.file, line=getattr(exc, "cfglint_line", stmt.lineno))

    def exec_stmt(self, node: ast.stmt) -> None:
        budget = self.budget
        budget.steps -= 1
        if budget.steps < 0:
            raise budget.out_of_steps(node)
        if isinstance(node, ast.Assign):
            value = self.eval(node.value)
            for target in node.targets:
                self.assign(target, value, node)
        elif isinstance(node, ast.AnnAssign):   # mmengine evaluates the annotation too
            pycore.check_annotation(node.annotation)
            if node.value is not None:
                self.assign(node.target, self.eval(node.value), node)
            elif not isinstance(node.target, ast.Name):
                raise self.unsupported(node, "annotates an attribute or item without assigning it")
        elif isinstance(node, ast.AugAssign):
            current = self.eval(_as_load(node.target))
            self.assign(node.target, self.binop(node.op, current, self.eval(node.value), node), node)
        elif isinstance(node, ast.Expr):
            self.eval(node.value)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                self.delete(target)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.decorator_list:  # mmengine runs decorators when it executes the file
                raise self.unsupported(node.decorator_list[0],
                                       f"decorates the function `{node.name}`; decorators run code at load time")
            for default in pycore.check_signature(node.args, node.returns):   # run by `def` itself
                self.eval(default)
            self.assign(ast.Name(id=node.name, ctx=ast.Store()), Function(node.name, self.loc(node)), node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if self.import_handler is None:
                raise self.unsupported(node, "imports a module, which would run its code")
            self.import_handler(self, node)
        elif isinstance(node, ast.If):
            self.run_block(node.body if self.eval(node.test) else node.orelse)
        elif isinstance(node, ast.For):
            for item in list(self.eval(node.iter)):
                budget.step(node)
                self.assign(node.target, item, node)
                self.run_block(node.body)
            else:
                self.run_block(node.orelse)
        elif isinstance(node, ast.Pass):
            pass
        else:
            raise self.unsupported(node, f"uses a `{type(node).__name__}` statement")

    def assign(self, target: ast.expr, value: Any, stmt: ast.AST) -> None:
        loc = self.loc(stmt)
        if isinstance(target, ast.Name):
            if target.id in self.reserved:
                raise self.unsupported(stmt, f"binds `{target.id}` other than as the first target of a top-level "
                                             f"assignment, where mmengine would not read it as the base list")
            if self._scopes:
                self._scopes[-1][target.id] = value
            else:
                self.env.put(target.id, value, loc)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = list(value)
            if len(items) != len(target.elts):
                raise ValueError(f"cannot unpack {len(items)} values into {len(target.elts)} names")
            for elt, item in zip(target.elts, items):
                self.assign(elt, item, stmt)
        elif isinstance(target, ast.Attribute):
            self._check_attr(target)
            obj = self.eval(target.value)
            if not (isinstance(obj, CfgDict) and obj.config):
                raise AttributeError(f"cannot set attribute `{target.attr}` on a {_kind(obj)}")
            self.budget.step(stmt, self.budget.measure(value, stmt))   # a ConfigDict copies what it stores
            obj.put(target.attr, value, loc)
        elif isinstance(target, ast.Subscript):
            obj = self.eval(target.value)
            key = self.eval(target.slice)
            if isinstance(obj, CfgDict):
                if obj.config:
                    self.budget.step(stmt, self.budget.measure(value, stmt))
                obj.put(key, value, loc)
            elif isinstance(obj, list):
                obj[key] = value
            else:
                raise TypeError(f"cannot assign an item of a {_kind(obj)}")
        else:
            raise self.unsupported(target, f"assigns to a `{type(target).__name__}`")

    def delete(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            if target.id not in self.env:
                raise NameError(f"name {target.id!r} is not defined")
            self.env.remove(target.id)
            return
        if isinstance(target, ast.Attribute):
            self._check_attr(target)
            obj, key = self.eval(target.value), target.attr
            if not (isinstance(obj, CfgDict) and obj.config):
                raise AttributeError(f"cannot delete attribute `{key}` of a {_kind(obj)}")
        elif isinstance(target, ast.Subscript):
            obj, key = self.eval(target.value), self.eval(target.slice)
        else:
            raise self.unsupported(target, f"deletes a `{type(target).__name__}`")
        if isinstance(obj, CfgDict):
            if key not in obj:
                raise KeyError(key)
            obj.remove(key)
        elif isinstance(obj, list):
            del obj[key]
        else:
            raise TypeError(f"cannot delete an item of a {_kind(obj)}")

    # ---- expressions --------------------------------------------------------------------
    def eval(self, node: ast.expr) -> Any:
        key = (self.__class__, node.__class__)
        method = _EVAL_METHODS.get(key)
        if method is None:   # looked up once per class and node type: eval runs for every node
            method = _EVAL_METHODS[key] = getattr(self.__class__, "eval_" + node.__class__.__name__, False)
        if method is False:
            raise self.unsupported(node, f"uses a `{type(node).__name__}` expression")
        budget = self.budget
        budget.steps -= 1
        if budget.steps < 0:
            raise budget.out_of_steps(node)
        return method(self, node)

    def eval_Constant(self, node: ast.Constant) -> Any:
        value = node.value
        if type(value) is int and value.bit_length() > pycore.MAX_INT_BITS:   # a 5000-digit hex literal
            raise pycore.too_large(node)
        return value

    def eval_Name(self, node: ast.Name) -> Any:
        name = node.id
        for scope in reversed(self._scopes):
            if name in scope:
                return self._read(scope[name])
        if name in self.env:
            return self._read(self.env[name])
        if name in SAFE_BUILTINS or name in SAFE_CONSTANTS:
            return SAFE_CONSTANTS.get(name, SAFE_BUILTINS.get(name))
        refused = pycore.refused_name(name)
        if refused:
            raise self.unsafe(node, refused)
        raise _at(NameError(f"name {name!r} is not defined"), node)

    def _read(self, value: Any) -> Any:
        if isinstance(value, (dict, list, tuple)):
            self.read_containers = True
        return value

    def eval_Dict(self, node: ast.Dict) -> CfgDict:
        out = CfgDict()
        for key_node, value_node in zip(node.keys, node.values):
            value = self.eval(value_node)
            if key_node is None:
                _splat_into(out, value)
            else:
                out.put(self.eval(key_node), value, self.loc(key_node))
        return out

    def eval_List(self, node: ast.List) -> list:
        return self._sequence(node.elts)

    def eval_Tuple(self, node: ast.Tuple) -> tuple:
        return self.budget.check_tuple(tuple(self._sequence(node.elts)), node)

    def eval_Set(self, node: ast.Set) -> set:
        items = self._sequence(node.elts)
        self.budget.measure(items, node)   # hashing walks tuples
        return set(items)

    def _sequence(self, elts: List[ast.expr]) -> list:
        out: list = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                out.extend(self.eval(elt.value))
                pycore.check_extend(out, (), elt)
            else:
                out.append(self.eval(elt))
        return out

    def eval_BinOp(self, node: ast.BinOp) -> Any:
        return self.binop(node.op, self.eval(node.left), self.eval(node.right), node)

    def binop(self, op: ast.operator, left: Any, right: Any, node: ast.AST) -> Any:
        return pycore.binop(type(op), left, right, node, self.budget)

    def eval_UnaryOp(self, node: ast.UnaryOp) -> Any:
        return pycore.unaryop(type(node.op), self.eval(node.operand), node)

    def eval_BoolOp(self, node: ast.BoolOp) -> Any:
        return pycore.boolop(node, self.eval)

    def eval_Compare(self, node: ast.Compare) -> bool:
        return pycore.compare(node, self.eval, self.budget)

    def eval_IfExp(self, node: ast.IfExp) -> Any:
        return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)

    def eval_Subscript(self, node: ast.Subscript) -> Any:
        obj = self.eval(node.value)
        if not isinstance(obj, (dict, list, tuple, str)):
            raise TypeError(f"a {_kind(obj)} cannot be indexed")
        key = self.eval(node.slice)
        return self.budget.charge(obj[key], node) if type(key) is slice else obj[key]

    def eval_Slice(self, node: ast.Slice) -> slice:
        part = lambda n: None if n is None else self.eval(n)  # noqa: E731
        return slice(part(node.lower), part(node.upper), part(node.step))

    def eval_Attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("__"):
            pycore.check_attribute(node.attr, node)
        obj = self.eval(node.value)
        if isinstance(obj, CfgDict) and obj.config:
            if node.attr not in obj:
                raise _at(AttributeError(f"the config has no key `{node.attr}` here"), node)
            return obj[node.attr]
        if isinstance(obj, (LazyObject, LazyAttr)):
            return LazyAttr(node.attr, obj)
        raise _at(AttributeError(f"a {_kind(obj)} has no attribute `{node.attr}`"), node)

    def _check_attr(self, node: ast.Attribute) -> None:
        if node.attr.startswith("__"):
            pycore.check_attribute(node.attr, node)

    def eval_JoinedStr(self, node: ast.JoinedStr) -> str:
        return pycore.joined_str(node, self.eval, self.budget)

    def eval_Lambda(self, node: ast.Lambda) -> Function:
        for default in pycore.check_signature(node.args):   # evaluated when the lambda is created
            self.eval(default)
        return Function("<lambda>", self.loc(node))

    # comprehensions: each gets its own scope, like Python 3
    def eval_ListComp(self, node: ast.ListComp) -> list:
        out: list = []
        self._comprehend(node.generators, lambda: out.append(self.eval(node.elt)))
        return out

    def eval_GeneratorExp(self, node: ast.GeneratorExp) -> list:
        return self.eval_ListComp(node)  # consumed at once by the builtin that receives it

    def eval_SetComp(self, node: ast.SetComp) -> set:
        return set(self.eval_ListComp(node))

    def eval_DictComp(self, node: ast.DictComp) -> CfgDict:
        out = CfgDict()

        def add() -> None:
            key = self.eval(node.key)
            out.put(key, self.eval(node.value), self.loc(node.key))
        self._comprehend(node.generators, add)
        return out

    def _comprehend(self, generators: List[ast.comprehension], emit: Callable[[], None]) -> None:
        self._scopes.append({})
        try:
            pycore.comprehend(generators, lambda expr, i: list(self.eval(expr)),
                              lambda target, item: self.assign(target, item, target), self.eval, emit, self.budget)
        finally:
            self._scopes.pop()

    # ---- calls --------------------------------------------------------------------------
    def eval_Call(self, node: ast.Call) -> Any:
        args: list = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args.extend(self.eval(arg.value))
            else:
                args.append(self.eval(arg))
        kwargs = CfgDict()
        for kw in node.keywords:
            value = self.eval(kw.value)
            if kw.arg is None:
                _splat_into(kwargs, value)
            else:
                kwargs.put(kw.arg, value, self.loc(kw))
        if isinstance(node.func, ast.Attribute):
            self._check_attr(node.func)
            return self._call_method(node, self.eval(node.func.value), node.func.attr, args, kwargs)
        func = self.eval(node.func)
        if func is _builtin_dict:
            out = _builtin_dict(*args)
            for k, v in kwargs.items():
                out.put(k, v, kwargs.locs.get(k))
            return out
        if any(func is fn for fn in SAFE_BUILTINS.values()):
            return pycore.call_builtin(func, args, kwargs, node, self.budget)
        name = ast.unparse(node.func)
        if isinstance(func, (LazyObject, LazyAttr)):
            raise self.unsupported(node, f"calls the imported `{name}`, which mmengine cannot do either")
        raise self.unsupported(node, f"calls `{name}()`")

    def _call_method(self, node: ast.Call, obj: Any, name: str, args: list, kwargs: CfgDict) -> Any:
        self.budget.work(obj, node)   # methods are linear in the object (insert, copy, index...)
        for arg in args:
            self.budget.work(arg, node)
        if isinstance(obj, CfgDict) and name in _DICT_METHODS:
            if name == "merge" and obj.config:
                if len(args) != 1 or kwargs or not isinstance(args[0], dict):
                    raise TypeError("merge() takes one dict")
                self.budget.step(node, self.budget.measure(args[0], node))
                return _config_merge(obj, args[0], self.loc(node))
            if name == "update":
                return _update(obj, args, kwargs, self.loc(node))
            if name == "pop":
                obj.locs.pop(args[0] if args else None, None)
                if obj.config:  # ConfigDict.pop(key, default=None) never raises
                    return dict.pop(obj, args[0], args[1] if len(args) > 1 else None)
                return dict.pop(obj, *args)
            if name == "copy":
                return CfgDict(obj, config=obj.config, locs=obj.locs, scope=obj.scope)
            if name == "setdefault":
                if args[0] not in obj:
                    obj.put(args[0], args[1] if len(args) > 1 else None, self.loc(node))
                return obj[args[0]]
            result = getattr(dict, name)(obj, *args, **kwargs)
            return list(result) if name in ("keys", "values", "items") else result
        if isinstance(obj, list) and name in _LIST_METHODS:
            if name == "extend" and args:
                args = [list(args[0])]
                pycore.check_extend(obj, args[0], node)
                self.budget.charge(args[0], node)
            return getattr(list, name)(obj, *args, **kwargs)
        if isinstance(obj, tuple) and name in ("index", "count"):
            return getattr(type(obj), name)(obj, *args)
        if isinstance(obj, str):
            return pycore.str_method(obj, name, args, dict(kwargs), node, self.budget)
        raise self.unsupported(node, f"calls `{ast.unparse(node.func)}()`")


_MISSING = object()


def _config_merge(target: CfgDict, other: dict, loc: Location) -> None:
    """mmengine's `ConfigDict.merge(other)`: both deep-copied, `other` merged in recursively
    (`_delete_=True` replaces a dict), then `target` cleared and refilled in the merged order."""

    def merge(a: Any, b: Any, where: Optional[Location]) -> Any:
        if not isinstance(a, dict):
            return a if a is not _MISSING else b
        a_locs = a.locs if isinstance(a, CfgDict) else {}
        if not isinstance(b, dict):
            a.pop("_delete_", None)
            return a
        if a.pop("_delete_", False):
            b.clear()
        b_locs = b.locs if isinstance(b, CfgDict) else {}
        out = CfgDict()
        for key in list(b.keys()) + list(a.keys()):
            if key == "_delete_" or key in out:
                continue
            value = merge(a.get(key, _MISSING), b.get(key, _MISSING), where)
            out.put(key, value, a_locs.get(key, where) if key in a else b_locs.get(key))
        return out

    merged = merge(deep_copy(other), deep_copy(target), loc)
    locs = merged.locs
    dict.clear(target)
    target.locs.clear()
    for key, value in merged.items():
        target.put(key, value, locs.get(key))


def _update(target: CfgDict, args: list, kwargs: CfgDict, loc: Location) -> None:
    """`.update()`: recursive on a ConfigDict (from `_base_`), shallow on a local dict."""
    if len(args) > 1:
        raise TypeError("update expected at most 1 argument")
    other = CfgDict()
    for source in list(args) + [kwargs]:
        if isinstance(source, dict):
            for k, v in source.items():
                other.put(k, v, source.locs.get(k, loc) if isinstance(source, CfgDict) else loc)
        else:
            for k, v in source:
                other.put(k, v, loc)
    for k, v in other.items():
        where = other.locs.get(k, loc)
        if target.config and k in target and isinstance(target[k], dict) and isinstance(v, dict):
            sub = target[k]
            if isinstance(sub, CfgDict) and sub.config:
                _update(sub, [v], CfgDict(), where)
            else:
                dict.update(sub, v)
            target.locs[k] = where
        else:
            target.put(k, v, where)


def _splat_into(out: CfgDict, value: Any) -> None:
    if not isinstance(value, dict):
        raise TypeError(f"argument after ** must be a mapping, not {_kind(value)}")
    for k, v in value.items():
        out.put(k, v, value.locs.get(k) if isinstance(value, CfgDict) else None)


def _kind(obj: Any) -> str:
    if isinstance(obj, CfgDict):
        return "config dict" if obj.config else "dict"
    if isinstance(obj, Function):
        return "function"
    return type(obj).__name__


def _as_load(target: ast.expr) -> ast.expr:
    node = type(target)(**{f: getattr(target, f) for f in target._fields})
    node.ctx = ast.Load()
    return ast.copy_location(node, target)


def _at(exc: Exception, node: ast.AST) -> Exception:
    exc.cfglint_line = getattr(node, "lineno", None)  # type: ignore[attr-defined]
    return exc


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no key {exc.args[0]!r}" if exc.args else "missing key"
    return f"{type(exc).__name__}: {exc}" if not isinstance(exc, (AttributeError, NameError)) else str(exc)

