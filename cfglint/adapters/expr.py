"""A restricted evaluator for the small expressions configs embed, without Python's `eval`.

Configs compute values in place: Detectron2's `Base-RetinaNet.yaml` has
`!!python/object/apply:eval ["[[x, x * 2**(1.0/3), ...] for x in [32, 64, ...]]"]`, and config
code writes `14 * 14` or `1.0 / 1000`. This module walks the `ast` of such an expression and
evaluates only literals, arithmetic, comparisons, conditional expressions, comprehensions and a
handful of pure builtins. Anything else (attributes, imports, other calls, lambdas) is refused
with UnsafeContentError, and sizes are bounded so an expression cannot exhaust memory or time.
"""
from __future__ import annotations

import ast
import operator
from typing import Any, Callable, Dict, Mapping, Optional

from cfglint.errors import CfglintError, UnsafeContentError

#: Longest sequence (range, repetition, comprehension output) an expression may build.
MAX_ITEMS = 100_000
#: Largest integer (in bits) arithmetic may produce; 2**4096 is far beyond any config value.
MAX_INT_BITS = 4096
#: Longest expression text accepted; configs embed one-liners.
MAX_SOURCE = 10_000


def _bounded_range(*args: int) -> range:
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        raise TypeError("range() takes integers")
    r = range(*args)
    if len(r) > MAX_ITEMS:
        raise ValueError(f"range of {len(r)} items exceeds the limit of {MAX_ITEMS}")
    return r


#: The only functions an expression may call: pure, and bounded by their arguments.
ALLOWED_CALLS: Dict[str, Callable[..., Any]] = {
    "range": _bounded_range, "int": int, "float": float, "len": len, "min": min, "max": max,
    "round": round, "abs": abs, "sum": sum, "tuple": tuple, "list": list, "bool": bool,
}

_BINARY_OPS: Dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY_OPS: Dict[type, Callable[[Any], Any]] = {
    ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_,
}
_COMPARE_OPS: Dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


class _Refused(Exception):
    """A construct the evaluator will not run (becomes UnsafeContentError)."""


def evaluate(source: str, *, names: Optional[Mapping[str, Any]] = None,
             file: Optional[str] = None, line: Optional[int] = None) -> Any:
    """Evaluate `source` (one expression) and return plain data.

    `names` are read-only variables the expression may use. Raises UnsafeContentError for a
    construct outside the allowed subset, CfglintError when evaluation itself fails.
    """
    if not isinstance(source, str):
        raise CfglintError(f"expected an expression string, got {type(source).__name__}", file, line)
    if len(source) > MAX_SOURCE:
        raise CfglintError(f"expression of {len(source)} characters is too long to evaluate", file, line)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise CfglintError(f"invalid expression {source!r}: {exc.msg}", file, line) from None
    try:
        value = _Evaluator(dict(names or {})).eval(tree.body)
    except _Refused as exc:
        raise UnsafeContentError(f"refusing to evaluate {source!r}: {exc}", file, line) from None
    except (ArithmeticError, TypeError, ValueError, IndexError, KeyError, RecursionError) as exc:
        raise CfglintError(f"cannot evaluate {source!r}: {exc}", file, line) from None
    if isinstance(value, _Generator):
        raise CfglintError(f"cannot evaluate {source!r}: a generator expression is not a value", file, line)
    return value


class _Generator(list):
    """A generator expression, materialized (bounded); only calls may consume it."""


