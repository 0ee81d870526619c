"""Old config VERSIONs, converted the way detectron2/config/compat.py does it.

`merge_from_file` reads `VERSION` from the file (or guesses it: `MODEL.WEIGHT` or `TEST.AUG_ON`
means v1). For an older version it downgrades the defaults to that version, merges the file into
them, and upgrades the result. This module does the same on plain dicts and moves the recorded
locations along with the keys, so a v1 `MODEL.WEIGHT: x.pkl` line is reported as MODEL.WEIGHTS.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from cfglint.adapters.detectron2.addons import has_path
from cfglint.model import Location

KeyPath = Tuple[str, ...]
Locations = Dict[KeyPath, Location]

#: ConverterV1 and ConverterV2 renames (old name, new name), detectron2/config/compat.py.
RENAMES: Dict[int, List[Tuple[str, str]]] = {
    1: [("MODEL.RPN_HEAD.NAME", "MODEL.RPN.HEAD_NAME")],
    2: [
        ("MODEL.WEIGHT", "MODEL.WEIGHTS"),
        ("MODEL.PANOPTIC_FPN.SEMANTIC_LOSS_SCALE", "MODEL.SEM_SEG_HEAD.LOSS_WEIGHT"),
        ("MODEL.PANOPTIC_FPN.RPN_LOSS_SCALE", "MODEL.RPN.LOSS_WEIGHT"),
        ("MODEL.PANOPTIC_FPN.INSTANCE_LOSS_SCALE", "MODEL.PANOPTIC_FPN.INSTANCE_LOSS_WEIGHT"),
        ("MODEL.PANOPTIC_FPN.COMBINE_ON", "MODEL.PANOPTIC_FPN.COMBINE.ENABLED"),
        ("MODEL.PANOPTIC_FPN.COMBINE_OVERLAP_THRESHOLD", "MODEL.PANOPTIC_FPN.COMBINE.OVERLAP_THRESH"),
        ("MODEL.PANOPTIC_FPN.COMBINE_STUFF_AREA_LIMIT", "MODEL.PANOPTIC_FPN.COMBINE.STUFF_AREA_LIMIT"),
        ("MODEL.PANOPTIC_FPN.COMBINE_INSTANCES_CONFIDENCE_THRESHOLD",
         "MODEL.PANOPTIC_FPN.COMBINE.INSTANCES_CONFIDENCE_THRESH"),
        ("MODEL.ROI_HEADS.SCORE_THRESH", "MODEL.ROI_HEADS.SCORE_THRESH_TEST"),
        ("MODEL.ROI_HEADS.NMS", "MODEL.ROI_HEADS.NMS_THRESH_TEST"),
        ("MODEL.RETINANET.INFERENCE_SCORE_THRESHOLD", "MODEL.RETINANET.SCORE_THRESH_TEST"),
        ("MODEL.RETINANET.INFERENCE_TOPK_CANDIDATES", "MODEL.RETINANET.TOPK_CANDIDATES_TEST"),
        ("MODEL.RETINANET.INFERENCE_NMS_THRESHOLD", "MODEL.RETINANET.NMS_THRESH_TEST"),
        ("TEST.DETECTIONS_PER_IMG", "TEST.DETECTIONS_PER_IMAGE"),
        ("TEST.AUG_ON", "TEST.AUG.ENABLED"),
        ("TEST.AUG_MIN_SIZES", "TEST.AUG.MIN_SIZES"),
        ("TEST.AUG_MAX_SIZE", "TEST.AUG.MAX_SIZE"),
        ("TEST.AUG_FLIP", "TEST.AUG.FLIP"),
    ],
}

#: Every old name -> its current name, for "was renamed" hints on unknown keys.
OLD_NAMES: Dict[str, str] = {old: new for pairs in RENAMES.values() for old, new in pairs}
OLD_NAMES.update({"MODEL.RPN.ANCHOR_SIZES": "MODEL.ANCHOR_GENERATOR.SIZES",
                  "MODEL.RPN.ANCHOR_ASPECT_RATIOS": "MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS",
                  "MODEL.RETINANET.ANCHOR_SIZES": "MODEL.ANCHOR_GENERATOR.SIZES",
                  "MODEL.RETINANET.ANCHOR_ASPECT_RATIOS": "MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS"})


def guess_version(loaded: Dict[str, Any], latest: int) -> int:
    """compat.guess_version: v1 if the file has MODEL.WEIGHT or TEST.AUG_ON, else the latest."""
    if has_path(loaded, ("MODEL", "WEIGHT")) or has_path(loaded, ("TEST", "AUG_ON")):
        return 1
    return latest


def downgrade(cfg: Dict[str, Any], from_version: int, to_version: int) -> None:
    """In place: the defaults as they were at `to_version` (ConverterVk.downgrade, k descending)."""
    for k in range(from_version, to_version, -1):
        for old, new in reversed(RENAMES[k]):
            _rename(cfg, new, old, None)
        if k == 2:
            _rename(cfg, "MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS", "MODEL.RPN.ANCHOR_ASPECT_RATIOS", None)
            _rename(cfg, "MODEL.ANCHOR_GENERATOR.SIZES", "MODEL.RPN.ANCHOR_SIZES", None)
            rpn, retina = cfg["MODEL"]["RPN"], cfg["MODEL"]["RETINANET"]
            retina["ANCHOR_ASPECT_RATIOS"] = rpn["ANCHOR_ASPECT_RATIOS"]
            retina["ANCHOR_SIZES"] = rpn["ANCHOR_SIZES"]
            retina["ANCHOR_STRIDES"] = []
        cfg["VERSION"] = k - 1


def upgrade(cfg: Dict[str, Any], from_version: int, to_version: int, locations: Locations) -> None:
    """In place: ConverterVk.upgrade for k ascending, moving `locations` with renamed keys."""
    for k in range(from_version, to_version):
        step = k + 1
        for old, new in RENAMES[step]:
            _rename(cfg, old, new, locations)
        if step == 2:
            keep, drop = ("RETINANET", "RPN") if cfg["MODEL"]["META_ARCHITECTURE"] == "RetinaNet" else ("RPN", "RETINANET")
            _rename(cfg, f"MODEL.{keep}.ANCHOR_ASPECT_RATIOS", "MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS", locations)
            _rename(cfg, f"MODEL.{keep}.ANCHOR_SIZES", "MODEL.ANCHOR_GENERATOR.SIZES", locations)
            for path in (("MODEL", drop, "ANCHOR_SIZES"), ("MODEL", drop, "ANCHOR_ASPECT_RATIOS"),
                         ("MODEL", "RETINANET", "ANCHOR_STRIDES")):
                del _node(cfg, path[:-1])[path[-1]]
                _forget(locations, path)
        cfg["VERSION"] = step


def _rename(cfg: Dict[str, Any], old: str, new: str, locations: Optional[Locations]) -> None:
    """compat._rename: move a key, creating parents and pruning emptied ones."""
    old_path, new_path = tuple(old.split(".")), tuple(new.split("."))
    value = _node(cfg, old_path)
    parent = cfg
    for part in new_path[:-1]:
        parent = parent.setdefault(part, {})
    parent[new_path[-1]] = value
    path = old_path
    while path:
        container = _node(cfg, path[:-1])
        del container[path[-1]]
        if container or len(path) == 1:
            break
        path = path[:-1]
    if locations is not None:
        for key in [k for k in locations if k[:len(old_path)] == old_path]:
            locations[new_path + key[len(old_path):]] = locations.pop(key)


def _forget(locations: Locations, path: KeyPath) -> None:
    for key in [k for k in locations if k[:len(path)] == path]:
        del locations[key]


def _node(cfg: Dict[str, Any], path: KeyPath) -> Any:
    node: Any = cfg
    for part in path:
        node = node[part]
    return node
