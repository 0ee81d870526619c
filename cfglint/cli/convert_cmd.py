"""`cfglint convert`: a config or a checkpoint, Detectron2 <-> MMDetection, with its proof.

`cfglint convert CONFIG --to mmdet -o OUT.py` writes the converted config; with `--config`, the
input is a checkpoint trained with CONFIG and OUT is the converted checkpoint. Either way the
result is checked by cfglint itself (diff of source and result; verify of the checkpoint) and
both checks are reported. Exit 1 when a check finds an error, 2 for unreadable or unsupported input.
"""
from __future__ import annotations

from typing import Optional

import typer

from cfglint.cli.common import (DATA_FORMAT_OPTION, FRAMEWORK_OPTION, DataFormat, Framework, OutputFormat,
                                as_output_format, fail_usage, framework_value, print_error)
from cfglint.errors import CfglintError


def convert(
    source: str = typer.Argument(..., help="A config, or with --config a checkpoint, to convert."),
    to: Framework = typer.Option(..., "--to", help="Target framework."),
    output: str = typer.Option(..., "--output", "-o", help="Where to write the converted config or checkpoint."),
    config: Optional[str] = typer.Option(None, "--config", help="The config SOURCE (a checkpoint) was trained with."),
    framework: Optional[Framework] = FRAMEWORK_OPTION,
    output_format: DataFormat = DATA_FORMAT_OPTION,
) -> None:
    """Convert a Detectron2 YAML config (or checkpoint) to MMDetection, or the reverse, and prove it."""
    from cfglint import app
    from cfglint.report import convert_report

    output_format = as_output_format(output_format)
    if output_format not in (OutputFormat.text, OutputFormat.json):
        raise fail_usage("convert supports --format text or json")
    try:
        run = app.convert(source, to.value, output, config, framework=framework_value(framework))
    except CfglintError as err:
        print_error(err, config or source)
        raise typer.Exit(2)
    typer.echo(convert_report.render(output_format.value, run))
    raise typer.Exit(1 if run.failed else 0)


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)
