"""Image-flow checks (rules/image_flow.yaml): what a serving script does to the image.

One check, ``image_flow``, serves every P rule: the rule's ``params.problem`` names which problem of
:func:`cfglint.imageflow.problems` it reports. It runs on a model whose path is a Python file (the
serving-script kind of issue 12, in ``lint`` and on each side of ``diff``), and, through
:func:`lint_script`, on a script no adapter could read as a config (its config facts then come from
the script alone, and the rules that need unknown facts stay silent).

The analysis package is imported only when a Python file is actually checked, so linting YAML
configs does not pay for it.
"""
from __future__ import annotations

import os
from typing import Any, Iterator, List, Optional

from cfglint.engine.checks import TEXT, model_check
from cfglint.engine.context import ModelContext, render
from cfglint.engine.finding import Finding, sort_key
from cfglint.engine.rules import Rule
from cfglint.errors import CfglintError
from cfglint.model import Location

CHECK = "image_flow"
_FIELDS = {"predictor-channel-order": "image.channel_order", "inference-channel-order": "image.channel_order",
           "model-channel-order": "image.channel_order", "double-normalization": "image.scale",
           "model-input-scale": "image.scale", "fixed-resize-before-predictor": "image.resize",
           "unresized-model-input": "image.resize", "model-input-layout": "image.layout",
           "model-input-batch": "image.layout"}


def _findings(rule: Rule, path: str, report, facts, side: str = "left") -> Iterator[Finding]:
    from cfglint.imageflow import problems

    wanted = rule.params.get("problem")
    for problem in problems(report, facts):
        if problem.kind != wanted:
            continue
        extra = dict(problem.extra)
        values = dict(origin=f"{path}:{problem.origin_line} {problem.origin}", sink=f"{path}:{problem.sink_line}",
                      call=problem.call, value=problem.value, field=_FIELDS.get(wanted, "image"), path=path,
                      desc=f"{path}:{problem.origin_line} {problem.origin}", **extra)
        values.setdefault("expected", None)
        values.setdefault("short_edge", None)
        where = Location(path, problem.sink_line)
        on_left = side == "left"
        yield Finding(rule=rule.id, name=rule.name, severity=rule.severity, field=values["field"],
                      left=problem.value if on_left else None, right=None if on_left else problem.value,
                      message=render(rule, **values), left_location=where if on_left else None,
                      right_location=None if on_left else where, why=rule.why_line)


_HINTS: dict = {}


def _read_script(path: str) -> str:
    """A regular file only (a FIFO would block), bounded; undecodable bytes replaced."""
    from cfglint.adapters import roots
    from cfglint.adapters.limits import MAX_CONFIG_BYTES
    return roots.read_bytes(path, MAX_CONFIG_BYTES, kind="the script").decode("utf-8", errors="replace")


def _is_script(path: Any) -> bool:
    """A Python file that may hand an image to a detector. Most .py files linted are mmdet or LazyConfig
    configs: they are told apart by a substring test, remembered per file, before the analysis package
    is imported at all."""
    if not (isinstance(path, str) and path.endswith(".py") and "://" not in path):
        return False
    try:
        st = os.stat(path)
    except OSError:
        return False
    key = (path, st.st_size, st.st_mtime_ns)
    if key not in _HINTS:
        from cfglint.adapters import roots
        from cfglint.adapters.limits import MAX_CONFIG_BYTES
        try:   # the words are ASCII: found in the bytes exactly when in the (replace-)decoded text
            data = roots.read_bytes(path, MAX_CONFIG_BYTES, kind="the script")
        except CfglintError:
            data = b""
        if len(_HINTS) > 4096:
            _HINTS.clear()
        _HINTS[key] = any(word in data for word in _SINK_BYTES)
    return _HINTS[key]


#: The model last asked about and whether its file is a script: the nine P rules all ask in turn.
_LAST_ASKED: List[Any] = [None, False]


