"""Fidelity sweep: cfglint's static evaluator against live mmengine on every zoo config.

Every config of the installed mmdet 3.3.0 wheel and of the 2.28 corpus in ../shared that mmengine
itself loads must resolve to exactly `Config.fromfile(p).to_dict()` (values and types, tuples as
lists). One test per top-level folder keeps collection cheap while xdist can still spread the work.
Configs mmengine cannot load are listed in the test output, with mmengine's reason.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import List

import pytest

from cfglint.adapters.mmdet.evaluator import resolve_file
from cfglint.errors import CfglintError
from tests.adapters.mmdet_eval_oracle import first_difference, is_plain_data, mmengine_dict, normalize, registry_names_of
from tests.conftest import HAVE_SHARED, SHARED

pytestmark = pytest.mark.slow


def _mmdet3_zoo() -> Path:
    spec = importlib.util.find_spec("mmdet")
    if spec is None or not spec.submodule_search_locations:
        return Path("/nonexistent")
    return Path(list(spec.submodule_search_locations)[0]) / ".mim" / "configs"


ZOOS = {"mmdet3": _mmdet3_zoo(), "mmdet2": SHARED / "corpus" / "mmdet2" / "configs"}


def _folders():
    for zoo, root in ZOOS.items():
        if zoo == "mmdet2" and not HAVE_SHARED:
            continue
        if not root.is_dir():
            continue
        for folder in sorted(p.name for p in root.iterdir() if p.is_dir()):
            yield pytest.param(zoo, folder, id=f"{zoo}/{folder}")


@pytest.mark.parametrize("zoo, folder", list(_folders()))
def test_zoo_folder_matches_mmengine(zoo: str, folder: str) -> None:
    root = ZOOS[zoo]
    mismatches: List[str] = []
    not_loadable: List[str] = []
    for path in sorted((root / folder).rglob("*.py")):
        rel = path.relative_to(root)
        try:
            expected = mmengine_dict(str(path))
        except Exception as exc:  # mmengine itself cannot load it: cfglint must refuse it too
            not_loadable.append(f"{rel}: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
            with pytest.raises(CfglintError):
                resolve_file(str(path))
            continue
        if not is_plain_data(expected):
            # a script (odinw/override_category.py): mmengine's result holds functions, not data
            not_loadable.append(f"{rel}: mmengine's result holds non-data objects (a script, not a config)")
            with pytest.raises(CfglintError):
                resolve_file(str(path))
            continue
        try:
            resolved = resolve_file(str(path))
        except CfglintError as exc:
            mismatches.append(f"{rel}: cfglint refused it: {exc}")
            continue
        got = resolved.data
        if resolved.registry_names != registry_names_of(got):
            mismatches.append(f"{rel}: registry_names differ from the data's type/_target_ strings")
        diff = first_difference(got, normalize(expected))
        if diff:
            mismatches.append(f"{rel}: {diff}")
    for line in not_loadable:
        print(f"not loadable by mmengine: {zoo}/{line}")
    assert not mismatches, "\n".join(mismatches)
