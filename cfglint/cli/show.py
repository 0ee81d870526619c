"""`cfglint show PATH...`: print what each config resolves to, in common-model terms or natively."""
from __future__ import annotations

from typing import List, Optional

import typer

from cfglint.cli.common import (ALLOW_NEW_KEYS_OPTION, FORMAT_OPTION, FRAMEWORK_OPTION, Framework, OutputFormat,
                                dump_json, fail_usage, framework_value, print_error, trailing_opts)
from cfglint.errors import CfglintError


def show(
    paths: List[str] = typer.Argument(..., help="Config files (Detectron2 YAML/LazyConfig, MMDetection .py/.yaml/.json)."),
    raw: bool = typer.Option(False, "--raw", help="Print the fully resolved native config instead of the common model."),
    output_format: OutputFormat = FORMAT_OPTION,
    framework: Optional[Framework] = FRAMEWORK_OPTION,
    allow_new_keys: bool = ALLOW_NEW_KEYS_OPTION,
) -> None:
    """Show the common model (or with --raw the native resolved config) of each PATH.

    Detectron2 overrides go last: `cfglint show cfg.yaml --opts MODEL.ROI_HEADS.NUM_CLASSES 3`.
    """
    from cfglint.adapters import normalize, resolve
    from cfglint.report import show_text

    if output_format not in (OutputFormat.text, OutputFormat.json):
        raise fail_usage("show supports --format text or json")
    opts = trailing_opts()
    failed = False
    for i, path in enumerate(paths):
        try:
            resolved = resolve(path, framework=framework_value(framework), opts=opts, allow_new_keys=allow_new_keys)
            model = None if raw else normalize(resolved)
        except CfglintError as err:
            failed = True
            if output_format is OutputFormat.json:
                typer.echo(dump_json({"path": path, "error": err.to_json()}))
            print_error(err)
            continue
        if output_format is OutputFormat.json:
            if raw:
                shown = {"path": path, "framework": resolved.framework, "config": resolved.data}
                if getattr(resolved, "input", "config") == "script":   # contract section 3
                    shown["input"] = "script"
                typer.echo(dump_json(shown))
            else:
                typer.echo(dump_json(model.to_json()))
        else:
            if i:
                typer.echo("")
            typer.echo(show_text.render_raw(resolved) if raw else show_text.render_model(model))
    if failed:
        raise typer.Exit(2)
