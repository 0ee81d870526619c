"""Data-side fields of an MMDetection config: pixel normalization, resize, class names.

Where they live depends on the schema (notes/mmdetection.md section 2):

* 3.x: ``model.data_preprocessor`` normalizes; resizes are transforms in
  ``{train,test}_dataloader.dataset.pipeline`` (the dataset possibly wrapped, e.g. RepeatDataset);
  class names in ``dataset.metainfo.classes``.
* 2.x: ``Normalize`` inside ``data.test.pipeline`` (usually nested in ``MultiScaleFlipAug``) is
  authoritative (``img_norm_cfg`` is only a helper variable); the test scale sits on the
  ``MultiScaleFlipAug`` wrapper; class names in ``data.<split>.classes`` or top-level ``classes``.

MMDetection decodes images with cv2, i.e. BGR: the network sees RGB only when ``bgr_to_rgb``
(3.x) / ``to_rgb`` (2.x, default True) converts them, and a mean applied to BGR data is written
in BGR order. The common model lists mean/std in RGB order, so BGR-fed values are reversed.
"""
from __future__ import annotations

from typing import Any, Iterator, List, Optional, Tuple

from cfglint.adapters.normalize_common import Writer, as_list, is_int, is_number, short_type
from cfglint.model.resolved import KeyPath

Pipeline = Tuple[list, KeyPath]
Transform = Tuple[dict, KeyPath]

# Transforms that wrap a list of transforms (or a list of lists of them) under `transforms`.
_WRAPPERS = ("MultiScaleFlipAug", "TestTimeAug", "RandomChoice", "RandomApply", "Compose")


def is_legacy(cfg: dict) -> bool:
    """True for an mmdet 2.x config (``data=dict(train/val/test)``, no dataloaders)."""
    return ("data" in cfg and "train_dataloader" not in cfg and "test_dataloader" not in cfg
            and "val_dataloader" not in cfg)


# --- locating pipelines and datasets -------------------------------------------------------------

def _datasets(dataset: Any, path: KeyPath) -> List[Tuple[dict, KeyPath]]:
    """A dataset and the datasets it wraps, outermost first (RepeatDataset.dataset, ConcatDataset.datasets[0])."""
    out = []
    while isinstance(dataset, dict):
        out.append((dataset, path))
        if isinstance(dataset.get("dataset"), dict):
            dataset, path = dataset["dataset"], path + ("dataset",)
        elif isinstance(dataset.get("datasets"), (list, tuple)) and dataset["datasets"]:
            dataset, path = dataset["datasets"][0], path + ("datasets", 0)
        else:
            break
    return out


def _split_dataset_path(cfg: dict, split: str) -> KeyPath:
    if is_legacy(cfg):
        return ("data", split)
    return (f"{split}_dataloader", "dataset")


def split_pipelines(w: Writer, split: str) -> List[Pipeline]:
    """The pipelines a split's samples go through, in the order they run.

    A wrapper's own pipeline (MultiImageMixDataset) runs after the wrapped dataset's, so inner
    pipelines come first. Falls back to the top-level ``<split>_pipeline`` variable when the
    dataset defines none.
    """
    cfg = w.cfg
    path = _split_dataset_path(cfg, split)
    found = [(ds["pipeline"], p + ("pipeline",))
             for ds, p in reversed(_datasets(w.get(path), path))
             if isinstance(ds.get("pipeline"), (list, tuple))]
    if not found and isinstance(cfg.get(f"{split}_pipeline"), (list, tuple)):
        found = [(cfg[f"{split}_pipeline"], (f"{split}_pipeline",))]
    return found


def transforms(pipelines: List[Pipeline]) -> Iterator[Transform]:
    """Every transform of the pipelines in order, descending into wrapper transforms.

    Wrappers are yielded before their contents (the 2.x test scale is on MultiScaleFlipAug).
    """
    for pipeline, path in pipelines:
        yield from _walk(pipeline, path)


def _walk(items: Any, path: KeyPath) -> Iterator[Transform]:
    for i, item in enumerate(items):
        if isinstance(item, dict):
            yield item, path + (i,)
            inner = item.get("transforms")
            if isinstance(inner, (list, tuple)):
                yield from _walk(inner, path + (i, "transforms"))
        elif isinstance(item, (list, tuple)):   # TestTimeAug / RandomChoice: a list of alternatives
            yield from _walk(item, path + (i,))


