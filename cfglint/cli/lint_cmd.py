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

from cfglint.cli.common import (ALLOW_NEW_KEYS_OPTION, EXIT_ZERO_OPTION, FORMAT_OPTION, FRAMEWORK_OPTION,
                                QUIET_OPTION, FindingsFormat, Framework, as_output_format, dump_json, fail_usage,
                                framework_value, print_error, stdout_is_tty)
from cfglint.cli.common import (FAIL_ON_OPTION, IGNORE_OPTION, RULES_OPTION, SELECT_OPTION, Severity,
                                engine_setup)

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
    from cfglint import engine
    from cfglint.engine.lint_files import discover, lint_paths

    output_format = as_output_format(output_format)
    config, rule_set = engine_setup(select, ignore, rules, fail_on)
    if STDIN in paths and len(paths) > 1:
        raise fail_usage("`-` (stdin) cannot be combined with other paths")
    if stdin_filename is not None and STDIN not in paths:
        raise fail_usage("--stdin-filename needs `-` among the paths")
    temp = None
    if paths == [STDIN]:
        temp = _stdin_to_file(stdin_filename)
        files, skipped = [temp], []
    else:
        files, skipped = discover(paths, framework=framework_value(framework))
    try:
        reports = lint_paths(files, config, jobs=jobs, allow_new_keys=allow_new_keys,
                             framework=framework_value(framework))
    finally:
        if temp is not None:
            os.unlink(temp)
    if temp is not None:
        reports = [_renamed(r, temp, stdin_filename or "<stdin>") for r in reports]
    if verbose and not quiet:
        for path in skipped:
            typer.echo(f"{path}: skipped, not a Detectron2 or MMDetection config", err=True)
    for report in reports:
        if report.error is not None:
            print_error(report.error, report.path)
    if statistics:
        text = _statistics(output_format.value, reports)
    else:
        text = _render(output_format.value, reports, rule_set, len(skipped), quiet)
    if text:
        typer.echo(text)
    if any(report.error is not None for report in reports):
        raise typer.Exit(2)
    if not exit_zero and engine.fails([f for report in reports for f in report.findings], config.fail_on):
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


def _statistics(output_format: str, reports) -> str:
    """ruff-style `--statistics`: one line per rule, most findings first."""
    counts = {}
    for report in reports:
        for f in report.findings:
            entry = counts.setdefault(f.rule, {"code": f.rule, "name": f.name, "severity": f.severity, "count": 0})
            entry["count"] += 1
    rows = sorted(counts.values(), key=lambda e: (-e["count"], e["code"]))
    if output_format == "json":
        return dump_json(rows)
    width = max((len(str(e["count"])) for e in rows), default=1)
    return "\n".join(f"{e['count']:>{width}}\t{e['code']}\t{e['name']}\t[{e['severity']}]" for e in rows)


def _render(output_format: str, reports, rule_set, skipped: int, quiet: bool = False) -> str:
    from cfglint.engine import summarize
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
        return findings_format.render(output_format, [(r.path, None, r.findings) for r in reports], rule_set)
    colour = findings_text.use_colour(stdout_is_tty())
    blocks = [f"{r.path}\n" + findings_text.render(r.findings, None, None, colour=colour)
              for r in reports if r.findings]
    if quiet:   # the findings only: no per-file counts, no totals
        return "\n\n".join(block.rsplit("\n", 1)[0] for block in blocks)
    totals = (f"{plural(summary['files'], 'file')} linted, {summary['unreadable']} unreadable, "
              f"{summary['skipped']} skipped: {plural(summary['error'], 'error')}, "
              f"{plural(summary['warning'], 'warning')}, {summary['info']} info")
    return "\n\n".join(blocks + [totals])


def register(app: typer.Typer) -> None:
    app.command("lint")(lint)
