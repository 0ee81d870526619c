"""Helpers shared by the commands: output formats, error printing, the --opts tail."""
from __future__ import annotations

import enum
import os
import sys
from typing import Any, Optional

import typer

from cfglint.errors import CfglintError
from cfglint.report.jsonout import dump_json  # noqa: F401  (the commands print JSON through it)


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


def _framework_enum() -> type:
    """`--framework` / `--to` choices: the registered framework kinds (adding a kind adds a choice)."""
    from cfglint.adapters.kinds import framework_names
    return enum.Enum("Framework", {name: name for name in framework_names()}, type=str)


Framework = _framework_enum()


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


def trailing_opts(ctx: typer.Context) -> list:
    """The overrides after `--opts`, carried by the command's context object (see main.run)."""
    return list(ctx.find_root().obj or ())


#: Longest error message printed (a message quotes at most a short excerpt of the input).
MAX_ERROR_CHARS = 600


def error_line(err: CfglintError) -> str:
    """`file:line: message` as one printable line: escaped, shortened."""
    from cfglint.report.safe import escape, excerpt
    message = excerpt(err.message, MAX_ERROR_CHARS)
    if not err.file:
        return f"error: {message}"
    where = escape(err.file) + (f":{err.line}" if err.line else "")
    return f"{where}: {message}"


def print_error(err: CfglintError, config: Optional[str] = None) -> None:
    """One line on stderr, `file:line: message`; when the file at fault is a base of `config` (the
    file the user asked about), that file is named too."""
    text = error_line(err)
    if config and err.file and os.path.isfile(err.file) and not _same_file(err.file, config):
        from cfglint.report.safe import escape
        text += f" (in a base of {escape(config)})"
    typer.echo(text, err=True)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return a == b


def as_output_format(value: "enum.Enum") -> OutputFormat:
    """A command's own format enum as the shared OutputFormat."""
    return OutputFormat(value.value)


def fail_usage(message: str) -> "typer.Exit":
    from cfglint.report.safe import excerpt
    typer.echo(f"error: {excerpt(message, MAX_ERROR_CHARS)}", err=True)
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


# Read confinement and the environment (cfglint.adapters.roots). Accepted anywhere before `--opts`
# by every command, and taken off the command line before typer parses it (see main.run).
SAFETY_HELP = ("--allow-root DIR: also read bases/imports under DIR (repeatable; also `allow-roots` in "
               "[tool.cfglint]).  --env: let `{{$VAR:default}}` read the environment (values are masked "
               "in output).")


def take_safety_options(argv: list) -> tuple:
    """(argv without `--allow-root DIR`, `--allow-root=DIR`, `--env`; roots; env) -- before `--opts`."""
    rest, roots, env = [], [], False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg == "--env":
            env = True
        elif arg == "--allow-root":
            if i + 1 >= len(argv):
                raise fail_usage("--allow-root needs a directory")
            roots.append(argv[i + 1])
            i += 1
        elif arg.startswith("--allow-root="):
            roots.append(arg.partition("=")[2])
        else:
            rest.append(arg)
        i += 1
    return rest, roots, env


def apply_safety_options(roots: list, env: bool) -> None:
    """The process-wide read policy: --allow-root roots, [tool.cfglint] allow-roots, --env."""
    from cfglint.adapters import roots as read_roots
    try:
        configured = _configured_roots()
        read_roots.set_process_policy([*roots, *configured], env=env)
    except CfglintError as err:
        print_error(err)
        raise typer.Exit(2)


def _configured_roots() -> list:
    from cfglint.engine.config import configured_allow_roots
    return configured_allow_roots()
