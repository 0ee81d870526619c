"""Helpers shared by the commands: output formats, error printing, the --opts tail."""
from __future__ import annotations

import enum
import json
import sys
from typing import Any, Optional

import typer

from cfglint.errors import CfglintError


class OutputFormat(str, enum.Enum):
    """Every format; each command's --format offers only its own (DataFormat, FindingsFormat)."""
    text = "text"
    concise = "concise"
    json = "json"
    sarif = "sarif"
    github = "github"


class DataFormat(str, enum.Enum):
    """The formats of the commands that print data, not findings (show, convert, rules)."""
    text = "text"
    json = "json"


class FindingsFormat(str, enum.Enum):
    """The formats of the commands that report findings (lint, diff, verify)."""
    text = "text"
    concise = "concise"
    json = "json"
    sarif = "sarif"
    github = "github"


class Severity(str, enum.Enum):
    error = "error"
    warning = "warning"
    info = "info"


class Framework(str, enum.Enum):
    detectron2 = "detectron2"
    mmdet = "mmdet"


FORMAT_OPTION = typer.Option(FindingsFormat.text, "--format", "-f",
                             help="Output format (concise: one line per finding, file:line: RULE message).")
DATA_FORMAT_OPTION = typer.Option(DataFormat.text, "--format", "-f", help="Output format.")
EXIT_ZERO_OPTION = typer.Option(False, "--exit-zero", help="Exit 0 even when findings are at or above --fail-on "
                                                           "(unreadable input still exits 2).")
QUIET_OPTION = typer.Option(False, "--quiet", "-q", help="Print the findings only: no summary line.")
FRAMEWORK_OPTION = typer.Option(None, "--framework", help="Framework of the config(s); detected when omitted.")
ALLOW_NEW_KEYS_OPTION = typer.Option(
    False, "--allow-new-keys",
    help="Detectron2: accept keys the defaults table does not know (project add-ons not built in).")


def trailing_opts() -> list:
    from cfglint.cli.main import TRAILING_OPTS
    return list(TRAILING_OPTS)


def print_error(err: CfglintError, config: Optional[str] = None) -> None:
    """One line on stderr, `file:line: message`; when the file at fault is a base of `config` (the
    file the user asked about), that file is named too."""
    text = f"error: {err}" if not err.file else str(err)
    if config and err.file and not _same_file(err.file, config):
        text += f" (in a base of {config})"
    typer.echo(text, err=True)


def _same_file(a: str, b: str) -> bool:
    import os
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return a == b


def as_output_format(value: "enum.Enum") -> OutputFormat:
    """A command's own format enum as the shared OutputFormat."""
    return OutputFormat(value.value)


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


# Rule selection, shared by every command that reports findings (diff, lint, verify).
FAIL_ON_OPTION = typer.Option(None, "--fail-on", help="Exit 1 on findings at or above this severity "
                                                      "(default: error, or fail-on in \\[tool.cfglint]).")
SELECT_OPTION = typer.Option(None, "--select", help="Only these rule ids or prefixes (repeat or comma-separate).")
IGNORE_OPTION = typer.Option(None, "--ignore", help="Skip these rule ids or prefixes.")
RULES_OPTION = typer.Option(None, "--rules", help="Extra rule file (YAML); repeatable.")


def engine_config(select, ignore, rules, fail_on):
    """[tool.cfglint] from the working directory upward, with the command line on top."""
    from cfglint.engine import load_config
    return load_config().with_cli(select=select, ignore=ignore, rule_files=rules,
                                  fail_on=fail_on.value if fail_on else None)


def engine_setup(select, ignore, rules, fail_on):
    """(EngineConfig, RuleSet) for a command, or exit 2 on a bad rule file, code or config table."""
    from cfglint import engine
    try:
        config = engine_config(select, ignore, rules, fail_on)
        rule_set = engine.load_rules(config.rule_files)
        rule_set.enabled(config.select, config.ignore)   # unknown codes are bad arguments
    except CfglintError as err:
        print_error(err)
        raise typer.Exit(2)
    return config, rule_set
