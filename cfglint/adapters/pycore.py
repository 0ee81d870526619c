"""The restricted-Python core: the whole safety policy of cfglint's config interpreters, in one place.

Three evaluators read Python without running it: :mod:`cfglint.adapters.expr` (the single
expression of a YAML ``!!python/object/apply:eval`` tag), :mod:`cfglint.adapters.detectron2.lazy_interp`
(LazyConfig ``.py`` files) and :mod:`cfglint.adapters.mmdet.interp` (mmengine ``.py`` configs). They
walk the ``ast`` and keep only their framework's semantics (OmegaConf-like copies and ``LazyCall``;
``ConfigDict`` and ``_base_``; one expression). Everything that decides what is *allowed* and how
much work is *bounded* lives here; a reviewer of the safety policy reads this module only.

The policy
----------
1. **Nothing is executed or imported.** Evaluators interpret AST nodes; an unknown node is refused.
   No ``eval``/``exec``/``compile``/``__import__`` exists anywhere on this path.
2. **Names.** Only the pure builtins of :data:`PURE_BUILTINS` may be called (each evaluator exposes
   the subset its framework's configs use, see ``EXPR_BUILTINS``/``LAZY_BUILTINS``/``MMDET_BUILTINS``).
   The names of :data:`REFUSED_NAMES` (``open``, ``exec``, ``getattr``, ``globals``...) and every
   ``__dunder__`` name are refused as *unsafe*; calls into :data:`UNSAFE_MODULES` likewise.
3. **Attributes.** Any attribute starting with ``__`` is refused (``().__class__.__bases__``), and so is
   a ``str.format`` field that reads attributes or items (``"{0.__class__}"``). Evaluators read
   attributes only of their own config values and imported symbols, never of Python objects.
4. **Load-time code.** A file the framework would *execute* must not be accepted because cfglint
   skipped a part of it: annotations must be plain type expressions (:func:`check_annotation`),
   default arguments of ``def``/``lambda`` are evaluated by the evaluator (so they are refused like
   any other expression), decorators and class bodies are refused by the evaluators, and so are
   imports of the modules of :data:`IMPORT_SIDE_EFFECTS` (LazyConfig really imports what a config
   imports; importing these opens a browser, prints or starts a server).
5. **One budget** (:class:`Budget`, one per file evaluation) bounds the work of a file:

   * steps: every evaluated node and executed statement costs one step (:data:`MAX_STEPS`), so a
     loop, a comprehension or a recursive ``def`` stops with ``file:line`` after a bounded time;
     building a list costs a step per 4 items, an operation linear in a value's size (``x[:]``,
     ``v in x``, ``x.insert(0, v)``, ``s.count(t)``) a step per 64 items, and a config copy a step
     per copied item;
   * items: no single sequence, string, dict or set over :data:`MAX_ITEMS` entries, checked
     *before* it is built where the size is known (``[0] * n``, ``range(n)``, ``s.replace``,
     ``list.extend``, format widths ``'%1500000000d'``/``f'{x:1500000000}'``); and every value an
     operation builds is charged to a per-file total of :data:`MAX_TOTAL_ITEMS` (a loop that keeps
     building big values); the one expression of a YAML eval tag gets a tenth of these
     (:meth:`Budget.for_expression`, :data:`EXPRESSION_MAX_ITEMS`);
   * integers: at most :data:`MAX_INT_BITS` bits (``x = x ** 2`` in a loop, a 5000-digit hex
     literal), far below Python's int/str conversion limit so printing one never raises;
   * nesting: values shared by reference (``x = [x, x]``) are measured with a memo before anything
     walks them (copying, formatting, comparing, exporting): expanded size at most
     :data:`MAX_ITEMS`, depth at most :data:`MAX_DEPTH`, no cycles.
6. **Errors.** The core raises :class:`Refusal` with the offending node; each evaluator turns it
   into a :class:`~cfglint.errors.CfglintError` (``UnsafeContentError`` for code that would touch the
   machine, ``UnsupportedError`` for valid Python cfglint does not model, a plain error for limits)
   naming ``file:line`` — the CLI prints ``file:line: message`` and exits 2.

What an evaluator must do (the contract the three follow): own one :class:`Budget`, decrement its
``steps`` for every node it evaluates and statement it executes; evaluate operators, comparisons,
boolean operators, f-strings, string methods and builtin calls through :func:`binop`,
:func:`compare`, :func:`boolop`, :func:`joined_str`, :func:`str_method` and :func:`call_builtin`;
drive comprehensions with :func:`comprehend`; check literals (:func:`check_constant`), tuples
(:meth:`Budget.check_tuple`), names (:func:`refused_name`), attributes (:func:`check_attribute`),
annotations and signatures (:func:`check_annotation`, :func:`check_signature`); and
:meth:`Budget.measure` a value before its own code copies it or at the end of a file.
"""
from __future__ import annotations