# --- normalization -------------------------------------------------------------------------------

def fill_input(w: Writer, preprocessor: Optional[Tuple[dict, KeyPath]]) -> None:
    """input.channel_order / pixel_mean / pixel_std."""
    if preprocessor is not None:
        _from_preprocessor(w, *preprocessor)
    elif is_legacy(w.cfg):
        _from_normalize_transform(w)


def _from_preprocessor(w: Writer, prep: dict, path: KeyPath) -> None:
    # mmengine ImgDataPreprocessor: either flag swaps the channels of the BGR-decoded image;
    # some preprocessors (ReIDDataPreprocessor) spell it `to_rgb`.
    flags = [name for name in ("bgr_to_rgb", "rgb_to_bgr", "to_rgb") if prep.get(name)]
    to_rgb = bool(flags)
    flag = flags[0] if flags else next((n for n in ("bgr_to_rgb", "to_rgb", "rgb_to_bgr") if n in prep),
                                       "bgr_to_rgb")
    w.put("input.channel_order", "RGB" if to_rgb else "BGR", path + (flag,), default=flag not in prep)
    _put_stats(w, prep, path, to_rgb)


def _from_normalize_transform(w: Writer) -> None:
    pipelines = split_pipelines(w, "test")
    if not pipelines:
        return
    for transform, path in transforms(pipelines):
        if short_type(transform.get("type")) == "Normalize":
            to_rgb = transform.get("to_rgb", True)   # mmdet 2.x Normalize(to_rgb=True)
            w.put("input.channel_order", "RGB" if to_rgb else "BGR", path + ("to_rgb",),
                  default="to_rgb" not in transform)
            _put_stats(w, transform, path, bool(to_rgb))
            return
    # A 2.x test pipeline without Normalize feeds the cv2-decoded (BGR) image unchanged.
    w.put("input.channel_order", "BGR", pipelines[0][1], default=True)


def _put_stats(w: Writer, node: dict, path: KeyPath, rgb: bool) -> None:
    for key, field in (("mean", "input.pixel_mean"), ("std", "input.pixel_std")):
        value = node.get(key)
        if isinstance(value, (list, tuple)) and len(value) == 3 and all(is_number(v) for v in value):
            values = [float(v) for v in value]
            w.put(field, values if rgb else values[::-1], path + (key,))


# --- resize ----------------------------------------------------------------------------------------

def _pair(scale: Any) -> Optional[List[int]]:
    """A Resize scale (w, h) or a single int -> [w, h]; None when it is not a plain scale."""
    if is_int(scale):
        return [scale, scale]
    if isinstance(scale, (list, tuple)) and len(scale) == 2 and all(is_int(v) for v in scale):
        return list(scale)
    return None


def _scales(value: Any) -> Optional[List[List[int]]]:
    """One scale or a list of scales -> list of [w, h]."""
    single = _pair(value)
    if single is not None:
        return [single]
    if isinstance(value, (list, tuple)) and value:
        pairs = [_pair(v) for v in value]
        if all(p is not None for p in pairs):
            return pairs
    return None


def fill_test_resize(w: Writer) -> None:
    """test.resize.* from the first resizing transform of the test pipeline."""
    legacy = is_legacy(w.cfg)
    for transform, path in transforms(split_pipelines(w, "test")):
        kind = short_type(transform.get("type"))
        if kind == "MultiScaleFlipAug":
            _test_resize_msfa(w, transform, path)
            return
        if kind in ("Resize", "FixScaleResize", "ResizeShortestEdge"):
            _test_resize(w, transform, path, kind, legacy)
            return


def _test_resize(w: Writer, t: dict, path: KeyPath, kind: str, legacy: bool) -> None:
    key = "img_scale" if legacy else "scale"
    if kind == "ResizeShortestEdge":
        pair = _pair(t.get("scale"))
        if pair is not None:
            w.put("test.resize.short_edge", min(pair), path + ("scale",))
            w.put("test.resize.keep_ratio", True, path + ("type",))
            if is_int(t.get("max_size")):
                w.put("test.resize.max_size", t["max_size"], path + ("max_size",))
        return
    scales = _scales(t.get(key))
    if scales is not None and len(scales) == 1:
        w.put("test.resize.short_edge", min(scales[0]), path + (key,))
        w.put("test.resize.max_size", max(scales[0]), path + (key,))
    elif t.get(key) is None and t.get("scale_factor") == 1.0:
        w.put("test.resize.short_edge", 0, path + ("scale_factor",))
    # 2.x Resize keeps the ratio by default; mmcv/mmdet 3.x Resize does not.
    w.put_key("test.resize.keep_ratio", t, path, "keep_ratio", default=legacy, convert=bool)


