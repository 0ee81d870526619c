"""Project add-on keys: what detectron2 projects' `add_*_config(cfg)` functions add to `get_cfg()`.

A project YAML (PointRend, DeepLab, TridentNet...) only loads after its training script has called
the project's `add_*_config(cfg)`; without it detectron2 raises "Non-existent config key". cfglint
cannot run those functions, so their effect is written down here as data, copied from the upstream
sources named in each entry (values exactly as the functions assign them, tuples included).

How an add-on gets enabled:
* automatically, when a config (or an --opts key) uses a key that only that add-on defines;
* explicitly, with `resolve_yaml(..., addons=["pointrend"])`;
* a team's own add-on: `register_addon(Addon("mine", "my_project/config.py", {...}))` once,
  before resolving. Configs using keys nobody declares can still be read with allow_new_keys.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Sequence, Set, Tuple

from cfglint.errors import CfglintError

KeyPath = Tuple[str, ...]


@dataclass(frozen=True)
class Addon:
    name: str
    source: str                  # where the keys come from, for messages and maintainers
    keys: Dict[str, Any]         # dotted key -> default, in the order the function assigns them

    def paths(self) -> Dict[KeyPath, Any]:
        return {tuple(k.split(".")): v for k, v in self.keys.items()}


POINTREND = Addon("pointrend", "projects/PointRend/point_rend/config.py add_pointrend_config", {
    "INPUT.CROP.SINGLE_CATEGORY_MAX_AREA": 1.0,
    "INPUT.COLOR_AUG_SSD": False,
    "MODEL.ROI_MASK_HEAD.IN_FEATURES": ("p2",),
    "MODEL.ROI_MASK_HEAD.FC_DIM": 1024,
    "MODEL.ROI_MASK_HEAD.NUM_FC": 2,
    "MODEL.ROI_MASK_HEAD.OUTPUT_SIDE_RESOLUTION": 7,
    "MODEL.ROI_MASK_HEAD.POINT_HEAD_ON": False,
    "MODEL.POINT_HEAD.NAME": "StandardPointHead",
    "MODEL.POINT_HEAD.NUM_CLASSES": 80,
    "MODEL.POINT_HEAD.IN_FEATURES": ("p2",),
    "MODEL.POINT_HEAD.TRAIN_NUM_POINTS": 14 * 14,
    "MODEL.POINT_HEAD.OVERSAMPLE_RATIO": 3,
    "MODEL.POINT_HEAD.IMPORTANCE_SAMPLE_RATIO": 0.75,
    "MODEL.POINT_HEAD.SUBDIVISION_STEPS": 5,
    "MODEL.POINT_HEAD.SUBDIVISION_NUM_POINTS": 28 * 28,
    "MODEL.POINT_HEAD.FC_DIM": 256,
    "MODEL.POINT_HEAD.NUM_FC": 3,
    "MODEL.POINT_HEAD.CLS_AGNOSTIC_MASK": False,
    "MODEL.POINT_HEAD.COARSE_PRED_EACH_LAYER": True,
    "MODEL.POINT_HEAD.COARSE_SEM_SEG_HEAD_NAME": "SemSegFPNHead",
    "MODEL.IMPLICIT_POINTREND.IMAGE_FEATURE_ENABLED": True,
    "MODEL.IMPLICIT_POINTREND.POS_ENC_ENABLED": True,
    "MODEL.IMPLICIT_POINTREND.PARAMS_L2_REGULARIZER": 0.00001,
})

DEEPLAB = Addon("deeplab", "projects/DeepLab/deeplab/config.py add_deeplab_config", {
    "INPUT.CROP.SINGLE_CATEGORY_MAX_AREA": 1.0,
    "SOLVER.POLY_LR_POWER": 0.9,
    "SOLVER.POLY_LR_CONSTANT_ENDING": 0.0,
    "MODEL.SEM_SEG_HEAD.LOSS_TYPE": "hard_pixel_mining",
    "MODEL.SEM_SEG_HEAD.PROJECT_FEATURES": ["res2"],
    "MODEL.SEM_SEG_HEAD.PROJECT_CHANNELS": [48],
    "MODEL.SEM_SEG_HEAD.ASPP_CHANNELS": 256,
    "MODEL.SEM_SEG_HEAD.ASPP_DILATIONS": [6, 12, 18],
    "MODEL.SEM_SEG_HEAD.ASPP_DROPOUT": 0.1,
    "MODEL.SEM_SEG_HEAD.USE_DEPTHWISE_SEPARABLE_CONV": False,
    "MODEL.RESNETS.RES4_DILATION": 1,
    "MODEL.RESNETS.RES5_MULTI_GRID": [1, 2, 4],
    "MODEL.RESNETS.STEM_TYPE": "deeplab",
})

TRIDENTNET = Addon("tridentnet", "projects/TridentNet/tridentnet/config.py add_tridentnet_config", {
    "MODEL.TRIDENT.NUM_BRANCH": 3,
    "MODEL.TRIDENT.BRANCH_DILATIONS": [1, 2, 3],
    "MODEL.TRIDENT.TRIDENT_STAGE": "res4",
    "MODEL.TRIDENT.TEST_BRANCH_IDX": 1,
})

_REGISTRY: Dict[str, Addon] = {a.name: a for a in (POINTREND, DEEPLAB, TRIDENTNET)}


def register_addon(addon: Addon) -> None:
    """Make a project's add-on keys known (enabled when a config uses them, or by name)."""
    _REGISTRY[addon.name] = addon