import ast
import operator
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Sized

from cfglint.errors import CfglintError, UnsafeContentError, UnsupportedError

# ---- limits --------------------------------------------------------------------------------------
#: Longest sequence/string/dict/set one operation may build (real configs: hundreds).
MAX_ITEMS = 1_000_000
#: Items all operations of one file may build together (a loop that keeps making big values).
MAX_TOTAL_ITEMS = 20 * MAX_ITEMS
#: Largest integer, in bits (about 1200 decimal digits; Python refuses to print past 4300 digits).
MAX_INT_BITS = 4096
#: Evaluated nodes + executed statements per file (the largest zoo and detrex configs use < 2,000).
MAX_STEPS = 1_000_000
#: Deepest nesting of a value (real configs: about 10).
MAX_DEPTH = 200
#: Longest sequence of the one expression of a YAML eval tag (`[[x, x * 2**(1/3)] for x in ...]`).
EXPRESSION_MAX_ITEMS = 100_000

UNSAFE, UNSUPPORTED, LIMIT, ERROR = "unsafe", "unsupported", "limit", "error"


class Refusal(Exception):
    """A construct or a limit the core refuses; the evaluator adds the file (see :meth:`error`)."""

    def __init__(self, kind: str, message: str, node: Optional[ast.AST] = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.node = kind, message, node

    def error(self, file: Optional[str], line: Optional[int] = None) -> CfglintError:
        """The CfglintError for this refusal at `file`:`line` (default: the node's line)."""
        if line is None:
            line = getattr(self.node, "lineno", None)
        cls = {UNSAFE: UnsafeContentError, UNSUPPORTED: UnsupportedError}.get(self.kind, CfglintError)
        return cls(self.message, file, line)


def too_long(node: Optional[ast.AST], what: str = "the result", limit: int = MAX_ITEMS) -> Refusal:
    count = "a million" if limit == 1_000_000 else str(limit)
    return Refusal(LIMIT, f"{what} is too long: it has more than {count} items, which exceeds the limit "
                          "of cfglint", node)


def too_large(node: Optional[ast.AST]) -> Refusal:
    return Refusal(LIMIT, f"computes an enormous number (an integer too large: more than {MAX_INT_BITS} "
                          "bits, cfglint's limit)", node)


# ---- the budget -----------------------------------------------------------------------------------
class Budget:
    """Steps and items one file evaluation may still spend (see the module docstring, point 5)."""

    __slots__ = ("steps", "items", "max_items")

    def __init__(self, steps: int = MAX_STEPS, items: int = MAX_TOTAL_ITEMS, max_items: int = MAX_ITEMS) -> None:
        self.steps = steps
        self.items = items
        self.max_items = max_items

    @classmethod
    def for_expression(cls) -> "Budget":
        """The YAML eval tag computes one small value: a tenth of the items of a file."""
        return cls(MAX_STEPS, MAX_TOTAL_ITEMS // 10, EXPRESSION_MAX_ITEMS)

    def out_of_steps(self, node: Optional[ast.AST]) -> Refusal:
        """Evaluators decrement `steps` inline (hot path) and raise this when it goes negative."""
        return Refusal(LIMIT, f"evaluation takes more than {MAX_STEPS} steps (cfglint's limit for one "
                              "file: a loop or recursion that does not end soon enough)", node)

    def work(self, value: Any, node: Optional[ast.AST]) -> None:
        """Charge an operation linear in the size of `value` (`x.insert(0, v)`, `v in x`, `x[:]`,
        `s.count(t)`): a step per 64 items, so a loop over a big value cannot go quadratic."""
        if isinstance(value, _SIZED):
            self.step(node, len(value) >> 6)

    def step(self, node: Optional[ast.AST], cost: int = 1) -> None:
        self.steps -= cost
        if self.steps < 0:
            raise self.out_of_steps(node)

    def charge(self, value: Any, node: Optional[ast.AST]) -> Any:
        """Check a freshly built value against the limits, charge its size, return it."""
        kind = type(value)
        if kind is int:
            if not -_INT_LIMIT < value < _INT_LIMIT:
                raise too_large(node)
        elif kind in _SIZED or isinstance(value, _SIZED):
            n = len(value)
            if n > self.max_items:
                raise too_long(node, limit=self.max_items)
            self.items -= n
            if self.items < 0:
                raise Refusal(LIMIT, f"the file builds more than {MAX_TOTAL_ITEMS} items in all (cfglint's "
                                     "limit for one file)", node)
            # the evaluators process list items one by one later (copies, exports): a step per 4;
            # characters are only ever handled in bulk: a step per 64
            self.step(node, n >> 6 if kind is str else n >> 2)
        return value

    def measure(self, value: Any, node: Optional[ast.AST]) -> int:
        """The expanded size of `value`, refused past the limits: `x = [x, x]` repeated shares
        memory, but any copy, comparison, format or export would walk 2**n items. Linear in the
        number of distinct containers (memo by id); a cycle or a nesting past MAX_DEPTH is refused.
        (Dict keys are not walked: every tuple is measured when it is built, see `check_tuple`.)"""
        if type(value) in _ATOMIC_TYPES:
            return 0
        sizes: Dict[int, int] = {}
        limit = self.max_items

        atomic = _ATOMIC_TYPES
        get = sizes.get

        def walk(v: Any, depth: int) -> int:
            key = id(v)
            known = get(key)
            if known is not None:
                if known < 0:
                    raise Refusal(LIMIT, "a value contains itself (a cycle), which cannot be config data", node)
                return known
            if depth > MAX_DEPTH:
                raise Refusal(LIMIT, f"a value is nested more than {MAX_DEPTH} levels deep (cfglint's limit)", node)
            sizes[key] = -1
            if isinstance(v, dict):
                items: Any = v.values()
            elif isinstance(v, (list, tuple, set, frozenset)):
                items = v
            else:   # an evaluator's record of a call (its arguments are data too) or an opaque value
                items = [p for p in (getattr(v, "args", None), getattr(v, "kwargs", None)) if isinstance(p, (list, dict))]
            total = len(items)
            for x in items:
                if type(x) not in atomic:
                    total += walk(x, depth + 1)
            if total > limit:
                raise too_long(node, "a value, expanded,", limit)
            sizes[key] = total
            return total

        return walk(value, 0)

    def check_tuple(self, value: tuple, node: Optional[ast.AST]) -> tuple:
        """A tuple is hashable, and hashing walks it: measure one that holds tuples when it is built
        (tuples never change afterwards, so dict keys and set members are then bounded too)."""
        for item in value:
            if type(item) in _HASHABLE_CONTAINERS:
                self.measure(value, node)
                break
        return value


_INT_LIMIT = 1 << MAX_INT_BITS
_SIZED = (str, list, tuple, dict, set, frozenset, range)
_ATOMIC = (str, int, float, bool, type(None), complex)
_ATOMIC_TYPES = frozenset(_ATOMIC)
_HASHABLE_CONTAINERS = frozenset({tuple, frozenset})


def check_constant(value: Any, node: ast.AST) -> Any:
    """A literal: no bytes/Ellipsis values, no integer past the limit (a 5000-digit hex literal)."""
    if type(value) is int and not -_INT_LIMIT < value < _INT_LIMIT:
        raise too_large(node)
    return value


# ---- names and attributes ------------------------------------------------------------------------
#: Builtins (or module names) that reach the machine or the interpreter's internals.
REFUSED_NAMES = frozenset({
    "open", "exec", "eval", "compile", "__import__", "getattr", "setattr", "delattr", "hasattr", "globals",
    "locals", "vars", "dir", "input", "print", "breakpoint", "help", "exit", "quit", "type", "object",
    "memoryview", "bytearray", "bytes", "classmethod", "staticmethod", "property", "super", "issubclass",
    "isinstance", "callable", "id", "hash", "iter", "next", "aiter", "anext", "format", "repr", "ascii",
    "chr", "ord", "map", "filter", "slice", "divmod", "pow", "__builtins__", "__loader__", "__spec__",
})
#: Modules whose functions touch the machine; a call into them is unsafe, not merely unsupported.
UNSAFE_MODULES = frozenset({
    "os", "sys", "subprocess", "shutil", "socket", "builtins", "importlib", "ctypes", "pickle", "marshal",
    "shelve", "pathlib", "io", "urllib", "requests", "http", "runpy", "code", "pty", "posix", "nt",
    "signal", "multiprocessing", "threading", "tempfile", "glob", "codecs", "inspect", "gc", "types",
})


#: Modules whose mere import acts on the machine (opens a browser or a window, prints, starts a
#: server). LazyConfig imports what a config imports for real, so importing them is refused.
IMPORT_SIDE_EFFECTS = frozenset({"antigravity", "this", "__hello__", "__phello__", "turtle", "turtledemo",
                                 "idlelib", "tkinter", "webbrowser", "pydoc", "http.server", "xmlrpc.server",
                                 "pdb", "trace", "cProfile", "profile", "timeit", "venv", "ensurepip", "pip"})


def refused_import(dotted: str) -> Optional[str]:
    """Why importing the module `dotted` at load time is unsafe, or None."""
    parts = dotted.split(".")
    for i in range(1, len(parts) + 1):
        if ".".join(parts[:i]) in IMPORT_SIDE_EFFECTS:
            return f"imports `{dotted}`, which acts on the machine as soon as it is imported"
    return None


def refused_name(name: str) -> Optional[str]:
    """Why reading the (unbound) name `name` is unsafe, or None."""
    if name.startswith("__"):
        return f"reads the interpreter internal `{name}`"
    if name in REFUSED_NAMES:
        return f"uses the builtin `{name}`"
    return None


def check_attribute(attr: str, node: ast.AST) -> str:
    """An attribute name the evaluators may look up; dunders reach Python's internals."""
    if attr.startswith("__"):
        raise Refusal(UNSAFE, f"accesses the dunder attribute `{attr}`", node)
    return attr


def unsafe_module(dotted: str) -> bool:
    return dotted.split(".", 1)[0] in UNSAFE_MODULES


# ---- load-time code the frameworks would run -----------------------------------------------------
_TYPE_NODES = (ast.Name, ast.Attribute, ast.Constant, ast.Subscript, ast.Tuple, ast.List, ast.BinOp, ast.Load)


def check_annotation(node: Optional[ast.expr]) -> None:
    """An annotation is evaluated when the framework executes the file; accept only plain type
    expressions (`int`, `List[int]`, `'Model'`, `a.B | None`), which call nothing."""
    if node is None:
        return
    for sub in ast.walk(node):
        if isinstance(sub, ast.BinOp) and not isinstance(sub.op, ast.BitOr) or \
                not isinstance(sub, _TYPE_NODES) and not isinstance(sub, (ast.expr_context, ast.BitOr)):
            raise Refusal(UNSAFE, f"the annotation `{snippet(node)}` would run code when the framework loads "
                                  "the file; only plain type names are allowed in annotations", node)
        if isinstance(sub, ast.Attribute):
            check_attribute(sub.attr, sub)
        if isinstance(sub, ast.Name) and refused_name(sub.id):
            raise Refusal(UNSAFE, f"the annotation `{snippet(node)}` {refused_name(sub.id)}", node)
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and len(sub.value) > 200:
            raise Refusal(UNSUPPORTED, "a string annotation longer than 200 characters", node)


def check_signature(args: ast.arguments, returns: Optional[ast.expr] = None) -> List[ast.expr]:
    """Check the annotations of a `def`/`lambda` and return its default expressions, which the
    framework evaluates when it runs the `def`: the evaluator must evaluate (or refuse) them too."""
    for arg in args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]:
        check_annotation(arg.annotation)
    check_annotation(returns)
    return list(args.defaults) + [d for d in args.kw_defaults if d is not None]


# ---- pure builtins --------------------------------------------------------------------------------
def _int_args(args: Sequence[Any], name: str) -> None:
    if not all(type(a) is int for a in args):
        raise TypeError(f"{name}() takes integers")


def bounded_range(*args: int) -> range:
    _int_args(args, "range")
    r = range(*args)
    try:
        n = len(r)
    except OverflowError:
        n = MAX_ITEMS + 1
    if n > MAX_ITEMS:
        raise too_long(None, "the range")
    return r


def _bounded_str(value: Any = "", *rest: Any) -> str:
    if rest:
        raise TypeError("str() takes one value")
    if not is_plain(value):
        raise Refusal(UNSUPPORTED, "str() of a config object is not supported", None)
    return str(value)


def _bounded_int(value: Any = 0, *rest: Any) -> int:
    if isinstance(value, str) and len(value) > 1300:
        raise too_large(None)
    return int(value, *rest)


#: Every builtin a config may call: pure, no side effects, output bounded by input (+ `charge`).
PURE_BUILTINS: Dict[str, Callable[..., Any]] = {
    "range": bounded_range, "len": len, "min": min, "max": max, "sum": sum, "abs": abs, "round": round,
    "int": _bounded_int, "float": float, "str": _bounded_str, "bool": bool, "tuple": tuple, "list": list,
    "sorted": sorted, "any": any, "all": all, "enumerate": enumerate, "zip": zip, "reversed": reversed,
    "set": set, "frozenset": frozenset, "dict": dict,
}
#: Builtins that walk (compare, hash or print) the elements of their arguments.
_WALKERS = frozenset({_bounded_str, sorted, set, frozenset, tuple, min, max, sum, any, all})
#: The subsets each evaluator exposes (evaluators may substitute framework-specific versions).
EXPR_BUILTINS = ("range", "int", "float", "len", "min", "max", "round", "abs", "sum", "tuple", "list", "bool")
LAZY_BUILTINS = EXPR_BUILTINS + ("str", "sorted", "any", "all", "enumerate", "zip", "reversed", "dict")
MMDET_BUILTINS = LAZY_BUILTINS + ("set", "frozenset")


def call_builtin(func: Callable[..., Any], args: Sequence[Any], kwargs: Dict[str, Any], node: ast.AST,
                 budget: Budget) -> Any:
    """Call a pure builtin: containers it walks are measured first, its result is charged."""
    for a in args:
        if type(a) not in _ATOMIC:
            budget.work(a, node)
            if func in _WALKERS:
                budget.measure(a, node)
    try:
        result = func(*args, **kwargs)
    except Refusal as refusal:
        refusal.node = refusal.node or node
        raise
    return budget.charge(result, node)


# ---- operators ------------------------------------------------------------------------------------
BINOPS: Dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.BitOr: operator.or_, ast.BitAnd: operator.and_, ast.BitXor: operator.xor,
    ast.LShift: operator.lshift, ast.RShift: operator.rshift,
}
#: The arithmetic subset (no bit operators) the YAML eval tag and LazyConfig files accept.
ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
UNARY: Dict[type, Callable[[Any], Any]] = {
    ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_, ast.Invert: operator.invert,
}
COMPARE: Dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_SEQ = (str, list, tuple)


