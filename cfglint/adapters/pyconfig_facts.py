"""What a `.py` file is, read from its content: a config of one framework, plain config data, or code.

Detection runs on every `.py` of a tree before any adapter, so the common case is decided by line
patterns (linear time, no parse). A file that also shows signs of being a program (top-level
`def`/`class`, decorators, a `__main__` guard), or that the patterns leave undecided, is parsed
once and classified by its top-level statements:

- *config evidence*: assignments of config values (dict/list displays, `dict(...)`, `L(X)(...)`,
  `get_config(...)`), mutations of imported config objects (`model.backbone.depth = 101`),
  `_base_`, `with read_base():`, relative imports of other config modules;
- *framework marks*: detectron2/detrex imports, `LazyCall`, `get_config`, top-level relative
  imports (LazyConfig); OpenMMLab imports, `read_base()`, `_base_`, `type=` keys (mmengine).

A file with no config evidence is not a config (a training script, a utility module). Config data
with neither framework's marks (`train = dict(max_iter=90000)`) takes the framework of the configs
next to it. Nothing is executed or imported.
"""
from __future__ import annotations

import ast
import functools
import os
import re
import warnings
from dataclasses import dataclass
from typing import Dict, Optional

D2, MM = "d2", "mm"
#: Import roots that mark a LazyConfig file; OpenMMLab packages all start with "mm".
_D2_PACKAGES = frozenset({"detectron2", "detrex"})
_MM_PREFIX = "mm"

_D2_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(?:detectron2|detrex)[\w.]*[ \t]+import|import[ \t]+(?:detectron2|detrex)|"
                        r"from[ \t]+\.+common[\w.]*[ \t]+import)", re.M)
_TOP_RELATIVE_IMPORT = re.compile(r"^from[ \t]+\.", re.M)
_MM_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+(?:mmengine|mmdet|mmcv|mmrotate|mmyolo|mmpretrain|mmcls|mmseg|"
                        r"mmdet3d|mmpose|mmocr|mmtrack|mmaction|mmrazor)\b", re.M)
_MM_SIGNS = re.compile(r"^(?:with[ \t]+read_base|(?:_base_|model|train_pipeline|test_pipeline|img_norm_cfg|data|train_cfg|"
                       r"test_cfg|default_scope|train_dataloader|tta_model|tta_pipeline)[ \t]*=)", re.M)
#: Signs that a file is (also) a program: parse it before calling it a config.
_CODE_SIGNS = re.compile(r"^(?:def |class |async def |@|if[ \t]+__name__\b)", re.M)
_D2_CALLS = {"L", "LazyCall", "get_config"}
_CONFIG_CALLS = {"dict", "list", "tuple", "L", "LazyCall", "get_config"}
#: How many configs next to an unmarked data file are read to decide its framework.
_MAX_NEIGHBOURS = 24


@dataclass(frozen=True)
class Facts:
    kind: Optional[str]        # D2, MM, or None (not a config, or undecided data)
    is_data: bool = False      # config data with neither framework's marks
    marks: Optional[str] = None   # the framework a file without config evidence is marked for


@functools.lru_cache(maxsize=64)
def classify(path: str, text: str, named: bool = False) -> Optional[str]:
    """D2, MM or None for the `.py` file at `path` with content `text`.

    A file that carries one framework's marks (imports, LazyCall) but assigns no config value is
    a module of code (`utils.py`): not a config when a tree is searched, unless it sits in a
    `configs` folder. A file the user *named* as a config is read by that framework's interpreter
    all the same, so that code in it is refused with its line rather than waved through."""
    facts = facts_of(text)
    if facts.kind is None and facts.is_data:
        return _from_neighbours(path)
    if facts.kind is None and facts.marks is not None and (named or _in_configs_folder(path)):
        return facts.marks
    return facts.kind


def imports_a_framework(text: str) -> bool:
    """Whether the file imports detectron2/detrex or an OpenMMLab package (line patterns)."""
    return _D2_IMPORT.search(text) is not None or _MM_IMPORT.search(text) is not None


#: Facts by text: a tree's files are all classified when found, then each again when read. Only
#: texts up to _REMEMBERED_SIZE are kept, at most _REMEMBERED of them (a few MB at worst).
_FACTS: Dict[str, Facts] = {}
_REMEMBERED, _REMEMBERED_SIZE = 4096, 32 * 1024


def facts_of(text: str) -> Facts:
    if len(text) > _REMEMBERED_SIZE:
        return _facts_of(text)
    facts = _FACTS.get(text)
    if facts is None:
        if len(_FACTS) >= _REMEMBERED:
            _FACTS.clear()
        facts = _FACTS[text] = _facts_of(text)
    return facts


def _facts_of(text: str) -> Facts:
    if _CODE_SIGNS.search(text) is None:
        by_lines = _by_lines(text)
        if by_lines is not None:
            return Facts(by_lines)
    return _facts_from_ast(text)


def _by_lines(text: str) -> Optional[str]:
    # `model = ...` alone is not mmdet: a LazyConfig assigns `model` too, so a detectron2 import,
    # LazyCall or a top-level relative import wins unless an OpenMMLab package is imported.
    # (The substring tests first: a multi-line pattern is tried at every line of a file.)
    has_import = "import" in text
    imports_mm = has_import and _MM_IMPORT.search(text) is not None
    if not imports_mm and ((has_import and _D2_IMPORT.search(text) is not None) or "LazyCall" in text
                           or ("from" in text and _TOP_RELATIVE_IMPORT.search(text) is not None)):
        return D2
    if imports_mm or _MM_SIGNS.search(text):
        return MM
    return None