def unregister_addon(name: str) -> None:
    _REGISTRY.pop(name, None)


def registered() -> List[Addon]:
    return list(_REGISTRY.values())


def by_name(names: Iterable[str]) -> List[Addon]:
    found = []
    for name in names:
        addon = _REGISTRY.get(name.lower())
        if addon is None:
            raise CfglintError(f"unknown Detectron2 add-on {name!r}; known: {', '.join(sorted(_REGISTRY))}")
        found.append(addon)
    return found


def detect(used: Set[KeyPath], defaults: Dict[str, Any]) -> List[Addon]:
    """The add-ons a config needs: those defining a used key that the defaults lack.

    A key only one add-on defines decides first; a key several define (PointRend and DeepLab both
    add INPUT.CROP.SINGLE_CATEGORY_MAX_AREA) enables the first registered one unless an add-on
    chosen by its own keys already defines it.
    """
    missing = {p for p in used if not has_path(defaults, p)}
    owners: Dict[KeyPath, List[Addon]] = {}
    for addon in _REGISTRY.values():
        for path in _prefixes(addon.paths()):
            if path in missing:
                owners.setdefault(path, []).append(addon)
    chosen: List[Addon] = []
    for path, candidates in owners.items():
        if len(candidates) == 1 and candidates[0] not in chosen:
            chosen.append(candidates[0])
    covered = set().union(*(_prefixes(a.paths()) for a in chosen)) if chosen else set()
    for path, candidates in owners.items():
        if path not in covered and candidates[0] not in chosen:
            chosen.append(candidates[0])
            covered |= _prefixes(candidates[0].paths())
    return chosen


def apply(defaults: Dict[str, Any], addons: Sequence[Addon]) -> None:
    """Add each add-on's keys to `defaults` (in place), as `add_*_config(cfg)` would."""
    for addon in addons:
        for path, value in addon.paths().items():
            node = defaults
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = copy.deepcopy(value)


def _prefixes(paths: Iterable[KeyPath]) -> Set[KeyPath]:
    return {p[:i] for p in paths for i in range(1, len(p) + 1)}


def has_path(tree: Dict[str, Any], path: KeyPath) -> bool:
    """Whether nested dicts `tree` have the key path `path`."""
    node: Any = tree
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True
