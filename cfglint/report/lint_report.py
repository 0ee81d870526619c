"""`cfglint lint` output: every format's shape for a run over many files."""
from __future__ import annotations

from typing import Any, List

from cfglint.engine.finding import summarize
from cfglint.engine.rules import RuleSet
from cfglint.report.jsonout import dump_json


def render(output_format: str, reports: List[Any], rules: RuleSet, skipped: int, colour: bool = False) -> str:
    """`reports` are engine.lint_files.FileReport, one per linted file."""
    from cfglint.report import findings_format, findings_text

    every = [f for report in reports for f in report.findings]
    summary = {**summarize(every), "files": len(reports), "unreadable": sum(r.error is not None for r in reports),
               "skipped": skipped}
    if output_format == "json":
        return dump_json({
            "findings": [{"path": r.path, **f.to_json()} for r in reports for f in r.findings],
            "errors": [{"path": r.path, **r.error.to_json()} for r in reports if r.error is not None],
            "summary": summary})
    if output_format in ("sarif", "github"):
        return findings_format.render(output_format, [(None, None, every)], rules)
    blocks = [f"{r.path}\n" + findings_text.render(r.findings, None, None, colour=colour)
              for r in reports if r.findings]
    totals = (f"{summary['files']} files linted, {summary['unreadable']} unreadable, {summary['skipped']} skipped: "
              f"{summary['error']} errors, {summary['warning']} warnings, {summary['info']} info")
    return "\n\n".join(blocks + [totals])