def _facts_from_ast(text: str) -> Facts:
    try:
        with warnings.catch_warnings():     # an invalid escape in the user's file is not our message
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # Unparsable: let the line patterns decide, so the adapter can report the syntax error.
        return Facts(_by_lines(text))
    # Strong marks: imports and the inheritance idioms. Weak marks: LazyCall/get_config calls
    # (detectron2), `type=` keys (mmengine); they decide only when no strong mark does.
    if not tree.body or all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in tree.body):
        return Facts(None, is_data=True)      # empty (or a docstring): loads as an empty config
    if any(_is_main_guard(node) for node in tree.body):
        return Facts(None)                     # a program: configs never have a __main__ guard
    # Functions that build config values (`def default_X_scheduler(n): return L(...)(...)`).
    builders = {node.name: _calls_any(node, _D2_CALLS) for node in tree.body
                if isinstance(node, ast.FunctionDef) and _calls_any(node, _CONFIG_CALLS)}
    # A module of LazyCall builders (imported by other configs) is config code too.
    d2_weak = evidence = any(builders.values())
    d2 = mm = mm_weak = False
    imported = set()
    for node in _top_level(tree.body):
        if isinstance(node, ast.ImportFrom):
            root = (node.module or "").split(".")[0]
            if node.level and not _inside_read_base(node):
                d2 = evidence = True           # a LazyConfig importing another config module
            if node.level or root in _D2_PACKAGES:
                imported.update(alias.asname or alias.name for alias in node.names)
            d2 = d2 or root in _D2_PACKAGES
            mm = mm or (not node.level and root.startswith(_MM_PREFIX))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                d2 = d2 or root in _D2_PACKAGES
                mm = mm or root.startswith(_MM_PREFIX)
        elif isinstance(node, ast.With) and any(_is_read_base(item.context_expr) for item in node.items):
            mm = evidence = True
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id == "_base_":
                    mm = evidence = True
                elif isinstance(target, ast.Name):
                    builder = _called_name(node.value)
                    if builder in builders:
                        evidence, d2_weak = True, d2_weak or builders[builder]
                    evidence = evidence or _is_config_value(node.value)
                elif _root_name(target) in imported:
                    evidence = True            # `model.backbone.depth = 101` on an imported config
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)) and node.value is not None:
            d2_weak = d2_weak or _calls_any(node.value, _D2_CALLS)
            mm_weak = mm_weak or _has_type_key(node.value)
    if not evidence:
        marked = (D2 if d2 or d2_weak else None) if not (mm or mm_weak) else (MM if not (d2 or d2_weak) else None)
        return Facts(None, marks=marked)
    if d2 != mm:
        return Facts(D2 if d2 else MM)
    if not (d2 or mm) and d2_weak != mm_weak:
        return Facts(D2 if d2_weak else MM)
    return Facts(None, is_data=not (d2 or mm or d2_weak or mm_weak))


def _top_level(body):
    """Top-level statements, and those inside `with read_base():` blocks."""
    for node in body:
        yield node
        if isinstance(node, ast.With) and any(_is_read_base(item.context_expr) for item in node.items):
            for inner in node.body:
                inner._cfglint_in_read_base = True   # noqa: SLF001 -- marks the import as a base import
                yield inner


def _inside_read_base(node: ast.AST) -> bool:
    return getattr(node, "_cfglint_in_read_base", False)


def _is_main_guard(node: ast.AST) -> bool:
    test = getattr(node, "test", None) if isinstance(node, ast.If) else None
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"


def _called_name(node: ast.AST) -> Optional[str]:
    return node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else None


def _is_read_base(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "read_base"


def _is_config_value(node: ast.AST) -> bool:
    if isinstance(node, (ast.Dict, ast.List, ast.Tuple, ast.Set)):
        return True
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    if isinstance(node, ast.Call):
        func = node.func
        while isinstance(func, ast.Call):      # L(X)(...)
            func = func.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        return name in _CONFIG_CALLS
    return False


def _has_type_key(node: ast.AST) -> bool:
    """A `dict(type=...)` call or a `{"type": ...}` display anywhere in the value (bounded walk)."""
    for count, sub in enumerate(ast.walk(node)):
        if count > 10_000:
            return False
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id == "dict" \
                and any(k.arg == "type" for k in sub.keywords):
            return True
        if isinstance(sub, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "type" for k in sub.keys):
            return True
    return False


def _calls_any(node: ast.AST, names) -> bool:
    for count, sub in enumerate(ast.walk(node)):
        if count > 10_000:
            return False
        if isinstance(sub, ast.Call):
            func = sub.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in names:
                return True
    return False


def _root_name(node: ast.AST) -> Optional[str]:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _in_configs_folder(path: str) -> bool:
    return "configs" in os.path.normpath(os.path.abspath(path)).split(os.sep)[:-1]


def _from_neighbours(path: str) -> Optional[str]:
    directory = os.path.dirname(os.path.abspath(path))
    for folder in (directory, os.path.dirname(directory)):
        kind = _folder_kind(folder)
        if kind is not None:
            return kind
    return None


@functools.lru_cache(maxsize=256)
def _folder_kind(folder: str) -> Optional[str]:
    """The framework the marked configs of a folder agree on (None when they disagree or are none)."""
    from cfglint.adapters.limits import read_config_text
    from cfglint.errors import CfglintError
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".py"))[:_MAX_NEIGHBOURS]
    except OSError:
        return None
    kinds = set()
    for name in names:
        full = os.path.join(folder, name)
        if not os.path.isfile(full):
            continue
        try:
            kind = facts_of(read_config_text(full)).kind
        except CfglintError:
            continue
        if kind is not None:
            kinds.add(kind)
    return kinds.pop() if len(kinds) == 1 else None
