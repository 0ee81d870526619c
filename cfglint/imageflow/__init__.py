"""What a serving script does to the image before the detector sees it (static, never run).

``analyze_file(path, text)`` parses a Python file with :mod:`ast`, follows every image from where it
is read (cv2, PIL, torchvision, imageio, skimage, matplotlib, mmcv, detectron2's ``read_image``)
through assignments, helper functions, loops and comprehensions to where it is handed to a detector
(``DefaultPredictor(cfg)(img)``, ``model([{"image": t}])``, ``inference_detector(model, img)``,
``DetInferencer(...)(img)``), and records at each such call what is certain about the image: channel
order, scale, layout, dtype, resize, each with the line that made it so
(:mod:`cfglint.imageflow.interp`).

``problems(report, facts)`` judges those observations against what each call expects, using the
config facts it needs (:mod:`cfglint.imageflow.facts`); the lint rules (``rules/image_flow.yaml``,
check ``image_flow``) turn problems into findings. Anything the analysis does not understand leaves
a property unknown, and an unknown property is never judged.
"""
from __future__ import annotations

import ast
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple

from cfglint.errors import CfglintError
from cfglint.imageflow.facts import UNKNOWN_FACTS, ConfigFacts, from_model, from_script
from cfglint.imageflow.interp import (D2_MODEL, D2_PREDICTOR, MM_INFERENCE, MM_INFERENCER, MM_TEST_STEP, Interpreter,
                                     Sink)
from cfglint.imageflow.values import KIND, LAYOUT, ORDER, RESIZE, SCALE, Img

__all__ = ["analyze_file", "ImageFlowReport", "Problem", "problems", "ConfigFacts", "from_model", "has_image_sinks"]

#: A file without any of these never hands an image to a detector: skip it without parsing.
_SINK_HINT = re.compile(r"DefaultPredictor|build_model|inference_detector|DetInferencer|instantiate|init_detector|"
                        r"model_zoo")
MAX_TEXT = 2_000_000


@dataclass
class ImageFlowReport:
    path: str
    sinks: List[Sink] = field(default_factory=list)      # every model call reached, with its image
    script_facts: ConfigFacts = UNKNOWN_FACTS             # config facts the script states by itself
    error: Optional[str] = None                           # why the file could not be analysed


    def explain(self) -> List[str]:
        """One line per model call: what is known about the image there, and which line made it so
        ("predict.py:22 DefaultPredictor gets order=RGB (predict.py:21 converts the image to RGB), ...").
        For `-v` style output and for people reading why a rule did or did not fire."""
        lines = []
        for sink in self.sinks:
            if not isinstance(sink.image, Img):
                lines.append(f"{self.path}:{sink.line} {sink.call} gets something that is not a known image")
                continue
            parts = []
            for prop in (ORDER, SCALE, LAYOUT, "dtype", RESIZE):
                fact = sink.image.get(prop)
                parts.append(f"{prop}=unknown" if fact is None else f"{prop}={fact[0]} ({self.path}:{fact[1]} {fact[2]})")
            lines.append(f"{self.path}:{sink.line} {sink.call} gets " + ", ".join(parts))
        return lines


@dataclass(frozen=True)
class Problem:
    """One wrong property at one model call: `kind` is the rule's `problem` parameter."""

    kind: str
    sink_line: int
    call: str
    value: Any            # the wrong property's value ("RGB", "0-1", "HWC", ...)
    origin_line: int      # the line that produced it
    origin: str           # how that line produced it ("converts the image to RGB")
    extra: Tuple[Tuple[str, Any], ...] = ()


def has_image_sinks(text: str) -> bool:
    return _SINK_HINT.search(text) is not None


def read_script(path: str, limit: int) -> str:
    """A script's text for the analysis: a regular file only (never a FIFO or a device), at most
    `limit + 1` characters' worth of bytes, undecodable bytes replaced (a comment in Latin-1 must
    not hide the image flow)."""
    from cfglint.adapters import roots
    return roots.read_bytes(path, limit, kind="the script").decode("utf-8", errors="replace")


def analyze_file(path: str, text: Optional[str] = None) -> ImageFlowReport:
    """The image dataflow of one Python file. Never raises on a bad file: `error` says why."""
    report = ImageFlowReport(path)
    if text is None:
        try:
            text = read_script(path, MAX_TEXT)
        except CfglintError as exc:
            report.error = f"cannot read: {exc.message}"
            return report
    if len(text) > MAX_TEXT or not has_image_sinks(text):
        return report
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")       # invalid escapes etc. are the script's business
            tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        report.error = f"not valid Python: {exc}"
        return report
    interp = Interpreter(tree, path)
    try:
        interp.run()
    except Exception as exc:   # noqa: BLE001 - a gap in the analysis must never break `lint`: no findings
        report.error = f"image-flow analysis stopped: {type(exc).__name__}"
        return report
    report.sinks = interp.sinks
    if report.sinks and "get_cfg" in text:
        try:
            report.script_facts = from_script(tree, _load_detectron2_yaml)
        except RecursionError:
            report.script_facts = UNKNOWN_FACTS
    return report


