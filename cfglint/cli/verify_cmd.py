"""`cfglint verify CHECKPOINT --config CONFIG`: does this weights file fit this config's model?

Reads key names and shapes only (no tensor bytes, no pickled code), so it is safe on untrusted
files and its cost grows with the number of tensors, not their size. Trailing `--opts ...`
overrides apply to the config.
"""
from __future__ import annotations

from enum import Enum
from typing import List, Optional

import typer

from cfglint.cli.common import (ALLOW_NEW_KEYS_OPTION, FAIL_ON_OPTION, FORMAT_OPTION, FRAMEWORK_OPTION, IGNORE_OPTION,
                                RULES_OPTION, SELECT_OPTION, FindingsFormat, Framework, Severity, as_output_format,
                                engine_setup, print_error, settings, stdout_is_tty)
from cfglint.errors import CfglintError


class Engine(str, Enum):
    native = "native"
    framework = "framework"


def verify(
    ctx: typer.Context,
    checkpoint: Optional[str] = typer.Argument(None, help="Checkpoint: .pth/.pt (zip or legacy), Detectron2 .pkl, "
                                               ".safetensors, or an fsspec URL (s3://, gs://, https://). Default: "
                                               "the checkpoint a serving script given as --config loads."),
    config: str = typer.Option(..., "--config", "-c", help="The config the checkpoint will be served with."),
    output_format: FindingsFormat = FORMAT_OPTION,
    framework: Optional[Framework] = FRAMEWORK_OPTION,
    fail_on: Optional[Severity] = FAIL_ON_OPTION,
    select: Optional[List[str]] = SELECT_OPTION,
    ignore: Optional[List[str]] = IGNORE_OPTION,
    rules: Optional[List[str]] = RULES_OPTION,
    allow_new_keys: bool = ALLOW_NEW_KEYS_OPTION,
    engine: Engine = typer.Option(Engine.native, "--engine",
                                  help="Where the expected state dict comes from: cfglint's own model (native), or "
                                       "the installed mmdet/detectron2 building the model on torch's meta device "
                                       "(framework; imports torch and the framework, never runs the config file, "
                                       "ignores custom_imports)."),
    timeout: float = typer.Option(30.0, "--timeout", min=0.1,
                                  help="Remote checkpoints: seconds the server may stay silent (connecting, or "
                                       "between bytes) before verify gives up with exit 2."),
) -> None:
    """Prove or refute that CHECKPOINT loads into the model CONFIG builds; exit 1 on a mismatch, 2 on bad input."""
    from cfglint import app
    from cfglint.report import findings_text, verify_report

    output_format = as_output_format(output_format)
    run_settings = settings(ctx, select, ignore, rules, fail_on, framework, allow_new_keys)
    engine_cfg, rule_set = engine_setup(run_settings)
    if checkpoint is None:
        checkpoint = _served_checkpoint(config, run_settings)
    try:
        report = app.verify(checkpoint, config, run_settings, engine_config=engine_cfg, engine=engine.value,
                            timeout=timeout)
    except CfglintError as err:
        print_error(err, config)
        raise typer.Exit(2)
    typer.echo(verify_report.render(output_format.value, report, checkpoint, config, rule_set,
                                    colour=findings_text.use_colour(stdout_is_tty())))
    if not report.ok:
        raise typer.Exit(1)


def _served_checkpoint(config: str, run_settings) -> str:
    """The checkpoint a serving script loads (cfg.MODEL.WEIGHTS, init_detector's checkpoint, ...)."""
    from cfglint.adapters import resolve
    try:
        resolved = resolve(config, framework=run_settings.framework, opts=run_settings.opts,
                           allow_new_keys=run_settings.allow_new_keys)
    except CfglintError as err:
        print_error(err)
        raise typer.Exit(2)
    served = getattr(resolved, "served_checkpoint", None)
    if not served:
        print_error(CfglintError("no CHECKPOINT given, and the config names none the script loads; "
                                 "pass the checkpoint to verify", config))
        raise typer.Exit(2)
    typer.echo(f"verifying {served} ({resolved.served_checkpoint_location} loads it)", err=True)
    return served


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
