"""Detectron2 YACS config -> a self-contained MMDetection 3.x Python config.

Reads the *resolved* CfgNode (defaults included, so every key exists) and writes what mmdet
needs to build the same network with the same input and output: see notes/mmdetection.md §5.2
for the key correspondences. Settings mmdet cannot express are warned about one by one.
"""
from __future__ import annotations

from typing import Any, List, Optional

from cfglint.convert import anchors, d2_names
from cfglint.convert.pyformat import render_assignments
from cfglint.convert.result import ConfigConversion, Warnings
from cfglint.errors import UnsupportedError
from cfglint.model import CommonModel, ResolvedConfig

_RCNN_STRIDES = [4, 8, 16, 32, 64]
_RETINA_STRIDES = [8, 16, 32, 64, 128]
_STAGE_CHANNELS = [256, 512, 1024, 2048]


class _Cfg:
    """Dotted access to the resolved CfgNode data."""

    def __init__(self, data: dict):
        self.data = data

    def __call__(self, key: str) -> Any:
        node: Any = self.data
        for part in key.split("."):
            node = node[part]
        return node


def convert(resolved: ResolvedConfig, model: CommonModel) -> ConfigConversion:
    cfg, warn = _Cfg(resolved.data), Warnings()
    kind = _check_supported(cfg, resolved)
    detector = _detector(cfg, kind, warn)
    body = [("default_scope", "mmdet"), ("model", detector)]
    body += _data(cfg, kind, warn)
    body += _schedule(cfg, warn)
    body += [("load_from", _load_from(cfg, detector, warn))]
    header = _header(resolved.path, warn)
    text = header + render_assignments(body)
    from cfglint.convert.output import check_python_config
    check_python_config(text, resolved.path)   # nothing from the input may become code
    return ConfigConversion(resolved.path, "mmdet", text, list(warn))


def _header(source: str, warn: Warnings) -> str:
    from cfglint.convert.output import comment
    lines = [comment(f"MMDetection 3.x config converted by `cfglint convert` from the Detectron2 config {source}.")]
    if len(warn):
        lines.append("# Settings not carried over exactly (see the warnings of the conversion):")
        lines += [comment(w, "#   ") for w in warn]
    return "\n".join(lines) + "\n\n"


def _check_supported(cfg: _Cfg, resolved: ResolvedConfig) -> str:
    meta = cfg("MODEL.META_ARCHITECTURE")
    backbone = cfg("MODEL.BACKBONE.NAME")
    if meta not in d2_names.META_ARCHS:
        raise UnsupportedError(f"MODEL.META_ARCHITECTURE {meta!r} cannot be converted; cfglint converts "
                               f"Faster/Mask/Cascade R-CNN and RetinaNet", resolved.path)
    if backbone not in d2_names.FPN_BACKBONES:
        raise UnsupportedError(f"MODEL.BACKBONE.NAME {backbone!r} cannot be converted; cfglint converts "
                               f"ResNet/ResNeXt + FPN backbones", resolved.path)
    if meta == "GeneralizedRCNN":
        if cfg("MODEL.ROI_HEADS.NAME") not in d2_names.ROI_HEADS:
            raise UnsupportedError(f"MODEL.ROI_HEADS.NAME {cfg('MODEL.ROI_HEADS.NAME')!r} cannot be converted",
                                   resolved.path)
        if cfg("MODEL.KEYPOINT_ON"):
            raise UnsupportedError("MODEL.KEYPOINT_ON: keypoint heads cannot be converted to mmdet", resolved.path)
        if cfg("MODEL.PROPOSAL_GENERATOR.NAME") != "RPN" or cfg("MODEL.RPN.HEAD_NAME") != "StandardRPNHead":
            raise UnsupportedError("only the standard RPN can be converted", resolved.path)
    if any(cfg("MODEL.RESNETS.DEFORM_ON_PER_STAGE")):
        raise UnsupportedError("MODEL.RESNETS.DEFORM_ON_PER_STAGE: deformable ResNets cannot be converted",
                               resolved.path)
    if cfg("MODEL.RESNETS.RES5_DILATION") != 1 or cfg("MODEL.RESNETS.STEM_OUT_CHANNELS") != 64 \
            or cfg("MODEL.RESNETS.RES2_OUT_CHANNELS") != 256 or cfg("MODEL.RESNETS.DEPTH") < 50:
        raise UnsupportedError("only bottleneck ResNets (depth >= 50) with the standard stem, res2 width "
                               "and no dilation can be converted", resolved.path)
    return "retinanet" if meta == "RetinaNet" else "rcnn"


