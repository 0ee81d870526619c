"""Reading mmengine config files: text substitutions, parsing (memoized), and `_base_` paths.

These reproduce the text-level steps of `Config._file2dict` (predefined variables,
`{{$ENV:default}}`, `{{_base_.x}}` placeholders) and `Config._get_cfg_path`, without importing
mmengine or the packages a `pkg::path` base names.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import os
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

from cfglint.adapters import roots
from cfglint.adapters.limits import read_config_text
from cfglint.errors import CfglintError

SUFFIXES = (".py", ".json", ".yaml", ".yml")
_PREDEFINED = ("fileDirname", "fileBasename", "fileBasenameNoExtension", "fileExtname")
_BASE_VAR_RE = re.compile(r"\{\{\s*_base_\.([\w\.]+)\s*\}\}")
_PKG_RE = re.compile(r"\w*::\w*/\w*")
# mmengine's MODULE2PACKAGE: the scopes a `pkg::path` base may name, and their distributions.
MODULE2PACKAGE = {
    "mmcls": "mmcls", "mmdet": "mmdet", "mmdet3d": "mmdet3d", "mmseg": "mmsegmentation",
    "mmaction": "mmaction2", "mmtrack": "mmtrack", "mmpose": "mmpose", "mmedit": "mmedit", "mmocr": "mmocr",
    "mmgen": "mmgen", "mmfewshot": "mmfewshot", "mmrazor": "mmrazor", "mmflow": "mmflow",
    "mmhuman3d": "mmhuman3d", "mmrotate": "mmrotate", "mmselfsup": "mmselfsup", "mmyolo": "mmyolo",
    "mmpretrain": "mmpretrain", "mmagic": "mmagic",
}


@dataclass
class Source:
    """One config file after mmengine's text substitutions."""

    path: str                      # absolute path, as mmengine reports it
    raw: str                       # the file as written (for suppressions)
    text: str                      # after substitutions
    base_vars: Dict[str, str]      # placeholder string -> dotted `_base_` key it stands for
    tree: Optional[ast.Module]     # parsed Python (None for YAML/JSON)
    facts: Dict[str, bool] = field(default_factory=dict)   # derived once per parsed file (is_lazy, ...)

    @functools.cached_property
    def reads_base(self) -> bool:
        """Whether the code names `_base_` beyond assigning it: only such a file can change the
        merged bases in place, so only its bases need a private copy (see evaluator._file2dict).
        A text search, erring towards True: `_base_` in a comment only costs a copy."""
        return self.tree is not None and _READS_BASE.search(self.text) is not None


#: `_base_` as a name that is not being assigned: not inside a path ('../_base_/x.py') or a
#: longer identifier, and not followed by a single `=`. (The literal comes first so that the
#: search skips to each `_base_`; the look-behind then checks the character before it.)
_READS_BASE = re.compile(r"_base_(?<![\w/.'\"-]_base_)\b(?!\s*=(?!=))")


_CACHE: Dict[Tuple[str, int, int, Tuple[Tuple[str, str], ...]], Source] = {}
#: Decoded texts by (path, mtime, size): a base is named by every config of a tree.
_RAW: Dict[Tuple[str, int, int], str] = {}


#: The files one resolution has read (path -> Source): a base that ten siblings share is
#: stat'ed once per resolution, and a file edited between two resolutions is read again.
_SESSION: Optional[Dict[str, Source]] = None


@contextmanager
def one_resolution() -> Iterator[None]:
    """Scope of one `resolve_file` for the session above (nested calls share the outer one)."""
    global _SESSION
    if _SESSION is not None:
        yield
        return
    _SESSION = {}
    try:
        yield
    finally:
        _SESSION = None


def read_source(path: str, included_from: Optional[Tuple[str, int]] = None) -> Source:
    """Read, substitute and parse a config file, memoized by path, mtime, size and env variables used."""
    path = os.path.abspath(os.path.expanduser(path))
    if _SESSION is not None and path in _SESSION:
        return _SESSION[path]
    source = _read_source(path, included_from)
    if _SESSION is not None:
        _SESSION[path] = source
    return source


