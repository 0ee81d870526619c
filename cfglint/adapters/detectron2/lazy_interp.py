"""A restricted interpreter for Detectron2 LazyConfig files: walks the AST, never runs the code.

`LazyConfig.load` `exec`s a config file. We evaluate the same statements ourselves over the values
of :mod:`lazy_values`, supporting what configs actually use (notes/detectron2.md section 2.4):
imports as symbols, ``L(X)(...)``, ``get_config``, assignments of every shape, ``.update`` /
``.pop`` / ``del``, comprehensions, arithmetic, ``for``/``if`` and calls of the file's own ``def``s.
Anything that would need real code to run (an unknown call, ``open``, dunder access, a class body,
calling a lambda) is refused with a :class:`CfglintError` pointing at the line. What is allowed,
and the budget that bounds a file's work, is the policy of :mod:`cfglint.adapters.pycore`; this
module keeps LazyConfig's semantics (OmegaConf-like copies, ``LazyCall``, imports as symbols).
"""
from __future__ import annotations

import ast
from typing import Any, Callable, Dict, List, Optional, Sequence

from cfglint.adapters import pycore
from cfglint.adapters.detectron2.lazy_values import (CallRecord, ConfigDict, ConfigList, FunctionValue,
                                                     LambdaValue, Symbol, copy_value)
from cfglint.adapters.pycore import Budget, Refusal
from cfglint.errors import CfglintError, UnsafeContentError, UnsupportedError
from cfglint.model.location import Location

LAZY_CALL = {"detectron2.config.LazyCall", "detectron2.config.lazy.LazyCall"}
GET_CONFIG = {"detectron2.model_zoo.get_config", "detectron2.model_zoo.model_zoo.get_config"}
#: detrex's `get_config` reads detrex's own configs root, not detectron2's model zoo.
DETREX_GET_CONFIG = {"detrex.config.get_config", "detrex.config.config.get_config"}
OMEGACONF_CREATE = {"omegaconf.OmegaConf.create"}
LOAD_REL = {"detectron2.config.LazyConfig.load_rel", "detectron2.config.lazy.LazyConfig.load_rel"}
#: Constructors a config calls at load time whose result is plain data; kept as CallRecords.
#: `copy.deepcopy(node)` at load time (detrex copies a model's weight dict before extending it).
#: `copy.copy` is not modelled: a shallow copy shares the children of a dict but not of a DictConfig,
#: and the two are one ConfigDict here.
DEEPCOPY = {"copy.deepcopy"}
SHALLOW_COPY = {"copy.copy"}
_ATOMIC = (int, float, str, bool, type(None))
RECORDED_CALLS = {"detectron2.layers.ShapeSpec", "detectron2.layers.shape_spec.ShapeSpec", "functools.partial"}
MAX_CALL_DEPTH = 50

#: The pure builtins of pycore.LAZY_BUILTINS (`dict`/`list` build located config nodes instead).
SAFE_BUILTINS: Dict[str, Callable[..., Any]] = {
    name: pycore.PURE_BUILTINS[name] for name in pycore.LAZY_BUILTINS if name not in ("dict", "list")}
_PLAIN = (int, float, str, bool, type(None), tuple, ConfigList, list)


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _LazyTarget:
    """`L(X)`: waiting for its keyword arguments."""

    def __init__(self, target: Any) -> None:
        self.target = target


class Scope:
    """Names visible to a statement: function locals (if any) over the file's namespace."""

    def __init__(self, names: Dict[str, Any], parent: Optional["Scope"] = None) -> None:
        self.names = names
        self.parent = parent

    def lookup(self, name: str) -> Any:
        scope: Optional[Scope] = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        raise KeyError(name)


