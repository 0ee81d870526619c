import gc
import os
import sys

gc.disable()  # as the `cfglint` command does (cfglint.cli.run), before the imports

# `python -m cfglint` puts the working directory (a pull request's checkout, in CI) first on
# sys.path, so a `yaml.py` or `typer.py` committed there would be imported instead of the real
# package. cfglint itself is already loaded; nothing else may come from the working directory.
_cwd = os.getcwd()
sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.abspath(p) != _cwd]

from cfglint.cli import exit_without_teardown  # noqa: E402
from cfglint.cli.main import run  # noqa: E402

exit_without_teardown(run)
