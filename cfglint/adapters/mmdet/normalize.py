"""MMDetection (2.x and 3.x syntax) resolved config -> the common model.

Reads the plain data `Config.fromfile(p).to_dict()` gives (no framework import) and fills each
common-model field with what mmdet would effectively use, with the native key and location it
came from. Fields the config cannot express stay None.

Decisions (see also normalize_data / normalize_heads):

* ``arch`` comes from the detector type, lower snake case; a cascade with mask heads stays
  ``cascade_rcnn`` (mmdet has one CascadeRCNN type for both) and says so with ``heads.mask``.
* ``backbone.norm`` is ``FrozenBN`` for ``BN`` with ``requires_grad=False`` and ``norm_eval=True``:
  neither statistics nor affine parameters ever change, which is exactly Detectron2's
  FrozenBatchNorm2d. Otherwise it is the norm_cfg type as written (``BN``, ``SyncBN``, ``GN``);
  the native key in the provenance keeps the raw spelling.
* ``weights`` is ``load_from``, else the 2.x ``pretrained`` key, else the detector's / backbone's
  ``init_cfg`` checkpoint.
"""
from __future__ import annotations

import functools
import re
from typing import Optional, Tuple

from cfglint.adapters.mmdet import normalize_data as data
from cfglint.adapters.mmdet import normalize_heads as heads
from cfglint.adapters.normalize_common import Writer, is_int, short_type
from cfglint.model import CommonModel, ResolvedConfig
from cfglint.model.resolved import KeyPath

_ARCH_NAMES = {
    "RetinaNet": "retinanet",
    "RTMDet": "rtmdet",
    "FasterRCNN": "faster_rcnn",
    "MaskRCNN": "mask_rcnn",
    "CascadeRCNN": "cascade_rcnn",
    "FCOS": "fcos",
    "ATSS": "atss",
    "RPN": "rpn",
}

# Backbones built on mmdet's ResNet: they take depth/style/norm_cfg/frozen_stages/dilations.
_RESNET_FAMILY = {"ResNet", "ResNetV1d", "ResNeXt", "Res2Net", "ResNeSt", "RegNet", "TridentResNet",
                  "DetectoRS_ResNet", "DetectoRS_ResNeXt"}
# Plain bottlenecks: one group of width 64 at res2 (Detectron2 NUM_GROUPS=1, WIDTH_PER_GROUP=64).
_PLAIN_RESNETS = {"ResNet", "ResNetV1d", "DetectoRS_ResNet"}
_RESNEXTS = {"ResNeXt", "DetectoRS_ResNeXt"}

# Lazy configs name torch classes; map them to the registry names old-style configs use.
_NORM_NAMES = {"BatchNorm2d": "BN", "SyncBatchNorm": "SyncBN", "GroupNorm": "GN", "LayerNorm": "LN"}


def normalize(resolved: ResolvedConfig) -> CommonModel:
    model = CommonModel(framework="mmdet", path=resolved.path)
    model.resolved = resolved
    w = Writer(resolved, model)
    found = find_detector(resolved.data)
    if found is not None:
        det, det_path = found
        _fill_arch(w, det, det_path)
        _fill_backbone(w, det, det_path)
        _fill_neck(w, det, det_path)
        heads.fill_num_classes(w, det, det_path)
        heads.fill_heads(w, det, det_path)
        heads.fill_dense_head_coder(w, det, det_path)
        heads.fill_anchors(w, det, det_path)
        heads.fill_test_cfg(w, det, det_path)
    data.fill_input(w, _data_preprocessor(resolved.data, found))
    data.fill_test_resize(w)
    data.fill_train_resize(w)
    data.fill_classes(w)
    _fill_weights(w, found)
    return model


def find_detector(cfg: dict) -> Optional[Tuple[dict, KeyPath]]:
    """``model``, or the detector a wrapper (tracker, Detectron2Wrapper) builds from ``model.detector``."""
    det, path = cfg.get("model"), ("model",)
    if not isinstance(det, dict):
        return None
    # Detectron2Wrapper's detector is a Detectron2 config (no `type`): the wrapper is the detector.
    while isinstance(det.get("detector"), dict) and "type" in det["detector"] and "backbone" not in det:
        det, path = det["detector"], path + ("detector",)
    return det, path


def _data_preprocessor(cfg: dict, found: Optional[Tuple[dict, KeyPath]]) -> Optional[Tuple[dict, KeyPath]]:
    """The 3.x data preprocessor: the outermost model's (a wrapper preprocesses for its detector)."""
    candidates = [(cfg.get("model"), ("model",))]
    if found is not None:
        candidates.append(found)
    for node, path in candidates:
        if isinstance(node, dict) and isinstance(node.get("data_preprocessor"), dict):
            prep, path = node["data_preprocessor"], path + ("data_preprocessor",)
            # MultiBranchDataPreprocessor (semi-supervised) normalizes with the one it wraps.
            while isinstance(prep.get("data_preprocessor"), dict):
                prep, path = prep["data_preprocessor"], path + ("data_preprocessor",)
            return prep, path
    return None


