"""`cfglint convert`: a config or a checkpoint, Detectron2 <-> MMDetection, with its proof.

`cfglint convert CONFIG --to mmdet -o OUT.py` writes the converted config; with `--config`, the
input is a checkpoint trained with CONFIG and OUT is the converted checkpoint. Either way the
result is checked by cfglint itself (diff of source and result; verify of the checkpoint) and
both checks are reported. Exit 1 when a check finds an error, 2 for unreadable or unsupported input.
"""
from __future__ import annotations

import os
from typing import Optional

import typer

from cfglint.cli.common import FORMAT_OPTION, Framework, OutputFormat, dump_json, fail_usage, print_error
from cfglint.errors import CfglintError


def convert(
    source: str = typer.Argument(..., help="A config, or with --config a checkpoint, to convert."),
    to: Framework = typer.Option(..., "--to", help="Target framework."),
    output: str = typer.Option(..., "--output", "-o", help="Where to write the converted config or checkpoint."),
    config: Optional[str] = typer.Option(None, "--config", help="The config SOURCE (a checkpoint) was trained with."),
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Convert a Detectron2 YAML config (or checkpoint) to MMDetection, or the reverse, and prove it."""
    from cfglint.convert import convert_checkpoint, convert_config
    from cfglint.convert.proof import Proof, diff_configs, verify_checkpoint

    if output_format not in (OutputFormat.text, OutputFormat.json):
        raise fail_usage("convert supports --format text or json")
    try:
        from cfglint.convert import output as out
        if config is None:
            result = convert_config(source, to.value)
            proof = Proof(diff=diff_configs(source, result.text, to.value))
            out.write_text_atomic(output, result.text)   # only once the proof ran, never half a file
            warnings = result.warnings
        else:
            tmp = out.temp_beside(output)
            try:
                result = convert_checkpoint(source, config, to.value, tmp)
                proof = Proof(diff=diff_configs(config, result.config.text, to.value),
                              verify=verify_checkpoint(tmp, result.config.text, to.value))
                os.replace(tmp, output)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
            warnings = result.config.warnings + result.warnings
    except CfglintError as err:
        print_error(err)
        raise typer.Exit(2)
    failed = any(f.severity == "error" for f in proof.diff) or (proof.verify is not None and not proof.verify.ok)
    if output_format is OutputFormat.json:
        typer.echo(dump_json({"output": output, "target": to.value,
                              "warnings": [w.to_json() for w in warnings], **proof.to_json()}))
    else:
        _print_text(output, warnings, proof)
    raise typer.Exit(1 if failed else 0)


def _print_text(output: str, warnings, proof) -> None:
    typer.echo(f"wrote {output}")
    for w in warnings:
        typer.echo(f"warning: {w}")
    typer.echo(f"diff source vs converted: {len(proof.diff)} finding(s)")
    for f in proof.diff:
        typer.echo(f"  {f.severity}: {f.field}: {f.message}")
    if proof.verify is not None:
        sd = proof.verify.state_dict
        typer.echo(f"verify converted checkpoint: {sd.checked} tensors checked, {len(sd.missing)} missing, "
                   f"{len(sd.unexpected)} unexpected, {len(sd.mismatched)} mismatched")
        for f in proof.verify.findings:
            typer.echo(f"  {f.severity}: {f.message}")


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)
