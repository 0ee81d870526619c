"""Helpers shared by the commands: output formats, error printing, the --opts tail."""
from __future__ import annotations

import enum
import sys
from typing import Any, Optional

import typer

from cfglint.errors import CfglintError
from cfglint.report.jsonout import dump_json  # noqa: F401  (the commands print JSON through it)


class OutputFormat(str, enum.Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class Severity(str, enum.Enum):
    error = "error"
    warning = "warning"
    info = "info"


def _framework_enum() -> type:
    """`--framework` / `--to` choices: the registered framework kinds (adding a kind adds a choice)."""
    from cfglint.adapters.kinds import framework_names
    return enum.Enum("Framework", {name: name for name in framework_names()}, type=str)


Framework = _framework_enum()


FORMAT_OPTION = typer.Option(OutputFormat.text, "--format", "-f", help="Output format.")
FRAMEWORK_OPTION = typer.Option(None, "--framework", help="Framework of the config(s); detected when omitted.")
ALLOW_NEW_KEYS_OPTION = typer.Option(
    False, "--allow-new-keys",
    help="Detectron2: accept keys the defaults table does not know (project add-ons not built in).")


def trailing_opts(ctx: typer.Context) -> list:
    """The overrides after `--opts`, carried by the command's context object (see main.run)."""
    return list(ctx.find_root().obj or ())


def print_error(err: CfglintError) -> None:
    """One line on stderr, `file:line: message`."""
    typer.echo(f"error: {err}" if not err.file else str(err), err=True)


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


def settings(ctx: Optional[typer.Context] = None, select=None, ignore=None, rules=None, fail_on=None,
             framework=None, allow_new_keys: bool = False):
    """The command's app.Settings from its options (and the trailing --opts of its context)."""
    from cfglint.app import Settings
    return Settings(select=select, ignore=ignore, rule_files=rules, fail_on=fail_on.value if fail_on else None,
                    opts=trailing_opts(ctx) if ctx is not None else [], framework=framework_value(framework),
                    allow_new_keys=allow_new_keys)


def engine_setup(run_settings):
    """(EngineConfig, RuleSet) for a command, or exit 2 on a bad rule file, code or config table."""
    try:
        return run_settings.engine()
    except CfglintError as err:
        print_error(err)
        raise typer.Exit(2)
