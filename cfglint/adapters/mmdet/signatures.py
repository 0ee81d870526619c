"""Constructor parameters of registered OpenMMLab classes, per codebase, read statically.

Lint uses them to check the keys of every ``dict(type=X, ...)`` in an MMDetection-family config.
Each codebase (mmdet, mmyolo, mmrotate, mmpretrain) has its own registries, children of
mmengine's root registry (where mmcv's layers live too): ``type='X'`` is looked up in the
config's scope (``default_scope``, a ``_scope_`` key, or an explicit ``mmdet.X`` / ``mmdet::X``),
then in the root -- never in a sibling codebase, as mmengine's ``Registry.get`` does.

The parameters come from the installed sources (parsed with ``ast``, never imported) and from the
shipped snapshot ``signatures.json`` (``scripts/gen_mmdet_signatures.py``); when both describe a
codebase in different versions, a keyword either version accepts is accepted (a config may target
the other version). A codebase neither describes is unknown: its types are not judged.

A class whose parameter list cannot be closed is ``open`` and never produces an unknown-key
finding: ``**kwargs`` forwarded to a base we cannot see, or read by the constructor itself
(``kwargs.pop(...)``, deprecated-name tables such as mmcv's transformer layers).
"""
from __future__ import annotations

import ast
import functools
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping
from typing import Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

#: Codebases whose registries cfglint knows; ROOT_PACKAGES register into mmengine's root.
CODEBASES = ("mmdet", "mmyolo", "mmrotate", "mmpretrain")
ROOT_PACKAGES = ("mmcv", "mmengine")
PACKAGES = CODEBASES + ROOT_PACKAGES
#: Scope names that are another name of a known codebase.
SCOPE_ALIASES = {"mmcls": "mmpretrain"}
SNAPSHOT = Path(__file__).with_name("signatures.json")
ALWAYS_ALLOWED = frozenset({"type", "_scope_", "_delete_"})


@dataclass(frozen=True)
class Signature:
    params: Tuple[str, ...]
    open: bool              # accepts arbitrary keywords we cannot enumerate
    swallows: bool = False  # a **kwargs that drops what it gets: an extra key is ignored, not a TypeError
    #: {parameter: keys the constructor pops from that dict before building it}, '*' when it splats
    #: the whole dict into a call (`ExtendModule(**lang_encoder)`): then nothing under it is judged.
    consumes: Dict[str, Tuple[str, ...]] = None  # type: ignore[assignment]

    @functools.cached_property
    def param_names(self) -> FrozenSet[str]:
        """`params` as a set: every key of every typed dict is looked up in it."""
        return frozenset(self.params)


@dataclass
class _ClassInfo:
    name: str
    module: str
    bases: List[str]
    params: Optional[List[str]]   # None: no __init__ of its own
    var_kwargs: bool
    registered_as: List[str]
    imports: Dict[str, str]
    reads_kwargs: bool = False    # the constructor reads **kwargs itself (pops, renames)
    consumes: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()   # what __init__ pops from its dict parameters


def _package_dir(name: str) -> Optional[Path]:
    spec = importlib.util.find_spec(name)  # top-level spec: the package is not imported
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _version(name: str) -> Optional[str]:
    from importlib import metadata
    for dist in (name, f"{name}-lite"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def _registered_names(node: ast.ClassDef) -> List[str]:
    names = []
    for deco in node.decorator_list:
        call = deco if isinstance(deco, ast.Call) else None
        func = call.func if call else deco
        if isinstance(func, ast.Attribute) and func.attr == "register_module":
            name = node.name
            if call:
                for kw in call.keywords:
                    if kw.arg == "name" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                        name = kw.value.value
            names.append(name)
    return names


def _init_params(node: ast.ClassDef) -> Tuple[Optional[List[str]], bool, bool, Tuple[str, ...]]:
    """(parameters, takes **kwargs, reads **kwargs itself, consumed dict parameters) of the
    class's own __init__."""
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            a = item.args
            params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs][1:]  # drop self
            if a.kwonlyargs and a.args and a.args[0].arg != "self":
                params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
            return (params, a.kwarg is not None, a.kwarg is not None and _reads_kwargs(item, a.kwarg.arg),
                    _consumed_params(item, params))
    return None, False, False, ()


#: `consumes` entry for a parameter whose whole dict the constructor splats (`Cls(**p)`).
WHOLE = "*"


