"""Detectron2 heads: RPN, ROI heads (standard / C4 res5 / cascade), RetinaNet, semantic FPN.

Mirrors detectron2/modeling/{proposal_generator/rpn.py, roi_heads/*.py, meta_arch/retinanet.py,
meta_arch/semantic_seg.py}; shapes come from the YACS keys named in each group.
"""
from __future__ import annotations

from typing import List, Tuple

from cfglint.checkpoint.expected.d2_backbone import Features, bottleneck, conv_norm, norm, same_channels
from cfglint.checkpoint.expected.layers import (ExpectedStateDict, Layer, UnsupportedArchitecture, concat, conv,
                                                conv_transpose, linear, prefixed)


def _broadcast(params: list, levels: int) -> List[list]:
    """`DefaultAnchorGenerator._broadcast_params`: one list per feature level."""
    if not params or not isinstance(params[0], (list, tuple)):
        return [params] * levels
    if len(params) == 1:
        return list(params) * levels
    if len(params) != levels:
        raise UnsupportedArchitecture(f"anchor settings list {len(params)} levels for {levels} feature maps")
    return params


def anchors_per_location(model: dict, levels: int) -> Tuple[int, int]:
    """(anchors per location, box dim) of MODEL.ANCHOR_GENERATOR over `levels` feature maps."""
    ag = model["ANCHOR_GENERATOR"]
    sizes, ratios = _broadcast(ag["SIZES"], levels), _broadcast(ag["ASPECT_RATIOS"], levels)
    counts = {len(s) * len(r) for s, r in zip(sizes, ratios)}
    if ag["NAME"] == "RotatedAnchorGenerator":
        angles = _broadcast(ag["ANGLES"], levels)
        counts = {len(s) * len(r) * len(a) for s, r, a in zip(sizes, ratios, angles)}
        box_dim = 5
    elif ag["NAME"] == "DefaultAnchorGenerator":
        box_dim = 4
    else:
        raise UnsupportedArchitecture(f"MODEL.ANCHOR_GENERATOR.NAME={ag['NAME']} is not modelled")
    if len(counts) != 1:
        raise UnsupportedArchitecture("MODEL.ANCHOR_GENERATOR gives a different anchor count per level")
    return counts.pop(), box_dim


def rpn(sd: ExpectedStateDict, model: dict, features: Features) -> None:
    name = model["PROPOSAL_GENERATOR"]["NAME"]
    if name == "PrecomputedProposals":
        return
    if name != "RPN" or model["RPN"]["HEAD_NAME"] != "StandardRPNHead":
        raise UnsupportedArchitecture(f"proposal generator {name} / {model['RPN']['HEAD_NAME']} is not modelled")
    in_features = model["RPN"]["IN_FEATURES"]
    channels = same_channels(features, in_features, "MODEL.RPN.IN_FEATURES")
    anchors, box_dim = anchors_per_location(model, len(in_features))
    conv_dims = model["RPN"]["CONV_DIMS"]
    layer: Layer = []
    cur = channels
    for k, dim in enumerate(conv_dims):
        out = cur if dim == -1 else dim
        name_k = "conv" if len(conv_dims) == 1 else f"conv.conv{k}"
        layer += prefixed(name_k, conv(out, cur, 3))
        cur = out
    layer += prefixed("objectness_logits", conv(anchors, cur, 1))
    layer += prefixed("anchor_deltas", conv(anchors * box_dim, cur, 1))
    sd.add(f"RPN head ({anchors} anchors per location from MODEL.ANCHOR_GENERATOR, "
           f"{channels} channels of MODEL.RPN.IN_FEATURES={in_features})",
           "proposal_generator.rpn_head", layer)


