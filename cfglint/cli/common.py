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


class Severity(str, enum.Enum):
    error = "error"
    warning = "warning"
    info = "info"


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


def print_error(err: CfglintError) -> None:
    """One line on stderr, `file:line: message`."""
    typer.echo(error_line(err), err=True)


def dump_json(obj: Any, indent: Optional[int] = None) -> str:
    """Strict JSON (RFC 8259): no NaN/Infinity (written as strings), string keys only, integers
    past Python's printable size as strings, lone surrogates escaped."""
    return json.dumps(strict_json(obj), ensure_ascii=False, allow_nan=False, indent=indent)


def strict_json(obj: Any, depth: int = 0) -> Any:
    """`obj` as plain JSON data (see :func:`dump_json`)."""
    if depth > 400:
        return "<nested too deeply>"
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, str):
        return _strict_str(obj)
    if isinstance(obj, int):
        return obj if obj.bit_length() < 14000 else _big_int(obj)
    if isinstance(obj, float):
        if obj != obj:
            return "NaN"
        if obj in (float("inf"), float("-inf")):
            return "Infinity" if obj > 0 else "-Infinity"
        return obj
    if isinstance(obj, dict):
        return {_json_key(k): strict_json(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v, depth + 1) for v in obj]
    if isinstance(obj, (set, frozenset)):
        items = [strict_json(v, depth + 1) for v in obj]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    to_json = getattr(obj, "to_json", None)
    if callable(to_json):
        return strict_json(to_json(), depth + 1)
    from cfglint.report.safe import _str
    return _strict_str(_str(obj))


def _strict_str(text: str) -> str:
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:   # lone surrogates: printable, still the same text to a reader
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _big_int(value: int) -> str:
    return f"<integer of about {int(value.bit_length() * 0.30103)} digits>"


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return _strict_str(key)
    if isinstance(key, int) and not isinstance(key, bool) and key.bit_length() >= 14000:
        return _big_int(key)
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key) if not isinstance(key, float) or key == key and abs(key) != float("inf") \
            else str(key)
    from cfglint.report.safe import _str
    return _strict_str(_str(key))


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
