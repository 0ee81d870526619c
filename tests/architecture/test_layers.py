"""The tree is the pipeline: stages import downward only (a static scan of every import, lazy ones too).

cli -> app -> engine / checkpoint / convert / report -> adapters -> model -> errors. `report` owns
every output shape and imports nothing above the stages whose data it renders.
"""
from __future__ import annotations

import ast
from pathlib import Path

import cfglint

PACKAGE = Path(cfglint.__file__).resolve().parent
#: Higher numbers may import lower ones (and their own level), never the reverse.
LEVELS = {"errors": 0, "model": 1, "adapters": 2, "engine": 3, "checkpoint": 3, "convert": 3, "imageflow": 2,
          "report": 4, "app": 5, "cli": 6, "__main__": 7, "__init__": 7}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path, module: str):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                yield node.lineno, ".".join(base + ([node.module] if node.module else []))
            elif node.module:
                yield node.lineno, node.module
                for alias in node.names:   # `from cfglint import engine` names a stage too
                    if node.module == "cfglint":
                        yield node.lineno, f"cfglint.{alias.name}"


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield path, ".".join(parts)


def test_every_stage_has_a_level():
    stages = {_stage(module) for _, module in _modules()}
    assert stages <= set(LEVELS), f"new stage(s) without a level: {sorted(stages - set(LEVELS))}"


def test_no_upward_import():
    upward = []
    for path, module in _modules():
        own = LEVELS[_stage(module) if module != "cfglint" else "__init__"]
        for line, target in _imports(path, module):
            if not target.startswith("cfglint.") or target == "cfglint":
                continue
            if LEVELS.get(_stage(target), -1) > own:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_the_scan_sees_lazy_and_relative_imports(tmp_path):
    """The scan must be able to fail: an import inside a function and a relative one are both seen."""
    path = tmp_path / "x.py"
    path.write_text("def f():\n    from cfglint.cli import main\n\nfrom ..report import show_text\n")
    assert sorted(t for _, t in _imports(path, "cfglint.adapters.x")) == ["cfglint.cli", "cfglint.report"]


def _framework_name_comparisons(tree: ast.AST, names):
    """Lines where a framework's name is compared (==, !=, in, not in) as a string literal."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        literals = []
        for operand in operands:
            elements = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
            literals += [e.value for e in elements if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        if any(literal in names for literal in literals):
            yield node.lineno


def test_frameworks_are_dispatched_by_kind_objects_only():
    """No module outside a kind's own package compares a framework's name as a string."""
    from cfglint.adapters import kinds
    names = {kind.name for kind in kinds.all_kinds()}
    own = {PACKAGE / "adapters" / name for name in ("detectron2", "mmdet", "script")}
    found = []
    for path, _ in _modules():
        if any(folder in path.parents for folder in own):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{path.relative_to(PACKAGE.parent)}:{line}" for line in _framework_name_comparisons(tree, names)]
    assert not found, "framework names compared outside their kinds: " + ", ".join(found)


def test_the_comparison_scan_can_fail():
    tree = ast.parse('if fw == "mmdet":\n    pass\nif kind in ("detectron2", "x"):\n    pass\n')
    assert list(_framework_name_comparisons(tree, {"mmdet", "detectron2"})) == [1, 3]


def test_an_unknown_kind_is_an_error_not_a_fall_through():
    import pytest
    from cfglint.adapters import kinds, normalize
    from cfglint.errors import CfglintError
    from cfglint.model import ResolvedConfig
    with pytest.raises(CfglintError, match="unknown framework 'tensorflow'"):
        kinds.get("tensorflow")
    with pytest.raises(CfglintError, match="unknown framework"):
        normalize(ResolvedConfig(framework="tensorflow", path="x.py", data={}))