def binop(op: type, left: Any, right: Any, node: ast.AST, budget: Budget) -> Any:
    """`left <op> right` for the operator class `op`, refusing results past the limits *before*
    computing them (the size of `*`, `+`, `**`, `<<` and `%` formatting is known in advance)."""
    fn = BINOPS.get(op)
    if fn is None:
        raise Refusal(UNSUPPORTED, f"uses the `{op.__name__}` operator", node)
    lt, rt = type(left), type(right)
    limit = budget.max_items
    if op is ast.Mult:
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, _SEQ) and type(n) is int and len(seq) * n > limit:
                raise too_long(node, limit=limit)
        if lt is int and rt is int and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise too_large(node)
    elif op is ast.Add:
        if isinstance(left, _SEQ) and isinstance(right, _SEQ) and len(left) + len(right) > limit:
            raise too_long(node, limit=limit)
    elif op is ast.Pow:
        if lt is int and rt is int and right > 0 and abs(left) > 1 and \
                (right > MAX_INT_BITS or right * (abs(left).bit_length() - 1) > MAX_INT_BITS):
            raise too_large(node)
    elif op is ast.LShift:
        if rt is int and right > 0 and lt is int and left and left.bit_length() + right > MAX_INT_BITS:
            raise too_large(node)
    elif op is ast.Mod and isinstance(left, str):
        check_percent_format(left, right, node, budget)
    if lt is float or rt is float or lt is int and rt is int and op not in (ast.Mult, ast.Pow, ast.LShift):
        return fn(left, right)   # numbers: bounded by their operands
    result = budget.charge(fn(left, right), node)
    if op is ast.Mult and isinstance(result, (list, tuple)) and result and type(result[0]) not in _ATOMIC_TYPES:
        budget.measure(result, node)   # `[[[0] * 1000] * 1000] * 1000` repeats references, not copies
    elif type(result) is tuple:
        budget.check_tuple(result, node)
    return result


