"""The MMDetection kind: mmengine `.py`/YAML/JSON configs (2.x and 3.x), mappings, and their weights."""
from __future__ import annotations

from pathlib import PurePath
from typing import Any, Optional, Sequence

from cfglint.adapters.kinds import Kind, suffix_of
from cfglint.model import CommonModel, ResolvedConfig

_YAML_TOP_KEYS = {"model", "_base_", "train_dataloader", "test_pipeline", "data"}
_STATE_DICT_PREFIXES = ("backbone.layer", "backbone.conv1", "roi_head.", "rpn_head.", "bbox_head.", "neck.")


class MMDetKind(Kind):
    name = "mmdet"
    title = "MMDetection"
    config_suffix = ".py"
    reads_text = True
    endpoints = {
        "expected_state_dict": "cfglint.checkpoint.expected.mmdet:expected_mmdet",
        "framework_state_dict": "cfglint.checkpoint.framework_engine:mmdet_state_dict",
        "fingerprint": "cfglint.checkpoint.fingerprint:fingerprint_mmdet",
        "convert_config": "cfglint.convert.to_mmdet:convert",
        "save_checkpoint": "cfglint.convert.checkpoint_io:save_mmdet",
        "convert_state_dict": "cfglint.convert.checkpoints:detectron2_to_mmdet",
    }

    def detect(self, path: str, text: str, named: bool = False) -> bool:
        suffix = suffix_of(path)
        if suffix in (".yaml", ".yml"):
            from cfglint.adapters.detectron2.kind import _yaml_top_keys
            return bool(_yaml_top_keys(text) & _YAML_TOP_KEYS)
        if suffix == ".json":
            return '"model"' in text or '"_base_"' in text
        if suffix == ".py":
            from cfglint.adapters import pyconfig_facts
            return pyconfig_facts.classify(path, text, named) == pyconfig_facts.MM
        return False

    def resolve_file(self, path: str, opts: Sequence[str] = (), allow_new_keys: bool = False) -> ResolvedConfig:
        from cfglint.adapters.mmdet import evaluator
        return evaluator.resolve_file(path, cfg_options=opts)

    def resolve_object(self, obj: Any, opts: Sequence[str] = (), allow_new_keys: bool = False
                       ) -> Optional[ResolvedConfig]:
        if not isinstance(obj, dict):
            return None
        from cfglint.adapters.mmdet import evaluator
        return evaluator.resolve_mapping(obj)

    def resolve_text(self, text: str, filename: str) -> ResolvedConfig:
        from cfglint.adapters.mmdet.evaluator import resolve_text
        return resolve_text(text, filename=filename)

    def normalize(self, resolved: ResolvedConfig) -> CommonModel:
        from cfglint.adapters.mmdet.normalize import normalize
        return normalize(resolved)

    def is_partial(self, path: str) -> bool:
        return "_base_" in PurePath(path).parts[:-1]

    def owns_state_dict(self, keys: Sequence[str]) -> bool:
        return any(key.startswith(_STATE_DICT_PREFIXES) for key in keys)


KIND = MMDetKind()
