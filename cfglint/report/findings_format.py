"""Pick the findings reporter for `--format`; shared by every command that reports findings."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from cfglint.engine.finding import Finding
from cfglint.engine.rules import RuleSet

#: One report per train/infer pair: (left path, right path, findings).
PairReport = Tuple[Optional[str], Optional[str], List[Finding]]


def render(output_format: str, reports: Sequence[PairReport], rules: RuleSet, colour: bool = False,
           roles: Tuple[str, str] = ("training", "inference")) -> str:
    if output_format == "json":
        from cfglint.report.jsonout import dump_json
        from cfglint.report import findings_json
        return "\n".join(dump_json(findings_json.render(f, left, right)) for left, right, f in reports)
    every = [finding for _, _, findings in reports for finding in findings]
    if output_format == "sarif":
        from cfglint.report.jsonout import dump_json
        from cfglint.report import findings_sarif
        return dump_json(findings_sarif.render(every, rules))
    if output_format == "github":
        from cfglint.report import findings_github
        return findings_github.render(every)
    from cfglint.report import findings_text
    return "\n\n".join(findings_text.render(f, left, right, colour=colour, roles=roles) for left, right, f in reports)