def unaryop(op: type, value: Any, node: ast.AST) -> Any:
    fn = UNARY.get(op)
    if fn is None:
        raise Refusal(UNSUPPORTED, f"uses the `{op.__name__}` operator", node)
    return fn(value)


def compare(node: ast.Compare, evaluate: Callable[[ast.expr], Any], budget: Budget) -> bool:
    """A comparison chain, short-circuiting as Python does; containers are measured first."""
    left = evaluate(node.left)
    for op, comparator in zip(node.ops, node.comparators):
        fn = COMPARE.get(type(op))
        if fn is None:
            raise Refusal(UNSUPPORTED, f"comparison {type(op).__name__} is not allowed", node)
        right = evaluate(comparator)
        if type(left) not in _ATOMIC:
            budget.step(node, budget.measure(left, node) >> 6)
        if type(right) not in _ATOMIC or type(right) is str:
            budget.step(node, budget.measure(right, node) >> 6 if type(right) is not str else len(right) >> 6)
        if not fn(left, right):
            return False
        left = right
    return True


def boolop(node: ast.BoolOp, evaluate: Callable[[ast.expr], Any]) -> Any:
    value: Any = None
    is_and = isinstance(node.op, ast.And)
    for operand in node.values:
        value = evaluate(operand)
        if is_and != bool(value):
            return value
    return value


