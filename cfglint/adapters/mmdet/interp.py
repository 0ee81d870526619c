"""A restricted interpreter for the Python subset mmengine configs are written in.

mmengine *executes* config files; cfglint must not. This walks the AST and evaluates only what a
config legitimately needs (literals, `dict()`, names, arithmetic, comprehensions, f-strings,
`_base_` references, `.update/.pop/.get`, a few pure builtins, attribute and item assignment,
`del`). Anything else (arbitrary calls, dunder access, `open()`, imports) is refused with the
file:line that asked for it, before any of it could run.
"""
from __future__ import annotations

import ast
import operator
from typing import Any, Callable, Dict, List, Optional

from cfglint.adapters.mmdet.values import CfgDict, LazyAttr, LazyObject
from cfglint.errors import CfglintError, UnsafeContentError, UnsupportedError
from cfglint.model.location import Location

MAX_INT_BITS = 1 << 16     # refuse `x = x * x` in a loop growing an integer without bound
MAX_SEQUENCE = 1_000_000   # refuse `[0] * 10**12` and `range(10**12)` instead of exhausting memory

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
           ast.BitOr: operator.or_, ast.BitAnd: operator.and_, ast.BitXor: operator.xor,
           ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.MatMult: None}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_, ast.Invert: operator.invert}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
            ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}


def _checked_range(*args: int) -> List[int]:
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise ValueError(f"range of {len(r)} items is too large")
    return list(r)


def _builtin_dict(*args: Any, **kwargs: Any) -> CfgDict:
    out = CfgDict(dict(*args, **kwargs))
    if args and isinstance(args[0], CfgDict):
        out.locs.update(args[0].locs)
    return out


# Pure builtins a config may call; they see only plain data and have no side effects.
SAFE_BUILTINS: Dict[str, Callable] = {
    "dict": _builtin_dict, "list": list, "tuple": tuple, "len": len, "range": _checked_range,
    "enumerate": lambda *a: list(enumerate(*a)), "zip": lambda *a: list(zip(*a)), "sorted": sorted,
    "reversed": lambda s: list(reversed(s)), "min": min, "max": max, "sum": sum, "abs": abs, "round": round,
    "int": int, "float": float, "str": str, "bool": bool, "set": set, "frozenset": frozenset, "any": any,
    "all": all,
}
SAFE_CONSTANTS = {"True": True, "False": False, "None": None}

_DICT_METHODS = {"get", "keys", "values", "items", "copy", "pop", "setdefault", "update"}
_LIST_METHODS = {"append", "extend", "insert", "pop", "copy", "index", "count", "remove"}
_STR_METHODS = {"format", "join", "replace", "split", "rsplit", "strip", "lstrip", "rstrip", "lower", "upper",
                "startswith", "endswith"}


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