def _consumed_params(func: ast.FunctionDef, params: List[str]) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    """What __init__ takes out of its dict parameters before (or instead of) building them:
    ((param, keys), ...) for `p.pop('pretrained')` (those keys never reach the class built from
    `p`), and (param, ('*',)) for `Cls(**p)` (the dict is not a registry config at all) -- on the
    parameter itself or on a copy (`q = copy.deepcopy(p)`)."""
    parents = {}
    for node in ast.walk(func):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    aliases = {name: name for name in params}
    for node in ast.walk(func):   # q = p / p.copy() / copy.deepcopy(p) / deepcopy(p)
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            source = node.value
            if isinstance(source, ast.Call):
                if isinstance(source.func, ast.Attribute) and source.func.attr == "copy":
                    source = source.func.value
                elif source.args and getattr(source.func, "attr", getattr(source.func, "id", "")) == "deepcopy":
                    source = source.args[0]
            if isinstance(source, ast.Name) and source.id in aliases:
                aliases.setdefault(node.targets[0].id, aliases[source.id])
    consumed: Dict[str, Set[str]] = {}
    for node in ast.walk(func):
        if not (isinstance(node, ast.Name) and node.id in aliases):
            continue
        parent = parents.get(id(node))
        slot = aliases[node.id]
        if isinstance(parent, ast.Attribute) and parent.attr == "pop":
            call = parents.get(id(parent))
            if isinstance(call, ast.Call) and call.args and isinstance(call.args[0], ast.Constant) \
                    and isinstance(call.args[0].value, str):
                consumed.setdefault(slot, set()).add(call.args[0].value)
        elif isinstance(parent, ast.keyword) and parent.arg is None:
            call = parents.get(id(parent))
            func_node = getattr(call, "func", None)
            if not (isinstance(func_node, ast.Attribute) and func_node.attr == "__init__"):
                consumed.setdefault(slot, set()).add(WHOLE)
    return tuple((slot, tuple(sorted(keys))) for slot, keys in sorted(consumed.items()))


def _reads_kwargs(func: ast.FunctionDef, name: str) -> bool:
    """Whether __init__ uses its **kwargs other than passing them all on to a base __init__
    (a pop of a deprecated name, a membership test, a build(**kwargs)...): the keywords it accepts
    are then unknowable from the signature."""
    forwarded: Set[int] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__":
            for kw in node.keywords:
                if kw.arg is None and isinstance(kw.value, ast.Name) and kw.value.id == name:
                    forwarded.add(id(kw.value))
    return any(isinstance(node, ast.Name) and node.id == name and id(node) not in forwarded
               for node in ast.walk(func))


def _scan_file(path: Path, module: str) -> List[_ClassInfo]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return []
    imports: Dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                imports[alias.asname or alias.name] = alias.name
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = []
            for b in node.bases:
                if isinstance(b, ast.Name):
                    bases.append(imports.get(b.id, b.id))
                elif isinstance(b, ast.Attribute):
                    bases.append(b.attr)
            params, var_kwargs, reads, consumes = _init_params(node)
            out.append(_ClassInfo(node.name, module, bases, params, var_kwargs, _registered_names(node), imports,
                                  reads, consumes))
    return out


def scan_installed(packages: Tuple[str, ...] = PACKAGES) -> Tuple[Dict[str, Dict[str, dict]], Dict[str, str]]:
    """Parse the installed sources: ({package: {registered name: {params, open}}}, versions).

    Base classes are followed across all scanned packages (mmrotate's heads extend mmdet's)."""
    classes: Dict[str, List[_ClassInfo]] = {}
    owner: Dict[int, str] = {}
    versions = {}
    for pkg in packages:
        root = _package_dir(pkg)
        if root is None:
            continue
        versions[pkg] = _version(pkg) or "unknown"
        for path in sorted(root.rglob("*.py")):
            if ".mim" in path.parts or "configs" in path.parts:
                continue
            module = ".".join((pkg,) + path.relative_to(root).with_suffix("").parts)
            for info in _scan_file(path, module):
                classes.setdefault(info.name, []).append(info)
                owner[id(info)] = pkg

    @functools.lru_cache(maxsize=None)
    def resolve(name: str, depth: int = 0) -> Tuple[Tuple[str, ...], bool, bool, Dict[str, Set[str]]]:
        """Parameters of class `name`, following **kwargs and missing __init__ into bases."""
        infos = classes.get(name)
        if not infos or depth > 20:
            # Outside the scanned sources (torch.nn.Module, object...): nn.Module takes no
            # config keywords; an unknown base could take anything.
            return (), name not in ("Module", "object", "ABCMeta", "nn.Module"), False, {}
        params: Set[str] = set()
        is_open = False
        swallows = False
        consumes: Dict[str, Set[str]] = {}
        for info in infos:
            is_open = is_open or info.reads_kwargs
            swallows = swallows or info.var_kwargs
            for slot, keys in info.consumes:
                consumes.setdefault(slot, set()).update(keys)
            if info.params is not None:
                params.update(info.params)
                if not info.var_kwargs:
                    continue
            for base in info.bases:
                p, o, w, c = resolve(base, depth + 1)
                params.update(p)
                is_open = is_open or o
                swallows = swallows or w
                for slot, keys in c.items():
                    consumes.setdefault(slot, set()).update(keys)
            if not info.bases and (info.params is None or info.var_kwargs):
                is_open = is_open or info.var_kwargs
        return tuple(sorted(params)), is_open, swallows, consumes

    tables: Dict[str, Dict[str, dict]] = {pkg: {} for pkg in versions}
    for infos in classes.values():
        for info in infos:
            for reg in info.registered_as:
                params, is_open, swallows, consumes = resolve(info.name)
                entry = tables[owner[id(info)]].setdefault(reg, {"params": [], "open": False, "swallows": False})
                entry["params"] = sorted(set(entry["params"]) | set(params))
                entry["open"] = entry["open"] or is_open
                entry["swallows"] = entry["swallows"] or swallows
                for slot, keys in consumes.items():
                    known = entry.setdefault("consumes", {})
                    known[slot] = sorted(set(known.get(slot, ())) | set(keys))
    return tables, versions


