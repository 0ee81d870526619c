"""A small abstract interpreter of one Python file: where the images come from and where they go.

It walks the module's statements in order (never running or importing anything), with an
environment of abstract values (:mod:`cfglint.imageflow.values`). Function and method calls into
code defined in the same file are inlined with the call's arguments; functions nobody calls in the
file (a web handler, a `main` run by a guard the analysis cannot see through) are analysed once more
on their own, with unknown parameters. Loops run their body twice (the second time with what the
first iteration left behind) and merge with "not run at all"; the two arms of an `if` are merged.
Every call into a model (a :class:`Sink`) records the image that reaches it, on every path.

The analysis knows a fixed vocabulary of library calls (the readers, conversions, resizes,
normalizations and layout changes of cv2, PIL, numpy, torch, torchvision, imageio, skimage, mmcv
and detectron2); anything else returns UNKNOWN, which no rule judges. Work is bounded: calls nest
at most :data:`MAX_DEPTH` deep, and a budget of evaluated nodes stops a pathological file.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from cfglint.imageflow.values import (BOTTOM, DTYPE, KIND, LAYOUT, ORDER, RESIZE, SCALE, UNKNOWN, DictVal,
                                      Img, Instance, ListVal, Method, Module, Num, Obj, Str, TupleVal, merge,
                                      new_image)

MAX_DEPTH = 6
BUDGET = 120_000

# Sinks: the calls that hand an image to a detector.
D2_PREDICTOR = "d2_predictor"       # DefaultPredictor(cfg)(image): BGR HWC uint8 ndarray
D2_MODEL = "d2_model"               # model([{"image": CHW tensor, ...}]): cfg.INPUT.FORMAT, 0-255
MM_INFERENCE = "mm_inference"       # inference_detector(model, img): BGR ndarray or a path
MM_INFERENCER = "mm_inferencer"     # DetInferencer(...)(img): BGR ndarray or a path
MM_TEST_STEP = "mm_test_step"       # model.test_step({"inputs": [CHW tensor], ...}): BGR, 0-255


@dataclass
class Sink:
    kind: str
    line: int
    call: str                 # how the script names the call, for messages ("DefaultPredictor")
    image: Any                # the abstract image reaching it (Img, or UNKNOWN)
    container: str = "array"  # d2_model: "list-of-dicts" | "tensor" | "list-of-tensors" | "other"


@dataclass
class Unknown:
    """A step that stopped the inference for a value feeding a sink (for `-v` style explanations)."""

    line: int
    why: str


class _Budget(Exception):
    pass


@dataclass
class _Frame:
    """One function activation: its returns, and the exits of the loops it is in."""

    returns: List[Any] = field(default_factory=list)
    yields: List[Any] = field(default_factory=list)
    loop_exits: List[List[Dict[str, Any]]] = field(default_factory=list)


class Scope:
    def __init__(self, parent: Optional["Scope"] = None):
        self.vars: Dict[str, Any] = {}
        self.parent = parent

    def rebind(self, name: str, value: Any) -> None:
        """An object changed in place: update it in the scope that holds the name."""
        scope: Optional[Scope] = self
        while scope is not None:
            if name in scope.vars:
                scope.vars[name] = value
                return
            scope = scope.parent
        self.vars[name] = value

    def lookup(self, name: str) -> Any:
        scope: Optional[Scope] = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        return UNKNOWN


@dataclass(eq=False)
class Func:
    node: Any                 # ast.FunctionDef / ast.AsyncFunctionDef
    scope: Scope              # where it was defined
    cls: Any = None           # the Klass of a method


@dataclass(eq=False)
class Klass:
    node: ast.ClassDef
    scope: Scope
    methods: Dict[str, Func] = field(default_factory=dict)
    bases: Tuple[Any, ...] = ()


_DETECTRON2_PREDICTORS = {"detectron2.engine.DefaultPredictor", "detectron2.engine.defaults.DefaultPredictor"}
_BUILD_MODEL = {"detectron2.modeling.build_model", "detectron2.modeling.meta_arch.build_model",
                "detectron2.modeling.meta_arch.build.build_model",
                "detectron2.model_zoo.get", "detectron2.model_zoo.model_zoo.get"}   # model_zoo.get(name)
_INFERENCE_DETECTOR = {"mmdet.apis.inference_detector", "mmdet.apis.inference.inference_detector"}
_INIT_DETECTOR = {"mmdet.apis.init_detector", "mmdet.apis.inference.init_detector"}
_DET_INFERENCER = {"mmdet.apis.DetInferencer", "mmdet.apis.det_inferencer.DetInferencer"}
_D2_READ_IMAGE = {"detectron2.data.detection_utils.read_image", "detectron2.data.read_image"}
#: Image methods whose result a statement may discard without the image changing.
_PURE_IMG_METHODS = {"save", "show", "tobytes", "tolist", "copy", "clone", "numpy", "cpu", "cuda", "to", "size",
                     "mean", "max", "min", "sum", "std", "getpixel", "close", "verify", "load", "detach"}
#: Library calls that read their image arguments without changing them.
_NON_MUTATING = ("print", "cv2.imshow", "cv2.imwrite", "cv2.namedWindow", "cv2.waitKey", "mmcv.imshow",
                 "mmcv.imwrite", "matplotlib.", "logging.", "os.", "json.", "torch.save", "numpy.save",
                 "mmdet.apis.inference_detector", "mmdet.apis.inference.inference_detector")
_TRANSPARENT_DECORATORS = {"torch.no_grad", "torch.inference_mode", "torch.jit.ignore", "functools.lru_cache",
                           "functools.cache", "torch.autograd.no_grad", "torch.enable_grad"}
_SAME_METHODS = {"copy", "clone", "detach", "contiguous", "cpu", "cuda", "eval", "requires_grad_",
                 "pin_memory"}
_FLOAT_METHODS = {"float", "double", "half"}


def _cv2_code(name: str) -> Optional[Tuple[str, str]]:
    """cv2 COLOR_X2Y -> (X, Y), for the codes the analysis understands."""
    if not name.startswith("COLOR_") or "2" not in name:
        return None
    src, _, dst = name[len("COLOR_"):].partition("2")
    known = {"BGR", "RGB", "GRAY", "BGRA", "RGBA"}
    if src in known and dst in known:
        return src, dst
    return None


def _order_after_cvt(current: Any, src: str, dst: str) -> Any:
    """cv2 only reorders bytes: BGR2RGB on RGB data gives BGR. None = unknown."""
    three = {"BGR", "RGB"}
    src3, dst3 = src[:3], dst[:3]
    if dst3 == "GRA":
        return "GRAY"
    if src3 == "GRA":
        # gray replicated into three equal channels: no channel order to get wrong
        return "GRAY3" if current == "GRAY" else None
    if current == "GRAY3":
        return current
    if current not in three:
        return None
    if src3 == dst3:
        return current
    return "RGB" if current == "BGR" else "BGR"


def _swap(order: Any) -> Any:
    return {"BGR": "RGB", "RGB": "BGR", "GRAY3": "GRAY3"}.get(order)


class Interpreter:
    def __init__(self, tree: ast.Module, path: str):
        self.tree = tree
        self.path = path
        self.sinks: List[Sink] = []
        self.unknowns: List[Unknown] = []
        self.recording = True
        self.depth = 0
        self.budget = BUDGET
        self.called: set = set()
        self.functions: List[Func] = []
        self.classes: List[Klass] = []
        self.frames: List[_Frame] = [_Frame()]

    # ---- driver -------------------------------------------------------------------------------
    def run(self) -> None:
        module = Scope()
        for name in _BUILTINS:
            module.vars[name] = Module(name)
        try:
            self.block(self.tree.body, module)
            # Code nobody calls in this file still runs somewhere (a route handler, a CLI entry).
            for func in list(self.functions):
                if func not in self.called and func.cls is None:
                    self.call_function(func, [], {}, standalone=True)
            for klass in list(self.classes):
                self.analyse_class(klass)
        except (_Budget, RecursionError):
            pass

    def analyse_class(self, klass: Klass) -> None:
        if all(f in self.called for f in klass.methods.values()):
            return
        inst = Instance(klass)
        init = klass.methods.get("__init__")
        if init is not None:
            self.call_function(init, [inst], {}, standalone=True)
        for name, method in klass.methods.items():
            if name != "__init__" and method not in self.called:
                static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in method.node.decorator_list)
                self.call_function(method, [] if static else [inst], {}, standalone=True)

    def transparent(self, decorators, scope: Scope, allow: Tuple[str, ...] = ()) -> bool:
        """Decorators that leave a function callable as written (torch.no_grad(), functools caches);
        anything else may wrap it in arbitrary code, so callers get UNKNOWN (the body is still analysed
        on its own, as a function nobody calls)."""
        for dec in decorators:
            if isinstance(dec, ast.Name) and dec.id in allow:
                continue
            target = dec.func if isinstance(dec, ast.Call) else dec
            value = self.eval(target, scope)
            if not (isinstance(value, Module) and value.qualname in _TRANSPARENT_DECORATORS):
                return False
        return True

    def tick(self) -> None:
        self.budget -= 1
        if self.budget <= 0:
            raise _Budget()

    # ---- statements -----------------------------------------------------------------------------
    def block(self, body: Sequence[ast.stmt], scope: Scope) -> bool:
        """Run statements; True when the block always leaves (return, raise, break, continue)."""
        for stmt in body:
            if self.stmt(stmt, scope):
                return True
        return False

    def stmt(self, node: ast.stmt, scope: Scope) -> bool:
        self.tick()
        if isinstance(node, ast.Assign):
            value = self.eval(node.value, scope)
            for target in node.targets:
                self.assign(target, value, scope)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.assign(node.target, self.eval(node.value, scope), scope)
        elif isinstance(node, ast.AugAssign):
            current = self.eval(_load(node.target), scope)
            value = self.binop(current, node.op, self.eval(node.value, scope), node.value, node.lineno)
            if isinstance(current, Img) and isinstance(node.target, ast.Name) and node.target.id not in scope.vars:
                scope.rebind(node.target.id, value)      # an array changed in place, wherever it lives
            else:
                self.assign(node.target, value, scope)
        elif isinstance(node, ast.Expr):
            self.expr_stmt(node.value, scope)
        elif isinstance(node, ast.If):
            if _is_main_guard(node.test):
                return self.block(node.body, scope)   # the script is run as a script
            self.eval(node.test, scope)
            return self.branches([node.body, node.orelse], scope)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            it = self.eval(node.iter, scope)
            self.loop(node, scope, lambda: self.assign(node.target, self.element(it, node.lineno), scope))
        elif isinstance(node, ast.While):
            self.loop(node, scope, lambda: self.eval(node.test, scope))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                value = self.eval(item.context_expr, scope)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, UNKNOWN if not isinstance(value, Str) else UNKNOWN, scope)
            return self.block(node.body, scope)
        elif (isinstance(node, ast.Try) or type(node).__name__ == "TryStar") and _is_optional_import(node):
            return self.block(node.body, scope)       # the script runs with its dependencies installed
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            before = dict(scope.vars)
            left = self.block(node.body, scope)
            arms = [] if left else [dict(scope.vars)]
            for handler in node.handlers:
                scope.vars = _merge_envs([before, dict(scope.vars)])
                if handler.name:
                    scope.vars[handler.name] = UNKNOWN
                if not self.block(handler.body, scope):
                    arms.append(dict(scope.vars))
            if node.orelse and not left:
                scope.vars = dict(arms[0])
                if self.block(node.orelse, scope):
                    arms = arms[1:]
                else:
                    arms[0] = dict(scope.vars)
            if not arms:
                scope.vars = before
                self.block(node.finalbody, scope)
                return True
            scope.vars = _merge_envs(arms)
            return self.block(node.finalbody, scope)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            func = Func(node, scope)
            self.functions.append(func)
            scope.vars[node.name] = func if self.transparent(node.decorator_list, scope) else UNKNOWN
        elif isinstance(node, ast.ClassDef):
            klass = Klass(node, scope, bases=tuple(self.eval(b, scope) for b in node.bases))
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if self.transparent(item.decorator_list, scope, allow=("staticmethod",)):
                        klass.methods[item.name] = Func(item, scope, cls=klass)
            self.classes.append(klass)
            scope.vars[node.name] = klass
        elif isinstance(node, ast.Return):
            value = self.eval(node.value, scope) if node.value is not None else Num(None)
            self.frames[-1].returns.append(value)
            return True
        elif isinstance(node, ast.Raise):
            return True
        elif isinstance(node, (ast.Break, ast.Continue)):
            exits = self.frames[-1].loop_exits
            if exits:
                exits[-1].append(dict(scope.vars))
            return True
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    scope.vars[alias.asname] = Module(alias.name)
                else:
                    top = alias.name.split(".")[0]
                    scope.vars[top] = Module(top)
        elif isinstance(node, ast.ImportFrom):
            if node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        scope.vars[alias.asname or alias.name] = Module(f"{node.module}.{alias.name}")
        elif isinstance(node, (ast.Global, ast.Nonlocal, ast.Pass, ast.Delete, ast.Assert)):
            pass
        else:
            # match statements and whatever a newer Python adds: do not guess what they bind.
            for name in _stored_names(node):
                scope.vars[name] = UNKNOWN
        return False

    def branches(self, arms: List[List[ast.stmt]], scope: Scope) -> bool:
        before = dict(scope.vars)
        ends = []
        for arm in arms:
            scope.vars = dict(before)
            if not self.block(arm, scope):
                ends.append(dict(scope.vars))
        if not ends:
            scope.vars = before
            return True
        scope.vars = _merge_envs(ends)
        return False

    def loop(self, node, scope: Scope, bind) -> None:
        before = dict(scope.vars)
        recording = self.recording
        frame = self.frames[-1]
        env = before
        for second in (False, True):
            self.recording = recording and second
            scope.vars = dict(env)
            frame.loop_exits.append([])
            bind()
            left = self.block(node.body, scope)
            exits = frame.loop_exits.pop()
            ends = exits + ([] if left else [dict(scope.vars)])
            env = _merge_envs([before] + ends)
        self.recording = recording
        scope.vars = env
        if node.orelse:
            self.block(node.orelse, scope)


    def call_arguments(self, node: ast.Call, scope):
        """(positional values up to the first `*args`, keyword values, index of that `*args` or None).
        Arguments after a `*args` are still evaluated (their side effects count) but not bound;
        `*args` and `**kwargs` make the parameters they may fill unknown."""
        starred = next((i for i, a in enumerate(node.args) if isinstance(a, ast.Starred)), None)
        args = [self.eval(a, scope) for a in node.args[:starred]]
        for a in node.args[len(args):]:
            self.eval(a.value if isinstance(a, ast.Starred) else a, scope)
        kwargs = {k.arg: self.eval(k.value, scope) for k in node.keywords if k.arg}
        if starred is not None:
            kwargs["*"] = UNKNOWN
        if any(k.arg is None for k in node.keywords):
            kwargs["**"] = UNKNOWN
        return args, kwargs, starred
    def expr_stmt(self, node: ast.expr, scope: Scope) -> None:
        """A call used for its effect: list.append, in-place tensor ops, PIL's thumbnail. A call whose
        effect the analysis does not know may change an image it is given in place (``cv2.cvtColor(img,
        code, dst=img)``, a helper writing ``img[:] = ...``): those images become unknown."""
        if not isinstance(node, ast.Call):
            self.eval(node, scope)
            return
        if isinstance(node.func, ast.Attribute):
            base_node = node.func.value
            name = node.func.attr
            base = self.eval(base_node, scope)
            args, kwargs, starred = self.call_arguments(node, scope)
            if isinstance(base, ListVal) and name in ("append", "extend", "insert") and starred is None:
                item = args[-1] if args else UNKNOWN
                if name == "extend":
                    item = self.element(item, node.lineno)
                self.mutate(base_node, ListVal(merge(base.elem, item)), scope)
                return
            if isinstance(base, Img):
                if name.endswith("_") or name == "thumbnail":
                    result = self.img_method(base, name.rstrip("_") if name != "thumbnail" else name, args,
                                             kwargs, node)
                    self.mutate(base_node, result, scope)
                elif name not in _PURE_IMG_METHODS:
                    self.mutate(base_node, Img((), base.read_line), scope)
                return
            func = self.attribute(base, name)
        else:
            func = self.eval(node.func, scope)
            args, kwargs, starred = self.call_arguments(node, scope)
        self.call_value(func, args, kwargs, node)
        if isinstance(func, Obj) or (isinstance(func, Module) and func.qualname.startswith(_NON_MUTATING)):
            return
        for arg_node, value in list(zip(node.args, args)) + [(k.value, kwargs.get(k.arg)) for k in node.keywords]:
            if isinstance(value, Img) and isinstance(arg_node, (ast.Name, ast.Attribute)):
                self.mutate(arg_node, Img((), value.read_line), scope)

    # ---- assignment ------------------------------------------------------------------------------
    def mutate(self, target: ast.expr, value: Any, scope: Scope) -> None:
        """The object behind `target` changed in place (append, `x[...] = ...`, `x.div_(255)`)."""
        if isinstance(target, ast.Name):
            scope.rebind(target.id, value)
        else:
            self.assign(target, value, scope)

    def assign(self, target: ast.expr, value: Any, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            scope.vars[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            if isinstance(value, TupleVal) and len(value.items) == len(elts) and \
                    not any(isinstance(e, ast.Starred) for e in elts):
                for elt, item in zip(elts, value.items):
                    self.assign(elt, item, scope)
            else:
                item = value.elem if isinstance(value, ListVal) and not any(
                    isinstance(e, ast.Starred) for e in elts) else UNKNOWN
                for elt in elts:
                    self.assign(elt.value if isinstance(elt, ast.Starred) else elt,
                                UNKNOWN if isinstance(elt, ast.Starred) else (UNKNOWN if item is BOTTOM else item),
                                scope)
        elif isinstance(target, ast.Attribute):
            base = self.eval(target.value, scope)
            if isinstance(base, Obj) and base.kind == D2_PREDICTOR and target.attr == "aug":
                # its own resize: channel order and layout still as DefaultPredictor's, the resize is not
                self.mutate(target.value, Obj(D2_PREDICTOR, base.line, "custom-aug"), scope)
            elif isinstance(base, Obj) and base.kind in (D2_PREDICTOR, D2_MODEL, MM_INFERENCER, "mm_model"):
                # predictor.input_format = ..., model.pixel_mean = ...: it no longer behaves as the library's
                self.mutate(target.value, UNKNOWN, scope)
            elif isinstance(base, Instance):
                old = base.attrs.get(target.attr, BOTTOM)
                # Attributes persist across methods: keep what every assignment agrees on.
                base.attrs[target.attr] = value if old is BOTTOM else merge(old, value)
        elif isinstance(target, ast.Subscript):
            base = self.eval(target.value, scope)
            key = self.eval(target.slice, scope)
            if isinstance(base, DictVal) and isinstance(key, Str) and key.value is not None:
                self.mutate(target.value, base.with_item(key.value, value), scope)
            elif isinstance(base, ListVal):
                self.mutate(target.value, ListVal(merge(base.elem, value)), scope)
            elif isinstance(base, Img):
                # Writing pixels in place (img[..., 0] = 0, img[y0:y1] = patch): stop believing in it.
                self.mutate(target.value, Img((), base.read_line), scope)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, UNKNOWN, scope)

    # ---- expressions -----------------------------------------------------------------------------
    def eval(self, node: Optional[ast.expr], scope: Scope) -> Any:
        if node is None:
            return UNKNOWN
        self.tick()
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return Str(node.value)
            if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
                return Num(node.value)
            return Num(None) if node.value is None else UNKNOWN
        if isinstance(node, ast.Name):
            return scope.lookup(node.id)
        if isinstance(node, ast.Attribute):
            base = self.eval(node.value, scope)
            return self.attribute(base, node.attr)
        if isinstance(node, ast.Call):
            func = self.eval(node.func, scope)
            args = []
            kwargs = {}
            for a in node.args:
                if isinstance(a, ast.Starred):
                    self.eval(a.value, scope)
                    kwargs["*"] = UNKNOWN          # positions after it are unknown
                elif "*" not in kwargs:
                    args.append(self.eval(a, scope))
                else:
                    self.eval(a, scope)
            for k in node.keywords:
                v = self.eval(k.value, scope)
                if k.arg:
                    kwargs[k.arg] = v
                else:
                    kwargs["**"] = UNKNOWN
            return self.call_value(func, args, kwargs, node)
        if isinstance(node, ast.Subscript):
            return self.subscript(self.eval(node.value, scope), node.slice, scope, node)
        if isinstance(node, ast.BinOp):
            left = self.eval(node.left, scope)
            right = self.eval(node.right, scope)
            return self.binop(left, node.op, right, node.right, node.lineno, left_node=node.left)
        if isinstance(node, ast.UnaryOp):
            value = self.eval(node.operand, scope)
            if isinstance(node.op, ast.USub) and isinstance(value, Num) and isinstance(value.value, (int, float)):
                return Num(-value.value)
            return UNKNOWN
        if isinstance(node, (ast.List, ast.Set)):
            elem: Any = BOTTOM
            items = []
            for e in node.elts:
                v = UNKNOWN if isinstance(e, ast.Starred) else self.eval(e, scope)
                items.append(v)
                elem = merge(elem, v)
            return ListVal(elem, tuple(items))
        if isinstance(node, ast.Tuple):
            return TupleVal(tuple(UNKNOWN if isinstance(e, ast.Starred) else self.eval(e, scope) for e in node.elts))
        if isinstance(node, ast.Dict):
            items = []
            for k, v in zip(node.keys, node.values):
                key = self.eval(k, scope) if k is not None else None
                val = self.eval(v, scope)
                if isinstance(key, Str) and key.value is not None:
                    items.append((key.value, val))
            return DictVal(tuple(items))
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            inner = self.comprehension(node.generators, scope)
            return ListVal(self.eval(node.elt, inner))
        if isinstance(node, ast.DictComp):
            inner = self.comprehension(node.generators, scope)
            self.eval(node.key, inner)
            self.eval(node.value, inner)
            return UNKNOWN
        if isinstance(node, ast.IfExp):
            self.eval(node.test, scope)
            return merge(self.eval(node.body, scope), self.eval(node.orelse, scope))
        if isinstance(node, ast.JoinedStr):
            for v in node.values:
                self.eval(v, scope)
            return Str(None)
        if isinstance(node, ast.FormattedValue):
            self.eval(node.value, scope)
            return UNKNOWN
        if isinstance(node, ast.NamedExpr):
            value = self.eval(node.value, scope)
            self.assign(node.target, value, scope)
            return value
        if isinstance(node, (ast.BoolOp, ast.Compare)):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.eval(child, scope)
            return UNKNOWN
        if isinstance(node, ast.Yield):
            self.frames[-1].yields.append(self.eval(node.value, scope) if node.value is not None else Num(None))
            return UNKNOWN
        if isinstance(node, ast.YieldFrom):
            self.frames[-1].yields.append(UNKNOWN)
            self.eval(node.value, scope)
            return UNKNOWN
        if isinstance(node, ast.Await):
            return self.eval(node.value, scope)
        if isinstance(node, ast.Starred):
            self.eval(node.value, scope)
            return UNKNOWN
        if isinstance(node, ast.Slice):
            return UNKNOWN
        return UNKNOWN

    def comprehension(self, generators, scope: Scope) -> Scope:
        inner = Scope(scope)
        for gen in generators:
            it = self.eval(gen.iter, inner)
            self.assign(gen.target, self.element(it, getattr(gen.iter, "lineno", 0)), inner)
            for cond in gen.ifs:
                self.eval(cond, inner)
        return inner

    def element(self, it: Any, line: int) -> Any:
        """What iterating `it` gives."""
        if isinstance(it, ListVal):
            return UNKNOWN if it.elem is BOTTOM else it.elem
        if isinstance(it, TupleVal) and it.items:
            value = it.items[0]
            for item in it.items[1:]:
                value = merge(value, item)
            return value
        if isinstance(it, Obj) and it.kind == "mm_video":
            return new_image(line, "reads the frames with mmcv.VideoReader (BGR)", kind="ndarray", order="BGR",
                             scale="0-255", layout="HWC", dtype="uint8", resize="none")
        if isinstance(it, Obj) and it.kind == "enumerate":
            return TupleVal((UNKNOWN, self.element(it.data, line)))
        if isinstance(it, Obj) and it.kind == "paths":
            return Str(None)
        return UNKNOWN

    def attribute(self, base: Any, attr: str) -> Any:
        if isinstance(base, Module):
            return Module(f"{base.qualname}.{attr}")
        if isinstance(base, Instance):
            if attr in base.attrs:
                value = base.attrs[attr]
                return UNKNOWN if value is BOTTOM else value
            method = base.cls.methods.get(attr)
            if method is not None:
                return Method(base, attr)
            return UNKNOWN
        if isinstance(base, Obj) and base.kind == D2_PREDICTOR and attr == "model":
            return Obj(D2_MODEL, base.line, "predictor.model")
        if isinstance(base, Obj) and base.kind == D2_PREDICTOR and attr == "aug" and base.data != "custom-aug":
            return Obj("d2_resize_shortest", base.line)       # DefaultPredictor's own ResizeShortestEdge
        if isinstance(base, (Img, Obj, ListVal, DictVal, Str)):
            return Method(base, attr)
        return UNKNOWN

    # ---- calls -----------------------------------------------------------------------------------
    def call_value(self, func: Any, args: List[Any], kwargs: Dict[str, Any], node: ast.Call) -> Any:
        line = node.lineno
        if isinstance(func, Module):
            return self.library_call(func.qualname, args, kwargs, node)
        if isinstance(func, Func):
            return self.call_function(func, args, kwargs)
        if isinstance(func, Klass):
            return self.instantiate(func, args, kwargs, node)
        if isinstance(func, Method):
            return self.method_call(func.base, func.name, args, kwargs, node)
        if isinstance(func, Obj):
            return self.call_object(func, args, kwargs, node)
        del line
        return UNKNOWN

    def instantiate(self, klass: Klass, args, kwargs, node) -> Any:
        if any(isinstance(b, Module) and b.qualname in _DETECTRON2_PREDICTORS for b in klass.bases):
            return UNKNOWN      # a subclass of DefaultPredictor may preprocess differently
        inst = Instance(klass)
        init = klass.methods.get("__init__")
        if init is not None:
            self.call_function(init, [inst] + list(args), kwargs)
        return inst

    def call_function(self, func: Func, args: List[Any], kwargs: Dict[str, Any], standalone: bool = False) -> Any:
        self.called.add(func)
        if self.depth >= MAX_DEPTH:
            return UNKNOWN
        node = func.node
        scope = Scope(func.scope)
        params = node.args
        positional = list(params.posonlyargs) + list(params.args)
        defaults = [None] * (len(positional) - len(params.defaults)) + list(params.defaults)
        for i, (param, default) in enumerate(zip(positional, defaults)):
            if i < len(args):
                value = args[i]
            elif param.arg in kwargs:
                value = kwargs[param.arg]
            elif "*" in kwargs or "**" in kwargs:
                value = UNKNOWN
            elif default is not None and not standalone:
                value = self.eval(default, func.scope)
            else:
                value = UNKNOWN
            scope.vars[param.arg] = value
        for param in params.kwonlyargs:
            scope.vars[param.arg] = kwargs.get(param.arg, UNKNOWN)
        if params.vararg:
            scope.vars[params.vararg.arg] = UNKNOWN
        if params.kwarg:
            scope.vars[params.kwarg.arg] = UNKNOWN
        self.depth += 1
        self.frames.append(_Frame())
        try:
            self.block(node.body, scope)
        finally:
            self.depth -= 1
            frame = self.frames.pop()
        for name in _declared_outer(node):
            scope.vars.pop(name, None)
            if func.scope is not None:
                func.scope.rebind(name, UNKNOWN)
        if _is_generator(node):
            # What iterating the generator gives: every value it yields (none known: unknown).
            elem: Any = BOTTOM
            for value in frame.yields:
                elem = merge(elem, value)
            return ListVal(elem) if frame.yields and elem is not BOTTOM else UNKNOWN
        result: Any = BOTTOM
        for value in frame.returns or [Num(None)]:
            result = merge(result, value)
        return UNKNOWN if result is BOTTOM else result

    def method_call(self, base: Any, name: str, args, kwargs, node: ast.Call) -> Any:
        if isinstance(base, Instance):
            method = base.cls.methods.get(name)
            if method is not None:
                static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in method.node.decorator_list)
                return self.call_function(method, list(args) if static else [base] + list(args), kwargs)
            return UNKNOWN
        if isinstance(base, Img):
            return self.img_method(base, name, args, kwargs, node)
        if isinstance(base, Obj):
            return self.obj_method(base, name, args, kwargs, node)
        return UNKNOWN

    def call_object(self, obj: Obj, args, kwargs, node: ast.Call) -> Any:
        line = node.lineno
        if obj.kind == D2_PREDICTOR:
            self.sink(D2_PREDICTOR, line, "DefaultPredictor", args[0] if args else kwargs.get("original_image", UNKNOWN),
                      "custom-aug" if obj.data == "custom-aug" else "array")
            return UNKNOWN
        if obj.kind == D2_MODEL:
            self.model_sink(obj, args[0] if args else kwargs.get("batched_inputs", UNKNOWN), line)
            return UNKNOWN
        if obj.kind == MM_INFERENCER:
            value = args[0] if args else kwargs.get("inputs", UNKNOWN)
            self.mm_sink(MM_INFERENCER, line, "DetInferencer", value)
            return UNKNOWN
        if obj.kind == "transforms":
            value = args[0] if args else UNKNOWN
            for step in obj.data:
                value = self.apply_transform(step, value, line)
            return value
        return UNKNOWN

    def sink(self, kind: str, line: int, call: str, image: Any, container: str = "array") -> None:
        if self.recording:
            self.sinks.append(Sink(kind, line, call, image, container))

    def mm_sink(self, kind: str, line: int, call: str, value: Any) -> None:
        if isinstance(value, (ListVal, TupleVal)):
            value = self.element(value, line)
        self.sink(kind, line, call, value)

    def model_sink(self, obj: Obj, value: Any, line: int) -> None:
        call = obj.data or "model"
        if isinstance(value, ListVal):
            elem = value.elem
            if isinstance(elem, DictVal):
                self.sink(D2_MODEL, line, call, elem.get("image"), "list-of-dicts")
            elif isinstance(elem, Img):
                self.sink(D2_MODEL, line, call, elem, "list-of-tensors")
        elif isinstance(value, TupleVal) and value.items and isinstance(value.items[0], DictVal):
            self.sink(D2_MODEL, line, call, value.items[0].get("image"), "list-of-dicts")
        elif isinstance(value, Img):
            self.sink(D2_MODEL, line, call, value, "tensor")

    def obj_method(self, obj: Obj, name: str, args, kwargs, node: ast.Call) -> Any:
        line = node.lineno
        if obj.kind == D2_MODEL:
            if name in ("eval", "to", "cuda", "cpu", "train", "half", "float", "requires_grad_"):
                return obj
            if name == "inference":
                self.model_sink(obj, args[0] if args else kwargs.get("batched_inputs", UNKNOWN), line)
            return UNKNOWN
        if obj.kind == "mm_model":
            if name in ("eval", "to", "cuda", "cpu"):
                return obj
            if name in ("test_step", "val_step"):
                data = args[0] if args else kwargs.get("data", UNKNOWN)
                inputs = data.get("inputs") if isinstance(data, DictVal) else UNKNOWN
                if isinstance(inputs, ListVal) and isinstance(inputs.elem, Img):
                    self.sink(MM_TEST_STEP, line, f"model.{name}", inputs.elem, "list-of-tensors")
            return UNKNOWN
        if obj.kind == MM_INFERENCER and name == "__call__":
            return self.call_object(obj, args, kwargs, node)
        if obj.kind == "d2_resize_shortest" and name == "get_transform":
            return Obj("d2_resize_transform", line)
        if obj.kind == "d2_resize_transform" and name == "apply_image":
            img = args[0] if args else UNKNOWN
            if isinstance(img, Img):
                return img.with_(resize=("keep-ratio", line, "resizes it with ResizeShortestEdge"))
            return UNKNOWN
        if obj.kind == "mm_video" and name == "read":
            return new_image(line, "reads a frame with mmcv.VideoReader (BGR)", kind="ndarray", order="BGR",
                             scale="0-255", layout="HWC", dtype="uint8", resize="none")
        if obj.kind == "cv2_capture" and name == "read":
            return TupleVal((UNKNOWN, new_image(line, "reads a BGR frame with cv2.VideoCapture", kind="ndarray",
                                                order="BGR", scale="0-255", layout="HWC", dtype="uint8",
                                                resize="none")))
        if obj.kind == "array_const" and name in ("view", "reshape", "to", "cuda", "float", "astype",
                                                  "unsqueeze", "type", "cpu"):
            return obj
        if obj.kind == "transforms" and name == "__call__":
            return self.call_object(obj, args, kwargs, node)
        return UNKNOWN

    # ---- the library vocabulary ------------------------------------------------------------------
    def library_call(self, q: str, args: List[Any], kwargs: Dict[str, Any], node: ast.Call) -> Any:
        line = node.lineno
        arg0 = args[0] if args else UNKNOWN
        short = q.rsplit(".", 1)[-1]
        if q in _DETECTRON2_PREDICTORS:
            return Obj(D2_PREDICTOR, line)
        if q in _BUILD_MODEL:
            return Obj(D2_MODEL, line, "model")
        if q in ("detectron2.config.instantiate", "detectron2.config.lazy.instantiate"):
            src = node.args[0] if node.args else None
            if isinstance(src, ast.Attribute) and src.attr == "model":
                return Obj(D2_MODEL, line, "model")
            return UNKNOWN
        if q in _INIT_DETECTOR:
            return Obj("mm_model", line)
        if q in _DET_INFERENCER:
            return Obj(MM_INFERENCER, line)
        if "*" in kwargs or "**" in kwargs:
            return UNKNOWN          # arguments unpacked from a value: which is which is unknown
        if q in _INFERENCE_DETECTOR:
            value = args[1] if len(args) > 1 else kwargs.get("imgs", UNKNOWN)
            model = args[0] if args else kwargs.get("model", UNKNOWN)
            if isinstance(model, Obj) and model.kind == "mm_model" or isinstance(value, Img):
                self.mm_sink(MM_INFERENCE, line, "inference_detector", value)
            return UNKNOWN
        if q == "enumerate":
            return Obj("enumerate", line, arg0)
        if q in ("list", "tuple"):
            return arg0 if isinstance(arg0, ListVal) else UNKNOWN
        if q == "numpy.array" and _is_numbers(arg0) or q in ("torch.tensor", "torch.Tensor", "torch.as_tensor") \
                and _is_numbers(arg0):
            return Obj("array_const", line)
        # readers
        if q == "cv2.imread":
            flag = args[1] if len(args) > 1 else kwargs.get("flags")
            if flag is None or (isinstance(flag, Module) and flag.qualname == "cv2.IMREAD_COLOR") or \
                    (isinstance(flag, Num) and flag.value == 1):
                return new_image(line, "reads the image with cv2.imread (BGR)", kind="ndarray", order="BGR",
                                 scale="0-255", layout="HWC", dtype="uint8", resize="none")
            if (isinstance(flag, Module) and flag.qualname == "cv2.IMREAD_GRAYSCALE") or \
                    (isinstance(flag, Num) and flag.value == 0):
                return new_image(line, "reads the image as grayscale", kind="ndarray", order="GRAY",
                                 scale="0-255", dtype="uint8", resize="none")
            return new_image(line, "reads the image with cv2.imread", kind="ndarray", scale="0-255", resize="none")
        if q == "cv2.imdecode":
            return new_image(line, "decodes the image with cv2.imdecode (BGR)", kind="ndarray",
                             order="BGR" if _is_color_flag(args[1] if len(args) > 1 else kwargs.get("flags")) else None,
                             scale="0-255", layout="HWC", dtype="uint8", resize="none")
        if q == "cv2.VideoCapture":
            return Obj("cv2_capture", line)
        if q in ("mmcv.VideoReader", "mmcv.video.VideoReader"):
            return Obj("mm_video", line)
        if q in ("PIL.Image.open", "Image.open"):
            return new_image(line, "reads the image with PIL (RGB)", kind="pil", order="RGB", scale="0-255",
                             layout="HWC", dtype="uint8", resize="none")
        if q in ("PIL.Image.fromarray",):
            if isinstance(arg0, Img):
                return arg0.with_(kind=("pil", line, "makes a PIL image"))
            return UNKNOWN
        if q in ("torchvision.io.read_image", "torchvision.io.decode_image", "torchvision.io.image.read_image"):
            mode = args[1] if len(args) > 1 else kwargs.get("mode")
            if mode is None or (isinstance(mode, Module) and mode.qualname.endswith("ImageReadMode.RGB")):
                return new_image(line, "reads the image with torchvision.io.read_image (RGB, CHW)", kind="tensor",
                                 order="RGB", scale="0-255", layout="CHW", dtype="uint8", resize="none")
            return UNKNOWN
        if q in ("imageio.imread", "imageio.v2.imread", "imageio.v3.imread", "skimage.io.imread",
                 "skimage.io.imread", "matplotlib.pyplot.imread", "matplotlib.image.imread"):
            as_gray = kwargs.get("as_gray") or kwargs.get("mode")
            if as_gray is not None:
                return UNKNOWN
            plt = q.startswith("matplotlib")
            how = f"reads the image with {q.replace('matplotlib.pyplot', 'plt')} (RGB)"
            return new_image(line, how, kind="ndarray", order="RGB", scale=None if plt else "0-255",
                             layout="HWC", dtype=None if plt else "uint8", resize="none")
        if q in _D2_READ_IMAGE:
            fmt = args[1] if len(args) > 1 else kwargs.get("format")
            if isinstance(fmt, Str) and fmt.value in ("BGR", "RGB"):
                return new_image(line, f"reads the image with read_image(format={fmt.value!r})", kind="ndarray",
                                 order=fmt.value, scale="0-255", layout="HWC", dtype="uint8", resize="none")
            return new_image(line, "reads the image with read_image", kind="ndarray", scale="0-255", layout="HWC",
                             dtype="uint8", resize="none")
        if q in ("mmcv.imread", "mmcv.image.imread"):
            order = kwargs.get("channel_order", Str("bgr"))
            flag = args[1] if len(args) > 1 else kwargs.get("flag", Str("color"))
            if isinstance(order, Str) and order.value in ("bgr", "rgb") and isinstance(flag, Str) and \
                    flag.value == "color":
                if isinstance(arg0, Img):
                    return arg0
                return new_image(line, f"reads the image with mmcv.imread ({order.value.upper()})", kind="ndarray",
                                 order=order.value.upper(), scale="0-255", layout="HWC", dtype="uint8", resize="none")
            return UNKNOWN
        # conversions
        if q == "cv2.cvtColor":
            code = args[1] if len(args) > 1 else kwargs.get("code")
            if isinstance(arg0, Img) and isinstance(code, Module) and code.qualname.startswith("cv2."):
                pair = _cv2_code(code.qualname[4:])
                if pair is not None:
                    order = _order_after_cvt(arg0.value(ORDER), *pair)
                    if order is None:
                        return arg0.with_(order=None)
                    how = f"converts the image to {order}" if order != "GRAY" else "converts the image to grayscale"
                    if order == arg0.value(ORDER):
                        return arg0
                    return arg0.with_(order=(order, line, how))
            return UNKNOWN
        if q in ("mmcv.bgr2rgb", "mmcv.rgb2bgr", "mmcv.image.bgr2rgb", "mmcv.image.rgb2bgr"):
            if isinstance(arg0, Img) and arg0.value(ORDER) in ("BGR", "RGB"):
                order = _swap(arg0.value(ORDER))
                return arg0.with_(order=(order, line, f"converts the image to {order}"))
            return UNKNOWN
        if q in ("mmcv.imconvert", "mmcv.image.imconvert"):
            src = args[1] if len(args) > 1 else kwargs.get("src")
            dst = args[2] if len(args) > 2 else kwargs.get("dst")
            if isinstance(arg0, Img) and isinstance(src, Str) and isinstance(dst, Str) and \
                    {str(src.value).upper(), str(dst.value).upper()} <= {"BGR", "RGB"}:
                order = _order_after_cvt(arg0.value(ORDER), src.value.upper(), dst.value.upper())
                if order is None:
                    return arg0.with_(order=None)
                return arg0 if order == arg0.value(ORDER) else arg0.with_(order=(order, line,
                                                                              f"converts the image to {order}"))
            return UNKNOWN
        if q in ("numpy.flip",):
            axis = args[1] if len(args) > 1 else kwargs.get("axis")
            if isinstance(arg0, Img) and isinstance(axis, Num) and arg0.value(LAYOUT) == "HWC" and \
                    axis.value in (2, -1):
                return self.flip_channels(arg0, line)
            return UNKNOWN
        if q in ("numpy.array", "numpy.asarray", "numpy.ascontiguousarray", "numpy.asanyarray", "numpy.copy"):
            if isinstance(arg0, Img):
                dtype = kwargs.get("dtype", args[1] if len(args) > 1 else None)
                out = arg0.with_(kind=("ndarray", line, "makes a numpy array"))
                if arg0.value(KIND) == "tensor":
                    return UNKNOWN
                return self.with_dtype(out, dtype, line) if dtype is not None else out
            if isinstance(arg0, ListVal) and isinstance(arg0.elem, Img) and q != "numpy.copy":
                return self.stack(arg0.elem, line)
            return UNKNOWN
        if q in ("numpy.stack", "torch.stack"):
            axis = args[1] if len(args) > 1 else kwargs.get("axis", kwargs.get("dim", Num(0)))
            if isinstance(arg0, ListVal) and isinstance(arg0.elem, Img) and isinstance(axis, Num) and axis.value == 0:
                out = self.stack(arg0.elem, line)
                return out.with_(kind=("tensor", line, "stacks a tensor")) if q.startswith("torch") else out
            return UNKNOWN
        if q in ("numpy.expand_dims",):
            axis = args[1] if len(args) > 1 else kwargs.get("axis")
            if isinstance(arg0, Img) and isinstance(axis, Num) and axis.value == 0:
                return self.batch(arg0, line)
            return UNKNOWN
        if q in ("numpy.transpose",):
            axes = args[1] if len(args) > 1 else kwargs.get("axes")
            if isinstance(arg0, Img):
                return self.permute(arg0, _ints(axes), line)
            return UNKNOWN
        if q in ("torch.from_numpy", "torch.as_tensor", "torch.tensor", "torch.Tensor", "torch.FloatTensor"):
            if isinstance(arg0, Img) and arg0.value(KIND) in ("ndarray", "tensor"):
                out = arg0.with_(kind=("tensor", line, "makes a tensor"))
                if q in ("torch.Tensor", "torch.FloatTensor"):
                    return out.with_(dtype=("float", line, "makes a float tensor"))
                dtype = kwargs.get("dtype")
                return self.with_dtype(out, dtype, line) if dtype is not None else out
            return UNKNOWN
        if q in ("cv2.resize",):
            size = args[1] if len(args) > 1 else kwargs.get("dsize")
            if not isinstance(arg0, Img):
                return UNKNOWN
            dims = _ints(size)
            if dims is not None and len(dims) == 2:
                return arg0.with_(resize=("fixed", line, f"resizes the image to a fixed {dims[0]}x{dims[1]}"))
            return arg0.with_(resize=("other", line, "resizes the image"))
        if q in ("mmcv.imresize", "mmcv.image.imresize"):
            if not isinstance(arg0, Img) or "return_scale" in kwargs:
                return UNKNOWN
            dims = _ints(args[1] if len(args) > 1 else kwargs.get("size"))
            if dims is not None and len(dims) == 2:
                return arg0.with_(resize=("fixed", line, f"resizes the image to a fixed {dims[0]}x{dims[1]}"))
            return arg0.with_(resize=("other", line, "resizes the image"))
        if q in ("mmcv.imrescale", "mmcv.image.imrescale"):
            if isinstance(arg0, Img) and "return_scale" not in kwargs:
                return arg0.with_(resize=("keep-ratio", line, "rescales the image keeping its aspect ratio"))
            return UNKNOWN
        if q in ("cv2.flip", "mmcv.imflip", "cv2.GaussianBlur", "cv2.medianBlur", "cv2.blur"):
            return arg0 if isinstance(arg0, Img) else UNKNOWN
        if q in ("torchvision.transforms.functional.normalize",):
            if isinstance(arg0, Img):
                return arg0.with_(scale=("normalized", line, "normalizes the image (torchvision normalize)"))
            return UNKNOWN
        if q in ("torchvision.transforms.functional.to_tensor",):
            return self.apply_transform(("to_tensor", line), arg0, line)
        if q.startswith(("detectron2.data.transforms.", "detectron2.data.transforms.augmentation_impl.")) and \
                short == "ResizeShortestEdge":
            return Obj("d2_resize_shortest", line)
        if q.startswith(("torchvision.transforms.", "torchvision.transforms.v2.")) and "functional" not in q:
            return self.torchvision_transform(short, args, kwargs, line)
        if q in ("os.listdir", "glob.glob", "glob.iglob", "sorted", "os.scandir"):
            if short == "sorted":
                return arg0 if isinstance(arg0, ListVal) else UNKNOWN
            return ListVal(Str(None))
        if q in ("os.path.join", "str", "os.path.abspath", "os.path.expanduser"):
            return Str(None)
        return UNKNOWN

    def torchvision_transform(self, short: str, args, kwargs, line: int) -> Any:
        if short == "Compose":
            steps = args[0] if args else kwargs.get("transforms")
            items = steps.items if isinstance(steps, ListVal) else steps.items if isinstance(steps, TupleVal) else None
            if not items or not all(isinstance(i, Obj) and i.kind == "transforms" for i in items):
                return UNKNOWN
            return Obj("transforms", line, tuple(step for i in items for step in i.data))
        step = None
        if short == "ToTensor":
            step = ("to_tensor", line)
        elif short == "PILToTensor":
            step = ("pil_to_tensor", line)
        elif short == "Normalize":
            mean = args[0] if args else kwargs.get("mean")
            std = args[1] if len(args) > 1 else kwargs.get("std")
            if _all_numbers(mean, 0.0) and _all_numbers(std, 1.0):
                return Obj("transforms", line, ())       # mean 0, std 1: changes nothing
            step = ("normalize", line)
        elif short == "Resize":
            size = args[0] if args else kwargs.get("size")
            dims = _ints(size)
            if isinstance(size, Num) and isinstance(size.value, int):
                step = ("resize_keep", line)
            elif dims is not None and len(dims) == 2:
                step = ("resize_fixed", line, dims)
        elif short == "ToPILImage":
            step = ("to_pil", line)
        if step is None:
            return UNKNOWN
        return Obj("transforms", line, (step,))

    def apply_transform(self, step: tuple, value: Any, line: int) -> Any:
        if not isinstance(value, Img):
            return UNKNOWN
        name, defined = step[0], step[1]
        at = line
        kind, dtype = value.value(KIND), value.value(DTYPE)
        where = "" if defined == line else f", defined on line {defined}"
        if name == "to_tensor":
            if kind == "pil" or (kind == "ndarray" and dtype == "uint8" and value.value(LAYOUT) == "HWC"):
                return value.with_(kind=("tensor", at, f"makes a tensor (ToTensor{where})"),
                                   layout=("CHW", at, f"makes it CHW (ToTensor{where})"),
                                   dtype=("float", at, f"makes it float (ToTensor{where})"),
                                   scale=("0-1", at, f"rescales the image to 0-1 (ToTensor{where})"))
            return UNKNOWN
        if name == "pil_to_tensor":
            if kind == "pil":
                return value.with_(kind=("tensor", at, "makes a tensor"), layout=("CHW", at, "makes it CHW"))
            return UNKNOWN
        if name == "normalize":
            if kind == "tensor":
                return value.with_(scale=("normalized", at, f"normalizes the image (T.Normalize{where})"))
            return UNKNOWN
        if name == "resize_keep":
            return value.with_(resize=("keep-ratio", at, f"resizes the image (T.Resize{where})"))
        if name == "resize_fixed":
            dims = step[2]
            return value.with_(resize=("fixed", at, f"resizes the image to a fixed {dims[0]}x{dims[1]} (T.Resize{where})"))
        if name == "to_pil":
            if kind in ("ndarray", "pil") and value.value(LAYOUT) == "HWC" and dtype == "uint8":
                return value.with_(kind=("pil", at, "makes a PIL image"))
            return UNKNOWN
        return UNKNOWN

    # ---- image operations ------------------------------------------------------------------------
    def img_method(self, img: Img, name: str, args, kwargs, node: ast.Call) -> Any:
        line = node.lineno
        kind = img.value(KIND)
        if name in _SAME_METHODS:
            return img
        if name == "to":
            dtype = kwargs.get("dtype")
            for a in args:
                if isinstance(a, Module) and a.qualname.startswith("torch.") and _dtype_name(a) is not None:
                    dtype = a
            return self.with_dtype(img, dtype, line) if dtype is not None else img
        if name in _FLOAT_METHODS and kind == "tensor":
            return img.with_(dtype=("float", line, f"makes it float (.{name}())"))
        if name == "byte" and kind == "tensor":
            return img.with_(dtype=("uint8", line, "makes it uint8"))
        if name in ("astype", "type"):
            return self.with_dtype(img, args[0] if args else kwargs.get("dtype"), line)
        if name in ("transpose", "permute") and (kind == "ndarray" or name == "permute"):
            if len(args) == 1:
                axes = _ints(args[0])
            else:
                axes = _ints(TupleVal(tuple(args)))
            return self.permute(img, axes, line)
        if name == "unsqueeze" and kind == "tensor":
            dim = args[0] if args else kwargs.get("dim")
            if isinstance(dim, Num) and dim.value == 0:
                return self.batch(img, line)
            return UNKNOWN
        if name == "numpy" and kind == "tensor":
            return img.with_(kind=("ndarray", line, "makes a numpy array"))
        if name in ("div", "true_divide", "divide"):
            return self.binop(img, ast.Div(), args[0] if args else UNKNOWN, None, line)
        if name in ("sub", "subtract"):
            return self.binop(img, ast.Sub(), args[0] if args else UNKNOWN, None, line)
        if name in ("mul", "multiply"):
            return self.binop(img, ast.Mult(), args[0] if args else UNKNOWN, None, line)
        if kind == "pil":
            if name == "convert":
                mode = args[0] if args else kwargs.get("mode")
                if isinstance(mode, Str) and mode.value == "RGB":
                    if img.value(ORDER) in ("BGR", "RGB", "GRAY3"):
                        return img   # already three channels: convert("RGB") leaves the bytes alone
                    if img.value(ORDER) == "GRAY":
                        return img.with_(order=("GRAY3", line, "makes the gray image three-channel"))
                    return img.with_(order=None)
                if isinstance(mode, Str) and mode.value == "L":
                    return img.with_(order=("GRAY", line, "converts the image to grayscale"))
                return UNKNOWN
            if name == "resize":
                dims = _ints(args[0] if args else kwargs.get("size"))
                if dims is not None and len(dims) == 2:
                    return img.with_(resize=("fixed", line, f"resizes the image to a fixed {dims[0]}x{dims[1]}"))
                return img.with_(resize=("other", line, "resizes the image"))
            if name == "thumbnail":
                return img.with_(resize=("keep-ratio", line, "shrinks the image keeping its aspect ratio"))
            if name in ("rotate", "transpose", "crop"):
                return img
        return UNKNOWN

    def with_dtype(self, img: Img, dtype: Any, line: int) -> Any:
        name = _dtype_name(dtype)
        if name is None:
            return img.with_(dtype=None)
        return img.with_(dtype=(name, line, f"makes it {name}"))

    def permute(self, img: Img, axes: Optional[List[int]], line: int) -> Any:
        layout = img.value(LAYOUT)
        if axes is None or layout is None:
            return img.with_(layout=None)
        table = {("HWC", (2, 0, 1)): "CHW", ("CHW", (1, 2, 0)): "HWC", ("BHWC", (0, 3, 1, 2)): "BCHW",
                 ("BCHW", (0, 2, 3, 1)): "BHWC"}
        new = table.get((layout, tuple(axes)))
        if new is None:
            if tuple(axes) == tuple(range(len(axes))):
                return img
            return img.with_(layout=None)
        return img.with_(layout=(new, line, f"makes it {new}"))

    def batch(self, img: Img, line: int) -> Any:
        layout = img.value(LAYOUT)
        if layout in ("HWC", "CHW"):
            return img.with_(layout=("B" + layout, line, f"adds a batch dimension (B{layout})"))
        return img.with_(layout=None)

    def stack(self, img: Img, line: int) -> Any:
        return self.batch(img, line)

    def flip_channels(self, img: Img, line: int) -> Any:
        order = _swap(img.value(ORDER))
        if order is None:
            return img.with_(order=None)
        return img.with_(order=(order, line, f"reverses the channels (now {order})"))

    def subscript(self, base: Any, slc: ast.expr, scope: Scope, node: ast.Subscript) -> Any:
        if isinstance(base, (ListVal, TupleVal, DictVal)):
            key = self.eval(slc, scope)
            if isinstance(base, ListVal):
                if isinstance(slc, ast.Slice):
                    return base
                return UNKNOWN if base.elem is BOTTOM else base.elem
            if isinstance(base, TupleVal):
                if isinstance(key, Num) and isinstance(key.value, int) and -len(base.items) <= key.value < len(base.items):
                    return base.items[key.value]
                return UNKNOWN
            if isinstance(key, Str) and key.value is not None:
                return base.get(key.value)
            return UNKNOWN
        if isinstance(base, Obj) and base.kind == "array_const":
            return base
        if not isinstance(base, Img):
            self.eval(slc, scope)
            return UNKNOWN
        parts = list(slc.elts) if isinstance(slc, ast.Tuple) else [slc]
        layout = img_layout = base.value(LAYOUT)
        del img_layout
        # Channel reversal: x[..., ::-1], x[:, :, ::-1] (HWC); x[::-1] / x[[2, 1, 0]] (CHW).
        def rev(p):
            return isinstance(p, ast.Slice) and p.lower is None and p.upper is None and \
                isinstance(p.step, ast.UnaryOp) and isinstance(p.step.op, ast.USub) and \
                isinstance(p.step.operand, ast.Constant) and p.step.operand.value == 1 or \
                isinstance(p, ast.List) and [getattr(e, "value", None) for e in p.elts] == [2, 1, 0]

        def full(p):
            return isinstance(p, ast.Slice) and p.lower is None and p.upper is None and p.step is None

        def ellipsis(p):
            return isinstance(p, ast.Constant) and p.value is Ellipsis

        if parts and rev(parts[-1]):
            head = parts[:-1]
            if layout == "HWC" and ((len(head) == 1 and ellipsis(head[0])) or
                                    (len(head) == 2 and all(full(p) for p in head))):
                return self.flip_channels(base, node.lineno)
            if layout == "CHW" and not head:
                return self.flip_channels(base, node.lineno)
            if layout == "BCHW" and len(head) == 1 and full(head[0]):
                return self.flip_channels(base, node.lineno)
            return Img((), base.read_line)
        if len(parts) == 1 and (isinstance(parts[0], ast.Constant) and parts[0].value is None or
                                isinstance(parts[0], ast.Attribute) and parts[0].attr == "newaxis"):
            return self.batch(base, node.lineno)   # x[None], x[np.newaxis]
        def first3(p):
            return isinstance(p, ast.Slice) and p.step is None and isinstance(p.upper, ast.Constant) and \
                p.upper.value == 3 and (p.lower is None or isinstance(p.lower, ast.Constant) and p.lower.value == 0)

        if layout == "HWC" and parts and first3(parts[-1]) and (
                (len(parts) == 2 and ellipsis(parts[0])) or (len(parts) == 3 and full(parts[0]) and full(parts[1]))):
            return base     # x[..., :3]: drops an alpha channel, keeps the order of the other three
        if layout == "HWC" and 1 <= len(parts) <= 2 and all(isinstance(p, ast.Slice) and p.step is None
                                                           for p in parts):
            for p in parts:
                self.eval(p.lower, scope)
                self.eval(p.upper, scope)
            # A crop: channels and scale unchanged; its size is the script's choice (tiles), not judged.
            return base.with_(resize=None)
        if layout in ("BCHW", "BHWC") and len(parts) == 1 and isinstance(parts[0], ast.Constant) and \
                parts[0].value == 0:
            return base.with_(layout=(layout[1:], node.lineno, "takes the first image of the batch"))
        return UNKNOWN

    def binop(self, left: Any, op: ast.operator, right: Any, right_node, line: int, left_node=None) -> Any:
        if isinstance(left, Num) and isinstance(right, Num) and isinstance(left.value, (int, float)) and \
                isinstance(right.value, (int, float)):
            try:
                if isinstance(op, ast.Add):
                    return Num(left.value + right.value)
                if isinstance(op, ast.Sub):
                    return Num(left.value - right.value)
                if isinstance(op, ast.Mult):
                    return Num(left.value * right.value)
                if isinstance(op, ast.FloorDiv):
                    return Num(left.value // right.value)
                if isinstance(op, ast.Div):
                    return Num(left.value / right.value)
            except (ZeroDivisionError, OverflowError):
                return UNKNOWN
            return UNKNOWN
        if isinstance(left, Str) and isinstance(op, (ast.Add, ast.Mod)):
            return Str(None)
        if not isinstance(left, Img):
            return UNKNOWN
        scale = left.value(SCALE)
        number = right.value if isinstance(right, Num) and isinstance(right.value, (int, float)) else None
        stats = number is not None or _is_numbers(right)
        floaty = left.with_(dtype=("float", line, "makes it float"))
        if isinstance(op, ast.Div):
            if number == 1:
                return left
            if number is not None and abs(number - 255) < 1e-6:
                if scale == "0-255":
                    return floaty.with_(scale=("0-1", line, "divides the image by 255 (now 0-1)"))
                return left.with_(scale=None, dtype=None)
            if scale == "mean-subtracted" and stats:
                return floaty.with_(scale=("normalized", line, "normalizes the image ((x - mean) / std)"))
            return left.with_(scale=None, dtype=None)
        if isinstance(op, ast.Sub):
            if number == 0:
                return left
            if not stats:
                return left.with_(scale=None)
            if scale in ("0-255", "0-1"):
                return floaty.with_(scale=("mean-subtracted", line, "subtracts a mean from the image"))
            return left.with_(scale=None)
        if isinstance(op, ast.Mult):
            if number is not None and abs(number - 255) < 1e-6 and scale == "0-1":
                return floaty.with_(scale=("0-255", line, "multiplies the image by 255 (now 0-255)"))
            if number == 1:
                return left
            return left.with_(scale=None)
        return UNKNOWN


_BUILTINS = ("float", "int", "sorted", "enumerate", "list", "tuple", "str", "print", "len", "zip", "range")


def _all_numbers(value: Any, expected: float) -> bool:
    items = value.items if isinstance(value, (ListVal, TupleVal)) else None
    return bool(items) and all(isinstance(i, Num) and i.value == expected for i in items)


def _is_numbers(value: Any) -> bool:
    """A literal list of numbers (a mean or a std), or such a list already made an array."""
    if isinstance(value, Obj) and value.kind == "array_const":
        return True
    if isinstance(value, ListVal) and value.items is not None:
        return bool(value.items) and all(isinstance(i, Num) and i.value is not None for i in value.items)
    if isinstance(value, TupleVal):
        return bool(value.items) and all(isinstance(i, Num) and i.value is not None for i in value.items)
    return False


def _merge_envs(envs: List[Dict[str, Any]]) -> Dict[str, Any]:
    if len(envs) == 1:
        return dict(envs[0])
    names = set()
    for env in envs:
        names.update(env)
    out: Dict[str, Any] = {}
    for name in names:
        value: Any = BOTTOM
        for env in envs:
            value = merge(value, env.get(name, UNKNOWN))
        out[name] = value
    return out


def _is_main_guard(test: ast.expr) -> bool:
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__" and \
        len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq) and isinstance(test.comparators[0], ast.Constant) and \
        test.comparators[0].value == "__main__"


def _is_optional_import(node) -> bool:
    """try: import x / except ImportError: ...  (only imports in the body, only ImportError caught)."""
    if not node.body or not all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in node.body):
        return False
    if node.orelse or node.finalbody or not node.handlers:
        return False
    for handler in node.handlers:
        names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if not all(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names):
            return False
    return True


def _declared_outer(node) -> List[str]:
    """Names a function declares `global` or `nonlocal` (its own body, not nested functions)."""
    names: List[str] = []
    todo = list(node.body)
    while todo:
        child = todo.pop()
        if isinstance(child, (ast.Global, ast.Nonlocal)):
            names.extend(child.names)
        elif not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(child))
    return names


def _is_generator(node) -> bool:
    for child in ast.walk(node):
        if isinstance(child, (ast.Yield, ast.YieldFrom)):
            return True
    return False


def _stored_names(node: ast.AST) -> List[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]


def _load(target: ast.expr) -> ast.expr:
    return target


def _ints(value: Any) -> Optional[List[int]]:
    if isinstance(value, (TupleVal, ListVal)) and isinstance(value, TupleVal):
        out = []
        for item in value.items:
            if isinstance(item, Num) and isinstance(item.value, int):
                out.append(item.value)
            else:
                return None
        return out
    return None


def _is_color_flag(flag: Any) -> bool:
    return (isinstance(flag, Module) and flag.qualname == "cv2.IMREAD_COLOR") or \
        (isinstance(flag, Num) and flag.value == 1)


_FLOAT_DTYPES = {"float32", "float64", "float16", "float", "double", "half", "FloatTensor", "float_"}
_UINT8 = {"uint8", "ByteTensor"}


def _dtype_name(dtype: Any) -> Optional[str]:
    if isinstance(dtype, Str):
        name = dtype.value or ""
    elif isinstance(dtype, Module):
        name = dtype.qualname.rsplit(".", 1)[-1]
        if dtype.qualname == "float":
            name = "float"
    else:
        return None
    if name in _FLOAT_DTYPES:
        return "float"
    if name in _UINT8:
        return "uint8"
    return None
