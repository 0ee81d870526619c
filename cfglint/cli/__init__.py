"""Stage 6: the command line. Thin: parse arguments, call the stages, pick a reporter, exit."""
from typing import Callable


def run() -> None:
    """The `cfglint` console command. A short-lived process whose data is acyclic: the cyclic GC is
    off before typer and the stages are imported, not only while the command runs (see main.run)."""
    import gc
    gc.disable()
    from cfglint.cli.main import run as run_main
    exit_without_teardown(run_main)


def exit_without_teardown(main: Callable[[], None]) -> None:
    """Run the command, then end the process the way `sys.exit` would, minus the teardown.

    After a tree is linted the process holds every memoized base and resolved config; letting the
    interpreter free them object by object took 0.3 s of a 2.5 s zoo-wide lint. The streams are
    flushed and the `atexit` handlers run (pending `weakref.finalize` callbacks among them) before
    `os._exit`; only the freeing of memory, which the OS does at once, is skipped (mypy does the same)."""
    import os
    import sys
    code = 0
    try:
        main()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:                        # sys.exit("message"): printed, exit status 1
            print(exc.code, file=sys.stderr)
            code = 1
    import atexit
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # a closed pipe (`cfglint show | head`): nothing more to say
            pass
    os._exit(code)