# -- model -------------------------------------------------------------------------------------
def _detector(cfg: _Cfg, kind: str, warn: Warnings) -> dict:
    fmt = cfg("INPUT.FORMAT")
    if fmt not in ("BGR", "RGB"):
        raise UnsupportedError(f"INPUT.FORMAT {fmt!r} cannot be converted (mmdet feeds BGR or RGB)")
    preprocessor = dict(type="DetDataPreprocessor", mean=list(cfg("MODEL.PIXEL_MEAN")),
                        std=list(cfg("MODEL.PIXEL_STD")), bgr_to_rgb=fmt == "RGB",
                        pad_size_divisor=32)
    if cfg("MODEL.MASK_ON"):
        preprocessor["pad_mask"] = True
    det = dict(type=_detector_type(cfg, kind), data_preprocessor=preprocessor,
               backbone=_backbone(cfg, warn), neck=_neck(cfg, kind, warn))
    if kind == "retinanet":
        det["bbox_head"] = _retina_head(cfg, warn)
        det["train_cfg"] = _retina_train_cfg(cfg)
        det["test_cfg"] = dict(nms_pre=cfg("MODEL.RETINANET.TOPK_CANDIDATES_TEST"), min_bbox_size=0,
                               score_thr=cfg("MODEL.RETINANET.SCORE_THRESH_TEST"),
                               nms=dict(type="nms", iou_threshold=cfg("MODEL.RETINANET.NMS_THRESH_TEST")),
                               max_per_img=cfg("TEST.DETECTIONS_PER_IMAGE"))
        return det
    det["rpn_head"] = _rpn_head(cfg, warn)
    det["roi_head"] = _roi_head(cfg, warn)
    det["train_cfg"] = _rcnn_train_cfg(cfg)
    det["test_cfg"] = _rcnn_test_cfg(cfg)
    return det


def _detector_type(cfg: _Cfg, kind: str) -> str:
    if kind == "retinanet":
        return "RetinaNet"
    if cfg("MODEL.ROI_HEADS.NAME") == "CascadeROIHeads":
        return "CascadeRCNN"
    return "MaskRCNN" if cfg("MODEL.MASK_ON") else "FasterRCNN"


def _backbone(cfg: _Cfg, warn: Warnings) -> dict:
    groups, width = cfg("MODEL.RESNETS.NUM_GROUPS"), cfg("MODEL.RESNETS.WIDTH_PER_GROUP")
    bb = dict(type="ResNet" if groups == 1 else "ResNeXt", depth=cfg("MODEL.RESNETS.DEPTH"))
    if groups != 1:
        bb.update(groups=groups, base_width=width)
    elif width != 64:
        raise UnsupportedError(f"MODEL.RESNETS.WIDTH_PER_GROUP {width} with one group cannot be converted")
    out_features = cfg("MODEL.RESNETS.OUT_FEATURES")
    indices = tuple(int(name[-1]) - 2 for name in out_features if name.startswith("res"))
    norm = cfg("MODEL.RESNETS.NORM")
    bb.update(num_stages=4, out_indices=indices, frozen_stages=cfg("MODEL.BACKBONE.FREEZE_AT") - 1,
              norm_cfg=_norm_cfg(norm, "MODEL.RESNETS.NORM"), norm_eval=norm == "FrozenBN",
              style="caffe" if cfg("MODEL.RESNETS.STRIDE_IN_1X1") else "pytorch")
    pretrained = d2_names.PRETRAINED.get(cfg("MODEL.WEIGHTS"))
    if pretrained:
        bb["init_cfg"] = dict(type="Pretrained", checkpoint=pretrained)
    return bb