def _test_resize_msfa(w: Writer, t: dict, path: KeyPath) -> None:
    """2.x MultiScaleFlipAug: scale on the wrapper, keep_ratio on the inner Resize."""
    scales = _scales(t.get("img_scale"))
    if scales is not None and len(scales) == 1:
        w.put("test.resize.short_edge", min(scales[0]), path + ("img_scale",))
        w.put("test.resize.max_size", max(scales[0]), path + ("img_scale",))
    elif t.get("img_scale") is None and t.get("scale_factor") == 1.0:
        w.put("test.resize.short_edge", 0, path + ("scale_factor",))
    for inner, inner_path in _walk(t.get("transforms") or [], path + ("transforms",)):
        if short_type(inner.get("type")) == "Resize":
            w.put_key("test.resize.keep_ratio", inner, inner_path, "keep_ratio", default=True, convert=bool)
            return


def fill_train_resize(w: Writer) -> None:
    """train.resize.* from the first resizing transform of the training pipeline."""
    legacy = is_legacy(w.cfg)
    for transform, path in transforms(split_pipelines(w, "train")):
        kind = short_type(transform.get("type"))
        if kind == "Resize" and legacy:
            mode = transform.get("multiscale_mode", "range")   # mmdet 2.x default
            _train_resize(w, transform, path, "img_scale", "choice" if mode == "value" else "range")
            return
        if kind in ("Resize", "FixScaleResize"):
            _train_resize(w, transform, path, "scale", "choice")
            return
        if kind == "RandomChoiceResize":
            _train_resize(w, transform, path, "scales", "choice")
            return
        if kind == "RandomResize":
            _train_resize(w, transform, path, "scale", "range")
            return
        if kind == "ResizeShortestEdge":
            pair = _pair(transform.get("scale"))
            if pair is not None:
                w.put("train.resize.short_edge", [min(pair)], path + ("scale",))
                w.put("train.resize.sampling", "choice", path + ("type",))
                if is_int(transform.get("max_size")):
                    w.put("train.resize.max_size", transform["max_size"], path + ("max_size",))
            return


def _train_resize(w: Writer, t: dict, path: KeyPath, key: str, sampling: str) -> None:
    """Scales (w, h) with keep_ratio: the short edge is min(scale), the long-edge cap max(scale).

    A ratio_range jitters around the scale (large-scale jitter), which is no short-edge list.
    """
    scales = _scales(t.get(key))
    if scales is None or t.get("ratio_range") is not None:
        return
    shorts = [min(s) for s in scales]
    if len(scales) == 1:
        sampling = "choice"
    elif sampling == "range":
        shorts = [min(shorts), max(shorts)]
    w.put("train.resize.short_edge", shorts, path + (key,))
    w.put("train.resize.sampling", sampling, path + ("multiscale_mode",) if "multiscale_mode" in t else path + ("type",))
    w.put("train.resize.max_size", max(max(s) for s in scales), path + (key,))


# --- class names -----------------------------------------------------------------------------------

def fill_classes(w: Writer) -> None:
    """classes: the test dataset's names first (what inference labels with), then val, train, top level."""
    key = "classes" if is_legacy(w.cfg) else "metainfo"
    for split in ("test", "val", "train"):
        path = _split_dataset_path(w.cfg, split)
        for dataset, ds_path in _datasets(w.get(path), path):
            if _put_classes(w, dataset, ds_path, key):
                return
    _put_classes(w, w.cfg, (), key)


def _put_classes(w: Writer, node: dict, path: KeyPath, key: str) -> bool:
    if key == "metainfo":
        meta = node.get("metainfo")
        if not isinstance(meta, dict):
            return False
        node, path = meta, path + ("metainfo",)
    names = node.get("classes")
    if isinstance(names, (list, tuple)) and names and all(isinstance(n, str) for n in names):
        w.put("classes", as_list(names), path + ("classes",))
        return True
    return False