def _read_source(path: str, included_from: Optional[Tuple[str, int]]) -> Source:
    where = {"file": included_from[0], "line": included_from[1]} if included_from else {"file": path}
    if os.path.splitext(path)[1] not in SUFFIXES:
        raise CfglintError(f"{roots.shown_path(os.path.basename(path))}: only .py, .json, .yaml and .yml configs "
                           "are supported", **where)
    if included_from:   # every path a config names is confined (also those found by other resolvers)
        roots.confine(path, included_from[0], written=os.path.relpath(path, os.path.dirname(included_from[0])),
                      at_file=included_from[0], at_line=included_from[1], what="base config")
    try:
        st = os.stat(path)
    except OSError:
        raise CfglintError(f"base config {roots.shown_path(path)} does not exist" if included_from else "no such file",
                           **where)
    raw = _RAW.get((path, st.st_mtime_ns, st.st_size))
    if raw is None:
        raw = read_config_text(path)
        _RAW[(path, st.st_mtime_ns, st.st_size)] = raw
    env_used = (tuple((name, os.environ.get(name, "")) for _, _, name, _ in env_references(raw))
                if "{{" in raw and "$" in raw and roots.env_allowed() else ())
    key = (path, st.st_mtime_ns, st.st_size, env_used)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    text = _substitute_predefined(path, raw)
    text = _substitute_env(path, text)
    text, base_vars = _placeholder_base_vars(path, text)
    tree = None
    if path.endswith(".py"):
        try:
            tree = ast.parse(text, filename=path)
        except SyntaxError as exc:
            raise CfglintError(f"syntax error: {exc.msg}", file=path, line=exc.lineno)
        except ValueError as exc:  # e.g. null bytes
            raise CfglintError(f"cannot parse config: {exc}", file=path, line=1)
    source = Source(path, raw, text, base_vars, tree)
    _CACHE[key] = source
    return source


def _substitute_predefined(path: str, text: str) -> str:
    if "{{" not in text:    # every placeholder starts so; most configs have none
        return text
    dirname, basename = os.path.dirname(path), os.path.basename(path)
    values = {"fileDirname": dirname, "fileBasename": basename,
              "fileBasenameNoExtension": os.path.splitext(basename)[0], "fileExtname": os.path.splitext(path)[1]}
    for name in _PREDEFINED:
        value = values[name].replace("\\", "/")
        text = re.sub(r"\{\{\s*" + name + r"\s*\}\}", lambda _m, v=value: v, text)
    return text


def _substitute_env(path: str, text: str) -> str:
    """mmengine's `{{$NAME:default}}`: the environment only with --env (roots.env_allowed), else
    the default, with a notice; no user text ever goes into a regular expression."""
    if "{{" not in text or "$" not in text:
        return text
    use_env = roots.env_allowed()
    out: List[str] = []
    last = 0
    line, counted = 1, 0   # counted incrementally: many references must not rescan the text
    noted = set()
    for start, end, name, default in env_references(text):
        line += text.count("\n", counted, start)
        counted = start
        value = os.environ.get(name) if use_env else None
        if value:
            roots.note_secret(value)
        else:
            value = default
            if not use_env and name not in noted:   # one notice per variable and file
                noted.add(name)
                roots.notice(path, line, f"`{{{{${name}}}}}` is not read from the environment (pass --env); "
                                         + ("its default is used" if default else "it has no default"))
        if not value:
            raise CfglintError(f"environment variable `{name}` is " + ("not set" if use_env else
                               "not read without --env") + " and the config gives no default", file=path, line=line)
        out.append(text[last:start])
        out.append(value)
        last = end
    out.append(text[last:])
    return "".join(out)


_SPACE = " \t\n\r\f\v"
_SPACE_RE = re.compile(r"\s")


def env_references(text: str) -> List[Tuple[int, int, str, str]]:
    """(start, end, name, default) of every `{{$NAME:default}}`, exactly the matches of mmengine's
    `\\{\\{['"]?\\s*\\$(\\w+)\\s*\\:\\s*(\\S*?)\\s*['"]?\\}\\}` (findall order), found
    in linear time: each failed attempt only scans runs that contain no other `{{`, and the search
    for the closing `}}` of a default is shared by all attempts."""
    found: List[Tuple[int, int, str, str]] = []
    n = len(text)
    pos = 0
    close = -2                       # cached: the first "}}" at or after some index
    space = -2                       # cached: the first whitespace at or after some index
    while True:
        p = text.find("{{", pos)
        if p < 0:
            return found
        i = p + 2
        if i < n and text[i] in "'\"":
            i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "$":
            pos = p + 1
            continue
        i += 1
        j = i
        while j < n and (text[j].isalnum() or text[j] == "_"):
            j += 1
        if j == i:
            pos = p + 1
            continue
        name = text[i:j]
        while j < n and text[j].isspace():
            j += 1
        if j >= n or text[j] != ":":
            pos = p + 1
            continue
        j += 1
        while j < n and text[j].isspace():
            j += 1
        d = j                                        # the default starts here
        if space < d:                                # the default cannot pass whitespace
            m = _SPACE_RE.search(text, d)
            space = m.start() if m else n
        run_end = space
        if close < d:
            close = text.find("}}", d)
            if close < 0:
                close = n + 10                       # none left: never searched again
        end = None
        if close <= run_end:                    # a "}}" inside the run ends it (lazily)
            e = close - 1 if close - 1 >= d and text[close - 1] in "'\"" else close
            end, default = close + 2, text[d:e]
        else:                                        # whitespace, an optional quote, then "}}"
            k = run_end
            while k < n and text[k].isspace():
                k += 1
            if k < n and text[k] in "'\"":
                k += 1
            if text.startswith("}}", k):
                end, default = k + 2, text[d:run_end]
        if end is None:
            pos = p + 1
            continue
        found.append((p, end, name, default))
        pos = end


