"""Rules as data: load the YAML rule files, validate them, and pick the ones a run enables.

A rule file is a YAML list of mappings (see ``rules/README.md`` in the repository). Each rule names
a Python *check* from :mod:`cfglint.engine.checks` that does the comparing; everything a user reads
(id, name, severity, message template, docs) lives in the data. User rule files may reuse the
built-in checks with their own fields and severities, but never bring code of their own.
"""
from __future__ import annotations

import functools
import json
import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple


from cfglint.engine.finding import SEVERITIES
from cfglint.errors import CfglintError

#: pair = compares two configs (diff); model = looks at one config (lint, and each side of a diff);
#: raw = native-config diff (`diff --raw`); meta = about cfglint itself (suppressions);
#: checkpoint = a checkpoint against a config (`verify`, emitted by cfglint.checkpoint.verify).
SCOPES = ("pair", "model", "raw", "meta", "checkpoint")
_ID = re.compile(r"^[A-Z][0-9]{3}$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_REQUIRED = ("id", "name", "severity", "scope", "summary", "message", "what", "why", "check")
_KNOWN = set(_REQUIRED) | {"fields", "params", "example", "in_diff"}
_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str
    scope: str
    summary: str
    message: str          # str.format template: {field} {left} {right} {left_desc} {right_desc} + check extras
    what: str
    why: str
    fields: Tuple[str, ...] = ()
    check: str = ""               # the check it is bound to (cfglint.engine.checks)
    params: Dict[str, Any] = field(default_factory=dict)
    example: str = ""
    in_diff: bool = False         # a model rule that `diff` also runs on each side (not just `lint`)
    source: str = ""

    @property
    def why_line(self) -> str:
        """The first sentence of "why it matters", shown under each finding in text output."""
        text = " ".join(self.why.split())
        # A sentence ends at ". " before a capital letter, so "e.g. a mask" and "parameter ...\")"
        # stay inside the first sentence.
        return _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(".") + "."

    def docs(self) -> str:
        """The rule's documentation in the ruff layout, as `cfglint rules ID` prints it."""
        parts = [f"# {self.name} ({self.id})", "",
                 f"Default severity: {self.severity}. Scope: {self.scope}."]
        if self.fields:
            parts.append("Fields: " + ", ".join(self.fields) + ".")
        parts += ["", "## What it does", self.what.strip(), "", "## Why it matters", self.why.strip()]
        if self.example.strip():
            parts += ["", "## Example", self.example.rstrip()]
        return "\n".join(parts) + "\n"

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "severity": self.severity, "scope": self.scope,
                "summary": self.summary, "fields": list(self.fields)}


def builtin_rules_dir() -> Path:
    """`cfglint/_rules` in an installed wheel, else the repository's top-level `rules/`."""
    import cfglint
    packaged = Path(cfglint.__file__).parent / "_rules"
    if packaged.is_dir():
        return packaged
    return Path(cfglint.__file__).resolve().parent.parent / "rules"