def is_plain(value: Any, depth: int = 0) -> bool:
    """Data Python itself formats without calling config code: scalars and lists/tuples of them."""
    kind = type(value)
    if kind in _ATOMIC:
        return True
    if depth < MAX_DEPTH and kind in (list, tuple):
        return all(is_plain(v, depth + 1) for v in value)
    return False


# ---- formatting: f-strings, str.format, % ----------------------------------------------------------
#: `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`, the format-spec mini-language.
_SPEC = r"(?:.?[<>=^])?[+\- ]?z?#?0?(\d*)[,_]?(?:\.(\d*))?[a-zA-Z%]?\Z"
#: One `%` conversion: `%(key)`, flags, width, precision, length modifier, type.
_PERCENT = r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)?"
_COMPILED: Dict[str, Any] = {}


def _pattern(name: str) -> Any:
    """Compiled on first use: most runs format nothing, and start-up time matters."""
    if name not in _COMPILED:
        import re
        _COMPILED[name] = re.compile(globals()[name], re.S)
    return _COMPILED[name]


def _width(digits: Optional[str], node: ast.AST) -> int:
    if not digits or digits == "*":
        return 0
    if len(digits) > 7 or int(digits) > MAX_ITEMS:
        raise too_long(node, f"a format width or precision of {digits[:12]}")
    return int(digits)


