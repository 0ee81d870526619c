"""Does a .py file build a config and hand it to a model? One parse, one walk, no evaluation.

A serving script ends in a *sink*: a call that builds a model from a config (Detectron2
`DefaultPredictor(cfg)`, `build_model(cfg)`, LazyConfig `instantiate(cfg.model)`, `model_zoo.get(name)`;
MMDetection `init_detector(...)`, `DetInferencer(...)`, `MODELS.build(cfg.model)`, `build_detector(...)`).
A training entry point (`DefaultTrainer(cfg)`, `Trainer.build_model(cfg)`), a dataset registration
or a helper module has none and is "not a config".
"""
from __future__ import annotations

import ast
import os
import re
import warnings
from typing import Dict, List, Optional, Tuple

#: sink name -> the packages it must come from (a bare name must be imported from one of them).
SINKS: Dict[str, Tuple[str, ...]] = {
    "DefaultPredictor": ("detectron2",),
    "VisualizationDemo": ("predictor", "demo"),
    "build_model": ("detectron2",),
    "instantiate": ("detectron2",),
    "model_zoo.get": ("detectron2",),
    "init_detector": ("mmdet",),
    "init_model": ("mmdet",),
    "DetInferencer": ("mmdet",),
    "build_detector": ("mmdet",),
    "MODELS.build": ("mmdet", "mmengine"),
}
FRAMEWORK_OF_SINK = {"DefaultPredictor": "detectron2", "VisualizationDemo": "detectron2", "build_model": "detectron2",
                     "instantiate": "detectron2", "model_zoo.get": "detectron2",
                     "init_detector": "mmdet", "init_model": "mmdet",
                     "DetInferencer": "mmdet", "build_detector": "mmdet", "MODELS.build": "mmdet"}


def parse(path: str, text: str) -> Optional[ast.Module]:
    try:
        with warnings.catch_warnings():     # an invalid escape in the user's file is not our message
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=path)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def imported_names(tree: ast.Module) -> Dict[str, List[str]]:
    """Local name -> every dotted name it is imported as (`from a.b import c as d` -> d: [a.b.c]);
    a `try: from x import y / except ImportError: from z import y` gives both."""
    names: Dict[str, List[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                names.setdefault(local, []).append(alias.name if alias.asname else alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            module = ("." * node.level) + (node.module or "")
            for alias in node.names:
                names.setdefault(alias.asname or alias.name, []).append(
                    f"{module}.{alias.name}" if module else alias.name)
    return names


def dotted(node: ast.AST) -> Optional[str]:
    parts: List[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def sink_calls(tree: ast.Module) -> List[Tuple[str, ast.Call]]:
    """(sink name, call) for every call of a model-building API, in source order."""
    names = imported_names(tree)
    found: List[Tuple[str, ast.Call]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):   # `class BatchPredictor(DefaultPredictor)`
            for base in node.bases:
                name = dotted(base)
                sink = _sink_of(name, names) if name else None
                if sink is not None:
                    found.append((sink, node))
            continue
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        if name is None:
            continue
        sink = _sink_of(name, names)
        if sink is not None:
            found.append((sink, node))
    found.sort(key=lambda item: (item[1].lineno, item[1].col_offset))
    return found


def _sink_of(name: str, names: Dict[str, List[str]]) -> Optional[str]:
    head, _, rest = name.partition(".")
    for qual in names.get(head, ()):
        full = qual + ("." + rest if rest else "")
        parts = full.lstrip(".").split(".")
        for sink, packages in SINKS.items():
            tail = sink.split(".")
            if parts[-len(tail):] == tail and len(parts) > len(tail) and \
                    (parts[0] in packages or any(p in packages for p in parts[:-len(tail)])):
                return sink
    return None


def builds_config(path: str, text: str) -> bool:
    """Whether this Python file builds a config and gives it to a model (cheap: one parse)."""
    if not any(word in text for word in _SINK_WORDS):
        return False
    tree = parse(path, text)
    return tree is not None and bool(sink_calls(tree))


#: Imports that only code which *runs* something makes (training, registration, visualization,
#: command lines); a config file (LazyConfig, mmengine) never needs them.
_RUNTIME_IMPORTS = ("argparse", "setuptools", "distutils", "pytest", "unittest", "detectron2.engine.launch",
                    "detectron2.data.datasets.register_coco_instances", "mmdet.apis.inference_detector")


_CONFIG_LINE = re.compile(r"^(?:_base_|model|dataloader|train|optimizer|lr_multiplier|train_pipeline|test_pipeline|"
                          r"train_dataloader|test_dataloader|default_scope)\s*=|LazyCall|^with\s+read_base", re.M)
_SINK_WORDS = ("DefaultPredictor", "build_model", "instantiate", "init_detector", "init_model", "DetInferencer",
               "build_detector", "MODELS", "VisualizationDemo", "model_zoo")
_CONFIG_NAMES = {"model", "dataloader", "train", "optimizer", "lr_multiplier", "_base_", "data", "test_pipeline",
                 "train_pipeline", "train_dataloader", "val_dataloader", "test_dataloader", "default_scope",
                 "train_cfg", "test_cfg", "val_cfg", "optim_wrapper", "param_scheduler", "img_norm_cfg"}


def _looks_like_config(tree: ast.Module, text: str, package_init: bool = False) -> bool:
    """A LazyConfig or mmengine config: `L(...)`, a config object by its usual name, `read_base()`,
    a relative import of another config's objects, `model_zoo.get_config`."""
    if "LazyCall" in text or "get_config(" in text:
        return True
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id in _CONFIG_NAMES for t in stmt.targets):
            return True
        if isinstance(stmt, ast.With) or (isinstance(stmt, ast.ImportFrom) and stmt.level and not package_init):
            return True
    return False


def _bare_call(stmt: ast.stmt) -> bool:
    """`register_coco_instances(...)` / `main()` as a statement (a config mutates with `x.update(...)`)."""
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name)


def is_not_a_config(path: str, text: str) -> bool:
    """A .py that builds no config for a model and is not itself a config file: a training entry
    point, a dataset registration, a helper module, setup.py, a test. Decided from its top level
    (one parse): a `__main__` block, a class, a decorated function, an import only running code
    makes, a top-level call statement (`register_coco_instances(...)`), or no assignment at all
    (a module of functions)."""
    if _CONFIG_LINE.search(text) and not any(word in text for word in _SINK_WORDS):
        return False   # the common case (a zoo config), decided without a parse
    tree = parse(path, text)
    if tree is None:
        return False   # the adapter reports the syntax error
    if sink_calls(tree) or _looks_like_config(tree, text, os.path.basename(path) == "__init__.py"):
        return False
    assigns = False
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and "__name__" in ast.dump(stmt.test):
            return True
        if isinstance(stmt, ast.ClassDef):
            return True
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.decorator_list:
            return True
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in stmt.names] if isinstance(stmt, ast.Import) else \
                [f"{stmt.module}.{a.name}" for a in stmt.names]
            if any(n == r or n.startswith(r + ".") for n in names for r in _RUNTIME_IMPORTS):
                return True
        if _bare_call(stmt) or (isinstance(stmt, ast.For) and any(_bare_call(s) for s in stmt.body)):
            return True
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.With)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
            if not all(isinstance(t, ast.Name) and t.id.startswith("__") for t in targets):   # not __all__
                assigns = True
    return not assigns