class _Evaluator:
    def __init__(self, names: Dict[str, Any]):
        self.scopes = [names]

    def eval(self, node: ast.AST) -> Any:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise _Refused(f"{_describe(node)} is not allowed in a config expression")
        return method(node)

    # literals and containers
    def _Constant(self, node: ast.Constant) -> Any:
        if node.value is Ellipsis or isinstance(node.value, bytes):
            raise _Refused(f"{type(node.value).__name__} literals are not allowed")
        return node.value

    def _List(self, node: ast.List) -> list:
        return _check_size([self.eval(e) for e in node.elts])

    def _Tuple(self, node: ast.Tuple) -> tuple:
        return tuple(self.eval(e) for e in node.elts)

    def _Dict(self, node: ast.Dict) -> dict:
        if any(k is None for k in node.keys):
            raise _Refused("dict unpacking (**) is not allowed")
        return {self.eval(k): self.eval(v) for k, v in zip(node.keys, node.values)}

    def _Set(self, node: ast.Set) -> set:
        return {self.eval(e) for e in node.elts}

    # operators
    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        op = _UNARY_OPS.get(type(node.op))
        if op is None:
            raise _Refused(f"operator {type(node.op).__name__} is not allowed")
        return op(self.eval(node.operand))

    def _BinOp(self, node: ast.BinOp) -> Any:
        op = _BINARY_OPS.get(type(node.op))
        if op is None:
            raise _Refused(f"operator {type(node.op).__name__} is not allowed")
        left, right = self.eval(node.left), self.eval(node.right)
        _check_operands(type(node.op), left, right)
        return _check_size(op(left, right))

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        value = None
        for operand in node.values:
            value = self.eval(operand)
            if isinstance(node.op, ast.And) and not value:
                return value
            if isinstance(node.op, ast.Or) and value:
                return value
        return value

    def _Compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op_node, comparator in zip(node.ops, node.comparators):
            op = _COMPARE_OPS.get(type(op_node))
            if op is None:
                raise _Refused(f"comparison {type(op_node).__name__} is not allowed")
            right = self.eval(comparator)
            if not op(left, right):
                return False
            left = right
        return True

    def _IfExp(self, node: ast.IfExp) -> Any:
        return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)

    def _Subscript(self, node: ast.Subscript) -> Any:
        container = self.eval(node.value)
        if not isinstance(container, (list, tuple, str, dict, range)):
            raise TypeError(f"{type(container).__name__} is not subscriptable")
        return container[self.eval(node.slice)]

    def _Slice(self, node: ast.Slice) -> slice:
        parts = (node.lower, node.upper, node.step)
        return slice(*(None if p is None else self.eval(p) for p in parts))

    # names, calls, comprehensions
    def _Name(self, node: ast.Name) -> Any:
        for scope in reversed(self.scopes):
            if node.id in scope:
                return scope[node.id]
        if node.id in ALLOWED_CALLS:
            raise _Refused(f"{node.id} may only be called")
        raise _Refused(f"name {node.id!r} is not defined (expressions cannot read variables)")

    def _Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.func.id not in ALLOWED_CALLS:
            raise _Refused(f"only {', '.join(ALLOWED_CALLS)} may be called, not {_describe(node.func)}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise _Refused("keyword or starred arguments are not allowed")
        args = [self.eval(a) for a in node.args]
        return _check_size(ALLOWED_CALLS[node.func.id](*args))

    def _ListComp(self, node: ast.ListComp) -> list:
        return list(self._comprehension(node.generators, lambda: self.eval(node.elt)))

    def _SetComp(self, node: ast.SetComp) -> set:
        return set(self._comprehension(node.generators, lambda: self.eval(node.elt)))

    def _GeneratorExp(self, node: ast.GeneratorExp) -> "_Generator":
        return _Generator(self._comprehension(node.generators, lambda: self.eval(node.elt)))

    def _DictComp(self, node: ast.DictComp) -> dict:
        return dict(self._comprehension(node.generators, lambda: (self.eval(node.key), self.eval(node.value))))

    def _comprehension(self, generators, produce: Callable[[], Any]) -> list:
        out: list = []
        self.scopes.append({})
        try:
            self._loop(generators, produce, out)
        finally:
            self.scopes.pop()
        return out

    def _loop(self, generators, produce, out: list) -> None:
        if not generators:
            out.append(produce())
            if len(out) > MAX_ITEMS:
                raise ValueError(f"comprehension produces more than {MAX_ITEMS} items")
            return
        gen = generators[0]
        if gen.is_async:
            raise _Refused("async comprehensions are not allowed")
        iterable = self.eval(gen.iter)
        if not isinstance(iterable, (list, tuple, range, str, dict, set)):
            raise TypeError(f"cannot iterate over {type(iterable).__name__}")
        for item in iterable:
            self._bind(gen.target, item)
            if all(self.eval(cond) for cond in gen.ifs):
                self._loop(generators[1:], produce, out)

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
            raise _Refused(f"assigning to {_describe(target)} is not allowed")


def _check_operands(op: type, left: Any, right: Any) -> None:
    """Refuse arithmetic whose result would be huge before computing it."""
    if op is ast.Pow and isinstance(left, int) and isinstance(right, int) and right > 0:
        if abs(left) > 1 and right * max(1, abs(left).bit_length()) > MAX_INT_BITS:
            raise ValueError(f"{left} ** {right} is too large")
    if op is ast.Mult:
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, (list, tuple, str)) and isinstance(count, int):
                if len(seq) * max(count, 0) > MAX_ITEMS:
                    raise ValueError(f"repetition builds more than {MAX_ITEMS} items")
        if isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise ValueError("integer product is too large")


def _check_size(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise ValueError("integer result is too large")
    if isinstance(value, (list, tuple, str)) and len(value) > MAX_ITEMS:
        raise ValueError(f"result has more than {MAX_ITEMS} items")
    return value


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"attribute access .{node.attr}"
    return {"Lambda": "a lambda", "NamedExpr": "an assignment expression", "Await": "await",
            "Yield": "yield", "JoinedStr": "an f-string", "Starred": "unpacking"}.get(
        type(node).__name__, type(node).__name__)


__all__ = ["evaluate", "ALLOWED_CALLS", "MAX_ITEMS"]
