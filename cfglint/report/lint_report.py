"""`cfglint lint` output: every format's shape for a run over many files."""
from __future__ import annotations

from typing import Any, List

from cfglint.engine.finding import summarize
from cfglint.engine.rules import RuleSet
from cfglint.report.jsonout import dump_json


def render(output_format: str, reports: List[Any], rules: RuleSet, skipped: int, colour: bool = False,
           quiet: bool = False) -> str:
    """`reports` are engine.lint_files.FileReport, one per linted file. `quiet`: the findings only
    (no per-file counts, no totals)."""
    from cfglint.engine.plural import plural
    from cfglint.report import findings_format, findings_text

    every = [f for report in reports for f in report.findings]
    summary = {**summarize(every), "files": len(reports), "unreadable": sum(r.error is not None for r in reports),
               "skipped": skipped}
    if output_format == "json":
        return dump_json({
            "findings": [{"path": r.path, **f.to_json()} for r in reports for f in r.findings],
            "errors": [{"path": r.path, **r.error.to_json()} for r in reports if r.error is not None],
            "summary": summary})
    if output_format in ("sarif", "github", "concise"):
        return findings_format.render(output_format, [(r.path, None, r.findings) for r in reports], rules)
    blocks = [f"{r.path}\n" + findings_text.render(r.findings, None, None, colour=colour)
              for r in reports if r.findings]
    if quiet:
        return "\n\n".join(block.rsplit("\n", 1)[0] for block in blocks)
    skipped = (f"{summary['skipped']} skipped as not configs (-v names them)" if summary["skipped"]
               else "0 skipped")
    totals = (f"{plural(summary['files'], 'file')} linted, {summary['unreadable']} unreadable, "
              f"{skipped}: {plural(summary['error'], 'error')}, "
              f"{plural(summary['warning'], 'warning')}, {summary['info']} info")
    return "\n\n".join(blocks + [totals])


def statistics(output_format: str, reports: List[Any]) -> str:
    """ruff-style `--statistics`: one line per rule (count, code, name, severity), most findings first."""
    counts: dict = {}
    for report in reports:
        for f in report.findings:
            entry = counts.setdefault(f.rule, {"code": f.rule, "name": f.name, "severity": f.severity, "count": 0})
            entry["count"] += 1
    rows = sorted(counts.values(), key=lambda e: (-e["count"], e["code"]))
    if output_format == "json":
        return dump_json(rows)
    width = max((len(str(e["count"])) for e in rows), default=1)
    return "\n".join(f"{e['count']:>{width}}\t{e['code']}\t{e['name']}\t[{e['severity']}]" for e in rows)
