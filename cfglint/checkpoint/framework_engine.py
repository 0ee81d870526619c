"""`cfglint verify --engine framework`: ask the installed framework which state dict a config builds.

The native engine (cfglint.checkpoint.expected) mirrors the model builders without torch, for the
architectures it models. This engine is the optional cross-check and the fallback for the rest
(SSD, YOLO, DETR...): it builds the real model on torch's meta device (no memory, no weights)
and reads the names and shapes of its state dict.

Trust: the config *file* is still never executed. The model is built from the config cfglint
resolved statically (`mmengine.Config(resolved.data)`, never `Config.fromfile`). But building
imports torch and the framework and runs the constructors of the classes the config names, with
the config's arguments. `type` values are looked up in the framework's registries only; a dotted
`type` (lazy-import configs write `mmdet.models.FasterRCNN`) must name a class some registry
knows, so a config cannot make this path call an arbitrary function. `custom_imports` (and
Detectron2 project add-ons) are NOT honoured: their modules are never imported, so a model that
needs them fails to build with a clear error.
"""
from __future__ import annotations

import importlib.util
from typing import Any, Dict, Iterator, List, Tuple

from cfglint.checkpoint.expected.layers import ExpectedStateDict
from cfglint.errors import CfglintError
from cfglint.model.resolved import ResolvedConfig

NATIVE, FRAMEWORK = "native", "framework"
ENGINES = (NATIVE, FRAMEWORK)

#: Packages a dotted mmdet `type` may point into (anything else would import foreign code).
_MM_PACKAGES = ("mmdet", "mmcv", "mmengine")
#: Module containers whose children are reported as separate groups (their heads).
_HEAD_CONTAINERS = ("roi_head", "roi_heads")
#: Where a Detectron2 LazyConfig `_target_` must be defined for --engine framework to call it.
_D2_MODEL_PACKAGES = ("detectron2.modeling", "detectron2.layers", "torch.nn")


def framework_state_dict(resolved: ResolvedConfig) -> ExpectedStateDict:
    """The state dict (names and shapes) the installed framework builds for `resolved`."""
    from cfglint.adapters import kinds
    return kinds.of(resolved).endpoint("framework_state_dict")(resolved)


def as_expected(shapes: Dict[str, Tuple[int, ...]]) -> ExpectedStateDict:
    """Wrap `{name: shape}` with one group per top-level module (heads inside roi_head split out)."""
    expected = ExpectedStateDict()
    for name, shape in shapes.items():
        parts = name.split(".")
        depth = 2 if parts[0] in _HEAD_CONTAINERS and len(parts) > 2 else 1
        module = ".".join(parts[:depth])
        expected.keys[name] = tuple(shape)
        expected.groups.setdefault(module, [module])
    return expected


def _built_shapes(model: Any) -> Dict[str, Tuple[int, ...]]:
    return {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}


# -- MMDetection ---------------------------------------------------------------------------------
def mmdet_state_dict(resolved: ResolvedConfig) -> ExpectedStateDict:
    torch, Config, MODELS = _import_mmdet(resolved.path)
    model_cfg = resolved.data.get("model")
    if not isinstance(model_cfg, dict):
        raise CfglintError("the config has no `model` dict to build", resolved.path)
    _check_mmdet_types(model_cfg, resolved)
    # Known gap: the resolved data writes tuples as lists (cfglint's export), so a constructor that
    # asserts a tuple (SSDAnchorGenerator's basesize_ratio_range) fails to build.
    cfg = Config({"model": model_cfg})
    try:
        with torch.device("meta"):
            model = MODELS.build(cfg.model)
    except Exception as exc:  # the framework's own message is the useful part, whatever its type
        raise CfglintError(f"mmdet could not build the model: {type(exc).__name__}: {exc} "
                           f"(custom_imports are not honoured by --engine framework)", resolved.path) from None
    return as_expected(_built_shapes(model))


def _import_mmdet(path: str):
    """torch, mmengine.Config and mmdet's MODELS with every module registered, or a clear error."""
    try:
        import torch
        import mmcv.ops  # noqa: F401  -- mmcv-lite lacks the compiled ops most detectors need
        from mmengine import Config
        from mmdet.registry import MODELS
        from mmdet.utils import register_all_modules
    except (ImportError, OSError, AssertionError) as exc:  # mmdet asserts its mmcv version range
        raise CfglintError(f"--engine framework needs mmdet with mmcv compiled ops: {exc} "
                           f"(install torch, mmcv (full, not mmcv-lite) and mmdet, or use --engine native)",
                           path) from None
    register_all_modules(init_default_scope=True)
    return torch, Config, MODELS


