"""Helpers shared by the commands: output formats, error printing, the --opts tail."""
from __future__ import annotations

import enum
import json
import sys
from typing import Any, Optional

import typer

from cfglint.errors import CfglintError


class OutputFormat(str, enum.Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class Framework(str, enum.Enum):
    detectron2 = "detectron2"
    mmdet = "mmdet"


FORMAT_OPTION = typer.Option(OutputFormat.text, "--format", "-f", help="Output format.")
FRAMEWORK_OPTION = typer.Option(None, "--framework", help="Framework of the config(s); detected when omitted.")
ALLOW_NEW_KEYS_OPTION = typer.Option(
    False, "--allow-new-keys",
    help="Detectron2: accept keys the defaults table does not know (project add-ons not built in).")


def trailing_opts() -> list:
    from cfglint.cli.main import TRAILING_OPTS
    return list(TRAILING_OPTS)


def print_error(err: CfglintError) -> None:
    """One line on stderr, `file:line: message`."""
    typer.echo(f"error: {err}" if not err.file else str(err), err=True)


def dump_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=True, default=_json_default)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, tuple):
        return list(obj)
    to_json = getattr(obj, "to_json", None)
    if callable(to_json):
        return to_json()
    return str(obj)


def fail_usage(message: str) -> "typer.Exit":
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def framework_value(fw: Optional[Framework]) -> Optional[str]:
    return fw.value if fw is not None else None


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()