def _merge(a: Dict[str, dict], b: Dict[str, dict]) -> Dict[str, dict]:
    """Two versions of one codebase: a keyword either accepts is accepted, a class either has exists."""
    out = dict(a)
    for name, entry in b.items():
        if name in out:
            out[name] = {"params": sorted(set(out[name]["params"]) | set(entry["params"])),
                         "open": bool(out[name]["open"] or entry["open"]),
                         "swallows": bool(out[name].get("swallows") or entry.get("swallows")),
                         "consumes": _merge_consumes(out[name].get("consumes", {}), entry.get("consumes", {}))}
        else:
            out[name] = entry
    return out


def _merge_consumes(a: Dict[str, List[str]], b: Dict[str, List[str]]) -> Dict[str, List[str]]:
    return {slot: sorted(set(a.get(slot, ())) | set(b.get(slot, ()))) for slot in set(a) | set(b)}


def _read_snapshot() -> dict:
    if not SNAPSHOT.exists():
        return {"versions": {}, "packages": {}}
    data = json.loads(SNAPSHOT.read_text())
    return data if "packages" in data else {"versions": data.get("versions", {}), "packages": {}}


@functools.lru_cache(maxsize=1)
def load_tables() -> Dict[str, Dict[str, Signature]]:
    """{package: {registered name: Signature}} for every package the snapshot or the installed
    sources describe; installed sources are scanned only when they are not the snapshot's version."""
    snapshot = _read_snapshot()
    raw: Dict[str, Dict[str, dict]] = {pkg: dict(t) for pkg, t in snapshot["packages"].items()}
    installed = {pkg: _version(pkg) for pkg in PACKAGES if _package_dir(pkg) is not None}
    differ = tuple(pkg for pkg, v in installed.items() if snapshot["versions"].get(pkg) != v)
    if differ:
        scanned, _ = scan_installed(tuple(installed))
        for pkg in differ:
            if pkg in scanned:
                raw[pkg] = _merge(raw.get(pkg, {}), scanned[pkg])
    return {pkg: _Table(table) for pkg, table in raw.items()}   # type: ignore[misc]


class _Table(Mapping):
    """{registered name: Signature} of one package, each Signature made when first looked up (a
    lint run names a few hundred of the thousands of registered classes)."""

    def __init__(self, entries: Dict[str, dict]):
        self._entries = entries
        self._made: Dict[str, Signature] = {}

    def __getitem__(self, name: str) -> Signature:
        made = self._made.get(name)
        if made is None:
            e = self._entries[name]
            made = self._made[name] = Signature(tuple(e["params"]), bool(e["open"]), bool(e.get("swallows")),
                                                {slot: tuple(keys) for slot, keys in e.get("consumes", {}).items()})
        return made

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def split_scope(type_name: str) -> Tuple[Optional[str], str]:
    """'mmdet.FPN' / 'mmdet::FPN' -> ('mmdet', 'FPN'); 'FPN' -> (None, 'FPN')."""
    for sep in ("::", "."):
        if sep in type_name:
            head, _, rest = type_name.partition(sep)
            return head, rest
    return None, type_name


@functools.lru_cache(maxsize=1 << 12)   # a zoo names a few hundred types, each thousands of times
def lookup(type_name: str, scope: Optional[str]) -> Tuple[bool, Optional[Signature]]:
    """(judgeable, signature) of `type_name` built in registry scope `scope`.

    As mmengine's Registry.get: an explicit ``scope.Name`` picks that codebase; otherwise the
    scope's own registry, then the root (mmcv/mmengine). Not judgeable (False): the scope is one
    cfglint has no signatures for -- its registry may define any name with any arguments.
    """
    tables = load_tables()
    explicit, name = split_scope(type_name)
    scope = explicit or scope
    scope = SCOPE_ALIASES.get(scope, scope) if scope else scope
    if scope is None or (scope not in CODEBASES and scope not in ROOT_PACKAGES):
        return False, None
    chain = ([scope] if scope in CODEBASES else []) + list(ROOT_PACKAGES)
    if any(pkg not in tables for pkg in chain):
        return False, None
    for pkg in chain:
        if name in tables[pkg]:
            return True, tables[pkg][name]
    return True, None


def load_signatures() -> Dict[str, Signature]:
    """The mmdet scope flattened (mmdet over mmcv/mmengine), for callers that know no scopes."""
    tables = load_tables()
    out: Dict[str, Signature] = {}
    for pkg in reversed(("mmdet",) + ROOT_PACKAGES):
        out.update(tables.get(pkg, {}))
    return out