def check_format_spec(spec: str, node: ast.AST) -> None:
    """Refuse a format spec whose width or precision would build a string past the item limit."""
    if not spec:
        return
    match = _pattern("_SPEC").match(spec)
    if match is None:
        raise ValueError(f"invalid format specifier {spec[:40]!r}")
    _width(match.group(1), node)
    _width(match.group(2), node)


def format_value(item: Any, conversion: int, spec: str, node: ast.AST, budget: Budget) -> str:
    """One `{value!conv:spec}` field of an f-string, of plain data only."""
    if type(item) not in _ATOMIC:
        budget.measure(item, node)
        if not is_plain(item):
            raise Refusal(UNSUPPORTED, "formats a config object into an f-string, which is not supported", node)
    check_format_spec(spec, node)
    if conversion == 114:
        item = repr(item)
    elif conversion == 115:
        item = str(item)
    elif conversion == 97:
        item = ascii(item)
    return budget.charge(format(item, spec), node)


def joined_str(node: ast.JoinedStr, evaluate: Callable[[ast.expr], Any], budget: Budget) -> str:
    """An f-string: literal parts and formatted plain values (nested specs are f-strings too)."""
    parts = []
    for value in node.values:
        if isinstance(value, ast.FormattedValue):
            spec = joined_str(value.format_spec, evaluate, budget) if value.format_spec is not None else ""
            parts.append(format_value(evaluate(value.value), value.conversion, spec, value, budget))
        else:
            parts.append(value.value)
    return budget.charge("".join(parts), node)


