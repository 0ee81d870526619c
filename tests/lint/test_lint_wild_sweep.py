"""Lint over third-party codebases (../shared/corpus/wild: mmrotate 1.x, the Swin mmdet 2.11 fork,
Detectron2 projects, detrex): every error/warning finding on a config that has an oracle is one
reviewed by hand below, each with its verdict, and false positives stay under 5 %.

How the findings were judged: each one was read against the config and the framework semantics
(mmengine registries and merge, detectron2's yacs merge and its transforms). A finding is a true
positive when what its message claims is a fact about what the framework builds and matters in
the rule's terms; a false positive when the framework accepts it as intended (a toolbox's own
class judged against mmdet's, a threshold standard for its operator, a project add-on's key...).

Before this review (the same corpus, cfglint of 2026-12-01) the sweep gave 200 error/warning
findings, 197 of them false: L302 on nms_rotated 0.1 (99), L601 on project add-on keys (71),
L602 on the Swin fork's mmdet 2.x `_base_/models` fragments judged against mmdet 3.x classes (27).
After: 3 (the L304s below, all true); the add-on keys of the Detectron2 projects are one info
L601 per file (71 files), not errors.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfglint.engine import EngineConfig
from cfglint.engine.lint_files import lint_paths
from tests.conftest import requires_shared

pytestmark = [pytest.mark.slow, pytest.mark.shared, requires_shared]

REPOS = ("open-mmlab__mmrotate", "SwinTransformer__Swin-Transformer-Object-Detection",
         "facebookresearch__detectron2", "IDEA-Research__detrex")

#: (repo, config path, rule) -> (true positive?, why). Every error/warning finding, reviewed.
REVIEWED = {
    # Detectron2's own quick "training accuracy" schedules train at a single short edge of 600
    # (MAX_SIZE_TRAIN 1000) and test at 800 (MAX_SIZE_TEST 1000): COCO images are seen ~25 %
    # larger at test time than in training -- the scale gap L304 describes (deliberate for a fast
    # smoke test, but real).
    ("facebookresearch__detectron2", "configs/quick_schedules/mask_rcnn_R_50_C4_training_acc_test.yaml", "L304"):
        (True, "MIN_SIZE_TRAIN (600,) vs MIN_SIZE_TEST 800"),
    ("facebookresearch__detectron2", "configs/quick_schedules/mask_rcnn_R_50_FPN_training_acc_test.yaml", "L304"):
        (True, "MIN_SIZE_TRAIN (600,) vs MIN_SIZE_TEST 800"),
    ("facebookresearch__detectron2", "configs/quick_schedules/mask_rcnn_R_50_FPN_pred_boxes_training_acc_test.yaml",
     "L304"): (True, "inherits MIN_SIZE_TRAIN (600,) / MIN_SIZE_TEST 800 from the FPN acc test"),
}


def _oracle_configs(shared: Path, repo: str):
    index = json.loads((shared / "oracles" / "wild" / "index.json").read_text())
    return sorted(index[repo])


@pytest.fixture(scope="module")
def sweep(shared_dir):
    found = {}
    infos = {}
    for repo in REPOS:
        root = shared_dir / "corpus" / "wild" / repo
        paths = _oracle_configs(shared_dir, repo)
        reports = lint_paths([str(root / p) for p in paths], EngineConfig(), jobs=1)
        for path, report in zip(paths, reports):
            for f in report.findings:
                if f.severity in ("error", "warning"):
                    found.setdefault((repo, path, f.rule), []).append(f)
                elif f.rule == "L601":
                    infos.setdefault((repo, path), []).append(f)
    return found, infos


def test_every_error_and_warning_is_reviewed(sweep):
    found, _ = sweep
    assert set(found) == set(REVIEWED), "\n".join(
        f"{key}: {[f.message for f in found.get(key, [])]}" for key in set(found) ^ set(REVIEWED))


def test_false_positive_rate_under_five_percent():
    false = [key for key, (true, _) in REVIEWED.items() if not true]
    assert len(false) < 0.05 * max(1, len(REVIEWED))


def test_missing_addons_give_one_finding_per_file(sweep, shared_dir):
    """Detectron2 project YAMLs whose add-on cfglint does not find: at most one L601 per file, and
    only on files whose oracle records an add-on chain (plain get_cfg() configs have none)."""
    _, infos = sweep
    oracles = shared_dir / "oracles" / "wild" / "facebookresearch__detectron2"
    for (repo, path), findings in infos.items():
        assert repo == "facebookresearch__detectron2"
        assert len(findings) == 1, (path, [f.message for f in findings])
        addons = json.loads((oracles / f"{path}.addons.json").read_text())
        assert addons["addons"], path
        assert "add-on" in findings[0].message
