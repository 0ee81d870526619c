"""`cfglint lint PATH...`: each config on its own -- statistics, weights vs style, thresholds,
settings without effect, unknown keys. Directories are searched for configs; files that are not
detection configs are skipped (`--verbose` names them). Unreadable files are reported on stderr as
`file:line: message`, the others are still linted, and the exit code is then 2.
"""
from __future__ import annotations

from typing import List, Optional

import typer

from cfglint.cli.common import (ALLOW_NEW_KEYS_OPTION, FORMAT_OPTION, OutputFormat, dump_json, print_error,
                                stdout_is_tty)
from cfglint.cli.common import (FAIL_ON_OPTION, IGNORE_OPTION, RULES_OPTION, SELECT_OPTION, Severity,
                                engine_setup)


def lint(
    paths: List[str] = typer.Argument(..., help="Config files and/or directories to search for configs."),
    output_format: OutputFormat = FORMAT_OPTION,
    fail_on: Optional[Severity] = FAIL_ON_OPTION,
    select: Optional[List[str]] = SELECT_OPTION,
    ignore: Optional[List[str]] = IGNORE_OPTION,
    rules: Optional[List[str]] = RULES_OPTION,
    allow_new_keys: bool = ALLOW_NEW_KEYS_OPTION,
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1,
                                       help="Worker processes (default: one per CPU; few files run in-process)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Name the files skipped as not being configs."),
) -> None:
    """Lint configs one by one; exit 1 if a finding is at or above --fail-on, 2 if a config is unreadable."""
    from cfglint import engine
    from cfglint.engine.lint_files import discover, lint_paths

    config, rule_set = engine_setup(select, ignore, rules, fail_on)
    files, skipped = discover(paths)
    if verbose:
        for path in skipped:
            typer.echo(f"{path}: skipped, not a config (no Detectron2 or MMDetection config, and no script "
                       "that builds one)", err=True)
    reports = lint_paths(files, config, jobs=jobs, allow_new_keys=allow_new_keys)
    for report in reports:
        if report.error is not None:
            print_error(report.error)
    typer.echo(_render(output_format.value, reports, rule_set, len(skipped)))
    if any(report.error is not None for report in reports):
        raise typer.Exit(2)
    if engine.fails([f for report in reports for f in report.findings], config.fail_on):
        raise typer.Exit(1)


def _render(output_format: str, reports, rule_set, skipped: int) -> str:
    from cfglint.engine import summarize
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
        return findings_format.render(output_format, [(None, None, every)], rule_set)
    colour = findings_text.use_colour(stdout_is_tty())
    blocks = [f"{r.path}\n" + findings_text.render(r.findings, None, None, colour=colour)
              for r in reports if r.findings]
    totals = (f"{summary['files']} files linted, {summary['unreadable']} unreadable, {summary['skipped']} skipped: "
              f"{summary['error']} errors, {summary['warning']} warnings, {summary['info']} info")
    return "\n\n".join(blocks + [totals])


def register(app: typer.Typer) -> None:
    app.command("lint")(lint)
