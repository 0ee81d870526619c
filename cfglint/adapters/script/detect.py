"""Does a .py file build a config and hand it to a model? One parse, one walk, no evaluation.

A serving script ends in a *sink*: a call that builds a model from a config (Detectron2
`DefaultPredictor(cfg)`, `build_model(cfg)`, LazyConfig `instantiate(cfg.model)`; MMDetection
`init_detector(...)`, `DetInferencer(...)`, `MODELS.build(cfg.model)`, `build_detector(...)`).
A training entry point (`DefaultTrainer(cfg)`, `Trainer.build_model(cfg)`), a dataset registration
or a helper module has none and is "not a config".
"""
from __future__ import annotations

import ast
from typing import Dict, List, Optional, Tuple

#: sink name -> the packages it must come from (a bare name must be imported from one of them).
SINKS: Dict[str, Tuple[str, ...]] = {
    "DefaultPredictor": ("detectron2",),
    "VisualizationDemo": ("predictor", "demo"),
    "build_model": ("detectron2",),
    "instantiate": ("detectron2",),
    "init_detector": ("mmdet",),
    "init_model": ("mmdet",),
    "DetInferencer": ("mmdet",),
    "build_detector": ("mmdet",),
    "MODELS.build": ("mmdet", "mmengine"),
}
FRAMEWORK_OF_SINK = {"DefaultPredictor": "detectron2", "VisualizationDemo": "detectron2", "build_model": "detectron2",
                     "instantiate": "detectron2", "init_detector": "mmdet", "init_model": "mmdet",
                     "DetInferencer": "mmdet", "build_detector": "mmdet", "MODELS.build": "mmdet"}


def parse(path: str, text: str) -> Optional[ast.Module]:
    try:
        return ast.parse(text, filename=path)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def imported_names(tree: ast.Module) -> Dict[str, str]:
    """Local name -> the dotted name it was imported as (`from a.b import c as d` -> d: a.b.c)."""
    names: Dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    names[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            module = ("." * node.level) + (node.module or "")
            for alias in node.names:
                names[alias.asname or alias.name] = f"{module}.{alias.name}" if module else alias.name
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


def _sink_of(name: str, names: Dict[str, str]) -> Optional[str]:
    head, _, rest = name.partition(".")
    qual = names.get(head)
    if qual is None:
        return None
    full = qual + ("." + rest if rest else "")
    parts = full.lstrip(".").split(".")
    for sink, packages in SINKS.items():
        tail = sink.split(".")
        if parts[-len(tail):] == tail and len(parts) > len(tail) - 1:
            root = parts[0]
            if root in packages or (len(parts) == len(tail) and False):
                return sink
    return None


def builds_config(path: str, text: str) -> bool:
    """Whether this Python file builds a config and gives it to a model (cheap: one parse)."""
    if not any(word in text for word in ("DefaultPredictor", "build_model", "instantiate", "init_detector",
                                          "init_model", "DetInferencer", "build_detector", "MODELS",
                                          "VisualizationDemo")):
        return False
    tree = parse(path, text)
    return tree is not None and bool(sink_calls(tree))
