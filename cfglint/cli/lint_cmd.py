"""`cfglint lint PATH...`: each config on its own -- statistics, weights vs style, thresholds,
settings without effect, unknown keys. Directories are searched for configs; files that are not
detection configs are skipped (`--verbose` names them). Unreadable files are reported on stderr as
`file:line: message`, the others are still linted, and the exit code is then 2.
"""
from __future__ import annotations

from typing import List, Optional

import typer

from cfglint.cli.common import (ALLOW_NEW_KEYS_OPTION, FAIL_ON_OPTION, FORMAT_OPTION, IGNORE_OPTION, RULES_OPTION,
                                SELECT_OPTION, OutputFormat, Severity, engine_setup, print_error, settings,
                                stdout_is_tty)


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
    from cfglint import app, engine
    from cfglint.report import findings_text, lint_report

    run_settings = settings(None, select, ignore, rules, fail_on, allow_new_keys=allow_new_keys)
    config, rule_set = engine_setup(run_settings)
    run = app.lint(paths, run_settings, config, jobs=jobs)
    if verbose:
        for path in run.skipped:
            typer.echo(f"{path}: skipped, not a Detectron2 or MMDetection config", err=True)
        _explain_image_flow(run.reports)
    for report in run.unreadable:
        print_error(report.error)
    typer.echo(lint_report.render(output_format.value, run.reports, rule_set, len(run.skipped),
                                  colour=findings_text.use_colour(stdout_is_tty())))
    if run.unreadable:
        raise typer.Exit(2)
    if engine.fails(run.findings(), config.fail_on):
        raise typer.Exit(1)


def _explain_image_flow(reports) -> None:
    """`-v`: what each model call of a linted script gets (channel order, scale, ... and the line that
    made it so, or "unknown"), so a silent image-flow rule can be understood."""
    scripts = [r.path for r in reports if r.path.endswith(".py")]
    if scripts:
        from cfglint.imageflow import analyze_path
        for path in scripts:
            for line in analyze_path(path).explain():
                typer.echo(f"{line} [image flow]", err=True)


def register(app: typer.Typer) -> None:
    app.command("lint")(lint)