def _norm_cfg(norm: str, key: str) -> dict:
    if norm == "FrozenBN":
        return dict(type="BN", requires_grad=False)
    if norm in ("BN", "SyncBN"):
        return dict(type=norm, requires_grad=True)
    if norm == "GN":
        return dict(type="GN", num_groups=32, requires_grad=True)
    raise UnsupportedError(f"{key} {norm!r} cannot be converted (FrozenBN, BN, SyncBN or GN)")


def _neck(cfg: _Cfg, kind: str, warn: Warnings) -> dict:
    in_features = cfg("MODEL.FPN.IN_FEATURES")
    in_channels = [_STAGE_CHANNELS[int(f[-1]) - 2] for f in in_features]
    if cfg("MODEL.FPN.NORM"):
        raise UnsupportedError(f"MODEL.FPN.NORM {cfg('MODEL.FPN.NORM')!r}: normalized FPNs cannot be converted")
    if cfg("MODEL.FPN.FUSE_TYPE") != "sum":
        raise UnsupportedError("MODEL.FPN.FUSE_TYPE 'avg' has no mmdet FPN equivalent")
    neck = dict(type="FPN", in_channels=_STAGE_CHANNELS, out_channels=cfg("MODEL.FPN.OUT_CHANNELS"))
    first = int(in_features[0][-1]) - 2
    if kind == "retinanet":
        # LastLevelP6P7 on C5 with a ReLU before p7 (detectron2/modeling/backbone/fpn.py).
        neck.update(start_level=first, add_extra_convs="on_input", relu_before_extra_convs=True, num_outs=5)
    else:
        neck.update(start_level=first, num_outs=len(in_features) + 1) if first else neck.update(
            num_outs=len(in_features) + 1)
    return neck


def _box_coder(weights, key: str) -> dict:
    weights = list(weights)
    if len(weights) != 4:
        raise UnsupportedError(f"{key} {weights}: only 4-value (axis-aligned) box coders can be converted")
    return dict(type="DeltaXYWHBBoxCoder", target_means=[0.0, 0.0, 0.0, 0.0],
                target_stds=[1.0 / w for w in weights])


def _reg_loss(loss_type: str, beta: float, key: str, warn: Warnings) -> dict:
    if loss_type != "smooth_l1":
        warn.add(key, f"box loss {loss_type!r} converted to L1Loss (training-only)")
        return dict(type="L1Loss", loss_weight=1.0)
    if beta == 0:
        return dict(type="L1Loss", loss_weight=1.0)
    return dict(type="SmoothL1Loss", beta=beta, loss_weight=1.0)


def _strides(cfg: _Cfg, kind: str) -> List[int]:
    return _RETINA_STRIDES if kind == "retinanet" else _RCNN_STRIDES


def _anchor_generator(cfg: _Cfg, kind: str) -> dict:
    return anchors.sizes_to_mmdet(cfg("MODEL.ANCHOR_GENERATOR.SIZES"), cfg("MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS"),
                                  _strides(cfg, kind), cfg("MODEL.ANCHOR_GENERATOR.OFFSET"))


