"""Inline suppressions (`# cfglint: ignore[ID]` on the line that sets a value).

The adapters record them in ``ResolvedConfig.suppressions`` {(file, line): [ids]}. A finding is
dropped when its left or right location is such a line and an id there matches the finding's rule
(ids match by prefix, like --ignore). A suppression that matched nothing, for a rule this run
evaluated, is itself reported (S901), so stale comments do not pile up.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Set, Tuple

from cfglint.engine.context import render
from cfglint.engine.finding import Finding
from cfglint.engine.rules import RuleSet
from cfglint.model import CommonModel, Location

Suppressions = Dict[Tuple[str, int], List[str]]


def collect(models: Iterable[CommonModel]) -> Suppressions:
    found: Suppressions = {}
    for model in models:
        resolved = model.resolved
        for key, ids in (getattr(resolved, "suppressions", None) or {}).items():
            found.setdefault(key, [])
            found[key].extend(i for i in ids if i not in found[key])
    return found


def _matches(code: str, rule_id: str) -> bool:
    code = code.upper()
    return code == "ALL" or rule_id.startswith(code)


def apply(findings: List[Finding], suppressions: Suppressions, rules: RuleSet,
          evaluated: Set[str]) -> List[Finding]:
    """Findings without the suppressed ones, plus S901 for suppressions that suppressed nothing."""
    used: Set[Tuple[str, int, str]] = set()
    kept: List[Finding] = []
    for finding in findings:
        hits = [(loc.file, loc.line, code) for loc in finding.locations()
                for code in suppressions.get((loc.file, loc.line), []) if _matches(code, finding.rule)]
        used.update(hits)
        if not hits:
            kept.append(finding)
    rule = rules.for_check("meta", "unused_suppression")
    if rule.id not in evaluated:
        return kept
    for (file, line), codes in sorted(suppressions.items()):
        for code in codes:
            known = rules.matching(code) if code.upper() != "ALL" else list(rules)
            if (file, line, code) in used or (known and not any(r.id in evaluated for r in known)):
                continue   # used, or about a rule this run did not evaluate (e.g. a lint rule in diff)
            reason = "no finding was reported there" if known else "no rule has that id"
            kept.append(Finding(rule=rule.id, name=rule.name, severity=rule.severity, field="suppression",
                                left=code, right=None, why=rule.why_line,
                                message=render(rule, code=code, location=f"{file}:{line}", reason=reason),
                                left_location=Location(file, line)))
    return kept