def check_percent_format(text: str, args: Any, node: ast.AST, budget: Budget) -> None:
    """`text % args`: plain arguments only, no `*` widths, widths within the item limit."""
    if type(args) not in _ATOMIC:
        budget.measure(args, node)
        values = args.values() if isinstance(args, dict) else args if isinstance(args, tuple) else (args,)
        if not all(is_plain(v) for v in values):
            raise Refusal(UNSUPPORTED, "formats a config object into a string, which is not supported", node)
    total = len(text)
    for match in _pattern("_PERCENT").finditer(text):
        if "*" in (match.group(1), match.group(2)):
            raise Refusal(UNSUPPORTED, "a `*` width in %-formatting is not supported", node)
        total += _width(match.group(1), node) + _width(match.group(2), node)
    if total > MAX_ITEMS:
        raise too_long(node)


def str_format(text: str, args: Sequence[Any], kwargs: Dict[str, Any], node: ast.AST, budget: Budget) -> str:
    """`text.format(...)` of plain values, without attribute/index fields or nested specs."""
    for value in list(args) + list(kwargs.values()):
        if type(value) not in _ATOMIC:
            budget.measure(value, node)
            if not is_plain(value):
                raise Refusal(UNSUPPORTED, "formats a config object into a string, which is not supported", node)
    total = len(text) + sum(len(v) for v in list(args) + list(kwargs.values()) if isinstance(v, (str, list, tuple)))
    import string
    for _, field_name, spec, _ in string.Formatter().parse(text):
        if field_name and ("." in field_name or "[" in field_name):
            raise Refusal(UNSAFE, "str.format with attribute or index lookups reads Python internals", node)
        if spec:
            if "{" in spec:
                raise Refusal(UNSUPPORTED, "str.format with a nested format spec is not supported", node)
            check_format_spec(spec, node)
            match = _pattern("_SPEC").match(spec)
            total += _width(match.group(1), node) + _width(match.group(2), node)
    if total > MAX_ITEMS:
        raise too_long(node)
    return budget.charge(text.format(*args, **kwargs), node)


