"""A restricted evaluator for the small expressions configs embed, without Python's `eval`.

Configs compute values in place: Detectron2's `Base-RetinaNet.yaml` has
`!!python/object/apply:eval ["[[x, x * 2**(1.0/3), ...] for x in [32, 64, ...]]"]`, and config
code writes `14 * 14` or `1.0 / 1000`. This module walks the `ast` of such an expression and
evaluates only literals, arithmetic, comparisons, conditional expressions, comprehensions and a
handful of pure builtins. Anything else (attributes, imports, other calls, lambdas) is refused
with UnsafeContentError, and sizes are bounded so an expression cannot exhaust memory or time.
The allowed builtins, refused names, operators and limits are those of :mod:`cfglint.adapters.pycore`.
"""
from __future__ import annotations

import ast
from typing import Any, Callable, Dict, Mapping, Optional

from cfglint.adapters import pycore
from cfglint.adapters.pycore import MAX_ITEMS, Budget, Refusal
from cfglint.errors import CfglintError, UnsafeContentError

#: Longest expression text accepted; configs embed one-liners.
MAX_SOURCE = 10_000

#: The only functions an expression may call (pure, bounded; the policy is in :mod:`pycore`).
ALLOWED_CALLS: Dict[str, Callable[..., Any]] = {name: pycore.PURE_BUILTINS[name] for name in pycore.EXPR_BUILTINS}


def evaluate(source: str, *, names: Optional[Mapping[str, Any]] = None,
             file: Optional[str] = None, line: Optional[int] = None) -> Any:
    """Evaluate `source` (one expression) and return plain data.

    `names` are read-only variables the expression may use. Raises UnsafeContentError for a
    construct outside the allowed subset, CfglintError when evaluation itself fails or exceeds
    a limit of :class:`pycore.Budget`. Every error names `file`:`line` (the tag's position).
    """
    if not isinstance(source, str):
        raise CfglintError(f"expected an expression string, got {type(source).__name__}", file, line)
    if len(source) > MAX_SOURCE:
        raise CfglintError(f"expression of {len(source)} characters is too long to evaluate", file, line)
    shown = pycore.snippet(ast.Constant(source), 80)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise CfglintError(f"invalid expression {shown}: {exc.msg}", file, line) from None
    except (MemoryError, RecursionError):
        raise CfglintError(f"expression {shown} is nested too deeply", file, line) from None
    try:
        value = _Evaluator(dict(names or {})).eval(tree.body)
    except Refusal as exc:
        if exc.kind in (pycore.UNSAFE, pycore.UNSUPPORTED):
            raise UnsafeContentError(f"refusing to evaluate {shown}: {exc.message}", file, line) from None
        raise CfglintError(f"cannot evaluate {shown}: {exc.message}", file, line) from None
    except RecursionError:
        raise CfglintError(f"cannot evaluate {shown}: it is nested too deeply", file, line) from None
    except (ArithmeticError, TypeError, ValueError, IndexError, KeyError) as exc:
        raise CfglintError(f"cannot evaluate {shown}: {exc}", file, line) from None
    if isinstance(value, _Generator):
        raise CfglintError(f"cannot evaluate {shown}: a generator expression is not a value", file, line)
    return value


class _Generator(list):
    """A generator expression, materialized (bounded); only calls may consume it."""


def _refuse(message: str) -> Refusal:
    return Refusal(pycore.UNSAFE, message)


