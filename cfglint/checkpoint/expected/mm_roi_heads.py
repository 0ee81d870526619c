"""MMDetection ROI heads: Standard / Cascade / MaskScoring, their bbox, mask and mask-IoU heads,
and the C4 shared head (ResNet layer4 in the ROI head).

Mirrors mmdet/models/roi_heads/{base_roi_head,standard_roi_head,cascade_roi_head,
mask_scoring_roi_head}.py, bbox_heads/{bbox_head,convfc_bbox_head}.py, mask_heads/{fcn_mask_head,
maskiou_head}.py and shared_heads/res_layer.py.
"""
from __future__ import annotations

from cfglint.checkpoint.expected.layers import (RESNET_BLOCKS, ExpectedStateDict, Layer, UnsupportedArchitecture,
                                                concat, conv, conv_transpose, linear, prefixed)
from cfglint.checkpoint.expected.mm_backbone import DEFAULT_BN, res_layer
from cfglint.checkpoint.expected.mm_layers import conv_layer, conv_module

# Shared2FC / Shared4Conv1FC are ConvFCBBoxHead with these branch sizes preset.
_CONVFC_PRESETS = {
    "BBoxHead": None,
    "ConvFCBBoxHead": {},
    "Shared2FCBBoxHead": {"num_shared_fcs": 2},
    "Shared4Conv1FCBBoxHead": {"num_shared_convs": 4, "num_shared_fcs": 1},
}
_PARAM_FREE_LOSSES = ("CrossEntropyLoss", "FocalLoss", "SmoothL1Loss", "L1Loss", "IoULoss", "GIoULoss", "DIoULoss",
                      "CIoULoss", "BoundedIoULoss", "BalancedL1Loss", "MSELoss")


def _linear_predictor(cfg: dict, key: str, out_features: int, in_features: int) -> Layer:
    predictor = cfg.get(key, {"type": "Linear"})
    if predictor.get("type") != "Linear":
        raise UnsupportedArchitecture(f"{key} type {predictor.get('type')} is not modelled")
    return linear(out_features, in_features)


def bbox_head(cfg: dict) -> Layer:
    """BBoxHead (C4: optional avg pool) and ConvFCBBoxHead and its Shared* presets."""
    kind = cfg.get("type")
    if kind not in _CONVFC_PRESETS:
        raise UnsupportedArchitecture(f"bbox head {kind} is not modelled")
    for loss_key in ("loss_cls", "loss_bbox"):
        loss_type = cfg.get(loss_key, {}).get("type", "CrossEntropyLoss")
        if loss_type not in _PARAM_FREE_LOSSES:
            raise UnsupportedArchitecture(f"bbox head {loss_key} {loss_type} is not modelled")
    k = cfg.get("num_classes", 80)
    area = cfg.get("roi_feat_size", 7) ** 2
    avg_pool = cfg.get("with_avg_pool", False)
    in_ch = cfg.get("in_channels", 256)
    box_dim = 4 if cfg.get("reg_class_agnostic", False) else 4 * k
    if _CONVFC_PRESETS[kind] is None:
        size = in_ch if avg_pool else in_ch * area
        return concat(prefixed("fc_cls", _linear_predictor(cfg, "cls_predictor_cfg", k + 1, size)),
                      prefixed("fc_reg", _linear_predictor(cfg, "reg_predictor_cfg", box_dim, size)))
    sizes = dict(num_shared_convs=0, num_shared_fcs=0, num_cls_convs=0, num_cls_fcs=0, num_reg_convs=0,
                 num_reg_fcs=0)
    sizes.update(_CONVFC_PRESETS[kind])
    sizes.update({key: cfg[key] for key in sizes if key in cfg})
    conv_out, fc_out = cfg.get("conv_out_channels", 256), cfg.get("fc_out_channels", 1024)
    norm_cfg, conv_cfg = cfg.get("norm_cfg"), cfg.get("conv_cfg")

    def branch(name: str, num_convs: int, num_fcs: int, dim: int, is_shared: bool):
        layer: Layer = []
        for i in range(num_convs):
            layer += prefixed(f"{name}_convs.{i}", conv_module(dim if i == 0 else conv_out, conv_out, 3,
                                                                norm_cfg, conv_cfg))
        if num_convs:
            dim = conv_out
        if num_fcs and (is_shared or sizes["num_shared_fcs"] == 0) and not avg_pool:
            dim *= area
        for i in range(num_fcs):
            layer += prefixed(f"{name}_fcs.{i}", linear(fc_out, dim))
            dim = fc_out
        return layer, dim

    shared, shared_dim = branch("shared", sizes["num_shared_convs"], sizes["num_shared_fcs"], in_ch, True)
    cls_branch, cls_dim = branch("cls", sizes["num_cls_convs"], sizes["num_cls_fcs"], shared_dim, False)
    reg_branch, reg_dim = branch("reg", sizes["num_reg_convs"], sizes["num_reg_fcs"], shared_dim, False)
    if sizes["num_shared_fcs"] == 0 and not avg_pool:
        cls_dim = cls_dim * area if sizes["num_cls_fcs"] == 0 else cls_dim
        reg_dim = reg_dim * area if sizes["num_reg_fcs"] == 0 else reg_dim
    # BBoxHead registers fc_cls / fc_reg first; ConvFCBBoxHead replaces them in place.
    return concat(prefixed("fc_cls", _linear_predictor(cfg, "cls_predictor_cfg", k + 1, cls_dim)),
                  prefixed("fc_reg", _linear_predictor(cfg, "reg_predictor_cfg", box_dim, reg_dim)),
                  shared, cls_branch, reg_branch)