def _load_detectron2_yaml(path: str):
    """The common model of a YAML the script merges (never a Python file: nothing is run)."""
    if not os.path.isfile(path) or not path.endswith((".yaml", ".yml")):
        raise FileNotFoundError(path)
    from cfglint.adapters import load
    return load(path, framework="detectron2")


_CACHE: dict = {}


def analyze_path(path: str) -> ImageFlowReport:
    """analyze_file, memoized per (file, size, mtime): every image rule of a run asks for it."""
    try:
        st = os.stat(path)
        key = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    except OSError:
        return analyze_file(path)
    if key not in _CACHE:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = analyze_file(path)
    return _CACHE[key]


def _fact(img: Img, prop: str) -> Optional[Tuple[Any, int, str]]:
    return img.get(prop) if isinstance(img, Img) else None


def problems(report: ImageFlowReport, facts: Optional[ConfigFacts] = None) -> List[Problem]:
    """Every certain problem of the report, judged with `facts` (default: the script's own)."""
    facts = facts or report.script_facts
    found: List[Problem] = []
    for sink in report.sinks:
        found.extend(_judge(sink, facts))
    unique, seen = [], set()
    for p in found:
        key = (p.kind, p.sink_line, p.origin_line, p.value)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _judge(sink: Sink, facts: ConfigFacts) -> List[Problem]:
    img = sink.image
    if not isinstance(img, Img):
        return []
    out: List[Problem] = []

    def add(kind: str, prop: str, **extra: Any) -> None:
        fact = img.get(prop)
        out.append(Problem(kind, sink.line, sink.call, fact[0], fact[1], fact[2], tuple(sorted(extra.items()))))

    order, scale, layout = img.value(ORDER), img.value(SCALE), img.value(LAYOUT)
    resize, kind = img.value(RESIZE), img.value(KIND)
    normalized = scale in ("normalized", "mean-subtracted")
    if sink.kind == D2_PREDICTOR:
        if order == "RGB" and kind == "ndarray":
            add("predictor-channel-order", ORDER, expected="BGR")
        if normalized and facts.normalizes:
            add("double-normalization", SCALE)
        elif scale == "0-1" and facts.normalizes:
            add("model-input-scale", SCALE)
        if resize == "fixed" and sink.container != "custom-aug" and isinstance(facts.test_short_edge, int) and \
                facts.test_short_edge > 0:
            add("fixed-resize-before-predictor", RESIZE, short_edge=facts.test_short_edge)
    elif sink.kind in (MM_INFERENCE, MM_INFERENCER):
        if order == "RGB" and kind == "ndarray":
            add("inference-channel-order", ORDER, expected="BGR")
    elif sink.kind == MM_TEST_STEP:
        # The data preprocessor converts and normalizes what the pipeline loaded: BGR 0-255 CHW tensors.
        if order == "RGB":
            add("inference-channel-order", ORDER, expected="BGR")
        if layout in ("HWC", "BHWC", "BCHW"):
            add("model-input-layout", LAYOUT, expected="CHW")
        if normalized and facts.normalizes:
            add("double-normalization", SCALE)
        elif scale == "0-1" and facts.normalizes:
            add("model-input-scale", SCALE)
    elif sink.kind == D2_MODEL:
        if sink.container in ("tensor", "list-of-tensors"):
            if layout is not None or kind == "tensor":
                fact = img.get(LAYOUT) or img.get(KIND)
                out.append(Problem("model-input-batch", sink.line, sink.call, sink.container, fact[1], fact[2],
                                   (("container", sink.container),)))
            return out
        if sink.container != "list-of-dicts":
            return out
        if order in ("BGR", "RGB") and facts.input_format in ("BGR", "RGB") and order != facts.input_format:
            add("model-channel-order", ORDER, expected=facts.input_format)
        if layout in ("HWC", "BHWC", "BCHW"):
            add("model-input-layout", LAYOUT, expected="CHW")
        if normalized and facts.normalizes:
            add("double-normalization", SCALE)
        elif scale == "0-1" and facts.normalizes:
            add("model-input-scale", SCALE)
        if resize == "none" and isinstance(facts.test_short_edge, int) and facts.test_short_edge > 0:
            add("unresized-model-input", RESIZE, short_edge=facts.test_short_edge)
    return out