class Interpreter:
    """Evaluates one config module's statements into `env` (its globals, with locations)."""

    def __init__(self, file: str, env: CfgDict, import_handler: Optional[ImportHandler] = None):
        self.file = file
        self.env = env
        self.import_handler = import_handler
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
        for stmt in body:
            try:
                self.exec_stmt(stmt)
            except CfglintError:
                raise
            except RecursionError:
                raise CfglintError("expression nested too deeply", file=self.file, line=stmt.lineno)
            except Exception as exc:  # a config error mmengine would raise too, e.g. a missing key
                raise CfglintError(_describe(exc), file=self.file, line=getattr(exc, "cfglint_line", stmt.lineno))

    def exec_stmt(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            value = self.eval(node.value)
            for target in node.targets:
                self.assign(target, value, node)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.assign(node.target, self.eval(node.value), node)
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
                raise self.unsupported(node, f"decorates the function `{node.name}`; decorators run code at load time")
            self.env.put(node.name, Function(node.name, self.loc(node)), self.loc(node))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if self.import_handler is None:
                raise self.unsupported(node, "imports a module, which would run its code")
            self.import_handler(self, node)
        elif isinstance(node, ast.If):
            self.run(node.body if self.eval(node.test) else node.orelse)
        elif isinstance(node, ast.For):
            for item in list(self.eval(node.iter)):
                self.assign(node.target, item, node)
                self.run(node.body)
            else:
                self.run(node.orelse)
        elif isinstance(node, ast.Pass):
            pass
        else:
            raise self.unsupported(node, f"uses a `{type(node).__name__}` statement")

    def assign(self, target: ast.expr, value: Any, stmt: ast.AST) -> None:
        loc = self.loc(stmt)
        if isinstance(target, ast.Name):
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
            obj.put(target.attr, value, loc)
        elif isinstance(target, ast.Subscript):
            obj = self.eval(target.value)
            key = self.eval(target.slice)
            if isinstance(obj, CfgDict):
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
        method = getattr(self, "eval_" + type(node).__name__, None)
        if method is None:
            raise self.unsupported(node, f"uses a `{type(node).__name__}` expression")
        return method(node)

    def eval_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def eval_Name(self, node: ast.Name) -> Any:
        name = node.id
        for scope in reversed(self._scopes):
            if name in scope:
                return self._read(scope[name])
        if name in self.env:
            return self._read(self.env[name])
        if name in SAFE_BUILTINS or name in SAFE_CONSTANTS:
            return SAFE_CONSTANTS.get(name, SAFE_BUILTINS.get(name))
        if name.startswith("__"):
            raise self.unsafe(node, f"reads the interpreter internal `{name}`")
        if name in _DANGEROUS_NAMES:
            raise self.unsafe(node, f"uses `{name}`")
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
        return tuple(self._sequence(node.elts))

    def eval_Set(self, node: ast.Set) -> set:
        return set(self._sequence(node.elts))

    def _sequence(self, elts: List[ast.expr]) -> list:
        out: list = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                out.extend(self.eval(elt.value))
            else:
                out.append(self.eval(elt))
        return out

    def eval_BinOp(self, node: ast.BinOp) -> Any:
        return self.binop(node.op, self.eval(node.left), self.eval(node.right), node)

    def binop(self, op: ast.operator, left: Any, right: Any, node: ast.AST) -> Any:
        fn = _BINOPS.get(type(op))
        if fn is None:
            raise self.unsupported(node, f"uses the `{type(op).__name__}` operator")
        if isinstance(op, ast.Mult):
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_SEQUENCE:
                    raise self.unsupported(node, "builds a sequence of more than a million items")
        if isinstance(op, ast.Add) and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)) \
                and len(left) + len(right) > MAX_SEQUENCE:
            raise self.unsupported(node, "builds a sequence of more than a million items")
        if isinstance(op, (ast.Pow, ast.LShift)) and isinstance(right, int) and abs(right) > 10_000:
            raise self.unsupported(node, "computes an enormous number")
        if isinstance(op, ast.Mult) and isinstance(left, int) and isinstance(right, int) \
                and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise self.unsupported(node, "computes an enormous number")
        if isinstance(op, ast.Mod) and isinstance(left, str) and not _is_plain(right):
            raise self.unsupported(node, "formats a config object into a string")
        return fn(left, right)

    def eval_UnaryOp(self, node: ast.UnaryOp) -> Any:
        return _UNARY[type(node.op)](self.eval(node.operand))

    def eval_BoolOp(self, node: ast.BoolOp) -> Any:
        value: Any = None
        for operand in node.values:
            value = self.eval(operand)
            if isinstance(node.op, ast.And) and not value:
                return value
            if isinstance(node.op, ast.Or) and value:
                return value
        return value

    def eval_Compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op, comp in zip(node.ops, node.comparators):
            right = self.eval(comp)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def eval_IfExp(self, node: ast.IfExp) -> Any:
        return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)

    def eval_Subscript(self, node: ast.Subscript) -> Any:
        obj = self.eval(node.value)
        if not isinstance(obj, (dict, list, tuple, str)):
            raise TypeError(f"a {_kind(obj)} cannot be indexed")
        return obj[self.eval(node.slice)]

    def eval_Slice(self, node: ast.Slice) -> slice:
        part = lambda n: None if n is None else self.eval(n)  # noqa: E731
        return slice(part(node.lower), part(node.upper), part(node.step))

    def eval_Attribute(self, node: ast.Attribute) -> Any:
        self._check_attr(node)
        obj = self.eval(node.value)
        if isinstance(obj, CfgDict) and obj.config:
            if node.attr not in obj:
                raise _at(AttributeError(f"the config has no key `{node.attr}` here"), node)
            return obj[node.attr]
        if isinstance(obj, (LazyObject, LazyAttr)):
            return LazyAttr(node.attr, obj)
        raise _at(AttributeError(f"a {_kind(obj)} has no attribute `{node.attr}`"), node)

    def _check_attr(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_") and node.attr.endswith("_") and node.attr.startswith("__"):
            raise self.unsafe(node, f"accesses the dunder attribute `{node.attr}`")

    def eval_JoinedStr(self, node: ast.JoinedStr) -> str:
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(value.value)
                continue
            item = self.eval(value.value)
            if not _is_plain(item):
                raise self.unsupported(value, "formats a config object into an f-string")
            if value.conversion == ord("r"):
                item = repr(item)
            elif value.conversion in (ord("s"), ord("a")):
                item = str(item) if value.conversion == ord("s") else ascii(item)
            spec = self.eval(value.format_spec) if value.format_spec is not None else ""
            parts.append(format(item, spec))
        return "".join(parts)

    def eval_Lambda(self, node: ast.Lambda) -> Function:
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
            self._loop(generators, 0, emit)
        finally:
            self._scopes.pop()

    def _loop(self, generators: List[ast.comprehension], i: int, emit: Callable[[], None]) -> None:
        if i == len(generators):
            emit()
            return
        gen = generators[i]
        for item in list(self.eval(gen.iter)):
            self.assign(gen.target, item, gen.target)
            if all(self.eval(cond) for cond in gen.ifs):
                self._loop(generators, i + 1, emit)

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
            return func(*args, **kwargs)
        name = ast.unparse(node.func)
        if isinstance(func, (LazyObject, LazyAttr)):
            raise self.unsupported(node, f"calls the imported `{name}`, which mmengine cannot do either")
        raise self.unsupported(node, f"calls `{name}()`")

    def _call_method(self, node: ast.Call, obj: Any, name: str, args: list, kwargs: CfgDict) -> Any:
        if isinstance(obj, CfgDict) and name in _DICT_METHODS:
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
            return getattr(list, name)(obj, *args, **kwargs)
        if isinstance(obj, (tuple, str)) and name in ("index", "count"):
            return getattr(type(obj), name)(obj, *args)
        if isinstance(obj, str) and name in _STR_METHODS:
            if not all(_is_plain(a) for a in list(args) + list(kwargs.values())):
                raise self.unsupported(node, "formats a config object into a string")
            return getattr(str, name)(obj, *args, **kwargs)
        raise self.unsupported(node, f"calls `{ast.unparse(node.func)}()`")


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


def _is_plain(value: Any) -> bool:
    if isinstance(value, (str, int, float, bool, type(None))):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return False


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


_DANGEROUS_NAMES = {"open", "eval", "exec", "compile", "getattr", "setattr", "delattr", "globals", "locals",
                    "vars", "input", "breakpoint", "help", "memoryview", "type", "object", "print"}