def mask_head(cfg: dict) -> Layer:
    """FCNMaskHead: convs, deconv `upsample`, conv_logits (1 channel when class_agnostic)."""
    if cfg.get("type") != "FCNMaskHead":
        raise UnsupportedArchitecture(f"mask head {cfg.get('type')} is not modelled")
    num_convs, in_ch = cfg.get("num_convs", 4), cfg.get("in_channels", 256)
    out_ch, kernel = cfg.get("conv_out_channels", 256), cfg.get("conv_kernel_size", 3)
    layer: Layer = []
    for i in range(num_convs):
        layer += prefixed(f"convs.{i}", conv_module(in_ch if i == 0 else out_ch, out_ch, kernel,
                                                    cfg.get("norm_cfg"), cfg.get("conv_cfg")))
    upsample = cfg.get("upsample_cfg", {"type": "deconv", "scale_factor": 2})
    up_in = out_ch if num_convs > 0 else in_ch
    method = upsample.get("type") if upsample else None
    if method == "deconv":
        layer += prefixed("upsample", conv_transpose(up_in, out_ch, upsample.get("scale_factor", 2)))
    elif method == "carafe":
        raise UnsupportedArchitecture("CARAFE mask upsampling is not modelled")
    classes = 1 if cfg.get("class_agnostic", False) else cfg.get("num_classes", 80)
    logits_in = out_ch if method == "deconv" else up_in
    layer += prefixed("conv_logits", conv_layer(cfg.get("predictor_cfg"), classes, logits_in, 1))
    return layer


