"""`cfglint show PATH...`: print what each config resolves to, in common-model terms or natively."""
from __future__ import annotations

from typing import List, Optional

import typer

from cfglint.cli.common import (ALLOW_NEW_KEYS_OPTION, DATA_FORMAT_OPTION, FRAMEWORK_OPTION, DataFormat, Framework,
                                OutputFormat, as_output_format, fail_usage, print_error, settings)


def show(
    ctx: typer.Context,
    paths: List[str] = typer.Argument(..., help="Config files (Detectron2 YAML/LazyConfig, MMDetection .py/.yaml/.json)."),
    raw: bool = typer.Option(False, "--raw", help="Print the fully resolved native config instead of the common model."),
    output_format: DataFormat = DATA_FORMAT_OPTION,
    framework: Optional[Framework] = FRAMEWORK_OPTION,
    allow_new_keys: bool = ALLOW_NEW_KEYS_OPTION,
) -> None:
    """Show the common model (or with --raw the native resolved config) of each PATH.

    Detectron2 overrides go last: `cfglint show cfg.yaml --opts MODEL.ROI_HEADS.NUM_CLASSES 3`.
    """
    from cfglint import app
    from cfglint.report import show_text

    output_format = as_output_format(output_format)
    if output_format not in (OutputFormat.text, OutputFormat.json):
        raise fail_usage("show supports --format text or json")
    shown = app.show(paths, settings(ctx, framework=framework, allow_new_keys=allow_new_keys), raw=raw)
    for i, item in enumerate(shown):
        if item.error is not None:
            if output_format is OutputFormat.json:
                typer.echo(show_text.error_json(item))
            print_error(item.error)
            continue
        if output_format is OutputFormat.json:
            typer.echo(show_text.render_json(item, raw))
        else:
            if i:
                typer.echo("")
            typer.echo(show_text.render_raw(item.resolved) if raw else show_text.render_model(item.model))
    if any(item.error is not None for item in shown):
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.command("show")(show)
