"""The few config facts the image rules need, and where they come from.

- ``input_format``: the channel order the network consumes (Detectron2 ``INPUT.FORMAT``), which is
  what ``model([{"image": ...}])`` must be given (DefaultPredictor flips for RGB models itself).
- ``normalizes``: the model subtracts a pixel mean / divides by a pixel std of its own (anything but
  mean 0 and std 1), so an image the script normalized gets normalized twice.
- ``test_short_edge``: the short edge the predictor resizes to (0: it does not resize).

The preferred source is the common model of the config the script builds (the serving-script
adapter). Without it, a Detectron2 script that starts from ``get_cfg()`` and merges only model-zoo
files (or nothing) has the zoo's values (BGR, ImageNet mean, short edge 800) except where the script
assigns a literal after its last merge. Anything else (a merged file the analysis cannot read, a
value computed at run time) leaves the fact unknown, and the rules that need it stay silent.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Callable, Optional

_ZOO_FACTS = {"input_format": "BGR", "normalizes": True, "test_short_edge": 800}


@dataclass(frozen=True)
class ConfigFacts:
    input_format: Optional[str] = None
    normalizes: Optional[bool] = None
    test_short_edge: Optional[int] = None
    source: str = "unknown"     # "config": from the common model; "script": read from the script's literals


UNKNOWN_FACTS = ConfigFacts()


def from_model(model: Any) -> ConfigFacts:
    """Facts of a CommonModel (None fields stay unknown)."""
    if model is None:
        return UNKNOWN_FACTS
    order = model.get("input.channel_order")
    mean, std = model.get("input.pixel_mean"), model.get("input.pixel_std")
    normalizes = None
    if _floats(mean) and _floats(std):
        normalizes = not (all(abs(v) < 1e-9 for v in mean) and all(abs(v - 1) < 1e-9 for v in std))
    edge = model.get("test.resize.short_edge")
    return ConfigFacts(order if order in ("BGR", "RGB") else None, normalizes,
                       edge if isinstance(edge, int) and not isinstance(edge, bool) else None, "config")


def from_script(tree: ast.Module, load_config: Optional[Callable[[str], Any]] = None) -> ConfigFacts:
    """Facts a Detectron2 `get_cfg()` script states by itself (see the module docstring)."""
    calls_get_cfg = False
    merges_unknown = False
    last_merge = 0
    assigns = []
    files = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node.func)
            if name == "get_cfg":
                calls_get_cfg = True
            elif name in ("merge_from_file", "merge_from_other_cfg", "load_yaml_with_base", "LazyConfig.load"):
                last_merge = max(last_merge, node.lineno)
                if name == "merge_from_file" and node.args and _is_zoo_file(node.args[0]):
                    pass
                elif name == "merge_from_file" and node.args and _literal_yaml(node.args[0]) and load_config:
                    files.append(_literal_yaml(node.args[0]))
                else:
                    merges_unknown = True
            elif name == "merge_from_list":
                pairs = _literal_pairs(node)
                if pairs is None:
                    last_merge = max(last_merge, node.lineno)
                    merges_unknown = True
                else:
                    assigns.extend((key, node, value) for key, value in pairs)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                key = _attr_tail(target)
                if key in _FACT_KEYS:
                    value = _literal(node.value) if not isinstance(node, ast.AugAssign) and \
                        node.value is not None else None
                    assigns.append((key, node, value))
    if not calls_get_cfg or merges_unknown or len(files) > 1:
        return UNKNOWN_FACTS
    facts = dict(_ZOO_FACTS)
    if files:
        # One YAML the script merges by a literal path (relative to the working directory, as when the
        # script runs): its facts, read by cfglint's own Detectron2 reader.
        try:
            model = load_config(files[0])
        except Exception:   # noqa: BLE001 - any reason the file cannot be read leaves the facts unknown
            return UNKNOWN_FACTS
        known = from_model(model)
        facts = {"input_format": known.input_format, "normalizes": known.normalizes,
                 "test_short_edge": known.test_short_edge}
    mean = std = "default"
    for key, node, value in sorted(assigns, key=lambda a: a[1].lineno):
        if node.lineno <= last_merge:
            value = None          # a merge after it may override it
        if key == "FORMAT":
            facts["input_format"] = value if value in ("BGR", "RGB") else None
        elif key == "MIN_SIZE_TEST":
            facts["test_short_edge"] = value if isinstance(value, int) and not isinstance(value, bool) else None
        elif key == "PIXEL_MEAN":
            mean = value if _floats(value) else None
        else:
            std = value if _floats(value) else None
    if mean is None or std is None:
        facts["normalizes"] = None
    elif mean != "default" and std != "default":
        facts["normalizes"] = not (all(abs(v) < 1e-9 for v in mean) and all(abs(v - 1) < 1e-9 for v in std))
    elif mean != "default":
        facts["normalizes"] = True if any(abs(v) > 1e-9 for v in mean) else None
    elif std != "default":
        facts["normalizes"] = True     # the default mean is not 0
    return ConfigFacts(facts["input_format"], facts["normalizes"], facts["test_short_edge"], "script")


def _floats(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) >= 1 and \
        all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, RecursionError):
        return None


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        if isinstance(func.value, ast.Name) and func.value.id == "LazyConfig":
            return f"LazyConfig.{func.attr}"
        return func.attr
    return ""


def _attr_tail(target: ast.expr) -> str:
    return target.attr if isinstance(target, ast.Attribute) else ""


def _is_zoo_file(node: ast.expr) -> bool:
    """model_zoo.get_config_file("COCO-Detection/....yaml") with a literal YAML name."""
    return isinstance(node, ast.Call) and _call_name(node.func) == "get_config_file" and len(node.args) == 1 and \
        isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str) and \
        node.args[0].value.endswith(".yaml") and node.args[0].value.startswith(("COCO-", "LVIS", "PascalVOC",
                                                                                 "Misc/"))


def _literal_yaml(node: ast.expr) -> Optional[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith((".yaml", ".yml")):
        return node.value
    return None


_FACT_KEYS = ("PIXEL_MEAN", "PIXEL_STD", "FORMAT", "MIN_SIZE_TEST")
_FULL_KEYS = {"MODEL.PIXEL_MEAN": "PIXEL_MEAN", "MODEL.PIXEL_STD": "PIXEL_STD", "INPUT.FORMAT": "FORMAT",
              "INPUT.MIN_SIZE_TEST": "MIN_SIZE_TEST"}


def _literal_pairs(node: ast.Call):
    """merge_from_list(["KEY", value, ...]) with literal keys: the (fact key, value) pairs it sets (a
    value is None when it is not a literal: yacs parses strings, so only plain literals are taken).
    None when the list itself is not literal."""
    if not node.args or not isinstance(node.args[0], (ast.List, ast.Tuple)) or len(node.args[0].elts) % 2:
        return None
    elts = node.args[0].elts
    pairs = []
    for key, value in zip(elts[::2], elts[1::2]):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return None
        fact = _FULL_KEYS.get(key.value)
        if fact is not None:
            literal = _literal(value)
            pairs.append((fact, None if isinstance(literal, str) and fact != "FORMAT" else literal))
        elif key.value.rsplit(".", 1)[-1] in _FACT_KEYS:
            return None
    return pairs