def box_head(model: dict, in_ch: int, resolution: int) -> Tuple[Layer, int]:
    """FastRCNNConvFCHead: conv{k} then fc{k}; returns its layer and its flattened output size."""
    h = model["ROI_BOX_HEAD"]
    if h["NAME"] != "FastRCNNConvFCHead":
        raise UnsupportedArchitecture(f"MODEL.ROI_BOX_HEAD.NAME={h['NAME']} is not modelled")
    layer: Layer = []
    channels = in_ch
    for k in range(h["NUM_CONV"]):
        layer += prefixed(f"conv{k + 1}", conv_norm(h["CONV_DIM"], channels, 3, h["NORM"], bias=not h["NORM"]))
        channels = h["CONV_DIM"]
    size = channels * resolution * resolution
    for k in range(h["NUM_FC"]):
        layer += prefixed(f"fc{k + 1}", linear(h["FC_DIM"], size))
        size = h["FC_DIM"]
    return layer, size


def box_predictor(model: dict, in_size: int, reg_weights: list, agnostic: bool) -> Layer:
    """FastRCNNOutputLayers: cls_score (K+1) and bbox_pred (K or 1 times box dim)."""
    k = model["ROI_HEADS"]["NUM_CLASSES"]
    layer = concat(prefixed("cls_score", linear(k + 1, in_size)),
                   prefixed("bbox_pred", linear((1 if agnostic else k) * len(reg_weights), in_size)))
    if model["ROI_BOX_HEAD"]["USE_FED_LOSS"]:
        layer.append(("fed_loss_cls_weights", (k,)))
    return layer


def _predictor_group(model: dict, agnostic: bool) -> str:
    k = model["ROI_HEADS"]["NUM_CLASSES"]
    reg = "class-agnostic" if agnostic else "per-class"
    return f"box predictor (MODEL.ROI_HEADS.NUM_CLASSES={k}, {reg} box regression: " \
           f"MODEL.ROI_BOX_HEAD.CLS_AGNOSTIC_BBOX_REG={agnostic})"


def mask_head(sd: ExpectedStateDict, model: dict, in_ch: int) -> None:
    m = model["ROI_MASK_HEAD"]
    if m["NAME"] != "MaskRCNNConvUpsampleHead":
        raise UnsupportedArchitecture(f"MODEL.ROI_MASK_HEAD.NAME={m['NAME']} is not modelled")
    k = 1 if m["CLS_AGNOSTIC_MASK"] else model["ROI_HEADS"]["NUM_CLASSES"]
    layer: Layer = []
    cur = in_ch
    for i in range(m["NUM_CONV"]):
        layer += prefixed(f"mask_fcn{i + 1}", conv_norm(m["CONV_DIM"], cur, 3, m["NORM"], bias=not m["NORM"]))
        cur = m["CONV_DIM"]
    layer += prefixed("deconv", conv_transpose(cur, m["CONV_DIM"], 2))
    layer += prefixed("predictor", conv(k, m["CONV_DIM"], 1))
    sd.add(f"mask head (MODEL.MASK_ON, {k} mask classes: MODEL.ROI_HEADS.NUM_CLASSES / "
           f"MODEL.ROI_MASK_HEAD.CLS_AGNOSTIC_MASK)", "roi_heads.mask_head", layer)


def keypoint_head(sd: ExpectedStateDict, model: dict, in_ch: int) -> None:
    kp = model["ROI_KEYPOINT_HEAD"]
    if kp["NAME"] != "KRCNNConvDeconvUpsampleHead":
        raise UnsupportedArchitecture(f"MODEL.ROI_KEYPOINT_HEAD.NAME={kp['NAME']} is not modelled")
    layer: Layer = []
    cur = in_ch
    for i, dim in enumerate(kp["CONV_DIMS"], 1):
        layer += prefixed(f"conv_fcn{i}", conv(dim, cur, 3))
        cur = dim
    layer += prefixed("score_lowres", conv_transpose(cur, kp["NUM_KEYPOINTS"], 4))
    sd.add(f"keypoint head (MODEL.KEYPOINT_ON, MODEL.ROI_KEYPOINT_HEAD.NUM_KEYPOINTS={kp['NUM_KEYPOINTS']})",
           "roi_heads.keypoint_head", layer)


