"""One finding per cause in a diff: a setting that changes several common-model fields is reported
once, by the rule that names the cause, with its consequences in the message.

Two findings share a cause when
* on one side they come from the very same setting (native key and file:line):
  `MODEL.MASK_ON: True` decides both the detector family (A101) and the mask head (A107); or
* the channel order differs (I201) and the pixel mean/std "differ" only because the same written
  numbers now apply to swapped channels (bgr_to_rgb=False on one side): I202/I203 compare in RGB
  order, so the same written list reads reversed on one side.
"""
from __future__ import annotations

import math
from typing import List, Optional

from cfglint.engine.finding import Finding

CHANNEL_ORDER = "I201"
#: Rules whose difference is a consequence of a channel-order difference when the values are the
#: reverse of each other (compared in RGB order, a written BGR/RGB list reads reversed).
_CHANNEL_CONSEQUENCES = {"I202": "pixel mean", "I203": "pixel std"}


def fold(findings: List[Finding]) -> List[Finding]:
    """The findings with each consequence merged into the finding of its cause."""
    out: List[Finding] = []
    order = next((f for f in findings if f.rule == CHANNEL_ORDER), None)
    for finding in findings:
        cause = _channel_cause(finding, order) or _same_settings(finding, out)
        if cause is None:
            out.append(finding)
            continue
        cause.message = _with_consequence(cause.message, finding)
    return out


def _channel_cause(finding: Finding, order: Optional[Finding]) -> Optional[Finding]:
    if order is None or finding.rule not in _CHANNEL_CONSEQUENCES:
        return None
    left, right = finding.left, finding.right
    if not (_numbers(left) and _numbers(right) and len(left) == len(right) == 3):
        return None
    if all(math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-3) for a, b in zip(left, reversed(right))):
        return order
    return None


def _same_settings(finding: Finding, kept: List[Finding]) -> Optional[Finding]:
    """A kept finding of another rule whose value on one side comes from the very same setting
    (native key and file:line, set by a file) as this one's."""
    if len(finding.native_keys) != 2:
        return None
    mine = _settings(finding)
    for other in kept:
        if other.rule != finding.rule and other.severity == finding.severity and mine & _settings(other):
            return other
    return None


def _settings(finding: Finding) -> set:
    out = set()
    for side, (key, where) in enumerate(zip(finding.native_keys, (finding.left_location, finding.right_location))):
        if key and where is not None:
            out.add((side, key, where.file, where.line))
    return out


def _numbers(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)


def _with_consequence(message: str, consequence: Finding) -> str:
    what = _CHANNEL_CONSEQUENCES.get(consequence.rule)
    if what:
        text = (f"the same written {what} applies to swapped channels ({consequence.field} "
                f"{consequence.left!r} vs {consequence.right!r} in RGB order, {consequence.rule})")
    else:
        text = f"{consequence.field} differs too ({consequence.left!r} vs {consequence.right!r}, {consequence.rule})"
    base = message[:-1] if message.endswith(".") else message
    joiner = "; " if _MARK in base else f". {_MARK} "
    return f"{base}{joiner}{text}."


_MARK = "Consequences:"
