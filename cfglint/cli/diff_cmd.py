"""`cfglint diff TRAIN INFER`: what differs, in meaning, between a training and an inference config.

With no paths, the `[tool.cfglint] pairs` of the nearest pyproject.toml are compared (the
pre-commit hook's mode). `--raw` compares the two resolved native configs key by key instead.
Trailing `--opts ...` overrides apply to the inference config, as in the frameworks' demo scripts.
"""
from __future__ import annotations

from typing import List, Optional

import typer

from cfglint.cli.common import (ALLOW_NEW_KEYS_OPTION, FAIL_ON_OPTION, FORMAT_OPTION, IGNORE_OPTION, RULES_OPTION,
                                SELECT_OPTION, OutputFormat, Severity, engine_setup, fail_usage, print_error,
                                settings, stdout_is_tty)


def diff(
    ctx: typer.Context,
    train: Optional[str] = typer.Argument(None, help="The training run's config (e.g. output/config.yaml)."),
    infer: Optional[str] = typer.Argument(None, help="The inference/serving config."),
    raw: bool = typer.Option(False, "--raw", help="Diff the resolved native configs (same framework) key by key."),
    no_filter: bool = typer.Option(False, "--no-filter", help="With --raw: keep paths, schedules, logging, ..."),
    exclude: Optional[List[str]] = typer.Option(None, "--exclude", help="With --raw: also hide keys matching "
                                                                          "PATTERN (repeatable)."),
    output_format: OutputFormat = FORMAT_OPTION,
    fail_on: Optional[Severity] = FAIL_ON_OPTION,
    select: Optional[List[str]] = SELECT_OPTION,
    ignore: Optional[List[str]] = IGNORE_OPTION,
    rules: Optional[List[str]] = RULES_OPTION,
    allow_new_keys: bool = ALLOW_NEW_KEYS_OPTION,
) -> None:
    """Compare TRAIN and INFER; exit 1 if a finding is at or above --fail-on, 2 if a config is unreadable.

    Without TRAIN and INFER, compares the `pairs` listed in \\[tool.cfglint] of pyproject.toml.
    """
    from cfglint import app, engine
    from cfglint.report import findings_format, findings_text

    run_settings = settings(ctx, select, ignore, rules, fail_on, allow_new_keys=allow_new_keys)
    config, rule_set = engine_setup(run_settings)
    if (train is None) != (infer is None):
        raise fail_usage("diff needs both TRAIN and INFER, or neither to use [tool.cfglint] pairs")
    pairs = [(train, infer)] if train is not None else config.pairs
    if not pairs:
        raise fail_usage("diff needs TRAIN and INFER (or pairs in [tool.cfglint] of pyproject.toml)")
    run = app.diff(pairs, run_settings, config, rule_set, raw=raw, filtered=not no_filter, exclude=exclude or ())
    for err in run.errors:
        print_error(err)
    if run.reports:
        typer.echo(findings_format.render(output_format.value, run.reports, rule_set,
                                          colour=findings_text.use_colour(stdout_is_tty())))
    if run.errors:
        raise typer.Exit(2)
    if engine.fails(run.findings(), config.fail_on):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)