def roi_heads(sd: ExpectedStateDict, model: dict, features: Features) -> None:
    name = model["ROI_HEADS"]["NAME"]
    in_features = model["ROI_HEADS"]["IN_FEATURES"]
    channels = same_channels(features, in_features, "MODEL.ROI_HEADS.IN_FEATURES")
    resolution = model["ROI_BOX_HEAD"]["POOLER_RESOLUTION"]
    agnostic = model["ROI_BOX_HEAD"]["CLS_AGNOSTIC_BBOX_REG"]
    if name == "Res5ROIHeads":
        _res5_roi_heads(sd, model)
        return
    if name == "StandardROIHeads":
        layer, size = box_head(model, channels, resolution)
        sd.add(f"box head (MODEL.ROI_BOX_HEAD.NUM_CONV={model['ROI_BOX_HEAD']['NUM_CONV']}, "
               f"NUM_FC={model['ROI_BOX_HEAD']['NUM_FC']}, NORM={model['ROI_BOX_HEAD']['NORM']!r})",
               "roi_heads.box_head", layer)
        sd.add(_predictor_group(model, agnostic), "roi_heads.box_predictor",
               box_predictor(model, size, model["ROI_BOX_HEAD"]["BBOX_REG_WEIGHTS"], agnostic))
    elif name == "CascadeROIHeads":
        _cascade_box_heads(sd, model, channels, resolution)
    else:
        raise UnsupportedArchitecture(f"MODEL.ROI_HEADS.NAME={name} is not modelled")
    if model["MASK_ON"]:
        mask_head(sd, model, channels)
    if model["KEYPOINT_ON"]:
        keypoint_head(sd, model, channels)


def _cascade_box_heads(sd: ExpectedStateDict, model: dict, channels: int, resolution: int) -> None:
    """CascadeROIHeads: a ModuleList of box heads, then one of class-agnostic predictors."""
    weights = model["ROI_BOX_CASCADE_HEAD"]["BBOX_REG_WEIGHTS"]
    if not model["ROI_BOX_HEAD"]["CLS_AGNOSTIC_BBOX_REG"]:
        raise UnsupportedArchitecture("Detectron2 cascade heads require MODEL.ROI_BOX_HEAD.CLS_AGNOSTIC_BBOX_REG")
    group = f"cascade stage {{}} (MODEL.ROI_BOX_CASCADE_HEAD has {len(weights)} stages)"
    sizes = []
    for i in range(len(weights)):
        layer, size = box_head(model, channels, resolution)
        sd.add(group.format(i), f"roi_heads.box_head.{i}", layer)
        sizes.append(size)
    for i, (size, stage_weights) in enumerate(zip(sizes, weights)):
        sd.add(_predictor_group(model, True), f"roi_heads.box_predictor.{i}",
               box_predictor(model, size, stage_weights, True))


def _res5_roi_heads(sd: ExpectedStateDict, model: dict) -> None:
    """C4: the ROI head owns a 3-block res5 stage, pools it to 1x1 and predicts from it."""
    r = model["RESNETS"]
    if model["KEYPOINT_ON"]:
        raise UnsupportedArchitecture("Res5ROIHeads does not support MODEL.KEYPOINT_ON")
    if r["DEPTH"] in (18, 34):
        raise UnsupportedArchitecture("Res5ROIHeads needs bottleneck blocks (MODEL.RESNETS.DEPTH >= 50)")
    out_ch = r["RES2_OUT_CHANNELS"] * 8
    bottleneck_ch = r["NUM_GROUPS"] * r["WIDTH_PER_GROUP"] * 8
    blocks: Layer = []
    for b in range(3):
        blocks += prefixed(str(b), bottleneck(out_ch // 2 if b == 0 else out_ch, bottleneck_ch, out_ch,
                                              r["NUM_GROUPS"], r["NORM"]))
    sd.add(f"res5 stage in the ROI head (C4: MODEL.ROI_HEADS.NAME=Res5ROIHeads, MODEL.RESNETS.NORM={r['NORM']})",
           "roi_heads.res5", blocks)
    agnostic = model["ROI_BOX_HEAD"]["CLS_AGNOSTIC_BBOX_REG"]
    sd.add(_predictor_group(model, agnostic), "roi_heads.box_predictor",
           box_predictor(model, out_ch, model["ROI_BOX_HEAD"]["BBOX_REG_WEIGHTS"], agnostic))
    if model["MASK_ON"]:
        mask_head(sd, model, out_ch)


