"""MMDetection 3.x config -> a Detectron2 YACS YAML (VERSION 2, keys that differ from defaults).

Fields the common model already normalizes (input statistics and channel order, resizes, test
thresholds, backbone family) are taken from it, so mmdet's many spellings are read in one place
(cfglint.adapters.mmdet); structure only the native config has (head types, RoIAlign, FPN extra
levels, box coders) is read from the resolved data. Anything Detectron2 cannot express is warned.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import yaml

from cfglint.adapters.detectron2.defaults_table import DEFAULTS
from cfglint.convert import anchors, d2_names
from cfglint.convert.result import ConfigConversion, Warnings
from cfglint.errors import UnsupportedError
from cfglint.model import CommonModel, ResolvedConfig

_STAGES = ["res2", "res3", "res4", "res5"]
_ALWAYS = {("MODEL", "META_ARCHITECTURE"), ("MODEL", "BACKBONE", "NAME"), ("MODEL", "RESNETS", "DEPTH"),
           ("MODEL", "MASK_ON"), ("MODEL", "ROI_HEADS", "NUM_CLASSES"), ("MODEL", "RETINANET", "NUM_CLASSES")}
# COCO 2017 train has 117266 images with annotations; epochs become iterations at the batch below.
_COCO_TRAIN_IMAGES = 117266


class _Out:
    """The Detectron2 keys being written, by dotted name."""

    def __init__(self):
        self.values: Dict[tuple, Any] = {}

    def __setitem__(self, key: str, value: Any) -> None:
        self.values[tuple(key.split("."))] = value

    def yaml_tree(self) -> dict:
        tree: dict = {}
        for path, value in self.values.items():
            if path not in _ALWAYS and _plain(_default(path)) == _plain(value):
                continue
            node = tree
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = _plain(value)
        tree["VERSION"] = 2
        return tree


def _default(path: tuple) -> Any:
    node: Any = DEFAULTS
    for part in path:
        node = node[part]
    return node


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def convert(resolved: ResolvedConfig, model: CommonModel) -> ConfigConversion:
    from cfglint.adapters.mmdet.normalize import find_detector

    found = find_detector(resolved.data)
    if found is None:
        raise UnsupportedError("no detector (model = dict(...)) in this config", resolved.path)
    det, warn, out = found[0], Warnings(), _Out()
    kind = _check_supported(det, resolved.path)
    out["MODEL.META_ARCHITECTURE"] = "RetinaNet" if kind == "retinanet" else "GeneralizedRCNN"
    _input(model, out, warn)
    _backbone(det, model, out, warn)
    _neck(det, kind, out, warn)
    if kind == "retinanet":
        _retinanet(det, model, out, warn)
    else:
        _rpn(det, out)
        _roi_heads(det, model, out, warn)
    _datasets(resolved.data, model, out, warn)
    _solver(resolved.data, out, warn)
    _weights(model, out, warn)
    text = _header(resolved.path, model.get("classes"), warn)
    text += yaml.safe_dump(out.yaml_tree(), sort_keys=False, default_flow_style=None, width=100)
    from cfglint.convert.output import check_yaml_config
    check_yaml_config(text, resolved.path)
    return ConfigConversion(resolved.path, "detectron2", text, list(warn), classes=model.get("classes"))


def _header(source: str, classes: Optional[List[str]], warn: Warnings) -> str:
    from cfglint.convert.output import comment
    lines = [comment(f"Detectron2 config converted by `cfglint convert` from the MMDetection config {source}.")]
    if classes:
        lines.append("# Class names (Detectron2 takes them from the registered dataset's metadata, "
                     "thing_classes), in label order:")
        lines += [comment(f"{i}: {name}", "#   ") for i, name in enumerate(classes)]
    if len(warn):
        lines.append("# Settings not carried over exactly (see the warnings of the conversion):")
        lines += [comment(w, "#   ") for w in warn]
    return "\n".join(lines) + "\n"


def _check_supported(det: dict, path: str) -> str:
    kinds = {"FasterRCNN": "rcnn", "MaskRCNN": "rcnn", "CascadeRCNN": "rcnn", "RetinaNet": "retinanet"}
    kind = kinds.get(det.get("type"))
    if kind is None:
        raise UnsupportedError(f"model type {det.get('type')!r} cannot be converted; cfglint converts "
                               f"FasterRCNN, MaskRCNN, CascadeRCNN and RetinaNet", path)
    backbone = det.get("backbone", {})
    if backbone.get("type") not in ("ResNet", "ResNeXt"):
        raise UnsupportedError(f"backbone {backbone.get('type')!r} cannot be converted (ResNet, ResNeXt)", path)
    for key in ("dcn", "plugins"):
        if backbone.get(key):
            raise UnsupportedError(f"model.backbone.{key} cannot be converted", path)
    if backbone.get("deep_stem") or backbone.get("avg_down") or backbone.get("depth", 50) < 50:
        raise UnsupportedError("only plain bottleneck ResNets (depth >= 50) can be converted", path)
    if (det.get("neck") or {}).get("type") != "FPN":
        raise UnsupportedError("only FPN necks can be converted", path)
    return kind


def _input(model: CommonModel, out: _Out, warn: Warnings) -> None:
    order = model.get("input.channel_order")
    mean, std = model.get("input.pixel_mean"), model.get("input.pixel_std")
    if order not in ("RGB", "BGR") or mean is None or std is None:
        raise UnsupportedError("the input channel order and statistics are not set in this config")
    # The common model lists statistics in RGB order; Detectron2 lists them in INPUT.FORMAT order.
    out["INPUT.FORMAT"] = order
    out["MODEL.PIXEL_MEAN"] = list(mean) if order == "RGB" else list(reversed(mean))
    out["MODEL.PIXEL_STD"] = list(std) if order == "RGB" else list(reversed(std))
    short, sampling = model.get("train.resize.short_edge"), model.get("train.resize.sampling")
    if short:
        out["INPUT.MIN_SIZE_TRAIN"] = list(short)
        out["INPUT.MIN_SIZE_TRAIN_SAMPLING"] = sampling or "choice"
    if model.get("train.resize.max_size"):
        out["INPUT.MAX_SIZE_TRAIN"] = model.get("train.resize.max_size")
    if model.get("test.resize.keep_ratio") is False:
        warn.add("test_pipeline.Resize.keep_ratio", "Detectron2 always keeps the aspect ratio at test time")
    if model.get("test.resize.short_edge") is not None:
        out["INPUT.MIN_SIZE_TEST"] = model.get("test.resize.short_edge")
    if model.get("test.resize.max_size") is not None:
        out["INPUT.MAX_SIZE_TEST"] = model.get("test.resize.max_size")


def _backbone(det: dict, model: CommonModel, out: _Out, warn: Warnings) -> None:
    bb = det["backbone"]
    out["MODEL.RESNETS.DEPTH"] = bb["depth"]
    if bb["type"] == "ResNeXt":
        out["MODEL.RESNETS.NUM_GROUPS"] = bb.get("groups", 1)
        out["MODEL.RESNETS.WIDTH_PER_GROUP"] = bb.get("base_width", 4)
    else:
        out["MODEL.RESNETS.NUM_GROUPS"], out["MODEL.RESNETS.WIDTH_PER_GROUP"] = 1, 64
    out["MODEL.RESNETS.STRIDE_IN_1X1"] = bb.get("style", "pytorch") == "caffe"
    out["MODEL.RESNETS.OUT_FEATURES"] = [_STAGES[i] for i in bb.get("out_indices", (0, 1, 2, 3))]
    out["MODEL.BACKBONE.FREEZE_AT"] = max(bb.get("frozen_stages", -1), -1) + 1
    norm = model.get("backbone.norm")
    norm_cfg = bb.get("norm_cfg") or {}
    if norm == "BN" and bb.get("norm_eval", True):
        warn.add("model.backbone.norm_eval", "BN with norm_eval=True (statistics frozen, affine parameters "
                 "trained) becomes FrozenBN: identical at inference, affine parameters no longer trained")
        norm = "FrozenBN"
    elif norm == "GN" and norm_cfg.get("num_groups", 32) != 32:
        raise UnsupportedError(f"GroupNorm with {norm_cfg['num_groups']} groups: Detectron2's GN has 32")
    if norm not in ("FrozenBN", "BN", "SyncBN", "GN"):
        raise UnsupportedError(f"backbone norm {norm!r} cannot be converted")
    out["MODEL.RESNETS.NORM"] = norm


def _neck(det: dict, kind: str, out: _Out, warn: Warnings) -> None:
    neck = det["neck"]
    start = neck.get("start_level", 0)
    levels = len(neck["in_channels"]) if neck.get("end_level", -1) == -1 else neck["end_level"] + 1
    extra = neck.get("add_extra_convs", False)
    out["MODEL.FPN.IN_FEATURES"] = _STAGES[start:levels]
    out["MODEL.FPN.OUT_CHANNELS"] = neck["out_channels"]
    if neck.get("norm_cfg"):
        raise UnsupportedError("normalized FPN necks cannot be converted")
    if kind == "retinanet":
        if extra not in ("on_input",) or neck.get("num_outs") != levels - start + 2:
            raise UnsupportedError("RetinaNet necks convert only with add_extra_convs='on_input' and two extra "
                                   "levels (Detectron2's LastLevelP6P7 on C5)")
        if not neck.get("relu_before_extra_convs", False):
            warn.add("model.neck.relu_before_extra_convs", "Detectron2's P7 always applies a ReLU to P6 first; "
                     "mmdet's neck does not here, so P7 features differ")
        out["MODEL.BACKBONE.NAME"] = "build_retinanet_resnet_fpn_backbone"
        out["MODEL.RETINANET.IN_FEATURES"] = [f"p{i}" for i in range(start + 2, start + 2 + neck["num_outs"])]
    else:
        if extra or neck.get("num_outs") != levels - start + 1:
            raise UnsupportedError("R-CNN necks convert only with one max-pooled extra level (LastLevelMaxPool)")
        out["MODEL.BACKBONE.NAME"] = "build_resnet_fpn_backbone"


def _coder_weights(coder: dict, key: str) -> List[float]:
    coder = coder or {}
    if coder.get("type", "DeltaXYWHBBoxCoder") != "DeltaXYWHBBoxCoder" or any(coder.get("target_means", [0] * 4)):
        raise UnsupportedError(f"{key}: only DeltaXYWHBBoxCoder with zero means converts to Detectron2 weights")
    return [round(1.0 / s, 6) for s in coder.get("target_stds", [1.0] * 4)]


def _anchors(head: dict, out: _Out) -> None:
    sizes, ratios, offset = anchors.mmdet_to_sizes(head["anchor_generator"])
    out["MODEL.ANCHOR_GENERATOR.SIZES"] = sizes
    out["MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS"] = ratios
    out["MODEL.ANCHOR_GENERATOR.OFFSET"] = offset


def _rpn(det: dict, out: _Out) -> None:
    head, test = det["rpn_head"], (det.get("test_cfg") or {}).get("rpn", {})
    out["MODEL.RPN.IN_FEATURES"] = [f"p{i}" for i in range(2, 2 + len(head["anchor_generator"]["strides"]))]
    _anchors(head, out)
    out["MODEL.RPN.BBOX_REG_WEIGHTS"] = _coder_weights(head.get("bbox_coder"), "model.rpn_head.bbox_coder")
    out["MODEL.RPN.PRE_NMS_TOPK_TEST"] = test.get("nms_pre", 1000)
    out["MODEL.RPN.POST_NMS_TOPK_TEST"] = test.get("max_per_img", test.get("max_num", 1000))
    out["MODEL.RPN.NMS_THRESH"] = test.get("nms", {}).get("iou_threshold", 0.7)
    train = (det.get("train_cfg") or {}).get("rpn_proposal", {})
    if train:
        out["MODEL.RPN.PRE_NMS_TOPK_TRAIN"] = train.get("nms_pre", 2000)
        out["MODEL.RPN.POST_NMS_TOPK_TRAIN"] = train.get("max_per_img", 1000)


def _roi_heads(det: dict, model: CommonModel, out: _Out, warn: Warnings) -> None:
    roi = det["roi_head"]
    bbox_heads = roi["bbox_head"] if isinstance(roi["bbox_head"], list) else [roi["bbox_head"]]
    cascade = det["type"] == "CascadeRCNN"
    for head in bbox_heads:
        if head.get("type") != "Shared2FCBBoxHead":
            raise UnsupportedError(f"box head {head.get('type')!r} cannot be converted (Shared2FCBBoxHead)")
    last = bbox_heads[-1]
    out["MODEL.ROI_HEADS.NAME"] = "CascadeROIHeads" if cascade else "StandardROIHeads"
    out["MODEL.ROI_HEADS.NUM_CLASSES"] = last["num_classes"]
    out["MODEL.ROI_HEADS.IN_FEATURES"] = [f"p{i}" for i in
                                          range(2, 2 + len(roi["bbox_roi_extractor"]["featmap_strides"]))]
    out["MODEL.ROI_BOX_HEAD.NAME"] = "FastRCNNConvFCHead"
    out["MODEL.ROI_BOX_HEAD.NUM_FC"] = 2
    out["MODEL.ROI_BOX_HEAD.FC_DIM"] = last.get("fc_out_channels", 1024)
    _pooler(roi["bbox_roi_extractor"], "ROI_BOX_HEAD", out)
    out["MODEL.ROI_BOX_HEAD.CLS_AGNOSTIC_BBOX_REG"] = bool(last.get("reg_class_agnostic", False))
    if cascade:
        if not all(h.get("reg_class_agnostic") for h in bbox_heads):
            raise UnsupportedError("Detectron2's cascade needs class-agnostic box regression in every stage")
        out["MODEL.ROI_BOX_CASCADE_HEAD.BBOX_REG_WEIGHTS"] = [
            _coder_weights(h.get("bbox_coder"), f"model.roi_head.bbox_head.{i}.bbox_coder")
            for i, h in enumerate(bbox_heads)]
        rcnn_train = (det.get("train_cfg") or {}).get("rcnn") or []
        out["MODEL.ROI_BOX_CASCADE_HEAD.IOUS"] = [s["assigner"]["pos_iou_thr"] for s in rcnn_train] or [0.5, 0.6, 0.7]
        warn.add("model.roi_head", "cascade test scores: mmdet averages the stages' logits before one softmax, "
                 "Detectron2 averages their softmax probabilities; scores differ slightly")
    else:
        out["MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS"] = _coder_weights(last.get("bbox_coder"),
                                                                    "model.roi_head.bbox_head.bbox_coder")
    test = (det.get("test_cfg") or {}).get("rcnn", {})
    out["MODEL.ROI_HEADS.SCORE_THRESH_TEST"] = test.get("score_thr", 0.05)
    out["MODEL.ROI_HEADS.NMS_THRESH_TEST"] = test.get("nms", {}).get("iou_threshold", 0.5)
    out["TEST.DETECTIONS_PER_IMAGE"] = test.get("max_per_img", 100)
    _mask(det, roi, test, out, warn)


def _pooler(extractor: dict, section: str, out: _Out) -> None:
    layer = extractor["roi_layer"]
    if layer.get("type") != "RoIAlign" or layer.get("pool_mode", "avg") != "avg":
        raise UnsupportedError(f"RoI layer {layer.get('type')!r} cannot be converted (RoIAlign, avg)")
    out[f"MODEL.{section}.POOLER_RESOLUTION"] = layer["output_size"]
    out[f"MODEL.{section}.POOLER_SAMPLING_RATIO"] = layer.get("sampling_ratio", 0)
    out[f"MODEL.{section}.POOLER_TYPE"] = "ROIAlignV2" if layer.get("aligned", True) else "ROIAlign"


def _mask(det: dict, roi: dict, test: dict, out: _Out, warn: Warnings) -> None:
    mask_head = roi.get("mask_head")
    out["MODEL.MASK_ON"] = bool(mask_head)
    if not mask_head:
        return
    if det["type"] == "CascadeRCNN":
        warn.add("model.roi_head.mask_head", f"mmdet's {roi.get('num_stages', 3)} cascade mask heads (averaged) "
                 "become Detectron2's single mask head; a converted checkpoint keeps the last stage's")
    if isinstance(mask_head, list):
        mask_head = mask_head[-1]
    if mask_head.get("type") != "FCNMaskHead":
        raise UnsupportedError(f"mask head {mask_head.get('type')!r} cannot be converted (FCNMaskHead)")
    out["MODEL.ROI_MASK_HEAD.NAME"] = "MaskRCNNConvUpsampleHead"
    out["MODEL.ROI_MASK_HEAD.NUM_CONV"] = mask_head.get("num_convs", 4)
    out["MODEL.ROI_MASK_HEAD.CONV_DIM"] = mask_head.get("conv_out_channels", 256)
    out["MODEL.ROI_MASK_HEAD.CLS_AGNOSTIC_MASK"] = bool(mask_head.get("class_agnostic", False))
    _pooler(roi["mask_roi_extractor"], "ROI_MASK_HEAD", out)
    if test.get("mask_thr_binary", 0.5) != 0.5:
        warn.add("model.test_cfg.rcnn.mask_thr_binary", f"Detectron2 binarizes masks at 0.5 (fixed), not "
                                                        f"{test['mask_thr_binary']}")


def _retinanet(det: dict, model: CommonModel, out: _Out, warn: Warnings) -> None:
    head, test = det["bbox_head"], det.get("test_cfg") or {}
    if head.get("type") != "RetinaHead":
        raise UnsupportedError(f"dense head {head.get('type')!r} cannot be converted (RetinaHead)")
    out["MODEL.RETINANET.NUM_CLASSES"] = head["num_classes"]
    out["MODEL.RETINANET.NUM_CONVS"] = head.get("stacked_convs", 4)
    _anchors(head, out)
    out["MODEL.RETINANET.BBOX_REG_WEIGHTS"] = _coder_weights(head.get("bbox_coder"), "model.bbox_head.bbox_coder")
    out["MODEL.RETINANET.SCORE_THRESH_TEST"] = test.get("score_thr", 0.05)
    out["MODEL.RETINANET.NMS_THRESH_TEST"] = test.get("nms", {}).get("iou_threshold", 0.5)
    out["MODEL.RETINANET.TOPK_CANDIDATES_TEST"] = test.get("nms_pre", 1000)
    out["TEST.DETECTIONS_PER_IMAGE"] = test.get("max_per_img", 100)
    loss = head.get("loss_cls", {})
    out["MODEL.RETINANET.FOCAL_LOSS_GAMMA"] = loss.get("gamma", 2.0)
    out["MODEL.RETINANET.FOCAL_LOSS_ALPHA"] = loss.get("alpha", 0.25)
    out["MODEL.RETINANET.SMOOTH_L1_LOSS_BETA"] = 0.0 if head.get("loss_bbox", {}).get("type") == "L1Loss" else \
        head.get("loss_bbox", {}).get("beta", 0.1)


def _datasets(cfg: dict, model: CommonModel, out: _Out, warn: Warnings) -> None:
    out["DATASETS.TRAIN"] = ["coco_2017_train"]
    out["DATASETS.TEST"] = ["coco_2017_val"]
    warn.add("train_dataloader.dataset", "Detectron2 reads registered datasets: written as coco_2017_train / "
             "coco_2017_val; register your data under these or other names")
    if model.get("classes"):
        warn.add("metainfo.classes", "Detectron2 configs cannot name classes; they are listed in a comment "
                 "(set them as the registered dataset's thing_classes)")


def _solver(cfg: dict, out: _Out, warn: Warnings) -> None:
    per_gpu = (cfg.get("train_dataloader") or {}).get("batch_size", 2)
    batch = per_gpu * 8
    out["SOLVER.IMS_PER_BATCH"] = batch
    optimizer = ((cfg.get("optim_wrapper") or {}).get("optimizer") or {})
    if optimizer.get("type", "SGD") != "SGD":
        warn.add("optim_wrapper.optimizer", f"optimizer {optimizer.get('type')!r} not converted (Detectron2 "
                                            "YAML configs train with SGD)")
    for key, name in (("BASE_LR", "lr"), ("MOMENTUM", "momentum"), ("WEIGHT_DECAY", "weight_decay")):
        if name in optimizer:
            out[f"SOLVER.{key}"] = optimizer[name]
    loop = cfg.get("train_cfg") or {}
    by_epoch = loop.get("type") == "EpochBasedTrainLoop" or "max_epochs" in loop
    iters_per_epoch = _COCO_TRAIN_IMAGES // batch
    scale = iters_per_epoch if by_epoch else 1
    if by_epoch:
        warn.add("train_cfg.max_epochs", f"epochs converted to iterations at {iters_per_epoch} per epoch "
                                         f"(COCO train2017 at batch {batch}, 8 GPUs x {per_gpu})")
    out["SOLVER.MAX_ITER"] = loop.get("max_epochs", 12) * scale if by_epoch else loop.get("max_iters", 90000)
    for sched in cfg.get("param_scheduler") or []:
        if sched.get("type") == "LinearLR":
            out["SOLVER.WARMUP_ITERS"] = sched.get("end", 500)
            out["SOLVER.WARMUP_FACTOR"] = sched.get("start_factor", 0.001)
            out["SOLVER.WARMUP_METHOD"] = "linear"
        elif sched.get("type") == "MultiStepLR":
            out["SOLVER.STEPS"] = [m * (scale if sched.get("by_epoch", True) else 1) for m in sched["milestones"]]
            out["SOLVER.GAMMA"] = sched.get("gamma", 0.1)
        else:
            warn.add("param_scheduler", f"scheduler {sched.get('type')!r} not converted")


def _weights(model: CommonModel, out: _Out, warn: Warnings) -> None:
    weights = model.get("weights")
    if not weights:
        out["MODEL.WEIGHTS"] = ""
        return
    if weights in d2_names.PRETRAINED_BACK:
        out["MODEL.WEIGHTS"] = d2_names.PRETRAINED_BACK[weights]
        return
    out["MODEL.WEIGHTS"] = ""
    warn.add("load_from", f"{weights!r} has no Detectron2 counterpart cfglint knows; MODEL.WEIGHTS left empty "
                          f"(convert a trained checkpoint with `cfglint convert CHECKPOINT --config ... "
                          f"--to detectron2`)")