@functools.lru_cache(maxsize=1024)   # one per type name a run meets, not one per config
def arch_name(type_name: str) -> str:
    """FasterRCNN -> faster_rcnn, PanopticFPN -> panoptic_fpn, unknown types snake-cased."""
    if type_name in _ARCH_NAMES:
        return _ARCH_NAMES[type_name]
    # Split "RTMDet" -> RTM_Det but keep version suffixes whole: SOLOv2, YOLOV3, Mask2Former.
    # The first pattern backtracks quadratically on a long run of capitals; no class name is this long.
    type_name = type_name[:128]
    snake = re.sub(r"([A-Z]+)([A-Z][a-z]{2,})", r"\1_\2", type_name)
    snake = re.sub(r"([a-z])([A-Z])", r"\1_\2", snake)
    return snake.lower()


def _fill_arch(w: Writer, det: dict, path: KeyPath) -> None:
    name = short_type(det.get("type"))
    if name:
        w.put("arch", arch_name(name), path + ("type",))


def _fill_backbone(w: Writer, det: dict, det_path: KeyPath) -> None:
    bb, path = det.get("backbone"), det_path + ("backbone",)
    if not isinstance(bb, dict):
        return
    kind = short_type(bb.get("type"))
    if kind is None:
        return
    w.put("backbone.type", kind, path + ("type",))
    if is_int(bb.get("depth")):
        w.put("backbone.depth", bb["depth"], path + ("depth",))
    if kind in _RESNET_FAMILY:
        # mmdet ResNet defaults: style='pytorch', frozen_stages=-1, dilations=(1, 1, 1, 1).
        w.put_key("backbone.style", bb, path, "style", default="pytorch")
        w.put_key("backbone.frozen_stages", bb, path, "frozen_stages", default=-1)
        _fill_dilation(w, bb, path)
        _fill_norm(w, bb, path)
    elif is_int(bb.get("frozen_stages")):
        w.put("backbone.frozen_stages", bb["frozen_stages"], path + ("frozen_stages",))
    if kind in _PLAIN_RESNETS:
        w.put("backbone.groups", 1, path + ("groups",), default=True)
        w.put("backbone.width_per_group", 64, path + ("base_width",), default=True)
    elif kind in _RESNEXTS:   # mmdet ResNeXt(groups=1, base_width=4); base_width = D2 WIDTH_PER_GROUP
        w.put_key("backbone.groups", bb, path, "groups", default=1)
        w.put_key("backbone.width_per_group", bb, path, "base_width", default=4)


def _fill_dilation(w: Writer, bb: dict, path: KeyPath) -> None:
    dilations = bb.get("dilations")
    if dilations is None:
        w.put("backbone.dilation", 1, path + ("dilations",), default=True)
    elif isinstance(dilations, (list, tuple)) and dilations and is_int(dilations[-1]):
        w.put("backbone.dilation", dilations[-1], path + ("dilations",))


def _fill_norm(w: Writer, bb: dict, path: KeyPath) -> None:
    """See the module docstring: frozen BN is reported as FrozenBN."""
    norm_cfg = bb.get("norm_cfg")
    if norm_cfg is None:   # ResNet default norm_cfg=dict(type='BN', requires_grad=True)
        w.put("backbone.norm", "BN", path + ("norm_cfg", "type"), default=True)
        return
    if not isinstance(norm_cfg, dict) or short_type(norm_cfg.get("type")) is None:
        return
    norm = short_type(norm_cfg["type"])
    norm = _NORM_NAMES.get(norm, norm)
    frozen = norm == "BN" and norm_cfg.get("requires_grad", True) is False and bb.get("norm_eval", True) is True
    w.put("backbone.norm", "FrozenBN" if frozen else norm, path + ("norm_cfg", "type"))


def _fill_neck(w: Writer, det: dict, det_path: KeyPath) -> None:
    neck, path = det.get("neck"), det_path + ("neck",)
    if isinstance(neck, (list, tuple)) and neck:   # e.g. Libra R-CNN: [FPN, BFP]; the first builds the levels
        neck, path = neck[0], path + (0,)
    if not isinstance(neck, dict) or short_type(neck.get("type")) is None:
        return
    w.put("neck.type", short_type(neck["type"]), path + ("type",))
    if is_int(neck.get("out_channels")):
        w.put("neck.out_channels", neck["out_channels"], path + ("out_channels",))


def _fill_weights(w: Writer, found: Optional[Tuple[dict, KeyPath]]) -> None:
    if isinstance(w.cfg.get("load_from"), str) and w.cfg["load_from"]:
        w.put("weights", w.cfg["load_from"], ("load_from",))
        return
    if found is None:
        return
    det, det_path = found
    # 2.x `pretrained` first: a child setting it means it (mmdet 2.x refuses it next to init_cfg).
    for node, path in ((det, det_path), (det.get("backbone") or {}, det_path + ("backbone",))):
        if isinstance(node.get("pretrained"), str):
            w.put("weights", node["pretrained"], path + ("pretrained",))
            return
    candidates = [(det.get("init_cfg"), det_path + ("init_cfg",)),
                  ((det.get("backbone") or {}).get("init_cfg"), det_path + ("backbone", "init_cfg"))]
    for init_cfg, path in candidates:
        if isinstance(init_cfg, dict) and short_type(init_cfg.get("type")) == "Pretrained" \
                and isinstance(init_cfg.get("checkpoint"), str):
            w.put("weights", init_cfg["checkpoint"], path + ("checkpoint",))
            return
