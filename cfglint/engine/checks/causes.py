"""One cause, one error in a diff: a setting that changes several common-model fields is reported
by the rule that names the cause, and what follows from it is said as such.

* On one side the findings come from the very same setting (native key and file:line):
  `MODEL.MASK_ON: True` decides both the detector family (A101) and the mask head (A107). One
  finding, the consequence in its message.
* The channel order differs (I201) and the pixel mean/std differ only because the same written
  numbers now apply to swapped channels (bgr_to_rgb=False, INPUT.FORMAT changed on one side):
  I202/I203 compare in RGB order, so the same written list reads reversed. The statistics are a
  second setting the user must fix if the new channel order is meant, so they stay a finding of
  their own, at most a warning, whose message names its cause instead of calling the same numbers
  different.
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
    """The findings with each same-setting consequence merged into its cause, and each channel-order
    consequence said to follow from it."""
    out: List[Finding] = []
    order = next((f for f in findings if f.rule == CHANNEL_ORDER), None)
    for finding in findings:
        if _channel_cause(finding, order) is not None:
            out.append(_as_channel_consequence(finding, order))
            continue
        cause = _same_settings(finding, out)
        if cause is None:
            out.append(finding)
            continue
        cause.message = _with_consequence(cause.message, finding)
    return out


def _as_channel_consequence(finding: Finding, order: Finding) -> Finding:
    what = _CHANNEL_CONSEQUENCES[finding.rule]
    finding.severity = "warning" if finding.severity == "error" else finding.severity
    finding.message = (f"The {what} is the same written list on both sides, but it now applies to swapped "
                       f"channels because the channel order differs ({order.rule}): {finding.field} "
                       f"{finding.left!r} vs {finding.right!r} in RGB order. Keep the channel order, or reverse "
                       f"the {what} with it.")
    return finding


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
    text = f"{consequence.field} differs too ({consequence.left!r} vs {consequence.right!r}, {consequence.rule})"
    base = message[:-1] if message.endswith(".") else message
    joiner = "; " if _MARK in base else f". {_MARK} "
    return f"{base}{joiner}{text}."


_MARK = "Consequences:"