def _rpn_head(cfg: _Cfg, warn: Warnings) -> dict:
    if list(cfg("MODEL.RPN.CONV_DIMS")) != [-1]:
        raise UnsupportedError("MODEL.RPN.CONV_DIMS other than [-1] cannot be converted")
    channels = cfg("MODEL.FPN.OUT_CHANNELS")
    return dict(type="RPNHead", in_channels=channels, feat_channels=channels,
                anchor_generator=_anchor_generator(cfg, "rcnn"),
                bbox_coder=_box_coder(cfg("MODEL.RPN.BBOX_REG_WEIGHTS"), "MODEL.RPN.BBOX_REG_WEIGHTS"),
                loss_cls=dict(type="CrossEntropyLoss", use_sigmoid=True, loss_weight=1.0),
                loss_bbox=_reg_loss(cfg("MODEL.RPN.BBOX_REG_LOSS_TYPE"), cfg("MODEL.RPN.SMOOTH_L1_BETA"),
                                    "MODEL.RPN.BBOX_REG_LOSS_TYPE", warn))


def _roi_extractor(cfg: _Cfg, section: str, warn: Warnings) -> dict:
    pooler = cfg(f"MODEL.{section}.POOLER_TYPE")
    if pooler not in ("ROIAlignV2", "ROIAlign"):
        raise UnsupportedError(f"MODEL.{section}.POOLER_TYPE {pooler!r} cannot be converted")
    layer = dict(type="RoIAlign", output_size=cfg(f"MODEL.{section}.POOLER_RESOLUTION"),
                 sampling_ratio=cfg(f"MODEL.{section}.POOLER_SAMPLING_RATIO"), aligned=pooler == "ROIAlignV2")
    in_features = cfg("MODEL.ROI_HEADS.IN_FEATURES")
    return dict(type="SingleRoIExtractor", roi_layer=layer, out_channels=cfg("MODEL.FPN.OUT_CHANNELS"),
                featmap_strides=[2 ** int(f[-1]) for f in in_features])


def _bbox_head(cfg: _Cfg, weights, agnostic: bool, warn: Warnings) -> dict:
    if cfg("MODEL.ROI_BOX_HEAD.NAME") != "FastRCNNConvFCHead" or cfg("MODEL.ROI_BOX_HEAD.NUM_CONV"):
        raise UnsupportedError("only FastRCNNConvFCHead box heads without convs (2fc) can be converted")
    num_fc = cfg("MODEL.ROI_BOX_HEAD.NUM_FC")
    res = cfg("MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION")
    head = dict(type="Shared2FCBBoxHead") if num_fc == 2 else dict(type="ConvFCBBoxHead", num_shared_fcs=num_fc)
    return dict(**head, in_channels=cfg("MODEL.FPN.OUT_CHANNELS"), fc_out_channels=cfg("MODEL.ROI_BOX_HEAD.FC_DIM"),
                roi_feat_size=res, num_classes=cfg("MODEL.ROI_HEADS.NUM_CLASSES"),
                bbox_coder=_box_coder(weights, "MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS"),
                reg_class_agnostic=agnostic,
                loss_cls=dict(type="CrossEntropyLoss", use_sigmoid=False, loss_weight=1.0),
                loss_bbox=_reg_loss(cfg("MODEL.ROI_BOX_HEAD.BBOX_REG_LOSS_TYPE"),
                                    cfg("MODEL.ROI_BOX_HEAD.SMOOTH_L1_BETA"),
                                    "MODEL.ROI_BOX_HEAD.BBOX_REG_LOSS_TYPE", warn))