class FileInterpreter:
    """Evaluates one config file. `loader` resolves relative imports and get_config (see lazy.py)."""

    def __init__(self, path: str, loader: Any, depth: int = 0) -> None:
        self.path = path
        self.loader = loader
        self.depth = depth
        self.budget = Budget()
        self.namespace: Dict[str, Any] = {"__file__": path}   # as LazyConfig.load provides
        self.bound_at: Dict[str, Location] = {}   # top-level name -> the statement that bound it last

    # ---- errors and locations -------------------------------------------------------------
    def _loc(self, node: ast.AST) -> Location:
        return Location(self.path, getattr(node, "lineno", None))

    def _unsupported(self, node: ast.AST, message: str) -> UnsupportedError:
        return UnsupportedError(message, self.path, getattr(node, "lineno", None))

    def _unsafe(self, node: ast.AST, message: str) -> UnsafeContentError:
        return UnsafeContentError(message + "; cfglint never runs config code", self.path,
                                  getattr(node, "lineno", None))

    def _error(self, node: ast.AST, message: str) -> CfglintError:
        return CfglintError(message, self.path, getattr(node, "lineno", None))

    # ---- statements -----------------------------------------------------------------------
    def run(self, tree: ast.Module) -> Dict[str, Any]:
        """Evaluate the file; its values are measured before anyone copies or exports them."""
        self.exec_block(tree.body, Scope(self.namespace))
        for name, value in self.namespace.items():
            if type(value) not in _SCALARS:
                try:
                    self.budget.measure(value, None)
                except Refusal as refusal:
                    where = self.bound_at.get(name)
                    raise refusal.error(self.path, where.line if where else None) from None
        return self.namespace

    def _copy(self, value: Any, node: ast.AST) -> Any:
        """`copy_value` (OmegaConf copies what it stores) of a value measured first."""
        if type(value) in _SCALARS:
            return value
        self.budget.step(node, self.budget.measure(value, node))
        return copy_value(value)

    def exec_block(self, body: Sequence[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            self.exec_stmt(stmt, scope)

    def exec_stmt(self, node: ast.stmt, scope: Scope) -> None:
        handler = getattr(self, f"_stmt_{type(node).__name__}", None)
        if handler is None:
            raise self._unsupported(node, f"a `{_describe_stmt(node)}` statement is not supported in a "
                                          "LazyConfig file read statically")
        try:
            self.budget.step(node)
            handler(node, scope)
        except Refusal as refusal:
            raise refusal.error(self.path, getattr(refusal.node, "lineno", None) or node.lineno) from None

    def bind(self, scope: Scope, name: str, value: Any, where: Location) -> None:
        scope.names[name] = value
        if scope.names is self.namespace:
            self.bound_at[name] = where

    def _stmt_Import(self, node: ast.Import, scope: Scope) -> None:
        for alias in node.names:
            if pycore.refused_import(alias.name):
                raise self._unsafe(node, pycore.refused_import(alias.name))
            name = alias.asname or alias.name.split(".")[0]
            self.bind(scope, name, Symbol(alias.name if alias.asname else name), self._loc(node))

    def _stmt_ImportFrom(self, node: ast.ImportFrom, scope: Scope) -> None:
        if any(a.name == "*" for a in node.names):
            raise self._unsupported(node, "`import *` is not supported; import the names you use")
        if node.level == 0:
            refused = pycore.refused_import(node.module or "") or next(
                (pycore.refused_import(f"{node.module}.{a.name}") for a in node.names
                 if pycore.refused_import(f"{node.module}.{a.name}")), None)
            if refused:
                raise self._unsafe(node, refused)
            for alias in node.names:
                self.bind(scope, alias.asname or alias.name, Symbol(f"{node.module}.{alias.name}"), self._loc(node))
            return
        file = self.loader.find_relative(self.path, node.module or "", node.level, node.lineno)
        names = self.loader.load_file(file, self._loc(node), self.depth + 1).namespace
        for alias in node.names:
            if alias.name not in names:
                raise self._error(node, f"cannot import name {alias.name!r} from {file}")
            # `_cast_to_config`: an imported dict becomes a new DictConfig
            self.bind(scope, alias.asname or alias.name, self._copy(names[alias.name], node), self._loc(node))

    def _stmt_Assign(self, node: ast.Assign, scope: Scope) -> None:
        value = self.eval(node.value, scope)
        for target in node.targets:   # `a.x = b.y = v`: each target gets its own copy
            self.assign(target, value, scope, self._loc(node))

    def _stmt_AnnAssign(self, node: ast.AnnAssign, scope: Scope) -> None:
        pycore.check_annotation(node.annotation)   # LazyConfig.load evaluates it
        if node.value is not None:
            self.assign(node.target, self.eval(node.value, scope), scope, self._loc(node))
        elif not isinstance(node.target, ast.Name):
            raise self._unsupported(node, "annotating an attribute or item without assigning it is not supported")

    def _stmt_AugAssign(self, node: ast.AugAssign, scope: Scope) -> None:
        current = self.eval(node.target, scope)   # evaluation ignores the Store context
        value = self.binop(node, node.op, current, self.eval(node.value, scope))
        self.assign(node.target, value, scope, self._loc(node))

    def _stmt_Delete(self, node: ast.Delete, scope: Scope) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                if target.id not in scope.names:
                    raise self._error(node, f"name {target.id!r} is not defined")
                del scope.names[target.id]
            elif isinstance(target, ast.Attribute):
                self._delete_key(target, self.eval(target.value, scope), self._attr_name(target), node)
            elif isinstance(target, ast.Subscript):
                self._delete_key(target, self.eval(target.value, scope), self.eval(target.slice, scope), node)
            else:
                raise self._unsupported(node, "unsupported `del` target")

    def _delete_key(self, target: ast.AST, container: Any, key: Any, node: ast.AST) -> None:
        if isinstance(container, ConfigDict) and key in container:
            container.remove(key)
        elif isinstance(container, ConfigList) and isinstance(key, int) and -len(container) <= key < len(container):
            del container[key]
            del container.where[key]
        else:
            raise self._error(node, f"cannot delete {ast.unparse(target)}: no such key")

    def _stmt_Expr(self, node: ast.Expr, scope: Scope) -> None:
        self.eval(node.value, scope)

    def _stmt_Pass(self, node: ast.Pass, scope: Scope) -> None:
        pass

    def _stmt_If(self, node: ast.If, scope: Scope) -> None:
        self.exec_block(node.body if self.eval(node.test, scope) else node.orelse, scope)

    def _stmt_For(self, node: ast.For, scope: Scope) -> None:
        for item in self._iterate(node.iter, scope):
            self.budget.step(node)
            self.assign(node.target, item, scope, self._loc(node))
            self.exec_block(node.body, scope)
        self.exec_block(node.orelse, scope)

    def _stmt_FunctionDef(self, node: ast.FunctionDef, scope: Scope) -> None:
        if node.decorator_list:
            raise self._unsupported(node.decorator_list[0], f"decorated function {node.name!r}: decorators run code at load time")
        args = node.args
        if args.vararg or args.kwarg or args.posonlyargs:
            raise self._unsupported(node, f"function {node.name!r}: only plain parameters are supported")
        pycore.check_signature(args, node.returns)   # annotations; the defaults are evaluated below
        defaults = tuple(self.eval(d, scope) for d in args.defaults)
        kw_defaults = tuple(None if d is None else self.eval(d, scope) for d in args.kw_defaults)
        self.bind(scope, node.name, FunctionValue(node.name, node, self, defaults, kw_defaults), self._loc(node))

    def _stmt_Return(self, node: ast.Return, scope: Scope) -> None:
        if scope.parent is None:
            raise self._error(node, "`return` outside a function")
        raise _Return(None if node.value is None else self.eval(node.value, scope))

    def _stmt_ClassDef(self, node: ast.ClassDef, scope: Scope) -> None:
        raise self._unsupported(node, f"class {node.name!r}: a class body runs code at load time")

    # ---- assignment -------------------------------------------------------------------------
    def assign(self, target: ast.AST, value: Any, scope: Scope, where: Location) -> None:
        if isinstance(target, ast.Name):
            self.bind(scope, target.id, value, where)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = list(value) if isinstance(value, (tuple, list)) else None
            if items is None or len(items) != len(target.elts):
                raise self._error(target, "cannot unpack: the number of values does not match")
            for sub, item in zip(target.elts, items):
                self.assign(sub, item, scope, where)
        elif isinstance(target, ast.Attribute):
            container = self.eval(target.value, scope)
            self.store(target, container, self._attr_name(target), value, where)
        elif isinstance(target, ast.Subscript):
            container = self.eval(target.value, scope)
            self.store(target, container, self.eval(target.slice, scope), value, where)
        else:
            raise self._unsupported(target, "unsupported assignment target")

    def store(self, node: ast.AST, container: Any, key: Any, value: Any, where: Location) -> None:
        """`container.key = value` / `container[key] = value`, copying as OmegaConf does."""
        if isinstance(container, ConfigDict):
            container.put(key, self._copy(value, node), where)
        elif isinstance(container, ConfigList) and isinstance(key, int):
            if not -len(container) <= key < len(container):
                raise self._error(node, f"list index {key} out of range")
            container[key] = self._copy(value, node)
            container.where[key] = where
        else:
            raise self._error(node, f"cannot set {ast.unparse(node)}: {_kind(container)} is not a config node")

    # ---- expressions ------------------------------------------------------------------------
    def eval(self, node: ast.AST, scope: Scope) -> Any:
        handler = getattr(self, f"_eval_{type(node).__name__}", None)
        if handler is None:
            raise self._unsupported(node, f"the expression `{_snippet(node)}` is not supported in a "
                                          "LazyConfig file read statically")
        budget = self.budget
        budget.steps -= 1
        try:
            if budget.steps < 0:
                raise budget.out_of_steps(node)
            return handler(node, scope)
        except Refusal as refusal:
            raise refusal.error(self.path, getattr(refusal.node, "lineno", None) or node.lineno) from None
        except (TypeError, ValueError, ArithmeticError, LookupError, RecursionError) as exc:
            raise self._error(node, f"cannot evaluate `{_snippet(node)}`: {exc}") from None

    def _eval_Constant(self, node: ast.Constant, scope: Scope) -> Any:
        return pycore.check_constant(node.value, node)

    def _eval_Name(self, node: ast.Name, scope: Scope) -> Any:
        try:
            return scope.lookup(node.id)
        except KeyError:
            pass
        refused = pycore.refused_name(node.id)
        if refused:
            raise self._unsafe(node, refused)
        if node.id == "dict":
            return _dict_builtin
        if node.id == "list":
            return _list_builtin
        if node.id in SAFE_BUILTINS:
            return SAFE_BUILTINS[node.id]
        raise self._error(node, f"name {node.id!r} is not defined")

    def _attr_name(self, node: ast.Attribute) -> str:
        return pycore.check_attribute(node.attr, node)

    def _eval_Attribute(self, node: ast.Attribute, scope: Scope) -> Any:
        return self.attribute(node, self.eval(node.value, scope))

    def attribute(self, node: ast.Attribute, base: Any) -> Any:
        attr = self._attr_name(node)
        if isinstance(base, Symbol):
            return base.child(attr)
        if isinstance(base, ConfigDict):
            if attr not in base:
                raise self._error(node, f"{_snippet(node.value)} has no key {attr!r}")
            return base[attr]
        if isinstance(base, CallRecord) and attr in base.kwargs:
            return base.kwargs[attr]
        raise self._unsupported(node, f"attribute `{attr}` of {_kind(base)} cannot be read statically")

    def _eval_Subscript(self, node: ast.Subscript, scope: Scope) -> Any:
        base = self.eval(node.value, scope)
        key = self.eval(node.slice, scope)
        if isinstance(base, dict):
            if key not in base:
                raise self._error(node, f"{_snippet(node.value)} has no key {key!r}")
            return base[key]
        if isinstance(base, (list, tuple, str)):
            result = base[key]
            if isinstance(key, slice):
                self.budget.charge(result, node)
                if isinstance(base, ConfigList):
                    return ConfigList(result, base.where[key])
            return result
        raise self._unsupported(node, f"cannot index {_kind(base)}")

    def _eval_Slice(self, node: ast.Slice, scope: Scope) -> slice:
        part = lambda n: None if n is None else self.eval(n, scope)  # noqa: E731
        return slice(part(node.lower), part(node.upper), part(node.step))

    def _eval_List(self, node: ast.List, scope: Scope) -> ConfigList:
        out = ConfigList()
        for elt in node.elts:
            if isinstance(elt, ast.Starred):
                items = self._iterate(elt.value, scope)
                pycore.check_extend(out, items, elt)
                for item in items:
                    out.add(item, self._loc(elt))
            else:
                out.add(self.eval(elt, scope), self._loc(elt))
        return out

    def _eval_Tuple(self, node: ast.Tuple, scope: Scope) -> tuple:
        return self.budget.check_tuple(tuple(self._eval_List(ast.List(elts=node.elts, ctx=ast.Load()), scope)), node)

    def _eval_Dict(self, node: ast.Dict, scope: Scope) -> ConfigDict:
        out = ConfigDict()
        for key_node, value_node in zip(node.keys, node.values):
            value = self.eval(value_node, scope)
            if key_node is None:   # {**other}
                if not isinstance(value, dict):
                    raise self._error(value_node, f"cannot unpack {_kind(value)} into a dict")
                for k, v in value.items():
                    out.put(k, v, getattr(value, "where", {}).get(k))
            else:
                out.put(self.eval(key_node, scope), value, self._loc(key_node))
        return out

    def _eval_BinOp(self, node: ast.BinOp, scope: Scope) -> Any:
        return self.binop(node, node.op, self.eval(node.left, scope), self.eval(node.right, scope))

    def binop(self, node: ast.AST, op: ast.operator, left: Any, right: Any) -> Any:
        """Arithmetic on plain values (pycore.binop); repeating or joining lists keeps ConfigLists."""
        if not isinstance(op, pycore.ARITHMETIC) or not isinstance(left, _PLAIN) or not isinstance(right, _PLAIN):
            raise self._unsupported(node, f"the operation `{_snippet(node)}` on {_kind(left)} and "
                                          f"{_kind(right)} is not supported")
        if isinstance(op, ast.Mult):
            seq, count = (left, right) if isinstance(left, ConfigList) else (right, left)
            if isinstance(seq, ConfigList) and type(count) is int:
                if len(seq) * count > pycore.MAX_ITEMS:
                    raise pycore.too_long(node)
                self.budget.measure(seq, node)
                return self.budget.charge(ConfigList([copy_value(v) for v in list(seq) * count], seq.where * count),
                                          node)
        if isinstance(op, ast.Add) and isinstance(left, ConfigList) and isinstance(right, list):
            pycore.check_extend(left, right, node)
            return self.budget.charge(ConfigList(list(left) + list(right), left.where +
                                                 list(getattr(right, "where", [None] * len(right)))), node)
        return pycore.binop(type(op), left, right, node, self.budget)

    def _eval_UnaryOp(self, node: ast.UnaryOp, scope: Scope) -> Any:
        value = self.eval(node.operand, scope)
        if isinstance(node.op, ast.Not):
            return not value
        if not isinstance(value, (int, float)):
            raise self._unsupported(node, f"`{_snippet(node)}` on {_kind(value)} is not supported")
        return pycore.unaryop(type(node.op), value, node)

    def _eval_BoolOp(self, node: ast.BoolOp, scope: Scope) -> Any:
        return pycore.boolop(node, lambda n: self.eval(n, scope))

    def _eval_Compare(self, node: ast.Compare, scope: Scope) -> bool:
        return pycore.compare(node, lambda n: self.eval(n, scope), self.budget)

    def _eval_IfExp(self, node: ast.IfExp, scope: Scope) -> Any:
        return self.eval(node.body if self.eval(node.test, scope) else node.orelse, scope)

    def _eval_JoinedStr(self, node: ast.JoinedStr, scope: Scope) -> str:
        return pycore.joined_str(node, lambda n: self.eval(n, scope), self.budget)

    def _eval_Lambda(self, node: ast.Lambda, scope: Scope) -> LambdaValue:
        for default in pycore.check_signature(node.args):   # evaluated when the lambda is created
            self.eval(default, scope)
        return LambdaValue(ast.unparse(node))

    # ---- comprehensions ---------------------------------------------------------------------
    def _iterate(self, node: ast.AST, scope: Scope) -> List[Any]:
        value = self.eval(node, scope)
        if isinstance(value, (list, tuple, range, str, dict)):
            return list(value)
        if isinstance(value, (enumerate, zip, reversed)) or type(value).__name__ in ("dict_keys", "dict_values",
                                                                                    "dict_items", "list_reverseiterator"):
            return list(value)
        raise self._unsupported(node, f"cannot iterate over {_kind(value)}")

    def _comprehension(self, node: Any, scope: Scope, emit: Callable[[Scope], None]) -> None:
        inner = Scope({}, scope)
        pycore.comprehend(node.generators, lambda expr, i: self._iterate(expr, inner if i else scope),
                          lambda target, item: self.assign(target, item, inner, self._loc(target)),
                          lambda cond: self.eval(cond, inner), lambda: emit(inner), self.budget)

    def _eval_ListComp(self, node: ast.ListComp, scope: Scope) -> ConfigList:
        out = ConfigList()

        def emit(s: Scope) -> None:
            out.add(self.eval(node.elt, s), self._loc(node.elt))
            if len(out) > pycore.MAX_ITEMS:
                raise pycore.too_long(node, "the comprehension")
        self._comprehension(node, scope, emit)
        return out

    _eval_GeneratorExp = _eval_ListComp

    def _eval_DictComp(self, node: ast.DictComp, scope: Scope) -> ConfigDict:
        out = ConfigDict()
        self._comprehension(node, scope, lambda s: out.put(self.eval(node.key, s), self.eval(node.value, s),
                                                           self._loc(node.value)))
        return out

    # ---- calls ------------------------------------------------------------------------------
    def _eval_Call(self, node: ast.Call, scope: Scope) -> Any:
        func = node.func
        if isinstance(func, ast.Attribute):
            base = self.eval(func.value, scope)
            method = _METHODS.get((type(base).__name__, self._attr_name(func)))
            if isinstance(base, str) and method is None:
                args, kwargs = self._call_args(node, scope)
                result = pycore.str_method(base, func.attr, args, kwargs, node, self.budget)
                return ConfigList(result) if isinstance(result, list) else result
            if method is not None:
                args, kwargs = self._call_args(node, scope)
                self.budget.work(base, node)   # methods are linear in the object (insert, index...)
                for arg in args:
                    self.budget.work(arg, node)
                return method(self, node, base, *args, **kwargs)
            callee = self.attribute(func, base)
        else:
            callee = self.eval(func, scope)
        args, kwargs = self._call_args(node, scope)
        if isinstance(callee, _LazyTarget):
            if args:
                raise self._error(node, "LazyCall takes keyword arguments only")
            out = ConfigDict()
            for kw in node.keywords:   # keep the keyword's own line
                out.put(kw.arg, self._copy(kwargs[kw.arg], kw), self._loc(kw))
            out.put("_target_", callee.target, self._loc(node))
            return out
        if isinstance(callee, Symbol):
            return self._call_symbol(node, callee, args, kwargs)
        if isinstance(callee, FunctionValue):
            return callee.module.call_function(node, callee, args, kwargs, self.depth)
        if callee is _dict_builtin or callee is _list_builtin:
            return callee(self, node, *args, **kwargs)
        if callable(callee) and any(callee is fn for fn in SAFE_BUILTINS.values()):
            return pycore.call_builtin(callee, args, kwargs, node, self.budget)
        if isinstance(callee, LambdaValue):
            raise self._unsupported(node, "calling a lambda at load time is not supported")
        raise self._unsupported(node, f"cannot call {_kind(callee)} at load time")

    def _call_args(self, node: ast.Call, scope: Scope) -> Any:
        args: List[Any] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args.extend(self._iterate(arg.value, scope))
                pycore.check_extend(args, (), arg)
            else:
                args.append(self.eval(arg, scope))
        kwargs: Dict[str, Any] = {}
        for kw in node.keywords:
            if kw.arg is None:
                value = self.eval(kw.value, scope)
                if not isinstance(value, dict):
                    raise self._error(kw, f"cannot unpack {_kind(value)} as keyword arguments")
                kwargs.update(value)
            else:
                kwargs[kw.arg] = self.eval(kw.value, scope)
        return args, kwargs

    def _call_symbol(self, node: ast.Call, symbol: Symbol, args: List[Any], kwargs: Dict[str, Any]) -> Any:
        name = symbol.dotted
        if name in LAZY_CALL:
            if len(args) != 1 or kwargs:
                raise self._error(node, "LazyCall takes exactly one target")
            target = args[0]
            if not isinstance(target, (Symbol, str, dict, FunctionValue)):
                raise self._error(node, f"the target of LazyCall must be callable, got {_kind(target)}")
            return _LazyTarget(target)
        if name in GET_CONFIG:
            if len(args) != 1 or not isinstance(args[0], str):
                raise self._error(node, "get_config takes one config path string")
            if kwargs.get("trained"):
                raise self._unsupported(node, "get_config(..., trained=True) needs the model-zoo catalog; "
                                              "set train.init_checkpoint explicitly instead")
            return self.loader.get_config(args[0], self._loc(node), self.depth + 1)
        if name in DETREX_GET_CONFIG:
            if len(args) != 1 or not isinstance(args[0], str) or kwargs:
                raise self._error(node, "detrex's get_config takes one config path string")
            return self.loader.get_config(args[0], self._loc(node), self.depth + 1, zoo="detrex")
        if name in LOAD_REL:
            return self._load_rel(node, args, kwargs)
        if name in DEEPCOPY:
            if len(args) != 1 or kwargs:
                raise self._error(node, f"{name}() takes one value")
            return self._copy(args[0], node)
        if name in SHALLOW_COPY:
            if len(args) != 1 or kwargs:
                raise self._error(node, f"{name}() takes one value")
            value = args[0]
            if isinstance(value, _ATOMIC + (Symbol,)) or (isinstance(value, tuple)
                                                         and all(isinstance(v, _ATOMIC) for v in value)):
                return value        # nothing mutable to share
            raise self._unsupported(node, f"copy.copy of {_kind(value)} shares its contents with the original "
                                          "(OmegaConf's shallow copy), which cfglint does not model; use copy.deepcopy")
        if name in OMEGACONF_CREATE:
            return _omegaconf_create(self, node, *args, **kwargs)
        if name in RECORDED_CALLS:
            return CallRecord(name, [self._copy(a, node) for a in args],
                              {k: self._copy(v, node) for k, v in kwargs.items()})
        if pycore.unsafe_module(name):
            raise self._unsafe(node, f"calls `{name}`")
        raise self._unsupported(node, f"calls `{name}` at load time; cfglint never runs config code "
                                      f"(wrap it as L({name.rsplit('.', 1)[-1]})(...) to make it lazy)")

    def _load_rel(self, node: ast.Call, args: List[Any], kwargs: Dict[str, Any]) -> Any:
        """`LazyConfig.load_rel("../common/x.py", keys=None)`: "the same as a relative import, with the
        file name as a string" (detectron2); found exactly as a relative import is, so it gets the
        same checks. The result: the file's config objects, or those named by `keys`."""
        if kwargs.keys() - {"keys"} or not 1 <= len(args) + len(kwargs) <= 2 or not isinstance(args[0] if args else None, str):
            raise self._error(node, "LazyConfig.load_rel takes a file name and optional keys")
        filename = args[0]
        keys = kwargs.get("keys", args[1] if len(args) > 1 else None)
        parts = filename.split("/")
        level = 1
        while parts and parts[0] in (".", ".."):
            level += parts.pop(0) == ".."
        if not parts or not parts[-1].endswith(".py") or "\\" in filename or \
                any(not p or p in (".", "..") or "." in p for p in parts[:-1] + [parts[-1][:-3]]):
            raise self._unsupported(node, f"LazyConfig.load_rel({filename[:80]!r}): only a relative path of plain "
                                          "names to a .py file is supported")
        file = self.loader.find_relative(self.path, ".".join(parts[:-1] + [parts[-1][:-3]]), level, node.lineno)
        loaded = self.loader.load_file(file, self._loc(node), self.depth + 1)
        from cfglint.adapters.detectron2.lazy import config_objects   # lazy.py imports this module
        configs = config_objects(loaded)
        if keys is None:
            return configs
        names = (keys,) if isinstance(keys, str) else keys
        if not isinstance(names, tuple) or not all(isinstance(k, str) for k in names):
            raise self._error(node, "the keys of LazyConfig.load_rel must be a string or a tuple of strings")
        missing = [k for k in names if k not in configs]
        if missing:
            raise self._error(node, f"LazyConfig.load_rel({filename[:80]!r}) has no config object {missing[0]!r}")
        values = tuple(self._copy(configs[k], node) for k in names)
        return values[0] if isinstance(keys, str) else values

    def call_function(self, node: ast.Call, func: FunctionValue, args: List[Any], kwargs: Dict[str, Any],
                      depth: int) -> Any:
        """Interpret a call of a `def` of this file, with its own local names."""
        if depth > MAX_CALL_DEPTH:
            raise self._error(node, f"calls to {func.name!r} nest too deeply")
        self.budget.step(node)
        params = [a.arg for a in func.node.args.args]
        kwonly = [a.arg for a in func.node.args.kwonlyargs]
        if len(args) > len(params):
            raise CfglintError(f"{func.name}() takes {len(params)} positional arguments", self.path, node.lineno)
        local: Dict[str, Any] = dict(zip(params, args))
        first_default = len(params) - len(func.defaults)
        for i, name in enumerate(params[len(args):], start=len(args)):
            if name in kwargs:
                local[name] = kwargs.pop(name)
            elif i >= first_default:
                local[name] = self._copy(func.defaults[i - first_default], node)
            else:
                raise CfglintError(f"{func.name}() is missing the argument {name!r}", self.path, node.lineno)
        for name, default in zip(kwonly, func.kw_defaults):
            if name in kwargs:
                local[name] = kwargs.pop(name)
            elif default is not None:
                local[name] = self._copy(default, node)
            else:
                raise CfglintError(f"{func.name}() is missing the argument {name!r}", self.path, node.lineno)
        if kwargs:
            raise CfglintError(f"{func.name}() got unexpected arguments {sorted(kwargs)}", self.path, node.lineno)
        saved, self.depth = self.depth, depth + 1
        try:
            self.exec_block(func.node.body, Scope(local, Scope(self.namespace)))
        except _Return as ret:
            return ret.value
        finally:
            self.depth = saved
        return None


# ---- builtins and methods that act on config nodes --------------------------------------------
def _dict_builtin(interp: FileInterpreter, node: ast.Call, *args: Any, **kwargs: Any) -> ConfigDict:
    if len(args) > 1 or (args and not isinstance(args[0], dict)):
        raise interp._unsupported(node, "dict() with positional arguments other than a mapping is not supported")
    out = ConfigDict()
    if args:
        for k, v in args[0].items():
            out.put(k, v, getattr(args[0], "where", {}).get(k))
    for kw in node.keywords:
        if kw.arg is not None:
            out.put(kw.arg, kwargs[kw.arg], interp._loc(kw))
    return out


def _list_builtin(interp: FileInterpreter, node: ast.Call, *args: Any) -> ConfigList:
    if not args:
        return ConfigList()
    return ConfigList(list(args[0]), getattr(args[0], "where", None) if isinstance(args[0], ConfigList) else None)


def _omegaconf_create(interp: FileInterpreter, node: ast.Call, obj: Any = None, **kwargs: Any) -> Any:
    if kwargs:
        raise interp._unsupported(node, "OmegaConf.create() with keyword arguments is not supported")
    if obj is None:
        return ConfigDict()
    if isinstance(obj, ConfigDict):
        return interp._copy(obj, node)
    if isinstance(obj, (list, tuple)):
        out = ConfigList([interp._copy(v, node) for v in obj], getattr(obj, "where", None))
        out.is_list_config = True
        return out
    raise interp._unsupported(node, "OmegaConf.create() of a non-container is not supported")


def _dict_update(interp: FileInterpreter, node: ast.Call, target: ConfigDict, *args: Any, **kwargs: Any) -> None:
    if len(args) > 1 or (args and not isinstance(args[0], dict)):
        raise interp._error(node, "update() takes one mapping and/or keyword arguments")
    if args:
        for k, v in args[0].items():
            target.put(k, interp._copy(v, node), getattr(args[0], "where", {}).get(k) or interp._loc(node))
    for kw in node.keywords:
        if kw.arg is not None:
            target.put(kw.arg, interp._copy(kwargs[kw.arg], node), interp._loc(kw))


def _dict_pop(interp: FileInterpreter, node: ast.Call, target: ConfigDict, *args: Any) -> Any:
    if not 1 <= len(args) <= 2:
        raise interp._error(node, "pop() takes a key and an optional default")
    if args[0] in target:
        return target.remove(args[0])
    if len(args) == 2:
        return args[1]
    raise interp._error(node, f"cannot pop {args[0]!r}: no such key")


def _dict_get(interp: FileInterpreter, node: ast.Call, target: ConfigDict, key: Any, default: Any = None) -> Any:
    return target.get(key, default)


def _list_append(interp: FileInterpreter, node: ast.Call, target: ConfigList, value: Any) -> None:
    target.add(interp._copy(value, node), interp._loc(node))


def _list_extend(interp: FileInterpreter, node: ast.Call, target: ConfigList, values: Any) -> None:
    values = list(values)
    pycore.check_extend(target, values, node)   # `x.extend(x)` in a loop doubles
    interp.budget.charge(values, node)
    for value in values:
        target.add(interp._copy(value, node), interp._loc(node))


def _list_insert(interp: FileInterpreter, node: ast.Call, target: ConfigList, index: int, value: Any) -> None:
    target.insert(index, interp._copy(value, node))
    target.where.insert(index, interp._loc(node))


def _list_pop(interp: FileInterpreter, node: ast.Call, target: ConfigList, index: int = -1) -> Any:
    if not target:
        raise interp._error(node, "pop from an empty list")
    del target.where[index]
    return target.pop(index)


def _list_remove(interp: FileInterpreter, node: ast.Call, target: ConfigList, value: Any) -> None:
    index = target.index(value)
    del target[index]
    del target.where[index]


_METHODS: Dict[Any, Callable[..., Any]] = {
    ("ConfigDict", "update"): _dict_update,
    ("ConfigDict", "pop"): _dict_pop,
    ("ConfigDict", "get"): _dict_get,
    ("ConfigDict", "keys"): lambda i, n, t: list(t.keys()),
    ("ConfigDict", "values"): lambda i, n, t: list(t.values()),
    ("ConfigDict", "items"): lambda i, n, t: list(t.items()),
    ("ConfigList", "append"): _list_append,
    ("ConfigList", "extend"): _list_extend,
    ("ConfigList", "insert"): _list_insert,
    ("ConfigList", "pop"): _list_pop,
    ("ConfigList", "remove"): _list_remove,
    ("ConfigList", "index"): lambda i, n, t, v: t.index(v),
    ("ConfigList", "count"): lambda i, n, t, v: t.count(v),
    # str methods: pycore.str_method (see _eval_Call)
}
_SCALARS = (int, float, str, bool, type(None), Symbol)


def _kind(value: Any) -> str:
    if isinstance(value, Symbol):
        return f"`{value.dotted}`"
    if isinstance(value, ConfigDict):
        return "a config node"
    if isinstance(value, (ConfigList, list)):
        return "a list"
    if isinstance(value, CallRecord):
        return f"a {value.target.rsplit('.', 1)[-1]}(...) value"
    if isinstance(value, (LambdaValue, FunctionValue)):
        return "a function"
    return f"a {type(value).__name__}"


def _snippet(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe_stmt(node: ast.stmt) -> str:
    return {"While": "while", "With": "with", "Try": "try", "Raise": "raise", "Global": "global",
            "Nonlocal": "nonlocal", "Assert": "assert", "AsyncFunctionDef": "async def", "Break": "break",
            "Continue": "continue", "Match": "match"}.get(type(node).__name__, type(node).__name__)
