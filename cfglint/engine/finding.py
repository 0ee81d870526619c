"""A finding: one rule's verdict about one field, in the shape of the public contract (FINDING)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Optional, Tuple

from cfglint.model.location import Location

#: Most severe first; `--fail-on X` fails on X and everything before it.
SEVERITIES = ("error", "warning", "info")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass
class Finding:
    rule: str
    name: str
    severity: str
    field: str
    left: Any
    right: Any
    message: str
    left_location: Optional[Location] = None
    right_location: Optional[Location] = None
    why: str = ""   # the rule's one-line "why it matters"; for people, not part of the JSON contract
    #: The native keys the finding's values come from, per side (for telling causes apart; not JSON).
    native_keys: Tuple[Optional[str], ...] = field(default=(), compare=False, repr=False)

    def to_json(self) -> Dict[str, Any]:
        return {
            "rule": self.rule, "name": self.name, "severity": self.severity, "field": self.field,
            "left": self.left, "right": self.right, "message": self.message,
            "left_location": _location_json(self.left_location),
            "right_location": _location_json(self.right_location),
        }

    def locations(self) -> Iterable[Location]:
        return [loc for loc in (self.left_location, self.right_location) if loc is not None]


def _location_json(location: Optional[Location]) -> Optional[dict]:
    return None if location is None else location.to_json()


def summarize(findings: Iterable[Finding]) -> Dict[str, int]:
    counts = {severity: 0 for severity in SEVERITIES}
    for finding in findings:
        counts[finding.severity] += 1
    return counts


def fails(findings: Iterable[Finding], fail_on: str) -> bool:
    """True when a finding is at or above `fail_on` (exit code 1 in the contract)."""
    threshold = severity_rank(fail_on)
    return any(severity_rank(f.severity) <= threshold for f in findings)


def sort_key(finding: Finding) -> tuple:
    return (severity_rank(finding.severity), finding.rule, finding.field)