def _roi_head(cfg: _Cfg, warn: Warnings) -> dict:
    agnostic = cfg("MODEL.ROI_BOX_HEAD.CLS_AGNOSTIC_BBOX_REG")
    head = dict(bbox_roi_extractor=_roi_extractor(cfg, "ROI_BOX_HEAD", warn))
    if cfg("MODEL.ROI_HEADS.NAME") == "CascadeROIHeads":
        stage_weights = cfg("MODEL.ROI_BOX_CASCADE_HEAD.BBOX_REG_WEIGHTS")
        head = dict(type="CascadeRoIHead", num_stages=len(stage_weights),
                    stage_loss_weights=[1.0] * len(stage_weights), **head)
        head["bbox_head"] = [_bbox_head(cfg, w, True, warn) for w in stage_weights]
        warn.add("MODEL.ROI_HEADS.NAME", "cascade test scores: Detectron2 averages the stages' softmax "
                 "probabilities, mmdet averages their logits before one softmax; scores differ slightly")
    else:
        head = dict(type="StandardRoIHead", **head)
        head["bbox_head"] = _bbox_head(cfg, cfg("MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS"), agnostic, warn)
    if cfg("MODEL.MASK_ON"):
        if cfg("MODEL.ROI_MASK_HEAD.NAME") != "MaskRCNNConvUpsampleHead" or cfg("MODEL.ROI_MASK_HEAD.NORM"):
            raise UnsupportedError("only MaskRCNNConvUpsampleHead mask heads without norm can be converted")
        head["mask_roi_extractor"] = _roi_extractor(cfg, "ROI_MASK_HEAD", warn)
        mask_head = dict(type="FCNMaskHead", num_convs=cfg("MODEL.ROI_MASK_HEAD.NUM_CONV"),
                         in_channels=cfg("MODEL.FPN.OUT_CHANNELS"),
                         conv_out_channels=cfg("MODEL.ROI_MASK_HEAD.CONV_DIM"),
                         num_classes=cfg("MODEL.ROI_HEADS.NUM_CLASSES"),
                         class_agnostic=cfg("MODEL.ROI_MASK_HEAD.CLS_AGNOSTIC_MASK"),
                         loss_mask=dict(type="CrossEntropyLoss", use_mask=True, loss_weight=1.0))
        if head["type"] == "CascadeRoIHead":
            # mmdet gives every stage a mask head and averages their sigmoids; copies of Detectron2's
            # single head (the checkpoint conversion replicates it) produce the same masks.
            head["mask_head"] = [mask_head] * head["num_stages"]
            warn.add("MODEL.ROI_MASK_HEAD", "Detectron2's single cascade mask head becomes one mask head per "
                     "mmdet stage (identical weights give identical masks; training differs)")
        else:
            head["mask_head"] = mask_head
    return head


def _rcnn_train_cfg(cfg: _Cfg) -> dict:
    rpn_lo, rpn_hi = cfg("MODEL.RPN.IOU_THRESHOLDS")
    rpn = dict(assigner=dict(type="MaxIoUAssigner", pos_iou_thr=rpn_hi, neg_iou_thr=rpn_lo, min_pos_iou=rpn_lo,
                             match_low_quality=True, ignore_iof_thr=-1),
               sampler=dict(type="RandomSampler", num=cfg("MODEL.RPN.BATCH_SIZE_PER_IMAGE"),
                            pos_fraction=cfg("MODEL.RPN.POSITIVE_FRACTION"), neg_pos_ub=-1, add_gt_as_proposals=False),
               allowed_border=-1, pos_weight=-1, debug=False)
    rpn_proposal = dict(nms_pre=cfg("MODEL.RPN.PRE_NMS_TOPK_TRAIN"), max_per_img=cfg("MODEL.RPN.POST_NMS_TOPK_TRAIN"),
                        nms=dict(type="nms", iou_threshold=cfg("MODEL.RPN.NMS_THRESH")), min_bbox_size=0)
    cascade = cfg("MODEL.ROI_HEADS.NAME") == "CascadeROIHeads"
    ious = cfg("MODEL.ROI_BOX_CASCADE_HEAD.IOUS") if cascade else cfg("MODEL.ROI_HEADS.IOU_THRESHOLDS")
    stages = [dict(assigner=dict(type="MaxIoUAssigner", pos_iou_thr=iou, neg_iou_thr=iou, min_pos_iou=iou,
                                 match_low_quality=False, ignore_iof_thr=-1),
                   sampler=dict(type="RandomSampler", num=cfg("MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"),
                                pos_fraction=cfg("MODEL.ROI_HEADS.POSITIVE_FRACTION"), neg_pos_ub=-1,
                                add_gt_as_proposals=cfg("MODEL.ROI_HEADS.PROPOSAL_APPEND_GT")),
                   mask_size=cfg("MODEL.ROI_MASK_HEAD.POOLER_RESOLUTION") * 2, pos_weight=-1, debug=False)
              for iou in ious]
    return dict(rpn=rpn, rpn_proposal=rpn_proposal, rcnn=stages if cascade else stages[0])