def _model_is_script(model: Any) -> bool:
    if _LAST_ASKED[0] is not model:
        _LAST_ASKED[:] = [model, _is_script(model.path)]
    return _LAST_ASKED[1]


def feeds_a_detector(path: str) -> bool:
    """Whether the file at `path` may hand an image to a detector (a substring test, no parse)."""
    return _is_script(path)


#: Same words as cfglint.imageflow's own hint (kept in step by tests/imageflow).
_SINK_WORDS = ("DefaultPredictor", "build_model", "inference_detector", "DetInferencer", "instantiate",
               "init_detector", "model_zoo")
_SINK_BYTES = tuple(word.encode("ascii") for word in _SINK_WORDS)


@model_check(CHECK, params={"problem": TEXT}, placeholders={"origin", "sink", "call", "expected", "short_edge"},
             fields={"input.channel_order", "input.pixel_mean", "input.pixel_std", "test.resize.short_edge"})
def image_flow(ctx: ModelContext, rule: Rule) -> Iterator[Finding]:
    path = ctx.model.path
    if not _model_is_script(ctx.model):
        return
    from cfglint.imageflow import analyze_path, from_model

    report = analyze_path(path)
    if not report.sinks:
        return
    facts = from_model(ctx.model)
    if getattr(getattr(ctx.model, "resolved", None), "from_script", False) and report.script_facts is not None:
        # a serving script's config (adapters/script): what it leaves unknown, the image-flow reading
        # of the script's own literals may still know
        import dataclasses
        facts = dataclasses.replace(facts, **{f.name: getattr(report.script_facts, f.name)
                                               for f in dataclasses.fields(facts)
                                               if f.name != "source" and getattr(facts, f.name) is None})
    own = _own_suppressions(path, ctx.model)
    for finding in _findings(rule, path, report, facts, ctx.side):
        if not _suppressed(finding, own):
            yield finding


def _own_suppressions(path: str, model) -> dict:
    """The script's `# cfglint: ignore[...]` lines the model did not record (the engine applies the
    recorded ones, and reports those that matched nothing)."""
    from cfglint.adapters.suppressions import scan

    try:
        text = _read_script(path)
    except CfglintError:
        return {}
    recorded = getattr(getattr(model, "resolved", None), "suppressions", None) or {}
    return {key: ids for key, ids in scan(path, text).items() if key not in recorded}


def _suppressed(finding: Finding, suppressions: dict) -> bool:
    for loc in finding.locations():
        for code in suppressions.get((loc.file, loc.line), ()):
            if code.upper() == "ALL" or finding.rule.startswith(code.upper()):
                return True
    return False


def lint_script(path: str, config, rules, text: Optional[str] = None) -> List[Finding]:
    """Image-flow findings of a Python file that no adapter read as a config (facts from the script),
    with its inline suppressions applied and unused ones reported like any other (S901)."""
    from cfglint.adapters.suppressions import scan
    from cfglint.engine import suppress
    from cfglint.imageflow import analyze_file, has_image_sinks

    if text is None:
        try:
            text = _read_script(path)
        except CfglintError:
            return []
    if not has_image_sinks(text):
        return []
    enabled = rules.enabled(config.select, config.ignore)
    mine = {rule_id: rule for rule_id, rule in enabled.items() if rule.scope == "model" and rule.check == CHECK}
    if not mine:
        return []
    report = analyze_file(path, text)
    findings = [f for rule in mine.values() for f in _findings(rule, path, report, report.script_facts)]
    unused = rules.for_check("meta", "unused_suppression").id
    evaluated = set(mine) | ({unused} & set(enabled))
    own = {key: [c for c in ids if any(r.startswith(c.upper()) or c.upper() == "ALL" for r in mine)]
           for key, ids in scan(path, text).items()}
    own = {key: ids for key, ids in own.items() if ids}
    findings = suppress.apply(findings, own, rules, evaluated)
    return sorted(findings, key=sort_key)
