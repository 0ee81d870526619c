"""The `cfglint` typer app and its entry point.

Exit codes (contract section 2): 0 clean, 1 findings at or above --fail-on, 2 unreadable input or
bad arguments. Bad input never produces a traceback: CfglintError becomes `file:line: message`.

Detectron2 users pass overrides as a trailing `--opts KEY VALUE ...` (argparse REMAINDER in
detectron2's scripts); `run()` splits them off before typer sees the command line.
"""
from __future__ import annotations

import gc
import importlib
import sys
from typing import Iterable, List, Optional, Tuple

import typer

#: Each command's module, imported (and built into a click command) only when that command runs:
#: a pre-commit hook running `cfglint lint` pays for `lint` alone. `--help`, `--version` and an
#: unknown command get all of them, in this order.
COMMANDS = {
    "show": "cfglint.cli.show",
    "diff": "cfglint.cli.diff_cmd",
    "verify": "cfglint.cli.verify_cmd",
    "convert": "cfglint.cli.convert_cmd",
    "lint": "cfglint.cli.lint_cmd",
    "rules": "cfglint.cli.rules_cmd",
}


def _version(value: bool) -> None:
    if value:
        from cfglint import __version__
        typer.echo(f"cfglint {__version__}")
        raise typer.Exit(0)


def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """Catch train/serve drift in Detectron2 and MMDetection configs and checkpoints.

    Every command also takes --allow-root DIR and --env (see the README's Security section).
    """


def build_app(commands: Iterable[str] = tuple(COMMANDS)) -> typer.Typer:
    """The `cfglint` typer app with `commands` (each module registers its own)."""
    app = typer.Typer(
        name="cfglint",
        help="Catch train/serve drift in Detectron2 and MMDetection configs and checkpoints.",
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    app.callback()(main)
    for name in commands:
        importlib.import_module(COMMANDS[name]).register(app)
    return app


def command_of(args: List[str]) -> Optional[str]:
    """The command an argument list runs, when it names one first (after the safety options
    that every command takes, see common.take_safety_options); else None."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--env" or arg.startswith("--allow-root="):
            i += 1
        elif arg == "--allow-root":
            i += 2
        else:
            return arg if arg in COMMANDS else None
    return None


def __getattr__(name: str):
    if name == "app":   # `cfglint.cli.main.app`: the whole app, for callers that drive typer themselves
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def split_opts(argv: List[str]) -> Tuple[List[str], List[str]]:
    """(argv without its trailing `--opts K V ...`, those overrides). The overrides travel to the
    command in its click context (`common.trailing_opts`): detectron2 merge_from_list semantics,
    mmengine --cfg-options semantics for mmdet configs."""
    if "--opts" in argv:
        i = argv.index("--opts")
        return _split_sets(argv[:i]), argv[i + 1:]
    return _split_sets(argv), []


def _split_sets(argv: List[str]) -> List[str]:
    """`--set NAME=VALUE` (repeatable): values for what a serving script leaves unknown (an argparse
    option without default, `sys.argv[1]` as `argv[1]`, `os.environ["X"]` as `env.X`)."""
    if not any(a == "--set" or a.startswith("--set=") for a in argv):
        return argv
    from cfglint.adapters import script
    rest: List[str] = []
    i = 0
    while i < len(argv):
        if argv[i] == "--set" and i + 1 < len(argv):
            script.CLI_SETS.append(argv[i + 1])
            i += 2
            continue
        if argv[i].startswith("--set="):
            script.CLI_SETS.append(argv[i][len("--set="):])
        else:
            rest.append(argv[i])
        i += 1
    return rest


def run(argv: Optional[List[str]] = None) -> None:
    # A short-lived process whose data (resolved configs, memoized bases) is acyclic: scanning it
    # for reference cycles again and again costs about a third of a zoo-wide run and frees nothing.
    gc.disable()
    from cfglint.cli import guard
    args, opts = split_opts(list(sys.argv[1:] if argv is None else argv))
    command = command_of(args)
    guard.run_guarded(build_app((command,) if command else COMMANDS), args, opts)


if __name__ == "__main__":  # pragma: no cover
    run()
