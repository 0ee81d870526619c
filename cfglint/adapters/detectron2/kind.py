"""The Detectron2 kind: YACS YAML (`_BASE_`), LazyConfig `.py`, CfgNode objects and their weights."""
from __future__ import annotations

from pathlib import PurePath
from typing import Any, Optional, Sequence

from cfglint.adapters.kinds import Kind, suffix_of
from cfglint.model import CommonModel, ResolvedConfig

#: Top-level keys of Detectron2's defaults (any of them at column 0 makes a YAML a YACS config).
_TOP_KEYS = {"MODEL", "INPUT", "DATASETS", "SOLVER", "TEST", "_BASE_", "DATALOADER", "VERSION",
             "OUTPUT_DIR", "SEED", "CUDNN_BENCHMARK", "VIS_PERIOD", "GLOBAL"}
#: Module names only Detectron2 models register (a state dict with any of them is Detectron2's).
_STATE_DICT_PREFIXES = ("backbone.bottom_up.", "roi_heads.", "proposal_generator.", "backbone.res",
                        "head.cls_score", "backbone.stem.")


class Detectron2Kind(Kind):
    name = "detectron2"
    title = "Detectron2"
    config_suffix = ".yaml"
    endpoints = {
        "expected_state_dict": "cfglint.checkpoint.expected.detectron2:expected_detectron2",
        "framework_state_dict": "cfglint.checkpoint.framework_engine:detectron2_state_dict",
        "fingerprint": "cfglint.checkpoint.fingerprint:fingerprint_detectron2",
        "convert_config": "cfglint.convert.to_detectron2:convert",
        "save_checkpoint": "cfglint.convert.checkpoint_io:save_detectron2",
        "convert_state_dict": "cfglint.convert.checkpoints:mmdet_to_detectron2",
    }

    def detect(self, path: str, text: str, named: bool = False) -> bool:
        suffix = suffix_of(path)
        if suffix in (".yaml", ".yml"):
            return bool(_yaml_top_keys(text) & _TOP_KEYS)
        if suffix == ".py":
            from cfglint.adapters import pyconfig_facts
            return pyconfig_facts.classify(path, text, named) == pyconfig_facts.D2
        return False

    def resolve_file(self, path: str, opts: Sequence[str] = (), allow_new_keys: bool = False) -> ResolvedConfig:
        if suffix_of(path) == ".py":
            from cfglint.adapters.detectron2 import lazy
            return lazy.resolve_lazy(path, overrides=opts)
        from cfglint.adapters.detectron2 import yacs
        return yacs.resolve_yaml(path, opts=opts, allow_new_keys=allow_new_keys)

    def resolve_object(self, obj: Any, opts: Sequence[str] = (), allow_new_keys: bool = False
                       ) -> Optional[ResolvedConfig]:
        # A CfgNode is a dict subclass; any other mapping handed over as Detectron2 is taken as yacs.
        from cfglint.adapters.detectron2 import yacs
        return yacs.resolve_object(obj, opts=opts, allow_new_keys=allow_new_keys)

    def normalize(self, resolved: ResolvedConfig) -> CommonModel:
        from cfglint.adapters.detectron2.normalize import normalize
        return normalize(resolved)

    def is_partial(self, path: str) -> bool:
        return PurePath(path).name.startswith("Base-")

    def owns_state_dict(self, keys: Sequence[str]) -> bool:
        return any(key.startswith(_STATE_DICT_PREFIXES) for key in keys)

    def conversion_refusal(self, resolved: ResolvedConfig) -> Optional[str]:
        from cfglint.adapters.detectron2.normalize import YACS_SYNTAXES
        if resolved.syntax not in YACS_SYNTAXES:
            return "only Detectron2 YAML (yacs) configs can be converted, not LazyConfig files"
        return None


def _yaml_top_keys(text: str) -> set:
    keys = set()
    for line in text.splitlines():
        if line and not line[0].isspace() and line[0] != "#" and ":" in line:
            keys.add(line.split(":", 1)[0].strip().strip("'\""))
    return keys


KIND = Detectron2Kind()
