"""Infer what network a state dict describes from its key names and shapes alone.

Both naming schemes are recognised (Detectron2 `backbone.bottom_up.res2...`, MMDetection
`backbone.layer1...`). Every inferred value keeps the key that proves it, so `verify` can say
"checkpoint has 3 classes (roi_heads.box_predictor.cls_score.weight is [4, 1024])".

Facts and rules: notes/detectron2.md §5.3, notes/mmdetection.md §4.3.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

Shape = Tuple[int, ...]

_DEPTHS = {(2, 2, 2, 2): 18, (3, 4, 6, 3): 50, (3, 4, 23, 3): 101, (3, 8, 36, 3): 152}


@dataclass(frozen=True)
class Evidence:
    value: object
    key: Optional[str] = None      # the tensor that proves it
    shape: Optional[Shape] = None

    def because(self) -> str:
        if self.key is None:
            return ""
        return f"{self.key} is {list(self.shape) if self.shape is not None else '?'}"


@dataclass
class Fingerprint:
    framework: Optional[str] = None                   # "detectron2" | "mmdet" | None
    fields: Dict[str, Evidence] = field(default_factory=dict)   # common-model field -> evidence
    head_classes: Dict[str, Evidence] = field(default_factory=dict)  # every head's own class count
    anchors_per_location: Optional[Evidence] = None

    def get(self, name: str):
        ev = self.fields.get(name)
        return None if ev is None else ev.value


def strip_prefix(keys: Iterable[str], prefix: str = "module.") -> Dict[str, str]:
    """Map original key -> key with `prefix` removed, when *every* key has it (as fvcore does)."""
    keys = list(keys)
    if keys and all(k.startswith(prefix) for k in keys):
        return {k: k[len(prefix):] for k in keys}
    return {k: k for k in keys}


def fingerprint(shapes: Mapping[str, Sequence[int]]) -> Fingerprint:
    """Fingerprint a {name: shape} state dict (names already unwrapped from `model`/`state_dict`)."""
    sd = {k: tuple(v) for k, v in shapes.items()}
    renamed = strip_prefix(sd)
    sd = {renamed[k]: v for k, v in sd.items()}
    if any(k.startswith("d2_model.") for k in sd):  # mmdet's Detectron2Wrapper
        sd = {k[len("d2_model."):]: v for k, v in sd.items() if k.startswith("d2_model.")}
    fp = Fingerprint()
    from cfglint.adapters import kinds
    kind = kinds.for_state_dict(list(sd))
    if kind is not None:
        fp.framework = kind.name
        kind.endpoint("fingerprint")(sd, fp)
    return fp


# ----------------------------------------------------------------------------------------- helpers

def _blocks_per_stage(sd: Mapping[str, Shape], patterns: List[str]) -> Tuple[int, ...]:
    counts = []
    for pat in patterns:
        rx = re.compile(re.escape(pat) + r"\.(\d+)\.")
        idx = {int(m.group(1)) for k in sd for m in [rx.match(k)] if m}
        counts.append(len(idx))
    return tuple(counts)


def _depth(blocks: Tuple[int, ...], bottleneck: bool) -> Optional[int]:
    if blocks[-1] == 0:  # C4 RPN-only models have no res5 at all: match on the first three stages
        matches = {d for b, d in _DEPTHS.items() if b[:3] == blocks[:3]}
        blocks = blocks[:3] + (3,) if len(matches) == 1 or blocks[:3] == (3, 4, 6) else blocks
    if blocks == (3, 4, 6, 3):
        return 50 if bottleneck else 34
    return _DEPTHS.get(blocks)


def _set(fp: Fingerprint, name: str, value, sd: Mapping[str, Shape], key: Optional[str] = None) -> None:
    fp.fields[name] = Evidence(value, key, sd.get(key) if key else None)


def _first(sd: Mapping[str, Shape], *keys: str) -> Optional[str]:
    for k in keys:
        if k in sd:
            return k
    return None


def _grouped(sd: Mapping[str, Shape], conv2_key: Optional[str], fp: Fingerprint, resnet_type: str) -> None:
    if conv2_key is None:
        return
    out_ch, in_per_group = sd[conv2_key][0], sd[conv2_key][1]
    groups = out_ch // in_per_group if in_per_group else 1
    _set(fp, "backbone.groups", groups, sd, conv2_key)
    _set(fp, "backbone.type", "ResNeXt" if groups > 1 else resnet_type, sd, conv2_key)
    if groups > 1:
        _set(fp, "backbone.width_per_group", in_per_group, sd, conv2_key)


def _norm_kind(sd: Mapping[str, Shape], prefix: str) -> Optional[str]:
    """FrozenBN (stats, no counter), BN/SyncBN (stats + num_batches_tracked), GN (affine only)."""
    names = {k[len(prefix):] for k in sd if k.startswith(prefix)}
    if not names:
        return None
    if "num_batches_tracked" in names:
        return "BN"
    if "running_mean" in names:
        return "FrozenBN"
    return "GN"


# ------------------------------------------------------------------------------------- detectron2

def fingerprint_detectron2(sd: Mapping[str, Shape], fp: Fingerprint) -> None:
    has = lambda prefix: any(k.startswith(prefix) for k in sd)  # noqa: E731
    fpn = has("backbone.bottom_up.")
    base = "backbone.bottom_up." if fpn else "backbone."
    c4 = has("roi_heads.res5.")
    stages = [f"{base}res{i}" for i in (2, 3, 4)] + ([ "roi_heads.res5"] if c4 else [f"{base}res5"])
    blocks = _blocks_per_stage(sd, stages)
    bottleneck = f"{base}res2.0.conv3.weight" in sd
    depth = _depth(blocks, bottleneck)
    evidence_key = _first(sd, f"{base}res4.{max(blocks[2] - 1, 0)}.conv1.weight")
    if depth is not None:
        _set(fp, "backbone.depth", depth, sd, evidence_key)
    _grouped(sd, _first(sd, f"{base}res2.0.conv2.weight") if bottleneck and depth else None, fp, "ResNet")
    if "backbone.type" not in fp.fields and depth is not None:
        _set(fp, "backbone.type", "ResNet", sd, _first(sd, f"{base}res2.0.conv1.weight"))
    norm = _norm_kind(sd, f"{base}stem.conv1.norm.")
    if norm:
        _set(fp, "backbone.norm", norm, sd, _first(sd, f"{base}stem.conv1.norm.weight"))
    lateral = _first(sd, "backbone.fpn_lateral2.weight", "backbone.fpn_lateral3.weight")
    if fpn:
        _set(fp, "neck.type", "FPN", sd, lateral)
        out = _first(sd, "backbone.fpn_output3.weight", "backbone.fpn_output2.weight")
        if out:
            _set(fp, "neck.out_channels", sd[out][0], sd, out)
    else:
        _set(fp, "neck.type", None, sd, None)

    # heads
    if has("head.cls_score."):  # RetinaNet / FCOS
        arch = "fcos" if "head.ctrness.weight" in sd else "retinanet"
        _set(fp, "arch", arch, sd, "head.cls_score.weight")
        cls, reg = sd.get("head.cls_score.weight"), sd.get("head.bbox_pred.weight")
        if cls and reg:
            anchors = 1 if arch == "fcos" else reg[0] // 4
            fp.anchors_per_location = Evidence(anchors, "head.bbox_pred.weight", reg)
            k = cls[0] // anchors if anchors else None
            fp.head_classes["head.cls_score"] = Evidence(k, "head.cls_score.weight", cls)
            _set(fp, "num_classes", k, sd, "head.cls_score.weight")
        _set(fp, "heads.mask", False, sd)
        _set(fp, "heads.keypoint", False, sd)
        return
    rpn_cls = "proposal_generator.rpn_head.objectness_logits.weight"
    if rpn_cls in sd:
        fp.anchors_per_location = Evidence(sd[rpn_cls][0], rpn_cls, sd[rpn_cls])
    cascade = has("roi_heads.box_predictor.0.")
    stage_ids = sorted({int(m.group(1)) for k in sd for m in [re.match(r"roi_heads\.box_predictor\.(\d+)\.", k)] if m})
    predictors = [f"roi_heads.box_predictor.{i}." for i in stage_ids] if cascade else ["roi_heads.box_predictor."]
    for p in predictors:
        key = p + "cls_score.weight"
        if key in sd:
            fp.head_classes[p.rstrip(".")] = Evidence(sd[key][0] - 1, key, sd[key])
    if predictors and predictors[-1] + "cls_score.weight" in sd:
        key = predictors[-1] + "cls_score.weight"
        k = sd[key][0] - 1
        _set(fp, "num_classes", k, sd, key)
        reg_key = predictors[-1] + "bbox_pred.weight"
        if reg_key in sd and k > 1:
            _set(fp, "heads.cls_agnostic_bbox_reg", sd[reg_key][0] == 4, sd, reg_key)
    _set(fp, "heads.num_stages", len(stage_ids) if cascade else (1 if has("roi_heads.box_predictor.") else None), sd,
         predictors[-1] + "cls_score.weight" if has("roi_heads.box_predictor.") else None)
    mask_pred = "roi_heads.mask_head.predictor.weight"
    mask_keys = [k for k in sd if k.startswith("roi_heads.mask_head.")]
    _set(fp, "heads.mask", bool(mask_keys), sd, mask_pred if mask_pred in sd else (mask_keys[0] if mask_keys else None))
    if mask_pred in sd and sd[mask_pred][0] > 1:
        fp.head_classes["roi_heads.mask_head"] = Evidence(sd[mask_pred][0], mask_pred, sd[mask_pred])
    kp = _first(sd, "roi_heads.keypoint_head.score_lowres.weight")
    _set(fp, "heads.keypoint", kp is not None, sd, kp)
    if has("sem_seg_head."):
        arch = "panoptic_fpn" if has("roi_heads.") else "semantic_segmentor"
    elif not has("roi_heads."):
        arch = "rpn" if rpn_cls in sd else None
    elif cascade:
        arch = "cascade_rcnn"
    elif kp:
        arch = "keypoint_rcnn"
    elif mask_keys:
        arch = "mask_rcnn"
    else:
        arch = "faster_rcnn"
    if arch:
        _set(fp, "arch", arch, sd, next((k for k in sd if k.startswith(("roi_heads.", "sem_seg_head."))), None))


# ------------------------------------------------------------------------------------------- mmdet

def fingerprint_mmdet(sd: Mapping[str, Shape], fp: Fingerprint) -> None:
    has = lambda prefix: any(k.startswith(prefix) for k in sd)  # noqa: E731
    c4 = has("roi_head.shared_head.layer4.")
    stages = ["backbone.layer1", "backbone.layer2", "backbone.layer3",
              "roi_head.shared_head.layer4" if c4 else "backbone.layer4"]
    blocks = _blocks_per_stage(sd, stages)
    bottleneck = "backbone.layer1.0.conv3.weight" in sd
    depth = _depth(blocks, bottleneck)
    if depth is not None:
        _set(fp, "backbone.depth", depth, sd, _first(sd, f"backbone.layer3.{max(blocks[2] - 1, 0)}.conv1.weight"))
    _grouped(sd, _first(sd, "backbone.layer1.0.conv2.weight") if bottleneck and depth else None, fp, "ResNet")
    # Only a recognised block layout makes it a ResNet: MobileNetV2 and others have `layer1` too.
    if "backbone.type" not in fp.fields and depth is not None:
        _set(fp, "backbone.type", "ResNet", sd, _first(sd, "backbone.layer1.0.conv1.weight"))
    stem_norm = "backbone.bn1." if has("backbone.bn1.") else ("backbone.gn1." if has("backbone.gn1.") else None)
    if stem_norm:
        kind = _norm_kind(sd, stem_norm)
        # mmdet BN with requires_grad=False still saves num_batches_tracked: FrozenBN is not visible.
        _set(fp, "backbone.norm", kind, sd, stem_norm + "weight")
    if has("neck.lateral_convs."):
        _set(fp, "neck.type", "FPN", sd, _first(sd, "neck.lateral_convs.0.conv.weight"))
        out = _first(sd, "neck.fpn_convs.0.conv.weight")
        if out:
            _set(fp, "neck.out_channels", sd[out][0], sd, out)
    elif not has("neck."):   # some other neck (SSDNeck, YOLOV3Neck...): its type is not visible
        _set(fp, "neck.type", None, sd, None)

    single = {"bbox_head.retina_cls.weight": "retinanet", "bbox_head.atss_cls.weight": "atss",
              "bbox_head.conv_cls.weight": "fcos", "bbox_head.gfl_cls.weight": "gfl",
              "bbox_head.rpn_cls.weight": "rpn"}
    for key, arch in single.items():
        if key in sd and not has("roi_head."):
            _set(fp, "arch", arch, sd, key)
            _set(fp, "heads.mask", False, sd)
            _set(fp, "heads.keypoint", False, sd)
            if arch == "retinanet":
                reg = sd.get("bbox_head.retina_reg.weight")
                anchors = reg[0] // 4 if reg else None
                if anchors:
                    fp.anchors_per_location = Evidence(anchors, "bbox_head.retina_reg.weight", reg)
                    k = sd[key][0] // anchors
                    fp.head_classes["bbox_head"] = Evidence(k, key, sd[key])
                    _set(fp, "num_classes", k, sd, key)
            elif arch in ("atss", "fcos", "gfl"):
                k = sd[key][0]
                fp.head_classes["bbox_head"] = Evidence(k, key, sd[key])
                _set(fp, "num_classes", k, sd, key)
            elif arch == "rpn":
                fp.anchors_per_location = Evidence(sd[key][0], key, sd[key])
            return
    if "rpn_head.rpn_cls.weight" in sd:
        fp.anchors_per_location = Evidence(sd["rpn_head.rpn_cls.weight"][0], "rpn_head.rpn_cls.weight",
                                           sd["rpn_head.rpn_cls.weight"])
    stage_ids = sorted({int(m.group(1)) for k in sd for m in [re.match(r"roi_head\.bbox_head\.(\d+)\.", k)] if m})
    heads = [f"roi_head.bbox_head.{i}." for i in stage_ids] or ["roi_head.bbox_head."]
    for p in heads:
        key = p + "fc_cls.weight"
        if key in sd:
            fp.head_classes[p.rstrip(".")] = Evidence(sd[key][0] - 1, key, sd[key])
    last = heads[-1] + "fc_cls.weight"
    if last in sd:
        k = sd[last][0] - 1
        reg = heads[-1] + "fc_reg.weight"
        if reg in sd and sd[reg][0] == 4 * (k - 1) and k > 2:  # Seesaw loss adds one more logit
            k -= 1
        _set(fp, "num_classes", k, sd, last)
        if reg in sd and k > 1:
            _set(fp, "heads.cls_agnostic_bbox_reg", sd[reg][0] == 4, sd, reg)
    if has("roi_head.bbox_head."):
        _set(fp, "heads.num_stages", len(stage_ids) or 1, sd, last if last in sd else None)
    mask_keys = sorted(k for k in sd if k.startswith("roi_head.mask_head."))
    _set(fp, "heads.mask", bool(mask_keys), sd, mask_keys[0] if mask_keys else None)
    for k in mask_keys:
        if k.endswith("conv_logits.weight") and sd[k][0] > 1:
            fp.head_classes[k[: -len(".conv_logits.weight")]] = Evidence(sd[k][0], k, sd[k])
    _set(fp, "heads.keypoint", has("roi_head.keypoint_head."), sd)
    if has("roi_head."):
        arch = "cascade_rcnn" if stage_ids else ("mask_rcnn" if mask_keys else "faster_rcnn")
        _set(fp, "arch", arch, sd, last if last in sd else None)
