"""`cfglint verify` output: the findings plus, in text, the state-dict tally."""
from __future__ import annotations

from typing import Any

from cfglint.engine.rules import RuleSet
from cfglint.report.jsonout import dump_json


def render(output_format: str, report: Any, checkpoint: str, config: str, rules: RuleSet,
           colour: bool = False) -> str:
    """`report` is a checkpoint.verify.VerifyReport."""
    from cfglint.report import findings_format

    if output_format == "json":
        return dump_json(report.to_json())
    text = findings_format.render(output_format, [(checkpoint, config, report.findings)], rules,
                                  colour=colour, roles=("checkpoint", "config"))
    check = report.state_dict
    if output_format == "text" and check.ran:
        text += (f"\nstate dict: {check.checked} checkpoint tensors checked; {len(check.missing)} missing, "
                 f"{len(check.unexpected)} unexpected, {len(check.mismatched)} with another shape")
    return text
