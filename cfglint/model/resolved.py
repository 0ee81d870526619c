"""What an adapter returns: the fully resolved *native* config plus where each value came from.

`data` is plain Python data (dict / list / str / int / float / bool / None) equal to what the
framework itself resolves (`get_cfg().merge_from_file`, `Config.fromfile(...).to_dict()`,
`LazyConfig.load`). It is what `cfglint show --raw` prints and what normalizers read.

`locations` maps a native key path (a tuple such as ("MODEL", "ROI_HEADS", "NUM_CLASSES") or
("model", "roi_head", "bbox_head", 0, "num_classes")) to the place that set it last. A path with
no entry has its framework default.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, MutableMapping, Optional, Tuple

from cfglint.model.location import Location

KeyPath = Tuple[Any, ...]

DETECTRON2 = "detectron2"
MMDET = "mmdet"
#: The keys whose string values name a registered class or an import target (`registry_names`).
REGISTRY_KEYS = ("_target_", "type")


@dataclass
class ResolvedConfig:
    framework: str              # "detectron2" | "mmdet"
    path: str                   # the file the user named
    data: Dict[str, Any]        # resolved native config, plain data
    #: A dict, or a mapping that reads the adapter's tree on demand (mmengine: TreeLocations).
    locations: MutableMapping[KeyPath, Location] = field(default_factory=dict)
    syntax: str = ""            # "yacs", "lazyconfig", "mmengine", "mmengine-lazy", "cfgnode", "mapping"
    files: List[str] = field(default_factory=list)   # every file read, bases first
    suppressions: Dict[Tuple[str, int], List[str]] = field(default_factory=dict)  # (file, line) -> rule ids
    #: Every string under a REGISTRY_KEYS key of a dict in `data`, when the adapter collected
    #: them while building `data` (None: not collected). Lets a check that looks for one registry
    #: name skip the walk of a config that has none; valid for `data` as the adapter returned it.
    registry_names: Optional[FrozenSet[str]] = None

    def location_of(self, path: KeyPath) -> Optional[Location]:
        """The location that set `path`, or of its nearest ancestor that was set as a whole."""
        path = tuple(path)
        while path:
            loc = self.locations.get(path)
            if loc is not None:
                return loc
            path = path[:-1]
        return None

    def get(self, path: KeyPath, default: Any = None) -> Any:
        return lookup(self.data, path, default)


def lookup(data: Any, path: KeyPath, default: Any = None) -> Any:
    """The value at a key path of plain nested data (dict keys, list indices), or `default`."""
    node: Any = data
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and isinstance(part, int) and -len(node) <= part < len(node):
            node = node[part]
        else:
            return default
    return node