def mask_iou_head(cfg: dict) -> Layer:
    """MaskIoUHead (Mask Scoring R-CNN): convs on mask features + 1 prediction channel, fcs, fc_mask_iou."""
    num_convs, num_fcs = cfg.get("num_convs", 4), cfg.get("num_fcs", 2)
    in_ch, conv_out = cfg.get("in_channels", 256), cfg.get("conv_out_channels", 256)
    fc_out, size = cfg.get("fc_out_channels", 1024), cfg.get("roi_feat_size", 14)
    layer: Layer = []
    for i in range(num_convs):
        layer += prefixed(f"convs.{i}", conv(conv_out, in_ch + 1 if i == 0 else conv_out, 3))
    for i in range(num_fcs):
        layer += prefixed(f"fcs.{i}", linear(fc_out, conv_out * (size // 2) ** 2 if i == 0 else fc_out))
    return concat(layer, prefixed("fc_mask_iou", linear(cfg.get("num_classes", 80), fc_out)))


def shared_res_layer(cfg: dict) -> Layer:
    """C4 shared head `ResLayer`: ResNet stage `stage` (layer4 by default) inside the ROI head."""
    if cfg.get("type") != "ResLayer":
        raise UnsupportedArchitecture(f"shared head {cfg.get('type')} is not modelled")
    depth, stage = cfg["depth"], cfg.get("stage", 3)
    if depth in (18, 34):
        raise UnsupportedArchitecture("a C4 shared head needs bottleneck blocks (depth >= 50)")
    planes = 64 * 2 ** stage
    layer = res_layer(depth, 64 * 2 ** (stage - 1) * 4, planes, RESNET_BLOCKS[depth][stage], cfg.get("stride", 2),
                      cfg.get("norm_cfg", DEFAULT_BN), cfg.get("dcn"))
    return prefixed(f"layer{stage + 1}", layer)


def _bbox_group(cfg: dict, stage: str = "") -> str:
    agnostic = cfg.get("reg_class_agnostic", False)
    return f"{stage}bbox head {cfg.get('type')} (num_classes={cfg.get('num_classes', 80)}, " \
           f"reg_class_agnostic={agnostic})"


def _mask_group(cfg: dict, stage: str = "") -> str:
    return f"{stage}mask head (roi_head.mask_head, num_classes={cfg.get('num_classes', 80)}, " \
           f"class_agnostic={cfg.get('class_agnostic', False)})"


def _check_roi_extractors(cfg: dict) -> None:
    """Only parameter-free RoI extractors are modelled (deformable RoI pooling has offset layers)."""
    for key in ("bbox_roi_extractor", "mask_roi_extractor"):
        extractors = cfg.get(key) or []
        for extractor in extractors if isinstance(extractors, list) else [extractors]:
            layer_type = extractor.get("roi_layer", {}).get("type")
            if extractor.get("type") != "SingleRoIExtractor" or layer_type not in ("RoIAlign", "RoIPool"):
                raise UnsupportedArchitecture(f"{key} {extractor.get('type')} with {layer_type} is not modelled")


def roi_head(sd: ExpectedStateDict, cfg: dict) -> None:
    kind = cfg.get("type")
    if kind not in ("StandardRoIHead", "CascadeRoIHead", "MaskScoringRoIHead"):
        raise UnsupportedArchitecture(f"ROI head {kind} is not modelled")
    _check_roi_extractors(cfg)
    if cfg.get("shared_head"):
        sd.add("C4 shared head (roi_head.shared_head: ResNet layer4 inside the ROI head)", "roi_head.shared_head",
               shared_res_layer(cfg["shared_head"]))
    if kind == "CascadeRoIHead":
        stages = cfg["num_stages"]
        heads = cfg["bbox_head"] if isinstance(cfg["bbox_head"], list) else [cfg["bbox_head"]] * stages
        for i, head in enumerate(heads):
            sd.add(_bbox_group(head, f"cascade stage {i} "), f"roi_head.bbox_head.{i}", bbox_head(head))
        masks = cfg.get("mask_head")
        if masks:
            masks = masks if isinstance(masks, list) else [masks] * stages
            for i, head in enumerate(masks):
                sd.add(_mask_group(head, f"cascade stage {i} "), f"roi_head.mask_head.{i}", mask_head(head))
        return
    if cfg.get("bbox_head"):
        sd.add(_bbox_group(cfg["bbox_head"]), "roi_head.bbox_head", bbox_head(cfg["bbox_head"]))
    if cfg.get("mask_head"):
        sd.add(_mask_group(cfg["mask_head"]), "roi_head.mask_head", mask_head(cfg["mask_head"]))
    if kind == "MaskScoringRoIHead":
        iou = cfg["mask_iou_head"]
        if iou.get("type") != "MaskIoUHead":
            raise UnsupportedArchitecture(f"mask IoU head {iou.get('type')} is not modelled")
        sd.add(f"mask IoU head (MaskScoringRoIHead, num_classes={iou.get('num_classes', 80)})",
               "roi_head.mask_iou_head", mask_iou_head(iou))