class _Evaluator:
    """Plain data only: literals, arithmetic, comprehensions, the calls of ALLOWED_CALLS."""

    def __init__(self, names: Dict[str, Any]):
        self.scopes = [names]
        self.budget = Budget.for_expression()

    def eval(self, node: ast.AST) -> Any:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise _refuse(f"{_describe(node)} is not allowed in a config expression")
        budget = self.budget
        budget.steps -= 1
        if budget.steps < 0:
            raise budget.out_of_steps(node)
        return method(node)

    # literals and containers
    def _Constant(self, node: ast.Constant) -> Any:
        if node.value is Ellipsis or isinstance(node.value, bytes):
            raise _refuse(f"{type(node.value).__name__} literals are not allowed")
        return pycore.check_constant(node.value, node)

    def _List(self, node: ast.List) -> list:
        return [self.eval(e) for e in node.elts]

    def _Tuple(self, node: ast.Tuple) -> tuple:
        return self.budget.check_tuple(tuple(self.eval(e) for e in node.elts), node)

    def _Dict(self, node: ast.Dict) -> dict:
        if any(k is None for k in node.keys):
            raise _refuse("dict unpacking (**) is not allowed")
        out = {}
        for k, v in zip(node.keys, node.values):
            key = self.eval(k)
            self.budget.measure(key, node)
            out[key] = self.eval(v)
        return out

    def _Set(self, node: ast.Set) -> set:
        items = [self.eval(e) for e in node.elts]
        self.budget.measure(items, node)
        return set(items)

    # operators
    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        if isinstance(node.op, ast.Invert):
            raise _refuse("operator Invert is not allowed")
        return pycore.unaryop(type(node.op), self.eval(node.operand), node)

    def _BinOp(self, node: ast.BinOp) -> Any:
        if not isinstance(node.op, pycore.ARITHMETIC):
            raise _refuse(f"operator {type(node.op).__name__} is not allowed")
        return pycore.binop(type(node.op), self.eval(node.left), self.eval(node.right), node, self.budget)

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        return pycore.boolop(node, self.eval)

    def _Compare(self, node: ast.Compare) -> bool:
        for op in node.ops:
            if isinstance(op, (ast.Is, ast.IsNot)):
                raise _refuse(f"comparison {type(op).__name__} is not allowed")
        return pycore.compare(node, self.eval, self.budget)

    def _IfExp(self, node: ast.IfExp) -> Any:
        return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)

    def _Subscript(self, node: ast.Subscript) -> Any:
        container = self.eval(node.value)
        if not isinstance(container, (list, tuple, str, dict, range)):
            raise TypeError(f"{type(container).__name__} is not subscriptable")
        key = self.eval(node.slice)
        return self.budget.charge(container[key], node) if type(key) is slice else container[key]

    def _Slice(self, node: ast.Slice) -> slice:
        parts = (node.lower, node.upper, node.step)
        return slice(*(None if p is None else self.eval(p) for p in parts))

    # names, calls, comprehensions
    def _Name(self, node: ast.Name) -> Any:
        for scope in reversed(self.scopes):
            if node.id in scope:
                return scope[node.id]
        if node.id in ALLOWED_CALLS:
            raise _refuse(f"{node.id} may only be called")
        raise _refuse(f"name {node.id!r} is not defined (expressions cannot read variables)")

    def _Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.func.id not in ALLOWED_CALLS:
            raise _refuse(f"only {', '.join(ALLOWED_CALLS)} may be called, not {_describe(node.func)}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise _refuse("keyword or starred arguments are not allowed")
        args = [self.eval(a) for a in node.args]
        return pycore.call_builtin(ALLOWED_CALLS[node.func.id], args, {}, node, self.budget)

    def _ListComp(self, node: ast.ListComp) -> list:
        return self._comprehension(node.generators, lambda: self.eval(node.elt), node)

    def _SetComp(self, node: ast.SetComp) -> set:
        return set(self._comprehension(node.generators, lambda: self.eval(node.elt), node))

    def _GeneratorExp(self, node: ast.GeneratorExp) -> "_Generator":
        return _Generator(self._comprehension(node.generators, lambda: self.eval(node.elt), node))

    def _DictComp(self, node: ast.DictComp) -> dict:
        return dict(self._comprehension(node.generators, lambda: (self.eval(node.key), self.eval(node.value)), node))

    def _comprehension(self, generators, produce: Callable[[], Any], node: ast.AST) -> list:
        out: list = []

        def emit() -> None:
            out.append(produce())
            if len(out) > self.budget.max_items:
                raise pycore.too_long(node, "the comprehension", self.budget.max_items)

        def iterate(expr: ast.expr, index: int) -> Any:
            iterable = self.eval(expr)
            if not isinstance(iterable, (list, tuple, range, str, dict, set)):
                raise TypeError(f"cannot iterate over {type(iterable).__name__}")
            return iterable

        self.scopes.append({})
        try:
            pycore.comprehend(generators, iterate, self._bind, self.eval, emit, self.budget)
        finally:
            self.scopes.pop()
        return self.budget.charge(out, node)

    def _bind(self, target: ast.AST, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.scopes[-1][target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = list(value)
            if len(values) != len(target.elts):
                raise ValueError(f"cannot unpack {len(values)} values into {len(target.elts)} names")
            for t, v in zip(target.elts, values):
                self._bind(t, v)
        else:
            raise _refuse(f"assigning to {_describe(target)} is not allowed")


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"attribute access .{node.attr}"
    return {"Lambda": "a lambda", "NamedExpr": "an assignment expression", "Await": "await",
            "Yield": "yield", "JoinedStr": "an f-string", "Starred": "unpacking"}.get(
        type(node).__name__, type(node).__name__)


__all__ = ["evaluate", "ALLOWED_CALLS", "MAX_ITEMS"]
