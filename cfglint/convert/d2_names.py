"""Detectron2 names the converters share: architectures cfglint converts and pretrained weights.

The ImageNet checkpoints are the same weights published under each framework's scheme
(mmdet's ``open-mmlab://detectron2/*`` entries are the MSRA/FAIR Detectron2 ``.pkl`` files
re-saved; torchvision's are torchvision's).
"""
from __future__ import annotations

META_ARCHS = ("GeneralizedRCNN", "RetinaNet")
FPN_BACKBONES = {"build_resnet_fpn_backbone": "rcnn", "build_retinanet_resnet_fpn_backbone": "retinanet"}
ROI_HEADS = ("StandardROIHeads", "CascadeROIHeads")

PRETRAINED = {
    "detectron2://ImageNetPretrained/MSRA/R-50.pkl": "open-mmlab://detectron2/resnet50_caffe",
    "detectron2://ImageNetPretrained/MSRA/R-101.pkl": "open-mmlab://detectron2/resnet101_caffe",
    "detectron2://ImageNetPretrained/FAIR/X-101-32x8d.pkl": "open-mmlab://detectron2/resnext101_32x8d",
    "detectron2://ImageNetPretrained/torchvision/R-50.pkl": "torchvision://resnet50",
    "detectron2://ImageNetPretrained/torchvision/R-101.pkl": "torchvision://resnet101",
}
PRETRAINED_BACK = {mm: d2 for d2, mm in PRETRAINED.items()}

# Detectron2 builtin dataset names (detectron2/data/datasets/builtin.py) <-> COCO files.
COCO_SPLITS = {
    "coco_2017_train": ("annotations/instances_train2017.json", "train2017/"),
    "coco_2017_val": ("annotations/instances_val2017.json", "val2017/"),
    "coco_2017_test-dev": ("annotations/image_info_test-dev2017.json", "test2017/"),
}