def load_rule_file(path: Path) -> List[Rule]:
    # PyYAML is imported here, not with the module: the shipped rules usually come from the JSON
    # cache, and linting Python configs needs no YAML. libyaml's loader when PyYAML has it.
    import yaml
    text = _read(path)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        root = loader.get_single_node()    # nodes for the line of each rule, then data from them
        from cfglint.adapters.limits import check_yaml_expansion
        check_yaml_expansion(root, str(path))   # an alias bomb composes fast but expands exponentially
        data = None if root is None else loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CfglintError(f"not a valid YAML rule file: {getattr(exc, 'problem', exc)}", file=str(path),
                           line=mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()
    if data is None:
        return []
    if not isinstance(data, list):
        raise CfglintError("a rule file is a YAML list of rules", file=str(path), line=1)
    lines = [node.start_mark.line + 1 for node in root.value]
    return [_rule_from(entry, str(path), line) for entry, line in zip(data, lines)]


def _read(path: Path) -> str:
    from cfglint.adapters.limits import read_rule_file_text   # regular files only, bounded
    return read_rule_file_text(str(path))


def _rule_from(entry: Any, file: str, line: int) -> Rule:
    from cfglint.engine.checks import get_check
    from cfglint.model import FIELDS

    def bad(message: str) -> CfglintError:
        return CfglintError(message, file=file, line=line)

    if not isinstance(entry, dict):
        raise bad("each rule is a mapping with id, name, severity, ...")
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise bad(f"rule {entry.get('id', '?')} lacks {', '.join(missing)}")
    unknown = sorted(set(entry) - _KNOWN)
    if unknown:
        raise bad(f"rule {entry['id']} has unknown keys {', '.join(unknown)}")
    if not _ID.match(str(entry["id"])):
        raise bad(f"rule id {entry['id']!r} must be a capital letter and three digits, e.g. A101")
    if not _NAME.match(str(entry["name"])):
        raise bad(f"rule name {entry['name']!r} must be kebab-case")
    if entry["severity"] not in SEVERITIES:
        raise bad(f"severity must be one of {', '.join(SEVERITIES)}, not {entry['severity']!r}")
    if entry["scope"] not in SCOPES:
        raise bad(f"scope must be one of {', '.join(SCOPES)}, not {entry['scope']!r}")
    fields = tuple(entry.get("fields") or ())
    for name in fields:
        if entry["scope"] in ("pair", "model") and name not in FIELDS:
            raise bad(f"rule {entry['id']} looks at {name!r}, which is not a common-model field")
    params = entry.get("params") or {}
    if not isinstance(params, dict):
        raise bad(f"rule {entry['id']}: params must be a mapping")
    check = get_check(entry["scope"], str(entry["check"]))
    if check is None:
        raise bad(f"rule {entry['id']} names check {entry['check']!r}, which cfglint does not have for scope "
                  f"{entry['scope']!r}")
    for problem in check.problems(fields, params, _placeholders(entry["message"], bad)):
        raise bad(f"rule {entry['id']}: {problem}")
    return Rule(id=entry["id"], name=entry["name"], severity=entry["severity"], scope=entry["scope"],
                summary=" ".join(str(entry["summary"]).split()), message=" ".join(str(entry["message"]).split()),
                what=str(entry["what"]), why=str(entry["why"]), fields=fields, check=check.name, params=params,
                example=str(entry.get("example") or ""), in_diff=bool(entry.get("in_diff", False)),
                source=f"{file}:{line}")


def _placeholders(message: Any, bad) -> List[str]:
    try:
        return [name.split(".")[0].split("[")[0] for _, name, _, _ in _FORMATTER.parse(str(message)) if name]
    except ValueError as exc:
        raise bad(f"the message is not a valid template: {exc}") from None


class RuleSet:
    """Every known rule by id, and the selection logic (`--select`/`--ignore` by id or prefix)."""

    def __init__(self, rules: Iterable[Rule]):
        self.rules: Dict[str, Rule] = {}
        for rule in rules:
            if rule.id in self.rules:
                raise CfglintError(f"rule id {rule.id} is defined twice (also at {self.rules[rule.id].source})",
                                   file=rule.source.rsplit(":", 1)[0], line=int(rule.source.rsplit(":", 1)[1]))
            self.rules[rule.id] = rule
        from cfglint.engine.checks import get_check
        self._by_check: Dict[Tuple[str, str], Rule] = {}
        for rule in self.rules.values():
            first = self._by_check.setdefault((rule.scope, rule.check), rule)
            if first is not rule and get_check(rule.scope, rule.check).fn is None:
                file, _, line = rule.source.rpartition(":")
                raise CfglintError(f"rule {rule.id}: check {rule.check!r} is emitted by cfglint itself and is "
                                   f"already bound to {first.id}", file=file, line=int(line))

    def __getitem__(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def for_check(self, scope: str, check: str) -> Rule:
        """The rule bound to a check the engine emits itself (the first defined, the built-in one)."""
        return self._by_check[(scope, check)]

    def __iter__(self):
        return iter(sorted(self.rules.values(), key=lambda r: r.id))

    def matching(self, code: str) -> List[Rule]:
        """Rules whose id starts with `code` (`ALL` matches every rule), like ruff's prefixes."""
        code = code.strip().upper()
        return [r for r in self if code == "ALL" or r.id.startswith(code)]

    def enabled(self, select: Optional[Sequence[str]], ignore: Sequence[str]) -> Dict[str, Rule]:
        for code in list(select or ()) + list(ignore):
            if not self.matching(code):
                raise CfglintError(f"no rule id starts with {code!r}; see `cfglint rules`")
        chosen = self.rules if select is None else {r.id: r for code in select for r in self.matching(code)}
        dropped = {r.id for code in ignore for r in self.matching(code)}
        return {rule_id: rule for rule_id, rule in chosen.items() if rule_id not in dropped}


def load_rules(extra_files: Sequence[str] = ()) -> RuleSet:
    """The built-in rules plus the user's rule files (`--rules`, `[tool.cfglint] rules`)."""
    rules: List[Rule] = list(_builtin_rules())
    for path in extra_files:
        rules.extend(load_rule_file(Path(path)))
    return RuleSet(rules)


@functools.lru_cache(maxsize=1)
def _builtin_rules() -> Tuple[Rule, ...]:
    """Parsed once per process, and across processes through a JSON cache of the validated rules
    (about a fifth of a pre-commit run otherwise goes to parsing the shipped YAML). The cache is
    keyed by the name, size and mtime of every shipped rule file and cfglint's version; user rule
    files are never cached. Without a writable cache directory the files are simply parsed."""
    paths = sorted(builtin_rules_dir().glob("*.yaml"))
    cache = _cache_path(paths)
    if cache is not None:
        try:
            with open(cache, encoding="utf-8") as f:
                return tuple(Rule(**{**entry, "fields": tuple(entry["fields"])}) for entry in json.load(f))
        except (OSError, ValueError, TypeError, KeyError):
            pass
    rules = tuple(rule for path in paths for rule in load_rule_file(path))
    if cache is not None:
        _write_cache(cache, rules)
    return rules


def _cache_path(paths: Sequence[Path]) -> Optional[Path]:
    import zlib   # not hashlib: a stable key, not a secure one, and hashlib costs a pre-commit run 5 ms
    from cfglint import __version__
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if os.environ.get("CFGLINT_NO_CACHE") or not base:
        return None
    key = [__version__]
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            return None
        key.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    text = "\n".join(key).encode()
    return Path(base) / "cfglint" / f"rules-{zlib.crc32(text):08x}{zlib.adler32(text):08x}.json"


def _write_cache(cache: Path, rules: Sequence[Rule]) -> None:
    """Written to a temporary name and renamed, so a concurrent run never reads half a file."""
    import dataclasses
    import tempfile
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=".rules-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump([dataclasses.asdict(rule) for rule in rules], f)
        os.replace(tmp, cache)
    except OSError:
        pass
