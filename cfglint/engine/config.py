"""Run configuration: `[tool.cfglint]` in the nearest pyproject.toml, then the command line on top.

Keys (all optional)::

    [tool.cfglint]
    select = ["A", "I2", "C501"]   # rule ids or prefixes; default: every rule
    ignore = ["T401"]
    rules = ["ci/extra_rules.yaml"] # more rule files, relative to pyproject.toml
    fail-on = "warning"            # error (default) | warning | info
    raw-exclude = ["custom_imports"]  # more noise patterns for `diff --raw`
    pairs = [{train = "output/config.yaml", infer = "configs/serve.yaml"}]  # `cfglint diff` with no args
    allow-roots = ["../shared-configs"]  # more directories bases/imports may be read from (relative to
                                         # pyproject.toml; not `/`, a system directory or an ancestor)

A value given on the command line replaces the file's value for that key (ruff's precedence).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from cfglint.engine.finding import SEVERITIES
from cfglint.errors import CfglintError

_KEYS = {"select", "ignore", "rules", "fail-on", "fail_on", "raw-exclude", "raw_exclude", "pairs",
         "allow-roots", "allow_roots", "d2-setup", "d2_setup"}   # d2-setup: read by adapters/script/project.py


@dataclass
class EngineConfig:
    select: Optional[List[str]] = None        # None: every rule
    ignore: List[str] = field(default_factory=list)
    rule_files: List[str] = field(default_factory=list)
    fail_on: str = "error"
    raw_exclude: List[str] = field(default_factory=list)
    pairs: List[Tuple[str, str]] = field(default_factory=list)
    source: Optional[str] = None              # the pyproject.toml it came from
    allow_roots: List[str] = field(default_factory=list)   # see cfglint.adapters.roots

    def with_cli(self, *, select: Optional[List[str]] = None, ignore: Optional[List[str]] = None,
                 rule_files: Optional[List[str]] = None, fail_on: Optional[str] = None) -> "EngineConfig":
        """The command line beats the file, key by key."""
        changes: Dict[str, Any] = {}
        if select:
            changes["select"] = _codes(select)
        if ignore:
            changes["ignore"] = _codes(ignore)
        if rule_files:
            changes["rule_files"] = list(rule_files)
        if fail_on:
            changes["fail_on"] = _severity(fail_on, "--fail-on")
        return replace(self, **changes)


def _codes(values: List[str]) -> List[str]:
    """Accept both repeated options and comma lists: --select A,I2 --select T4."""
    return [code.strip() for value in values for code in str(value).split(",") if code.strip()]


def _severity(value: Any, where: str, file: Optional[str] = None) -> str:
    if value not in SEVERITIES:
        raise CfglintError(f"{where} must be one of {', '.join(SEVERITIES)}, not {value!r}", file=file)
    return value


def find_pyproject(start: Path) -> Optional[Path]:
    for directory in [start, *start.parents]:
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Optional[Path] = None) -> EngineConfig:
    """The `[tool.cfglint]` table of the nearest pyproject.toml upward from `start` (default: cwd)."""
    path = find_pyproject(Path(start or Path.cwd()).resolve())
    if path is None:
        return EngineConfig()
    table = _read_toml(path).get("tool", {}).get("cfglint")
    if table is None:
        return EngineConfig()
    return _from_table(table, path)


def _read_toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.9/3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise CfglintError("reading [tool.cfglint] needs Python 3.11+ or the tomli package",
                               file=str(path)) from None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        raise CfglintError(f"not valid TOML: {exc}", file=str(path), line=line) from None


def _from_table(table: dict, path: Path) -> EngineConfig:
    file = str(path)
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise CfglintError(f"[tool.cfglint] has unknown keys {', '.join(unknown)}", file=file)
    root = path.parent

    def strings(key: str) -> List[str]:
        value = table.get(key, table.get(key.replace("-", "_"), []))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CfglintError(f"[tool.cfglint] {key} must be a list of strings", file=file)
        return value

    from cfglint.adapters import roots as read_roots

    def confined(value: Any, what: str) -> str:
        # pyproject.toml is part of the checkout (of a pull request): what it names must stay in the
        # project (or the allowed roots), like every file a config names.
        if not isinstance(value, str):
            raise CfglintError(f"[tool.cfglint] {what} must be a path string", file=file)
        target = str(root / value)
        read_roots.confine(target, file, written=value, at_file=file, what=f"[tool.cfglint] {what}")
        return target

    pairs = []
    for entry in table.get("pairs", []):
        if not isinstance(entry, dict) or set(entry) != {"train", "infer"}:
            raise CfglintError("[tool.cfglint] pairs entries are {train = \"...\", infer = \"...\"}", file=file)
        pairs.append((confined(entry["train"], "pairs"), confined(entry["infer"], "pairs")))
    return EngineConfig(
        select=_codes(strings("select")) if "select" in table else None,
        ignore=_codes(strings("ignore")),
        rule_files=[confined(p, "rules") for p in strings("rules")],
        fail_on=_severity(table.get("fail-on", table.get("fail_on", "error")), "[tool.cfglint] fail-on", file),
        raw_exclude=strings("raw-exclude"),
        pairs=pairs,
        source=file,
        allow_roots=_allow_roots(strings("allow-roots"), root, file),
    )


#: Directories a pyproject.toml (part of the checkout, so of a pull request) may not open up.
_SYSTEM_DIRS = ("/proc", "/sys", "/dev", "/etc", "/root", "/run", "/var", "/boot", "/tmp")


def _allow_roots(values: List[str], root: Path, file: str) -> List[str]:
    import os
    out = []
    home = os.path.realpath(os.path.expanduser("~"))
    for value in values:
        real = os.path.realpath(os.path.join(str(root), value))
        here = os.path.realpath(str(root))
        too_wide = (real == os.sep or real == home or here == real or here.startswith(real.rstrip(os.sep) + os.sep)
                    or any(real == d or real.startswith(d + os.sep) for d in _SYSTEM_DIRS if not
                           here.startswith(d + os.sep)) or real.startswith(home + os.sep + "."))
        if too_wide:
            raise CfglintError(f"[tool.cfglint] allow-roots may not name {value!r}: a system directory, a home "
                               "directory or one containing this project (use --allow-root)", file=file)
        out.append(real)
    return out


def configured_allow_roots(start: Optional[Path] = None) -> List[str]:
    """`allow-roots` of the nearest pyproject.toml (none when it is missing, or broken: the
    command that reads the table reports that)."""
    try:
        return list(load_config(start).allow_roots)
    except CfglintError as err:
        if "allow-roots" in err.message:
            raise
        return []
