"""Generic comparisons: a field differs between training and inference (optionally only in one
direction or past a limit), and normalization layers that differ in name but not at inference."""
from __future__ import annotations

import math
from typing import Any, Iterator

from cfglint.engine.checks import LIST, NUMBER, TEXT, pair_check
from cfglint.engine.context import PairContext
from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule

#: Default tolerance for floats when a rule gives none: thresholds are written as decimals, so any
#: difference a user typed is real, and representation noise (0.1 + 0.2) is not.
DEFAULT_REL_TOL = 1e-9
DEFAULT_ABS_TOL = 1e-9


def same(a: Any, b: Any, rel_tol: float = DEFAULT_REL_TOL, abs_tol: float = DEFAULT_ABS_TOL) -> bool:
    """Equality with float tolerance, element-wise through lists; bools are never numbers here."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, rel_tol, abs_tol) for x, y in zip(a, b))
    return a == b


def differing_fields(ctx: PairContext, rule: Rule) -> Iterator[tuple]:
    """(field, left, right) for each of the rule's fields that differs; (field, None, None) when one
    side cannot express it (the caller reports S903). Fields in params.none_is_value hold None as
    a real value (neck.type None = no neck, C4/DC5) and are compared like any other."""
    rel_tol = float(rule.params.get("rel_tol", DEFAULT_REL_TOL))
    abs_tol = float(rule.params.get("abs_tol", DEFAULT_ABS_TOL))
    none_is_value = set(rule.params.get("none_is_value", ()))
    for field in rule.fields:
        left, right = ctx.left.get(field), ctx.right.get(field)
        if left is None and right is None:
            continue
        if field in none_is_value:
            if left != right:
                yield field, left, right
        elif left is None or right is None:
            yield field, None, None
        elif not same(left, right, rel_tol, abs_tol):
            yield field, left, right


@pair_check("differs", params={"direction": TEXT, "right_below": NUMBER, "right_at_least": NUMBER,
                               "rel_tol": NUMBER, "abs_tol": NUMBER, "none_is_value": LIST})
def differs(ctx: PairContext, rule: Rule) -> Iterator[Finding]:
    """The field differs; params narrow it: `direction` (lower|higher), `right_below`, `right_at_least`."""
    params = rule.params
    for field, left, right in differing_fields(ctx, rule):
        if left is None and right is None:
            yield ctx.not_comparable(field)
            continue
        if params.get("direction") == "lower" and not right < left:
            continue
        if params.get("direction") == "higher" and not right > left:
            continue
        if "right_below" in params and not right < params["right_below"]:
            continue
        if "right_at_least" in params and not right >= params["right_at_least"]:
            continue
        yield ctx.finding(rule, field)


@pair_check("family", params={"families": LIST, "mode": TEXT, "rel_tol": NUMBER, "abs_tol": NUMBER,
                              "none_is_value": LIST})
def family(ctx: PairContext, rule: Rule) -> Iterator[Finding]:
    """Values grouped into families (params.families: list of lists). `mode: across` reports a change
    of family (e.g. BN -> GN: different weights); `mode: within` a change inside one (BN -> FrozenBN:
    the same computation at inference)."""
    groups = [set(group) for group in rule.params.get("families", [])]

    def family_of(value: Any) -> Any:
        return next((i for i, group in enumerate(groups) if value in group), ("alone", value))

    within = rule.params.get("mode", "across") == "within"
    for field, left, right in differing_fields(ctx, rule):
        if left is None and right is None:
            if not within:
                yield ctx.not_comparable(field)
            continue
        if (family_of(left) == family_of(right)) == within:
            yield ctx.finding(rule, field)