def _rcnn_test_cfg(cfg: _Cfg) -> dict:
    rcnn = dict(score_thr=cfg("MODEL.ROI_HEADS.SCORE_THRESH_TEST"),
                nms=dict(type="nms", iou_threshold=cfg("MODEL.ROI_HEADS.NMS_THRESH_TEST")),
                max_per_img=cfg("TEST.DETECTIONS_PER_IMAGE"))
    if cfg("MODEL.MASK_ON"):
        rcnn["mask_thr_binary"] = 0.5   # detector_postprocess's fixed threshold
    return dict(rpn=dict(nms_pre=cfg("MODEL.RPN.PRE_NMS_TOPK_TEST"), max_per_img=cfg("MODEL.RPN.POST_NMS_TOPK_TEST"),
                         nms=dict(type="nms", iou_threshold=cfg("MODEL.RPN.NMS_THRESH")), min_bbox_size=0),
                rcnn=rcnn)


def _retina_head(cfg: _Cfg, warn: Warnings) -> dict:
    if cfg("MODEL.RETINANET.NORM"):
        raise UnsupportedError("MODEL.RETINANET.NORM: normalized RetinaNet heads cannot be converted")
    channels = cfg("MODEL.FPN.OUT_CHANNELS")
    return dict(type="RetinaHead", num_classes=cfg("MODEL.RETINANET.NUM_CLASSES"), in_channels=channels,
                stacked_convs=cfg("MODEL.RETINANET.NUM_CONVS"), feat_channels=channels,
                anchor_generator=_anchor_generator(cfg, "retinanet"),
                bbox_coder=_box_coder(cfg("MODEL.RETINANET.BBOX_REG_WEIGHTS"), "MODEL.RETINANET.BBOX_REG_WEIGHTS"),
                loss_cls=dict(type="FocalLoss", use_sigmoid=True, gamma=cfg("MODEL.RETINANET.FOCAL_LOSS_GAMMA"),
                              alpha=cfg("MODEL.RETINANET.FOCAL_LOSS_ALPHA"), loss_weight=1.0),
                loss_bbox=_reg_loss(cfg("MODEL.RETINANET.BBOX_REG_LOSS_TYPE"),
                                    cfg("MODEL.RETINANET.SMOOTH_L1_LOSS_BETA"),
                                    "MODEL.RETINANET.BBOX_REG_LOSS_TYPE", warn))


def _retina_train_cfg(cfg: _Cfg) -> dict:
    lo, hi = cfg("MODEL.RETINANET.IOU_THRESHOLDS")
    return dict(assigner=dict(type="MaxIoUAssigner", pos_iou_thr=hi, neg_iou_thr=lo, min_pos_iou=0,
                              ignore_iof_thr=-1),
                sampler=dict(type="PseudoSampler"), allowed_border=-1, pos_weight=-1, debug=False)


