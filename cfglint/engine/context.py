"""What a check sees: the two models (or the one), and how to turn an observation into a Finding.

Messages quote each side in the user's terms through :meth:`Provenance.describe`, e.g.
"train.yaml:12 sets MODEL.ROI_HEADS.NUM_CLASSES to 3".
"""
from __future__ import annotations

from typing import Any, Optional

from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule, RuleSet
from cfglint.model import CommonModel, Location


def describe(model: CommonModel, field: str, value: Any = None) -> str:
    """'infer.py:20 sets model.roi_head.bbox_head.num_classes to 80', or the default, or a bare value.

    The user wrote the native value; when the common model reads it differently (a BGR-ordered
    mean, STRIDE_IN_1X1 True meaning caffe), both are given so neither surprises.
    """
    value = model.get(field) if value is None else value
    prov = model.provenance.get(field)
    if prov is None:
        return f"{field} is {value!r} in {model.path}"
    native = _native_value(model, prov.native_key)
    if native is None or native == value:
        return prov.describe(value)
    return f"{prov.describe(native)} ({field} {value!r})"


_MISSING = object()


def _native_value(model: CommonModel, native_key: str) -> Any:
    """The value at a dotted native key ('model.roi_head.bbox_head.0.num_classes', 'a[0].b'), if any."""
    resolved = model.resolved
    if resolved is None or not native_key:
        return None
    parts = [int(p) if p.lstrip("-").isdigit() else p
             for p in native_key.replace("[", ".").replace("]", "").split(".") if p]
    found = resolved.get(tuple(parts), _MISSING)
    return None if found is _MISSING or isinstance(found, dict) else found


def location(model: CommonModel, field: str) -> Optional[Location]:
    prov = model.provenance.get(field)
    return None if prov is None else prov.location


def render(rule: Rule, **values: Any) -> str:
    try:
        return rule.message.format(**values)
    except (KeyError, IndexError, ValueError):
        # A user rule's template names a placeholder this check does not provide: keep the facts.
        return f"{rule.summary} ({values.get('left_desc', '')}; {values.get('right_desc', '')})"


class PairContext:
    """Two common models under comparison: left = training config, right = inference config."""

    def __init__(self, left: CommonModel, right: CommonModel, rules: RuleSet):
        self.left = left
        self.right = right
        self.rules = rules

    def finding(self, rule: Rule, field: str, severity: Optional[str] = None, **extra: Any) -> Finding:
        left, right = self.left.get(field), self.right.get(field)
        values = dict(field=field, left=left, right=right, left_desc=describe(self.left, field),
                      right_desc=describe(self.right, field))
        values.update(extra)
        return Finding(rule=rule.id, name=rule.name, severity=severity or rule.severity, field=field,
                       left=left, right=right, message=render(rule, **values),
                       left_location=location(self.left, field), right_location=location(self.right, field),
                       why=rule.why_line)

    def not_comparable(self, field: str) -> Finding:
        """One side cannot express `field` (None): an info finding, never an error."""
        return self.finding(self.rules.for_check("pair", "not_comparable"), field)


class ModelContext:
    """One common model; `side` says where its facts go in a Finding ("left" in lint)."""

    def __init__(self, model: CommonModel, rules: RuleSet, side: str = "left"):
        self.model = model
        self.rules = rules
        self.side = side

    def finding(self, rule: Rule, field: str, value: Any, where: Optional[Location], **extra: Any) -> Finding:
        values = dict(field=field, value=value, path=self.model.path, desc=describe(self.model, field, value))
        values.update(extra)
        on_left = self.side == "left"
        return Finding(rule=rule.id, name=rule.name, severity=rule.severity, field=field,
                       left=value if on_left else None, right=None if on_left else value,
                       left_location=where if on_left else None, right_location=None if on_left else where,
                       message=render(rule, **values), why=rule.why_line)