def _placeholder_base_vars(path: str, text: str) -> Tuple[str, Dict[str, str]]:
    """`{{_base_.a.b}}` -> a unique string literal, replaced by the base value after evaluation."""
    base_vars: Dict[str, str] = {}
    if "{{" not in text:
        return text, base_vars
    tokens: Dict[str, str] = {}
    for dotted in sorted(set(_BASE_VAR_RE.findall(text))):
        token = f"_{dotted}_{hashlib.sha1((path + dotted).encode()).hexdigest()[:6]}"
        base_vars[token] = dotted
        tokens[dotted] = f'"{token}"'
    if tokens:  # one pass, whatever the number of placeholders
        text = _BASE_VAR_RE.sub(lambda m: tokens[m.group(1)], text)
    return text, base_vars


def _line_of(text: str, needle: str) -> Optional[int]:
    idx = text.find(needle)
    return None if idx < 0 else text.count("\n", 0, idx) + 1


def resolve_base_path(entry: str, including_file: str, line: Optional[int]) -> Tuple[str, Optional[str]]:
    """Where a `_base_` entry points, and the scope a `pkg::path` entry adds (mmengine _get_cfg_path)."""
    if not isinstance(entry, str):
        raise CfglintError(f"_base_ entries must be strings, got {type(entry).__name__}", file=including_file,
                           line=line)
    target, scope = _base_target(entry, including_file, line)
    roots.confine(target, including_file, written=entry, at_file=including_file, at_line=line, what="base config")
    return target, scope


def _base_target(entry: str, including_file: str, line: Optional[int]) -> Tuple[str, Optional[str]]:
    if "::" not in entry:
        return os.path.join(os.path.dirname(including_file), entry), None
    scope = entry.partition("::")[0]
    if _PKG_RE.match(entry) is None or entry.count("::") > 1:
        raise CfglintError(f"package-scoped base {roots.shown_path(entry)!r} must look like `mmdet::folder/config.py`",
                           file=including_file, line=line)
    if scope not in MODULE2PACKAGE:
        raise CfglintError(f"mmengine does not support loading {roots.shown_path(scope, 40)} configs",
                           file=including_file, line=line)
    package_dir = installed_package_dir(MODULE2PACKAGE[scope])
    if package_dir is None:
        raise CfglintError(f"{roots.shown_path(entry)!r} needs the package {MODULE2PACKAGE[scope]}, which is not installed",
                           file=including_file, line=line)
    return os.path.join(package_dir, ".mim", "configs", entry.partition("::")[2]), scope


def installed_package_dir(package: str) -> Optional[str]:
    """The directory of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return list(spec.submodule_search_locations)[0]
    return os.path.dirname(spec.origin) if spec.origin else None


_STDLIB_ROOTS = (os.path.dirname(os.path.dirname(sys.executable)), "/usr/lib/python")


def is_builtin_module(module: str) -> bool:
    """mmengine's `_is_builtin_module`: stdlib modules run, anything else is a lazy import."""
    if module.startswith("."):
        return False
    if module.startswith("mmengine.config") or module in sys.builtin_module_names:
        return True
    try:
        spec = importlib.util.find_spec(module.split(".")[0])
    except (ImportError, ValueError):
        return False
    origin = getattr(spec, "origin", None) if spec is not None else None
    if origin is None:
        return False
    origin = os.path.abspath(origin)
    return not ("site-package" in origin or "dist-package" in origin or not origin.startswith(_STDLIB_ROOTS))


def base_entries(source: Source, data_base: object = None) -> Tuple[List[str], Optional[int]]:
    """The `_base_` list of a file and the line it is on (first `_base_ = ...` of a .py file)."""
    if source.tree is None:
        value, line = data_base, None
        if value is None:
            return [], None
    else:
        node = next((n for n in source.tree.body if isinstance(n, ast.Assign)
                     and isinstance(n.targets[0], ast.Name) and n.targets[0].id == "_base_"), None)
        if node is None:
            return [], None
        line = node.lineno
        try:
            value = ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            value = _literal_concat(node.value, source.path, line)
    entries = value if isinstance(value, list) else [value]
    return entries, line


def _literal_concat(node: ast.expr, path: str, line: int) -> object:
    """`_base_` may be literal arithmetic (`'../a/' + 'b.py'`); mmengine evals it with no globals."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_concat(node.left, path, line) + _literal_concat(node.right, path, line)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        raise CfglintError("_base_ must be a string or a list of strings written literally", file=path, line=line)