# -- data ----------------------------------------------------------------------------------------
def _data(cfg: _Cfg, kind: str, warn: Warnings) -> list:
    mask = bool(cfg("MODEL.MASK_ON")) and kind != "retinanet"
    train = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations", with_bbox=True, with_mask=mask),
             _train_resize(cfg), *_flip(cfg, warn), dict(type="PackDetInputs")]
    if cfg("INPUT.CROP.ENABLED"):
        warn.add("INPUT.CROP", "random crop is not converted (training-only augmentation)")
    test = [dict(type="LoadImageFromFile")]
    if cfg("INPUT.MIN_SIZE_TEST"):
        test.append(dict(type="Resize", scale=(cfg("INPUT.MAX_SIZE_TEST"), cfg("INPUT.MIN_SIZE_TEST")),
                         keep_ratio=True))
    test += [dict(type="LoadAnnotations", with_bbox=True, with_mask=mask),
             dict(type="PackDetInputs", meta_keys=("img_id", "img_path", "ori_shape", "img_shape",
                                                   "scale_factor"))]
    train_sets, test_sets = list(cfg("DATASETS.TRAIN")), list(cfg("DATASETS.TEST"))
    per_gpu = _batch_per_gpu(cfg, warn)
    out = [("dataset_type", "CocoDataset"), ("data_root", "data/coco/"),
           ("train_pipeline", train), ("test_pipeline", test)]
    train_loader = dict(batch_size=per_gpu, num_workers=cfg("DATALOADER.NUM_WORKERS"), persistent_workers=True,
                        sampler=dict(type="DefaultSampler", shuffle=True))
    if cfg("DATALOADER.ASPECT_RATIO_GROUPING"):
        train_loader["batch_sampler"] = dict(type="AspectRatioBatchSampler")
    train_loader["dataset"] = _dataset(train_sets, "DATASETS.TRAIN", train, warn, train=True)
    out.append(("train_dataloader", train_loader))
    test_loader = dict(batch_size=1, num_workers=2, persistent_workers=True, drop_last=False,
                       sampler=dict(type="DefaultSampler", shuffle=False),
                       dataset=_dataset(test_sets, "DATASETS.TEST", test, warn, train=False))
    out += [("val_dataloader", test_loader), ("test_dataloader", test_loader)]
    metric = ["bbox", "segm"] if mask else "bbox"
    ann = test_loader["dataset"]["ann_file"]
    evaluator = dict(type="CocoMetric", ann_file=f"data/coco/{ann}", metric=metric, format_only=False)
    out += [("val_evaluator", evaluator), ("test_evaluator", evaluator)]
    return out


def _train_resize(cfg: _Cfg) -> dict:
    sizes, max_size = list(cfg("INPUT.MIN_SIZE_TRAIN")), cfg("INPUT.MAX_SIZE_TRAIN")
    if cfg("INPUT.MIN_SIZE_TRAIN_SAMPLING") == "range":
        return dict(type="RandomResize", scale=[(max_size, sizes[0]), (max_size, sizes[-1])], keep_ratio=True)
    if len(sizes) == 1:
        return dict(type="Resize", scale=(max_size, sizes[0]), keep_ratio=True)
    return dict(type="RandomChoiceResize", scales=[(max_size, s) for s in sizes], keep_ratio=True)


def _flip(cfg: _Cfg, warn: Warnings) -> list:
    flip = cfg("INPUT.RANDOM_FLIP")
    if flip == "none":
        return []
    return [dict(type="RandomFlip", prob=0.5, direction=flip)]


def _dataset(names: List[str], key: str, pipeline: list, warn: Warnings, train: bool) -> dict:
    known = [n for n in names if n in d2_names.COCO_SPLITS]
    name = known[0] if known else ("coco_2017_train" if train else "coco_2017_val")
    if names != known[:1]:
        warn.add(key, f"datasets {names} are Detectron2 registry names; written as the COCO {name!r} files "
                      "(edit ann_file/data_prefix for your data)")
    ann, images = d2_names.COCO_SPLITS[name]
    ds = dict(type="CocoDataset", data_root="data/coco/", ann_file=ann, data_prefix=dict(img=images),
              pipeline=pipeline)
    if train:
        ds["filter_cfg"] = dict(filter_empty_gt=True, min_size=32)
    else:
        ds["test_mode"] = True
    return ds


