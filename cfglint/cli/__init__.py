"""Stage 6: the command line. Thin: parse arguments, call the stages, pick a reporter, exit."""


def run() -> None:
    """The `cfglint` console command. A short-lived process whose data is acyclic: the cyclic GC is
    off before typer and the stages are imported, not only while the command runs (see main.run)."""
    import gc
    gc.disable()
    from cfglint.cli.main import run as run_main
    run_main()
