"""Head-side fields of an MMDetection model: classes count, head kinds, box coder, anchors, test cfg.

The detector dict is ``model`` itself, or the ``model.detector`` a wrapper (tracking,
Detectron2Wrapper) builds. Two-stage detectors keep their final box head at
``roi_head.bbox_head`` (a list of stages for cascades), single-stage ones at ``bbox_head``.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

from cfglint.adapters.normalize_common import (Writer, is_int, is_number, last_of, native_key, short_type,
                                                      tidy_number, walk_dicts)
from cfglint.model.common import Inconsistency
from cfglint.model.resolved import KeyPath

# Sub-trees whose num_classes is not the detection label space: HTC / Panoptic FPN semantic heads
# count stuff classes too (183 in HTC), RPN heads are class-agnostic proposers.
_NOT_DETECTION_CLASSES = frozenset({"semantic_head", "rpn_head", "backbone", "neck", "data_preprocessor",
                                    "train_cfg", "test_cfg"})

# mmdet BBoxHead's default coder (mmdet/models/roi_heads/bbox_heads/bbox_head.py).
_ROI_BBOX_HEAD_STDS = [0.1, 0.1, 0.2, 0.2]


def final_box_head(det: dict, path: KeyPath) -> Tuple[Optional[dict], KeyPath]:
    """The box head whose output is the detections: last ROI stage, else the dense head."""
    roi = det.get("roi_head")
    if isinstance(roi, dict) and roi.get("bbox_head") is not None:
        head, head_path = last_of(roi["bbox_head"], path + ("roi_head", "bbox_head"))
        if isinstance(head, dict):
            return head, head_path
    if isinstance(det.get("bbox_head"), dict):
        return det["bbox_head"], path + ("bbox_head",)
    return None, ()


# --- num_classes ---------------------------------------------------------------------------------

def fill_num_classes(w: Writer, det: dict, path: KeyPath) -> None:
    """num_classes from the final box head; every head that states it must agree."""
    found = _num_classes_paths(det, path)
    if not found:
        return
    head, head_path = final_box_head(det, path)
    chosen = next(((p, v) for p, v in found if head is not None and p == head_path + ("num_classes",)), found[0])
    w.put("num_classes", chosen[1], chosen[0])
    if len({v for _, v in found}) > 1:
        values = {native_key(p): v for p, v in found}
        w.model.inconsistencies.append(Inconsistency(
            field="num_classes",
            values=values,
            locations={native_key(p): w.resolved.location_of(p) for p, _ in found},
            message="the heads disagree on num_classes: "
                    + ", ".join(f"{k}={v}" for k, v in values.items()),
        ))


def _num_classes_paths(det: dict, path: KeyPath) -> List[Tuple[KeyPath, int]]:
    found = []
    for node, node_path in walk_dicts(det, path, skip=_NOT_DETECTION_CLASSES):
        if is_int(node.get("num_classes")):
            found.append((node_path + ("num_classes",), node["num_classes"]))
    return found


# --- head kinds, box coder, cascade stages ------------------------------------------------------

def fill_heads(w: Writer, det: dict, path: KeyPath) -> None:
    roi = det.get("roi_head") if isinstance(det.get("roi_head"), dict) else None
    if roi is not None and roi.get("mask_head") is not None:
        w.put("heads.mask", True, path + ("roi_head", "mask_head"))
    elif det.get("mask_head") is not None:   # SOLO, YOLACT, CondInst: a mask head beside the dense head
        w.put("heads.mask", True, path + ("mask_head",))
    else:
        w.put("heads.mask", False, path + ("roi_head", "mask_head") if roi is not None else path + ("mask_head",),
              default=True)
    keypoint = next((k for k in ("keypoint_head",) if det.get(k) is not None or (roi or {}).get(k) is not None), None)
    w.put("heads.keypoint", keypoint is not None,
          path + (("roi_head",) if roi is not None else ()) + ("keypoint_head",), default=keypoint is None)
    if roi is None:
        return
    if is_int(roi.get("num_stages")):
        w.put("heads.num_stages", roi["num_stages"], path + ("roi_head", "num_stages"))
    elif isinstance(roi.get("bbox_head"), dict):
        w.put("heads.num_stages", 1, path + ("roi_head", "type"), default=True)
    head, head_path = final_box_head(det, path)
    if head is None:
        return
    w.put_key("heads.cls_agnostic_bbox_reg", head, head_path, "reg_class_agnostic", default=False, convert=bool)
    _fill_reg_weights(w, head, head_path, default_stds=_ROI_BBOX_HEAD_STDS)


def fill_dense_head_coder(w: Writer, det: dict, path: KeyPath) -> None:
    """Single-stage detectors: box coder weights of the dense head (no default: it is per head type)."""
    if det.get("roi_head") is None and isinstance(det.get("bbox_head"), dict):
        _fill_reg_weights(w, det["bbox_head"], path + ("bbox_head",), default_stds=None)


def _fill_reg_weights(w: Writer, head: dict, head_path: KeyPath, default_stds: Optional[list]) -> None:
    """Detectron2's BBOX_REG_WEIGHTS are the reciprocals of mmdet's DeltaXYWH target_stds."""
    coder = head.get("bbox_coder")
    if coder is None:
        stds, stds_path, default = default_stds, head_path + ("bbox_coder", "target_stds"), True
    elif isinstance(coder, dict) and short_type(coder.get("type")) in ("DeltaXYWHBBoxCoder", "LegacyDeltaXYWHBBoxCoder"):
        stds_path = head_path + ("bbox_coder", "target_stds")
        default = "target_stds" not in coder
        stds = [1.0, 1.0, 1.0, 1.0] if default else coder["target_stds"]   # DeltaXYWHBBoxCoder default
    else:
        return
    if isinstance(stds, (list, tuple)) and len(stds) == 4 and all(is_number(s) and s for s in stds):
        w.put("heads.bbox_reg_weights", [round(1.0 / s, 6) for s in stds], stds_path, default=default)


# --- anchors -------------------------------------------------------------------------------------

def fill_anchors(w: Writer, det: dict, path: KeyPath) -> None:
    """anchors.sizes per level (base size x scale, as D2 counts them) and aspect ratios (h/w in both)."""
    for head_key in ("rpn_head", "bbox_head"):
        head = det.get(head_key)
        if not isinstance(head, dict):
            continue
        for gen_key in ("anchor_generator", "prior_generator"):
            gen = head.get(gen_key)
            if isinstance(gen, dict) and short_type(gen.get("type")) in ("AnchorGenerator", "LegacyAnchorGenerator"):
                _put_anchor_sizes(w, gen, path + (head_key, gen_key))
                return


def _put_anchor_sizes(w: Writer, gen: dict, path: KeyPath) -> None:
    strides = gen.get("strides")
    if not isinstance(strides, (list, tuple)) or not strides:
        return
    base_sizes = gen.get("base_sizes")
    if base_sizes is None:   # AnchorGenerator: base size of a level = min of its (w, h) stride
        base_sizes = [min(s) if isinstance(s, (list, tuple)) else s for s in strides]
    if "scales" in gen and gen["scales"] is not None:
        scales, scales_path = list(gen["scales"]), path + ("scales",)
    elif is_number(gen.get("octave_base_scale")) and is_int(gen.get("scales_per_octave")):
        n = gen["scales_per_octave"]
        scales = [gen["octave_base_scale"] * 2 ** (i / n) for i in range(n)]
        scales_path = path + ("octave_base_scale",)
    else:
        return
    if all(is_number(b) for b in base_sizes) and all(is_number(s) for s in scales):
        w.put("anchors.sizes", [[tidy_number(float(b * s)) for s in scales] for b in base_sizes], scales_path)
    ratios = gen.get("ratios")
    if isinstance(ratios, (list, tuple)) and all(is_number(r) for r in ratios):
        w.put("anchors.aspect_ratios", [[float(r) for r in ratios]], path + ("ratios",))


# --- test cfg ------------------------------------------------------------------------------------

def model_test_cfg(w: Writer, det: dict, det_path: KeyPath) -> Tuple[Optional[dict], KeyPath]:
    """``model.test_cfg``, else the 2.x top-level model test cfg (never the 3.x ``TestLoop``)."""
    if isinstance(det.get("test_cfg"), dict):
        return det["test_cfg"], det_path + ("test_cfg",)
    top = w.cfg.get("test_cfg")
    if isinstance(top, dict) and "type" not in top:   # 3.x loops always name their type
        return top, ("test_cfg",)
    return None, ()


def fill_test_cfg(w: Writer, det: dict, det_path: KeyPath) -> None:
    cfg, path = model_test_cfg(w, det, det_path)
    if cfg is None:
        return
    rpn = cfg.get("rpn")
    if isinstance(rpn, dict):
        rpn_path = path + ("rpn",)
        w.put_key("test.rpn.pre_nms_topk", rpn, rpn_path, "nms_pre")
        _put_first(w, "test.rpn.post_nms_topk", rpn, rpn_path, ("max_per_img", "max_num"))
        _put_nms_iou(w, "test.rpn.nms_iou", rpn, rpn_path)
    final, final_path = cfg.get("rcnn"), path + ("rcnn",)
    if not isinstance(final, dict):
        final, final_path = (cfg, path) if not isinstance(rpn, dict) else (None, ())
    if final is None:
        return
    w.put_key("test.score_thresh", final, final_path, "score_thr")
    _put_nms_iou(w, "test.nms_iou", final, final_path)
    _put_first(w, "test.max_detections", final, final_path, ("max_per_img", "max_per_image"))
    _put_first(w, "test.mask_thresh", final, final_path, ("mask_thr_binary", "mask_thr"))


def _put_first(w: Writer, field: str, node: dict, path: KeyPath, keys: Tuple[str, ...]) -> None:
    for key in keys:
        if node.get(key) is not None:
            w.put(field, node[key], path + (key,))
            return


def _put_nms_iou(w: Writer, field: str, node: dict, path: KeyPath) -> None:
    nms = node.get("nms")
    if isinstance(nms, dict) and is_number(nms.get("iou_threshold")):
        w.put(field, nms["iou_threshold"], path + ("nms", "iou_threshold"))
    elif is_number(node.get("nms_thr")):   # pre-2.0 spelling
        w.put(field, node["nms_thr"], path + ("nms_thr",))
