"""`cfglint lint PATH...`: each config on its own -- statistics, weights vs style, thresholds,
settings without effect, unknown keys. Directories are searched for configs; files that are not
detection configs are skipped (`--verbose` names them). Unreadable files are reported on stderr as
`file:line: message`, the others are still linted, and the exit code is then 2.

`-` reads one config from stdin (an editor's unsaved buffer); `--stdin-filename` says where it
lives, so that its relative bases resolve and findings name that file.
"""
from __future__ import annotations

import os
import sys
from typing import List, Optional

import typer

from cfglint.cli.common import (ALLOW_NEW_KEYS_OPTION, EXIT_ZERO_OPTION, FAIL_ON_OPTION, FORMAT_OPTION,
                                FRAMEWORK_OPTION, IGNORE_OPTION, QUIET_OPTION, RULES_OPTION, SELECT_OPTION,
                                FindingsFormat, Framework, Severity, as_output_format, engine_setup, fail_usage,
                                print_error, settings, stdout_is_tty)

STDIN = "-"


def lint(
    paths: List[str] = typer.Argument(..., help="Config files and/or directories to search for configs; "
                                                "`-` reads one config from stdin."),
    output_format: FindingsFormat = FORMAT_OPTION,
    fail_on: Optional[Severity] = FAIL_ON_OPTION,
    select: Optional[List[str]] = SELECT_OPTION,
    ignore: Optional[List[str]] = IGNORE_OPTION,
    rules: Optional[List[str]] = RULES_OPTION,
    allow_new_keys: bool = ALLOW_NEW_KEYS_OPTION,
    framework: Optional[Framework] = FRAMEWORK_OPTION,
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1,
                                       help="Worker processes (default: one per CPU; few files run in-process)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Name the files skipped as not being configs."),
    quiet: bool = QUIET_OPTION,
    exit_zero: bool = EXIT_ZERO_OPTION,
    statistics: bool = typer.Option(False, "--statistics", help="Print how many findings each rule has, "
                                                                "instead of the findings."),
    stdin_filename: Optional[str] = typer.Option(None, "--stdin-filename",
                                                 help="With `-`: the path of the config read from stdin."),
) -> None:
    """Lint configs one by one; exit 1 if a finding is at or above --fail-on, 2 if a config is unreadable."""
    from cfglint import app, engine
    from cfglint.report import findings_text, lint_report

    output_format = as_output_format(output_format)
    run_settings = settings(None, select, ignore, rules, fail_on, framework, allow_new_keys=allow_new_keys)
    config, rule_set = engine_setup(run_settings)
    if STDIN in paths and len(paths) > 1:
        raise fail_usage("`-` (stdin) cannot be combined with other paths")
    if stdin_filename is not None and STDIN not in paths:
        raise fail_usage("--stdin-filename needs `-` among the paths")
    temp = _stdin_to_file(stdin_filename) if paths == [STDIN] else None
    try:
        run = app.lint([temp] if temp else paths, run_settings, config, jobs=jobs)
    finally:
        if temp is not None:
            os.unlink(temp)
    if temp is not None:
        run.reports = [_renamed(r, temp, stdin_filename or "<stdin>") for r in run.reports]
    if verbose and not quiet:
        for path in run.skipped:
            typer.echo(f"{path}: skipped, not a Detectron2 or MMDetection config", err=True)
        _explain_image_flow(run.reports)
    for report in run.unreadable:
        print_error(report.error, report.path)
    if statistics:
        text = lint_report.statistics(output_format.value, run.reports)
    else:
        text = lint_report.render(output_format.value, run.reports, rule_set, len(run.skipped),
                                  colour=findings_text.use_colour(stdout_is_tty()), quiet=quiet)
    if text:
        typer.echo(text)
    if run.unreadable:
        raise typer.Exit(2)
    if not exit_zero and engine.fails(run.findings(), config.fail_on):
        raise typer.Exit(1)


def _stdin_to_file(stdin_filename: Optional[str]) -> str:
    """The stdin config as a file beside --stdin-filename (so its relative bases resolve), with the
    same suffix (which says YAML or Python); in the temporary directory when there is no such place."""
    import tempfile

    name = stdin_filename or "stdin.py"
    suffix = os.path.splitext(name)[1] or ".py"
    directory = os.path.dirname(os.path.abspath(name)) if stdin_filename else None
    if directory and not os.path.isdir(directory):
        directory = None
    data = sys.stdin.buffer.read()
    try:
        fd, path = tempfile.mkstemp(prefix=".cfglint-stdin-", suffix=suffix, dir=directory)
    except OSError:
        fd, path = tempfile.mkstemp(prefix=".cfglint-stdin-", suffix=suffix)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def _renamed(report, temp: str, shown: str):
    """The report of the stdin file with the temporary file's name replaced by the user's."""
    import dataclasses

    from cfglint.model import Location

    def place(where):
        if where is not None and where.file and os.path.realpath(where.file) == os.path.realpath(temp):
            return Location(shown, where.line)
        return where

    findings = [dataclasses.replace(f, left_location=place(f.left_location), right_location=place(f.right_location),
                                    message=f.message.replace(temp, shown).replace(os.path.relpath(temp), shown))
                for f in report.findings]
    error = report.error
    if error is not None and error.file and os.path.realpath(error.file) == os.path.realpath(temp):
        error.file = shown
    if error is not None:
        error.message = error.message.replace(temp, shown)
    return dataclasses.replace(report, path=shown, findings=findings, error=error)


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
