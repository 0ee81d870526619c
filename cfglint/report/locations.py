"""Locations a user can click, for annotation formats (`sarif`, `github`).

A finding's value may come from a file outside the user's tree: an installed framework base
(`mmdet::_base_/models/faster-rcnn_r50_fpn.py`, in site-packages), the command line (`--opts`),
or a framework default (no location). A code-scanning UI can only annotate the user's files, so
such a finding is placed on the line of the user's config that brings the value in -- the
`_base_` / `_BASE_` entry (a `read_base()` import, a LazyConfig `get_config("...")`) that
inherits the installed base, else the config itself -- and the message names where the value really comes from. Files in the user's
tree are given relative to the working directory.
"""
from __future__ import annotations

import dataclasses
import os
import re
import sysconfig
from functools import lru_cache
from pathlib import Path
from typing import List, Optional, Tuple

from cfglint.engine.finding import Finding
from cfglint.model import Location

#: A quoted string on a `_base_` / `_BASE_` line (or inside the `_base_ = [...]` list).
_QUOTED = re.compile(r"""['"]([^'"]+)['"]""")
_BASE_START = re.compile(r"^\s*(_base_\s*=|_BASE_\s*:)")
_LOADER_CALL = re.compile(r"\b(get_config|LazyConfig\.load|load_config)\s*\(")
_READ_BASE_IMPORT = re.compile(r"^\s*from\s+([A-Za-z_][\w.]*)\s+import\b")
_MAX_DEPTH = 8


@lru_cache(maxsize=1)
def _install_roots() -> Tuple[str, ...]:
    roots = set()
    for key in ("purelib", "platlib", "stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    return tuple(sorted(roots))


def is_installed(file: str) -> bool:
    """A file of an installed package (site-packages, dist-packages, the interpreter's library)."""
    real = os.path.realpath(file)
    parts = Path(real).parts
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    return any(real == root or real.startswith(root + os.sep) for root in _install_roots())


def is_user_file(file: Optional[str]) -> bool:
    return bool(file) and os.path.isfile(file) and not is_installed(file)


def display_path(file: str) -> str:
    """Relative to the working directory when inside it (posix separators), else as given."""
    try:
        rel = os.path.relpath(os.path.realpath(file), os.path.realpath(os.getcwd()))
    except ValueError:   # another drive (Windows)
        return Path(file).as_posix()
    return Path(file).as_posix() if rel.startswith("..") else Path(rel).as_posix()


def base_name(file: str) -> str:
    """An installed base as the user writes it: 'mmdet::_base_/models/x.py' for a `.mim/configs`
    file of package mmdet, else its path."""
    parts = Path(file).parts
    for marker in (".mim", "configs"):
        if marker in parts:
            i = len(parts) - 1 - parts[::-1].index(marker)
            rest = parts[i + 2:] if marker == ".mim" and parts[i + 1:i + 2] == ("configs",) else parts[i + 1:]
            owner = parts[i - 1] if i > 0 else ""
            if owner and rest:
                return f"{owner}::{'/'.join(rest)}"
    return Path(file).as_posix()


def clickable(finding: Finding, left_path: Optional[str], right_path: Optional[str]) -> Finding:
    """The finding with each location in the user's tree (relative), and a note for each moved one."""
    notes: List[str] = []
    renames: dict = {}
    left = _place(finding.left_location, left_path, notes, renames)
    right = _place(finding.right_location, right_path, notes, renames)
    if left is None and right is None:
        anchor = right_path if is_user_file(right_path) else left_path if is_user_file(left_path) else None
        if anchor:   # every value is a default: the annotation goes on the config that uses it
            right = Location(display_path(anchor), None) if anchor == right_path else None
            left = Location(display_path(anchor), None) if anchor != right_path else None
    message = finding.message
    for file, shown in renames.items():
        message = message.replace(file, shown)
    for note in notes:
        if note not in message:
            message = f"{message} ({note})"
    return dataclasses.replace(finding, left_location=left, right_location=right, message=message)


def _place(where: Optional[Location], config: Optional[str], notes: List[str], renames: dict) -> Optional[Location]:
    if where is None:
        return None
    if is_user_file(where.file):
        return Location(display_path(where.file), where.line)
    if not is_user_file(config):
        return where
    if where.file and os.path.isfile(where.file):   # an installed base
        shown = base_name(where.file)
        renames[where.file] = shown
        line = inheriting_line(config, where.file)
        notes.append(f"inherited from the installed base {shown}" + (f", line {where.line}" if where.line else "")
                     + f", through {display_path(config)}" + (f":{line}" if line else ""))
    else:   # the command line (--opts), or a pseudo-file
        notes.append(f"set by {where}")
        line = None
    return Location(display_path(config), line)


def inheriting_line(config: str, base: str) -> Optional[int]:
    """The line of `config` (or of one of its bases in the user's tree) whose `_base_` / `_BASE_`
    entry or read_base() import brings `base` in: the entry naming the base's file if there is
    one, else the first that names an installed base, else the `_base_` line."""
    found = _search(config, base, 0, set())
    return found[1] if found else None


def _search(config: str, base: str, depth: int, seen: set) -> Optional[Tuple[str, int]]:
    real = os.path.realpath(config)
    if depth > _MAX_DEPTH or real in seen:
        return None
    seen.add(real)
    entries = _base_entries(config)
    if not entries:
        return None
    name = os.path.basename(base)
    for line, target in entries:
        if target.split("::")[-1].endswith(name) or target.replace(".", "/").endswith(Path(name).stem):
            return config, line
    for line, target in entries:   # an entry that is not a file of the user's
        if "::" in target or not _local(config, target):
            return config, line
    for line, target in entries:   # through a base of the user's own
        local = _local(config, target)
        if local and _search(local, base, depth + 1, seen):
            return config, line
    return config, entries[0][0]


def _local(config: str, target: str) -> Optional[str]:
    if "::" in target:
        return None
    path = os.path.join(os.path.dirname(config), target)
    return path if os.path.isfile(path) and not is_installed(path) else None


def _base_entries(config: str) -> List[Tuple[int, str]]:
    """(line, the base as written) of each `_base_` / `_BASE_` entry and read_base() import."""
    try:
        lines = Path(config).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    out: List[Tuple[int, str]] = []
    depth = None          # bracket depth inside a `_base_ = [...]` spanning lines
    in_read_base = False
    for number, text in enumerate(lines, 1):
        code = text.split("#", 1)[0]
        start = _BASE_START.match(code)
        if start or depth is not None:
            out.extend((number, m.group(1)) for m in _QUOTED.finditer(code))
            if start and code.lstrip().startswith("_BASE_") and not _QUOTED.search(code):
                out.append((number, code.split(":", 1)[1].strip()))   # an unquoted YAML value
            depth = (depth or 0) + code.count("[") + code.count("(") - code.count("]") - code.count(")")
            if depth <= 0:
                depth = None
            continue
        if _LOADER_CALL.search(code):   # LazyConfig: model_zoo.get_config("..."), LazyConfig.load("...")
            out.extend((number, m.group(1)) for m in _QUOTED.finditer(code))
            continue
        if re.match(r"^\s*with\s+read_base\s*\(\s*\)\s*:", code):
            in_read_base = True
            continue
        if in_read_base:
            match = _READ_BASE_IMPORT.match(code)
            if match and code[:1] in (" ", "\t"):
                out.append((number, match.group(1)))
            elif code.strip() and code[:1] not in (" ", "\t"):
                in_read_base = False
    return [(n, t) for n, t in out if t]
