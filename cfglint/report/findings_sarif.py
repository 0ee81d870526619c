"""`--format sarif`: SARIF 2.1.0 for code-scanning UIs (validated against the OASIS schema in tests).

Each finding is a result at the inference config's location (the file a reviewer would change),
with the training side as a related location. Every rule that ran is described in the driver.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote
from typing import Iterable, List, Optional

from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule
from cfglint.model import Location

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _uri(file: str) -> str:
    path = Path(file)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


def _location(loc: Location, label: Optional[str] = None, index: Optional[int] = None) -> dict:
    physical = {"artifactLocation": {"uri": _uri(loc.file)}}
    if loc.line:
        physical["region"] = {"startLine": loc.line}
    out = {"physicalLocation": physical}
    if label:
        out["message"] = {"text": label}
    if index is not None:
        out["id"] = index
    return out


def _rule(rule: Rule) -> dict:
    return {"id": rule.id, "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": " ".join(rule.what.split())},
            "help": {"text": rule.docs(), "markdown": rule.docs()},
            "defaultConfiguration": {"level": _LEVELS[rule.severity]}}


def _result(f: Finding, rule_index: dict) -> dict:
    result = {"ruleId": f.rule, "level": _LEVELS[f.severity], "message": {"text": f.message},
              "properties": {"field": f.field}}
    if f.rule in rule_index:
        result["ruleIndex"] = rule_index[f.rule]
    primary = f.right_location or f.left_location
    if primary is not None:
        result["locations"] = [_location(primary)]
    if f.right_location is not None and f.left_location is not None:
        result["relatedLocations"] = [_location(f.left_location, "training config", 0)]
    return result


def render(findings: List[Finding], rules: Iterable[Rule]) -> dict:
    from cfglint import __version__

    described = list(rules)
    rule_index = {rule.id: i for i, rule in enumerate(described)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "cfglint", "version": __version__, "semanticVersion": __version__,
                                "informationUri": "https://pypi.org/project/cfglint/",
                                "rules": [_rule(r) for r in described]}},
            "results": [_result(f, rule_index) for f in findings],
        }],
    }
