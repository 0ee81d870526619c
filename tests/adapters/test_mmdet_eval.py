"""The static mmengine evaluator on hand-written fixtures of each construct, checked against mmengine."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cfglint.adapters.mmdet.evaluator import resolve_file, resolve_mapping, resolve_text
from cfglint.errors import CfglintError, UnsafeContentError, UnsupportedError
from tests.adapters.mmdet_eval_oracle import (first_difference, mmengine_dict, mmengine_without_pkg_resources, normalize,
                                              registry_names_of)
from tests.conftest import FIXTURES, run_cli

CONSTRUCTS = FIXTURES / "mmdet" / "constructs"
LOADABLE = ["base_model.py", "base_refs.py", "delete_leak.py", "expressions.py", "predefined_vars.py",
            "with_function.py", "package_base.py", "data/base.yaml", "data/child.yaml", "data/child.json",
            "data/py_over_yaml.py", "lazy/_base_model.py", "lazy/retina.py", "lazy/named_import.py", "lazy/merge.py"]


@pytest.mark.parametrize("name", LOADABLE)
def test_fixture_equals_mmengine(name: str) -> None:
    path = str(CONSTRUCTS / name)
    diff = first_difference(resolve_file(path).data, normalize(mmengine_dict(path)))
    assert diff is None, diff


def test_env_variable_overrides_default(monkeypatch) -> None:
    from cfglint.adapters import roots
    monkeypatch.setenv("CFGLINT_FIXTURE_NUM_CLASSES", "3")
    path = str(CONSTRUCTS / "predefined_vars.py")
    with roots.using(env=True):   # the environment is only read when asked (--env)
        got = resolve_file(path).data
    assert got["num_classes"] == 3 and got == normalize(mmengine_dict(path))
    assert resolve_file(path).data["num_classes"] != 3   # without --env: the default


def test_syntax_names_the_style() -> None:
    assert resolve_file(str(CONSTRUCTS / "base_refs.py")).syntax == "mmengine"
    assert resolve_file(str(CONSTRUCTS / "lazy/retina.py")).syntax == "mmengine-lazy"
    assert resolve_file(str(CONSTRUCTS / "data/child.yaml")).syntax == "yaml"
    assert resolve_file(str(CONSTRUCTS / "data/child.json")).syntax == "json"


def test_locations_point_at_the_line_that_set_the_value_last() -> None:
    resolved = resolve_file(str(CONSTRUCTS / "delete_leak.py"))
    child, base = str(CONSTRUCTS / "delete_leak.py"), str(CONSTRUCTS / "base_model.py")
    assert resolved.files == [base, str(CONSTRUCTS / "base_runtime.py"), child]
    loc = resolved.location_of(("model", "roi_head", "bbox_head", "num_classes"))
    assert (loc.file, loc.line) == (child, 6)
    loc = resolved.location_of(("model", "roi_head", "bbox_head", "loss", "w"))
    assert (loc.file, loc.line) == (base, 7)
    loc = resolved.location_of(("train_pipeline", 1, "scale", 0))
    assert (loc.file, loc.line) == (base, 9)


def test_every_value_has_a_location() -> None:
    resolved = resolve_file(str(CONSTRUCTS / "base_refs.py"))

    def walk(value, path):
        assert resolved.location_of(path) is not None, path
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, path + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, path + (i,))
    for key, value in resolved.data.items():
        walk(value, (key,))


def _key_paths(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield path + (k,)
            yield from _key_paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield path + (i,)
            yield from _key_paths(v, path + (i,))


@pytest.mark.parametrize("name", LOADABLE)
def test_location_lookups_equal_the_full_table(name: str, monkeypatch) -> None:
    """Locations are read off the merged tree per lookup; iterating builds them all. Both must
    give the same answer for every key path, also relative to a working directory (paths the
    user named relatively are shown relatively)."""
    monkeypatch.chdir(CONSTRUCTS)
    for given in (str(CONSTRUCTS / name), name):
        looked_up = resolve_file(given).locations
        table = dict(resolve_file(given).locations.items())
        assert table, given
        for path in _key_paths(resolve_file(given).data):
            assert looked_up.get(path) == table.get(path), (given, path)
            assert (path in looked_up) == (path in table)
        if given == name:
            assert not any(os.path.isabs(loc.file) for loc in table.values()), table
        # iterated in document order: a key, then everything under it, then the next key
        assert list(table) == [p for p in _key_paths(resolve_file(given).data) if p in table]


@pytest.mark.parametrize("name", LOADABLE)
def test_registry_names_are_every_type_and_target_string(name: str) -> None:
    """Collected while exporting, so that rule L603 can skip walking a config that names none of
    the packages it judges; they must be exactly what a walk of the data finds."""
    resolved = resolve_file(str(CONSTRUCTS / name))
    assert resolved.registry_names == registry_names_of(resolved.data)


def test_resolving_a_config_leaves_its_shared_bases_unchanged() -> None:
    """Merged bases are memoized and shared between configs, never copied: a child that changes
    `_base_` in place, `{{_base_.x}}` and `_delete_` must not change what the next config sees.
    Each config resolved after all the others equals it resolved with empty memos."""
    from cfglint.adapters.mmdet import evaluator

    def dumped(name):
        resolved = resolve_file(str(CONSTRUCTS / name))
        return json.dumps([resolved.data, sorted(map(repr, resolved.locations.items()))], sort_keys=True,
                          default=repr)

    alone = {}
    for name in LOADABLE:
        evaluator._RESOLVED.clear()
        alone[name] = dumped(name)
    for name in LOADABLE + LOADABLE[::-1]:
        assert dumped(name) == alone[name], name


@pytest.mark.parametrize("child", [
    "part = dict(_delete_=True, z=1)\nmodel = dict(a=part, c=part)",        # one dict merged twice
    "part = dict(z=1)\nmodel = dict(a=part, c=dict(d=part))",               # shared, never changed
    "part = [dict(_delete_=True, z=1)]\nmodel = dict(a=dict(l=part), c=dict(l=part))",
    "model = dict(a=dict(_delete_=True, z=1))\nother = model",              # a second name
])
def test_values_shared_by_name_merge_as_in_mmengine(tmp_path, child: str) -> None:
    """mmengine deep-copies a file's values before merging; cfglint copies only when a container is
    reached twice, which must give the same result as copying always."""
    (tmp_path / "base.py").write_text("model = dict(a=dict(b=1), c=dict(b=2, l=[1]), d=None)\n")
    path = tmp_path / "child.py"
    path.write_text("_base_ = './base.py'\n" + child + "\n")
    assert first_difference(resolve_file(str(path)).data, normalize(mmengine_dict(str(path)))) is None


def test_in_place_base_mutation_is_located_in_the_child() -> None:
    resolved = resolve_file(str(CONSTRUCTS / "base_refs.py"))
    loc = resolved.location_of(("head", "num_classes"))
    assert (Path(loc.file).name, loc.line) == ("base_refs.py", 9)


@pytest.mark.parametrize("name, line, fragment", [
    ("bad/duplicate_bases.py", 1, "duplicate keys"),
    ("bad/cycle_a.py", 1, "circular"),
    ("bad/missing_base.py", 2, "does not exist"),
    ("bad/syntax_error.py", 1, "syntax error"),
    ("bad/dict_over_scalar.py", 2, "cannot inherit"),
])
def test_bad_input_is_an_error_with_file_and_line(name: str, line: int, fragment: str) -> None:
    path = str(CONSTRUCTS / name)
    with pytest.raises(Exception):
        mmengine_dict(path)   # mmengine refuses these too
    with pytest.raises(CfglintError) as err:
        resolve_file(path)
    assert err.value.line == line and fragment in err.value.message and err.value.file.endswith(".py")


@pytest.mark.parametrize("name, line, error", [
    ("refuse/calls_function.py", 2, UnsafeContentError),
    ("refuse/imports_os.py", 2, UnsupportedError),
    ("refuse/dunder.py", 2, UnsafeContentError),
    ("refuse/opens_file.py", 2, UnsafeContentError),
    ("refuse/python_tag.yaml", 1, UnsafeContentError),
])
def test_refused_configs_run_nothing(name: str, line: int, error: type, tmp_path: Path) -> None:
    canary = tmp_path / "CANARY"
    proc = run_cli("show", "--raw", "--format", "json", str(CONSTRUCTS / name), cwd=str(tmp_path))
    assert proc.returncode == 2
    assert f"{name.split('/')[-1]}:{line}:" in proc.stderr
    assert not canary.exists()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(error):
            resolve_file(str(CONSTRUCTS / name))
    finally:
        os.chdir(cwd)
    assert not canary.exists()


@pytest.mark.parametrize("name", ["base_refs.py", "delete_leak.py", "lazy/retina.py", "data/child.yaml"])
def test_cli_show_raw_equals_mmengine(name: str) -> None:
    path = str(CONSTRUCTS / name)
    proc = run_cli("show", "--raw", "--format", "json", path)
    assert proc.returncode == 0, proc.stderr
    line = json.loads(proc.stdout.splitlines()[0])
    assert line["framework"] == "mmdet"
    assert first_difference(line["config"], normalize(mmengine_dict(path))) is None


@pytest.mark.parametrize("name", ["base_refs.py", "delete_leak.py", "expressions.py", "package_base.py"])
def test_resolve_text_of_a_dump_equals_the_original(name: str) -> None:
    from mmengine.config import Config
    with mmengine_without_pkg_resources():
        cfg = Config.fromfile(str(CONSTRUCTS / name), import_custom_modules=False)
    resolved = resolve_text(cfg.pretty_text)
    assert first_difference(resolved.data, normalize(cfg.to_dict())) is None
    first_key = next(iter(resolved.data))
    assert resolved.location_of((first_key,)).file == "<checkpoint meta>"


def test_resolve_text_refuses_code() -> None:
    with pytest.raises(UnsafeContentError):
        resolve_text("model = dict(type='A')\nx = open('f')\n")


def test_resolve_mapping_is_plain_data() -> None:
    assert resolve_mapping({"model": {"scale": (1, 2)}}).data == {"model": {"scale": [1, 2]}}


def test_cfg_options_follow_mmengine_merge_from_dict() -> None:
    from mmengine.config import Config, DictAction
    path = str(CONSTRUCTS / "base_model.py")
    options = ["model.roi_head.bbox_head.num_classes=3", "train_pipeline.1.scale=(800,600)",
               "optim_wrapper.optimizer.lr=0.01", "new_key=[1,2,a]", "model.backbone.frozen=True"]
    cfg = Config.fromfile(path)
    cfg.merge_from_dict({k: DictAction._parse_iterable(v) for k, v in (o.split("=", 1) for o in options)})
    resolved = resolve_file(path, cfg_options=options)
    assert first_difference(resolved.data, normalize(cfg.to_dict())) is None
    assert resolved.location_of(("new_key",)).file == "<cfg-options>"


def test_reading_a_config_imports_nothing_heavy() -> None:
    code = ("import sys; from cfglint.adapters.mmdet.evaluator import resolve_file; "
            f"resolve_file({str(CONSTRUCTS / 'lazy/retina.py')!r}); resolve_file({str(CONSTRUCTS / 'package_base.py')!r}); "
            "print(sorted(m for m in ('torch', 'numpy', 'mmengine', 'mmdet', 'mmcv') if m in sys.modules))")
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
