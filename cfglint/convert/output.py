"""Writing what `convert` produces so that no input can turn it into code, and only on success.

- :func:`comment` is the only way text from the input (a file name, a class name, a warning)
  enters a converted config: one `# ...` line, control characters escaped, so a newline in a name
  cannot start a code line;
- :func:`check_python_config` re-parses a generated mmengine config and refuses it unless every
  statement is `name = <literal>` built from `dict(...)` calls, lists, tuples and constants;
  :func:`check_yaml_config` does the same for YAML (safe tags only);
- :func:`write_atomic` writes to a temporary file beside the target and renames it over the target,
  so a failed run leaves no output and a reader never sees half a file.
"""
from __future__ import annotations

import ast
import os
import stat
import tempfile
from typing import Callable, Optional

from cfglint.errors import CfglintError


def comment(text: object, prefix: str = "# ") -> str:
    from cfglint.printable import escape
    return prefix + escape(text)


_LITERAL_NODES = (ast.Constant, ast.List, ast.Tuple, ast.keyword, ast.Load, ast.UnaryOp, ast.USub, ast.UAdd)


def check_python_config(text: str, shown: str = "<converted config>") -> None:
    """Refuse generated Python that is anything but `name = literal` assignments."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise CfglintError("the converted config would not be valid Python; nothing was written", shown) from None
    for stmt in tree.body:
        ok = (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
              and _is_literal(stmt.value))
        if not ok:
            raise CfglintError(f"the converted config has a statement other than `name = value` (line "
                               f"{stmt.lineno}); refusing to write it", shown)


def _is_literal(node: ast.AST) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "float":
            if not (len(n.args) == 1 and not n.keywords and isinstance(n.args[0], ast.Constant)
                    and n.args[0].value in ("inf", "-inf", "nan")):
                return False
            continue
        if isinstance(n, ast.Call):
            if not (isinstance(n.func, ast.Name) and n.func.id == "dict" and not n.args):
                return False
            stack.extend(k.value for k in n.keywords if k.arg is not None)
            if any(k.arg is None for k in n.keywords):
                return False
            continue
        if isinstance(n, ast.UnaryOp):
            if not isinstance(n.op, (ast.USub, ast.UAdd)) or not isinstance(n.operand, ast.Constant):
                return False
            continue
        if isinstance(n, (ast.List, ast.Tuple)):
            stack.extend(n.elts)
            continue
        if not isinstance(n, ast.Constant):
            return False
    return True


def check_yaml_config(text: str, shown: str = "<converted config>") -> None:
    """Refuse generated YAML that a safe loader cannot read back (a Python tag, a broken line)."""
    import yaml
    try:
        yaml.safe_load(text)
    except yaml.YAMLError:
        raise CfglintError("the converted config would not be plain YAML; nothing was written", shown) from None


def check_output_path(path: str) -> None:
    """The target may be missing or a regular file, never a FIFO, device or directory."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CfglintError(f"cannot write the output: {exc.strerror or exc}", path) from None
    if not stat.S_ISREG(st.st_mode):
        raise CfglintError("the output exists and is not a regular file; refusing to write it", path)


def write_atomic(path: str, write: Callable[[str], None], what: str = "output") -> None:
    """`write(tmp)` fills a temporary file beside `path`, which then replaces `path` in one rename."""
    check_output_path(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".cfglint-", suffix=os.path.splitext(path)[1], dir=directory)
    except OSError as exc:
        raise CfglintError(f"cannot write the {what}: {exc.strerror or exc}", path) from None
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        _unlink(tmp)
        raise CfglintError(f"cannot write the {what}: {exc.strerror or exc}", path) from None
    except BaseException:
        _unlink(tmp)
        raise


def write_text_atomic(path: str, text: str, what: str = "converted config") -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    write_atomic(path, write, what)


def temp_beside(path: str, suffix: Optional[str] = None) -> str:
    """A fresh temporary path beside `path` (for outputs written by other code, then renamed)."""
    check_output_path(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".cfglint-", suffix=suffix or os.path.splitext(path)[1], dir=directory)
    except OSError as exc:
        raise CfglintError(f"cannot write the output: {exc.strerror or exc}", path) from None
    os.close(fd)
    return tmp


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