#: String methods configs use; all pure. Results that can grow are checked before they are built.
STR_METHODS = frozenset({"format", "join", "replace", "split", "rsplit", "strip", "lstrip", "rstrip", "lower",
                         "upper", "startswith", "endswith", "index", "count", "find", "rfind"})


def str_method(text: str, name: str, args: Sequence[Any], kwargs: Dict[str, Any], node: ast.AST,
               budget: Budget) -> Any:
    """`text.name(*args, **kwargs)` for a method of :data:`STR_METHODS`."""
    if name not in STR_METHODS:
        raise Refusal(UNSUPPORTED, f"calls `str.{name}()`", node)
    budget.work(text, node)
    if name == "format":
        return str_format(text, args, kwargs, node, budget)
    if not all(is_plain(a) for a in list(args) + list(kwargs.values())):
        raise Refusal(UNSUPPORTED, "formats a config object into a string, which is not supported", node)
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        count = text.count(args[0]) if args[0] else len(text) + 1
        if len(args) > 2 and type(args[2]) is int and args[2] >= 0:
            count = min(count, args[2])
        if len(text) + count * (len(args[1]) - len(args[0])) > MAX_ITEMS:
            raise too_long(node)
    elif name == "join":
        items = list(args[0]) if args else []
        if sum(len(i) if isinstance(i, str) else 0 for i in items) + len(text) * len(items) > MAX_ITEMS:
            raise too_long(node)
    return budget.charge(getattr(str, name)(text, *args, **kwargs), node)


def check_extend(current: Sized, added: Any, node: ast.AST) -> None:
    """`list.extend`/`+=` in place: `x.extend(x)` in a loop doubles."""
    if len(current) + (len(added) if hasattr(added, "__len__") else 0) > MAX_ITEMS:
        raise too_long(node)


# ---- comprehensions -------------------------------------------------------------------------------
def comprehend(generators: Sequence[ast.comprehension], iterate: Callable[[ast.expr, int], Iterable[Any]],
               bind: Callable[[ast.expr, Any], None], evaluate: Callable[[ast.expr], Any],
               emit: Callable[[], None], budget: Budget) -> None:
    """Drive the `for ... in ... if ...` clauses of a comprehension; each element costs a step.

    `iterate(expr, index)` evaluates a clause's iterable (the first in the enclosing scope),
    `bind` assigns a target in the comprehension's scope, `emit` produces one element."""
    last = len(generators)

    def loop(i: int) -> None:
        if i == last:
            emit()
            return
        gen = generators[i]
        if gen.is_async:
            raise Refusal(UNSUPPORTED, "async comprehensions are not allowed", gen.iter)
        for item in iterate(gen.iter, i):
            budget.steps -= 1
            if budget.steps < 0:
                raise budget.out_of_steps(gen.iter)
            bind(gen.target, item)
            if all(evaluate(cond) for cond in gen.ifs):
                loop(i + 1)

    loop(0)


# ---- messages ------------------------------------------------------------------------------------
def snippet(node: ast.AST, limit: int = 60) -> str:
    """A short, single-line excerpt of the config's own text for messages."""
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - a message must never fail
        return type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


__all__ = ["Budget", "Refusal", "MAX_ITEMS", "MAX_TOTAL_ITEMS", "MAX_INT_BITS", "MAX_STEPS", "MAX_DEPTH",
           "PURE_BUILTINS", "EXPR_BUILTINS", "LAZY_BUILTINS", "MMDET_BUILTINS", "REFUSED_NAMES", "UNSAFE_MODULES",
           "refused_name", "refused_import", "IMPORT_SIDE_EFFECTS", "check_attribute", "unsafe_module", "check_annotation", "check_signature",
           "check_constant", "call_builtin", "binop", "unaryop", "compare", "boolop", "joined_str",
           "format_value", "str_format", "str_method", "check_percent_format", "check_extend", "comprehend",
           "is_plain", "snippet", "too_long", "too_large", "bounded_range", "ARITHMETIC", "EXPRESSION_MAX_ITEMS",
           "UNSAFE", "UNSUPPORTED", "LIMIT", "ERROR"]
