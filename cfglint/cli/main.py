"""The `cfglint` typer app and its entry point.

Exit codes (contract section 2): 0 clean, 1 findings at or above --fail-on, 2 unreadable input or
bad arguments. Bad input never produces a traceback: CfglintError becomes `file:line: message`.

Detectron2 users pass overrides as a trailing `--opts KEY VALUE ...` (argparse REMAINDER in
detectron2's scripts); `run()` splits them off before typer sees the command line.
"""
from __future__ import annotations

import gc
import sys
from typing import List, Optional

import typer

from cfglint.cli import convert_cmd, diff_cmd, lint_cmd, rules_cmd, verify_cmd
from cfglint.cli import show as show_cmd

app = typer.Typer(
    name="cfglint",
    help="Catch train/serve drift in Detectron2 and MMDetection configs and checkpoints.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

#: Overrides given after `--opts`, shared by every command (detectron2 merge_from_list semantics,
#: mmengine --cfg-options semantics for mmdet configs).
TRAILING_OPTS: List[str] = []


def _version(value: bool) -> None:
    if value:
        from cfglint import __version__
        typer.echo(f"cfglint {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """Catch train/serve drift in Detectron2 and MMDetection configs and checkpoints."""


app.command("show")(show_cmd.show)
for _command in (diff_cmd, verify_cmd, convert_cmd, lint_cmd, rules_cmd):  # one module per command
    _command.register(app)


def split_opts(argv: List[str]) -> List[str]:
    """Return argv without its trailing `--opts K V ...`, which is kept in TRAILING_OPTS."""
    TRAILING_OPTS.clear()
    if "--opts" in argv:
        i = argv.index("--opts")
        TRAILING_OPTS.extend(argv[i + 1:])
        argv = argv[:i]
    return _split_sets(argv)


def _split_sets(argv: List[str]) -> List[str]:
    """`--set NAME=VALUE` (repeatable): values for what a serving script leaves unknown."""
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
    args = split_opts(list(sys.argv[1:] if argv is None else argv))
    try:
        app(args=args, prog_name="cfglint", standalone_mode=True)
    except BrokenPipeError:  # `cfglint show ... | head`
        sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    run()