def _batch_per_gpu(cfg: _Cfg, warn: Warnings) -> int:
    total = cfg("SOLVER.IMS_PER_BATCH")
    per_gpu = max(1, total // 8)
    warn.add("SOLVER.IMS_PER_BATCH", f"Detectron2's batch {total} is the total over all GPUs; mmdet's batch_size "
                                     f"is per GPU: written as {per_gpu} (8 GPUs assumed)")
    return per_gpu


# -- schedule ----------------------------------------------------------------------------------
def _schedule(cfg: _Cfg, warn: Warnings) -> list:
    max_iter = cfg("SOLVER.MAX_ITER")
    warmup = cfg("SOLVER.WARMUP_ITERS")
    schedulers = []
    if warmup:
        if cfg("SOLVER.WARMUP_METHOD") != "linear":
            warn.add("SOLVER.WARMUP_METHOD", f"{cfg('SOLVER.WARMUP_METHOD')!r} warmup written as linear")
        schedulers.append(dict(type="LinearLR", start_factor=cfg("SOLVER.WARMUP_FACTOR"), by_epoch=False,
                               begin=0, end=warmup))
    if cfg("SOLVER.LR_SCHEDULER_NAME") != "WarmupMultiStepLR":
        warn.add("SOLVER.LR_SCHEDULER_NAME", f"{cfg('SOLVER.LR_SCHEDULER_NAME')!r} written as a multi-step schedule")
    schedulers.append(dict(type="MultiStepLR", begin=0, end=max_iter, by_epoch=False,
                           milestones=list(cfg("SOLVER.STEPS")), gamma=cfg("SOLVER.GAMMA")))
    if cfg("SOLVER.WEIGHT_DECAY_NORM") not in (0.0, cfg("SOLVER.WEIGHT_DECAY")) or cfg("SOLVER.BIAS_LR_FACTOR") != 1.0:
        warn.add("SOLVER.WEIGHT_DECAY_NORM", "per-parameter-group decay / bias lr factor not converted")
    if cfg("SOLVER.CLIP_GRADIENTS.ENABLED"):
        warn.add("SOLVER.CLIP_GRADIENTS", "gradient clipping not converted")
    optim = dict(type="OptimWrapper", optimizer=dict(type="SGD", lr=cfg("SOLVER.BASE_LR"),
                                                     momentum=cfg("SOLVER.MOMENTUM"),
                                                     weight_decay=cfg("SOLVER.WEIGHT_DECAY")))
    period = cfg("TEST.EVAL_PERIOD") or max_iter
    return [("train_cfg", dict(type="IterBasedTrainLoop", max_iters=max_iter, val_interval=period)),
            ("val_cfg", dict(type="ValLoop")), ("test_cfg", dict(type="TestLoop")),
            ("optim_wrapper", optim), ("param_scheduler", schedulers),
            ("auto_scale_lr", dict(enable=False, base_batch_size=cfg("SOLVER.IMS_PER_BATCH"))),
            ("default_hooks", dict(timer=dict(type="IterTimerHook"),
                                   logger=dict(type="LoggerHook", interval=50),
                                   param_scheduler=dict(type="ParamSchedulerHook"),
                                   checkpoint=dict(type="CheckpointHook", by_epoch=False,
                                                   interval=cfg("SOLVER.CHECKPOINT_PERIOD")),
                                   sampler_seed=dict(type="DistSamplerSeedHook"),
                                   visualization=dict(type="DetVisualizationHook"))),
            ("log_processor", dict(type="LogProcessor", window_size=50, by_epoch=False))]


def _load_from(cfg: _Cfg, detector: dict, warn: Warnings) -> Optional[str]:
    weights = cfg("MODEL.WEIGHTS")
    if not weights or weights in d2_names.PRETRAINED:
        return None
    warn.add("MODEL.WEIGHTS", f"{weights!r} is a Detectron2 checkpoint: convert it with `cfglint convert "
                              f"CHECKPOINT --config ... --to mmdet` and point load_from at the result")
    return weights