def _check_mmdet_types(node: Any, resolved: ResolvedConfig, path: Tuple[Any, ...] = ("model",)) -> None:
    """Refuse a `type` the registries do not know and would resolve by importing (and calling) it."""
    for key_path, kind in _types(node, path):
        if not _is_safe_type(kind):
            loc = resolved.location_of(key_path)
            raise CfglintError(f"--engine framework only builds classes registered with mmdet/mmengine; "
                               f"type={kind!r} is not one (custom_imports are not honoured)",
                               loc.file if loc else resolved.path, loc.line if loc else None)


def _types(node: Any, path: Tuple[Any, ...]) -> Iterator[Tuple[Tuple[Any, ...], str]]:
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            yield path + ("type",), node["type"]
        for key, value in node.items():
            yield from _types(value, path + (key,))
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _types(value, path + (index,))


def _is_safe_type(kind: str) -> bool:
    """A registered name, `mmdet.FasterRCNN` (scope.name) or `mmdet.models.FasterRCNN` (a registered class).

    mmengine's `Registry.get` falls back to `import_module` + `getattr` for names it lacks, which
    would import any installed module and return any function; only a plain name that is not a
    module (e.g. `RoIAlign`, looked up in mmcv.ops by the RoI extractor) is left to the framework.
    """
    from mmengine.utils import get_object_from_string

    registered = _registered_objects()
    names = {entry_name for entry_name, _ in registered}
    scope, dot, name = kind.partition(".")
    if not dot:
        return kind in names or not kind.isidentifier() or importlib.util.find_spec(kind) is None
    if scope not in _MM_PACKAGES:
        return False
    if "." not in name and name in names:
        return True
    target = get_object_from_string(kind)
    return isinstance(target, type) and any(obj is target for _, obj in registered)


def _registered_objects() -> List[Tuple[str, Any]]:
    """Every entry the model builders can reach: MODELS and TASK_UTILS and their children (mmdet's)."""
    from mmengine.registry import MODELS, TASK_UTILS

    pending, entries = [MODELS, TASK_UTILS], []
    while pending:
        registry = pending.pop()
        entries.extend(registry.module_dict.items())
        pending.extend(registry.children.values())
    return entries


# -- Detectron2 (not installable here: documented, tested only for the not-installed error) -----
def detectron2_state_dict(resolved: ResolvedConfig) -> ExpectedStateDict:
    try:
        from detectron2.config import CfgNode, get_cfg, instantiate   # first: fails fast when absent
        from detectron2.modeling import build_model
        import torch
    except ImportError as exc:
        raise CfglintError(f"--engine framework needs Detectron2: detectron2 is not installed ({exc}); "
                           f"use --engine native", resolved.path) from None
    try:
        with torch.device("meta"):
            if resolved.syntax == "lazyconfig":
                from omegaconf import OmegaConf
                _check_d2_targets(resolved.data.get("model"), resolved)
                model = instantiate(OmegaConf.create(resolved.data["model"]))
            else:
                cfg = get_cfg()
                cfg.set_new_allowed(True)   # project keys (add_*_config) are already in the resolved data
                cfg.merge_from_other_cfg(CfgNode(resolved.data))
                cfg.MODEL.DEVICE = "cpu"
                model = build_model(cfg)
    except CfglintError:
        raise
    except Exception as exc:
        raise CfglintError(f"detectron2 could not build the model: {type(exc).__name__}: {exc} "
                           f"(project add-ons are not imported by --engine framework)", resolved.path) from None
    return as_expected(_built_shapes(model))


def _check_d2_targets(node: Any, resolved: ResolvedConfig, path: Tuple[Any, ...] = ("model",)) -> None:
    """LazyConfig `_target_`s are imported and called by instantiate(): only model-building code may be."""
    from detectron2.utils.registry import locate

    if isinstance(node, dict):
        target = node.get("_target_")
        if isinstance(target, str):
            # Judge the object's own module, so `detectron2.modeling.x.torch.load` is refused too.
            defined_in = getattr(locate(target), "__module__", None) or ""
            if not defined_in.startswith(_D2_MODEL_PACKAGES):
                loc = resolved.location_of(path + ("_target_",))
                allowed = ", ".join(_D2_MODEL_PACKAGES)
                raise CfglintError(f"--engine framework only instantiates model code ({allowed}); "
                                   f"_target_={target!r} is not", loc.file if loc else resolved.path,
                                   loc.line if loc else None)
        for key, value in node.items():
            _check_d2_targets(value, resolved, path + (key,))
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            _check_d2_targets(value, resolved, path + (index,))
