"""Every Detectron2 project YAML of ../shared/corpus/wild whose oracle lists add-ons resolves, with
no flag or setting, to what detectron2 builds after the project's own `setup()` add-ons."""
from __future__ import annotations

import json

import pytest

from tests.adapters.test_script_cases import first_diff, norm
from tests.conftest import HAVE_SHARED, SHARED

ORACLES = SHARED / "oracles" / "wild"
CORPUS = SHARED / "corpus" / "wild"


def _with_addons():
    if not HAVE_SHARED or not ORACLES.is_dir():
        return []
    out = []
    for meta in sorted(ORACLES.rglob("*.addons.json")):
        if json.loads(meta.read_text()).get("addons"):
            rel = meta.relative_to(ORACLES)
            out.append(str(rel)[: -len(".addons.json")])
    return out


CASES = _with_addons()


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.skipif(not CASES, reason="../shared oracles are not present")
def test_project_yamls_resolve_like_their_setup():
    from cfglint.adapters.detectron2.yacs import resolve_yaml

    failures = {}
    for rel in CASES:
        oracle = json.loads((ORACLES / (rel + ".json")).read_text())
        meta = json.loads((ORACLES / (rel + ".addons.json")).read_text())
        try:
            resolved = resolve_yaml(str(CORPUS / rel))
        except Exception as exc:   # noqa: BLE001 - collected, reported together
            failures[rel] = f"{type(exc).__name__}: {exc}"
            continue
        diff = first_diff(norm(oracle), norm(resolved.data))
        if diff:
            failures[rel] = diff
    assert not failures, f"{len(failures)}/{len(CASES)} differ: " + json.dumps(dict(list(failures.items())[:8]), indent=1)
    assert len(CASES) > 60


@pytest.mark.shared
@pytest.mark.skipif(not CASES, reason="../shared oracles are not present")
def test_a_key_no_addon_defines_is_a_located_error_with_did_you_mean(tmp_path):
    from cfglint.adapters.detectron2.yacs import resolve_yaml
    from cfglint.errors import CfglintError
    import shutil

    project = tmp_path / "proj"
    shutil.copytree(CORPUS / "facebookresearch__detectron2" / "projects" / "DensePose", project / "DensePose")
    (project / "pyproject.toml").write_text("")
    cfg = project / "DensePose" / "configs" / "typo.yaml"
    cfg.write_text("MODEL:\n  DENSEPOSE_ON: True\n  ROI_DENSEPOSE_HEAD:\n    NUM_PATCHESS: 24\n")
    with pytest.raises(CfglintError) as err:
        resolve_yaml(str(cfg))
    assert err.value.line == 4
    assert "MODEL.ROI_DENSEPOSE_HEAD.NUM_PATCHES?" in err.value.message
