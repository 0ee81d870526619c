"""The process around a command: safe output streams, the read policy, no traceback ever.

`run_guarded` (called by `main.run`) installs :mod:`cfglint.report.safe` on stdout/stderr, takes
`--allow-root`/`--env` off the command line into the read policy of :mod:`cfglint.adapters.roots`,
and turns any exception that escaped a command into one `error:` line and exit code 2 (set
`CFGLINT_DEBUG=1` to see the traceback instead).
"""
from __future__ import annotations

import os
import sys
from typing import List, Sequence

import typer

from cfglint.cli.common import apply_safety_options, take_safety_options


def _github_format(args: List[str]) -> bool:
    for i, arg in enumerate(args):
        if arg in ("--format", "-f") and i + 1 < len(args) and args[i + 1] == "github":
            return True
        if arg in ("--format=github", "-fgithub"):
            return True
    return False


def run_guarded(app, args: List[str], opts: Sequence[str] = ()) -> None:
    """`opts`: the overrides after `--opts`, handed to the command in its context object."""
    from cfglint.report import safe
    finish = safe.install(github_stdout=_github_format(args))
    try:
        _run(app, args, list(opts))
    finally:
        finish()


def _run(app, args: List[str], opts: List[str]) -> None:
    try:
        args, roots, env = take_safety_options(args)
        apply_safety_options(roots, env)
        try:
            app(args=args, prog_name="cfglint", standalone_mode=True, obj=opts)
        finally:
            _print_notices()
    except BrokenPipeError:  # `cfglint show ... | head`
        _quiet_exit(0)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", None)
        if code is None:
            code = getattr(exc, "code", 0)
        sys.exit(0 if code is None else code if isinstance(code, int) else 2)
    except KeyboardInterrupt:
        sys.exit(130)
    except BaseException as exc:  # noqa: BLE001 - the last line of defence: one line, exit 2
        if os.environ.get("CFGLINT_DEBUG"):
            raise
        _internal_error(exc)


def _print_notices() -> None:
    from cfglint.adapters import roots
    from cfglint.report.safe import escape, excerpt
    for file, line, message in roots.take_notices():
        where = escape(file) + (f":{line}" if line else "")
        typer.echo(f"{where}: info: {excerpt(message, 300)}", err=True)


def _internal_error(exc: BaseException) -> None:
    if isinstance(exc, RecursionError):
        message = "the input nests too deeply to read"
    elif isinstance(exc, MemoryError):
        message = "reading the input needs more memory than is available"
    else:
        message = (f"internal error ({type(exc).__name__}) while reading the input; please report it "
                   "(CFGLINT_DEBUG=1 shows the traceback)")
    try:
        typer.echo(f"error: {message}", err=True)
    except Exception:  # noqa: BLE001
        pass
    sys.exit(2)


def _quiet_exit(code: int) -> None:
    try:
        sys.stdout = open(os.devnull, "w")
    except OSError:
        pass
    sys.exit(code)