def retinanet_head(sd: ExpectedStateDict, model: dict, features: Features) -> None:
    rn = model["RETINANET"]
    channels = same_channels(features, rn["IN_FEATURES"], "MODEL.RETINANET.IN_FEATURES")
    if rn["NORM"] in ("BN", "SyncBN"):
        raise UnsupportedArchitecture("RetinaNet heads with per-level BatchNorm (MODEL.RETINANET.NORM) "
                                      "are not modelled")
    anchors, _ = anchors_per_location(model, len(rn["IN_FEATURES"]))
    k = rn["NUM_CLASSES"]
    for subnet in ("cls_subnet", "bbox_subnet"):
        layer: Layer = []
        index = 0
        for _ in range(rn["NUM_CONVS"]):
            layer += prefixed(str(index), conv(channels, channels, 3))
            if rn["NORM"]:
                layer += prefixed(str(index + 1), norm(rn["NORM"], channels))
            index += 3 if rn["NORM"] else 2
        sd.add(f"RetinaNet {subnet} (MODEL.RETINANET.NUM_CONVS={rn['NUM_CONVS']}, NORM={rn['NORM']!r})",
               f"head.{subnet}", layer)
    sd.add(f"RetinaNet classifier (MODEL.RETINANET.NUM_CLASSES={k} x {anchors} anchors per location)",
           "head.cls_score", conv(anchors * k, channels, 3))
    sd.add(f"RetinaNet box regressor ({anchors} anchors per location from MODEL.ANCHOR_GENERATOR)",
           "head.bbox_pred", conv(anchors * 4, channels, 3))


def sem_seg_head(sd: ExpectedStateDict, model: dict, features: Features) -> None:
    s = model["SEM_SEG_HEAD"]
    if s["NAME"] != "SemSegFPNHead":
        raise UnsupportedArchitecture(f"MODEL.SEM_SEG_HEAD.NAME={s['NAME']} is not modelled")
    missing = [f for f in s["IN_FEATURES"] if f not in features]
    if missing:
        raise UnsupportedArchitecture(f"MODEL.SEM_SEG_HEAD.IN_FEATURES reads {missing}, which the backbone lacks")
    dim, norm_kind = s["CONVS_DIM"], s["NORM"]
    common = s["COMMON_STRIDE"].bit_length() - 1
    group = f"semantic segmentation head (MODEL.SEM_SEG_HEAD.NUM_CLASSES={s['NUM_CLASSES']})"
    for name in sorted(s["IN_FEATURES"], key=lambda f: features[f][1]):
        channels, stride = features[name]
        length = max(1, stride.bit_length() - 1 - common)
        layer: Layer = []
        for k in range(length):
            in_ch = channels if k == 0 else dim
            index = 2 * k if stride != s["COMMON_STRIDE"] else k
            layer += prefixed(str(index), conv_norm(dim, in_ch, 3, norm_kind, bias=not norm_kind))
        sd.add(group, f"sem_seg_head.{name}", layer)
    sd.add(group, "sem_seg_head.predictor", conv(s["NUM_CLASSES"], dim, 1))

