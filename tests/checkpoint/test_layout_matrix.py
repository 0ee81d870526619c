"""A matrix of realistic checkpoint layouts x architectures: verify's exit code means what it says.

For each architecture (7 Detectron2, 7 mmdet) the state dict is transplanted from its oracle
manifest (what the framework builds from the config) into files written by the real tools:
``torch.save`` (zip, legacy, zip64 rewrite), ``safetensors`` (with and without metadata),
``pickle`` of numpy arrays (.pkl), with the non-weight state real trainers add (torch
``MultiStepLR`` / ``Adam`` / ``GradScaler`` state dicts, mmengine's ``MessageHub``, EMA in
mmengine's ``ema_state_dict`` form and mmcv's ``ema_*`` buffers, DDP ``module.``, Lightning
``model.``, fp16 / bf16). Expected: exit 0 (0 errors) against the own config; a planted shape change
and a dropped head are errors that name the key; a truncated copy of every file is exit 2.
Lightning's prefix is not stripped by either loader, so its expected result is exactly one K715.
"""
from __future__ import annotations

import collections
import functools
import importlib.util
import json
import pickle
import zipfile
from pathlib import Path

import pytest

from cfglint.checkpoint.verify import verify
from cfglint.errors import CfglintError
from tests.conftest import FIXTURES, HAVE_SHARED, SHARED, run_cli

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")
pytestmark = [pytest.mark.slow, pytest.mark.shared, pytest.mark.skipif(not HAVE_SHARED, reason="../shared is not present")]   # layouts x architectures over the oracle manifests (run with --all)

D2_SD = SHARED / "oracles/detectron2/state_dicts/configs"
MM_SD = SHARED / "oracles/mmdet3/state_dicts/configs"
D2_ARCHS = ["COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x", "COCO-Detection/faster_rcnn_R_50_C4_1x",
            "COCO-Detection/retinanet_R_50_FPN_1x", "COCO-Keypoints/keypoint_rcnn_R_50_FPN_1x",
            "Misc/cascade_mask_rcnn_R_50_FPN_1x", "COCO-PanopticSegmentation/panoptic_fpn_R_50_1x",
            "COCO-Detection/rpn_R_50_FPN_1x"]
MM_ARCHS = ["faster_rcnn/faster-rcnn_r50_fpn_1x_coco", "mask_rcnn/mask-rcnn_r50_fpn_1x_coco",
            "retinanet/retinanet_r50_fpn_1x_coco", "cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco",
            "fcos/fcos_r50-caffe_fpn_gn-head_1x_coco", "atss/atss_r50_fpn_1x_coco",
            "ms_rcnn/ms-rcnn_r50_fpn_1x_coco"]
LAYOUTS = ["trainer-zip", "trainer-legacy", "ema", "ddp", "lightning", "fp16", "bf16", "zip64",
           "safetensors", "safetensors-no-meta", "pkl"]


def _zoo() -> Path:
    spec = importlib.util.find_spec("mmdet")
    if spec is None:
        pytest.skip("mmdet is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / ".mim/configs"


def _arch(framework: str, rel: str):
    if framework == "d2":
        return json.loads((D2_SD / f"{rel}.json").read_text()), SHARED / f"corpus/detectron2/configs/{rel}.yaml"
    return json.loads((MM_SD / f"{rel}.json").read_text()), _zoo() / f"{rel}.py"


def _tensors(shapes: dict, dtype=torch.float32) -> dict:
    """Zero tensors of the oracle shapes as stride-0 views: tiny files torch still loads."""
    return {k: (torch.zeros(1, dtype=torch.int64 if k.endswith("num_batches_tracked") else dtype).expand(*v)
                if v else torch.zeros((), dtype=torch.int64)) for k, v in shapes.items()}


@functools.lru_cache(maxsize=1)
def _trainer_state():
    """Real optimizer / scheduler / scaler state after two steps of a tiny model."""
    model = torch.nn.Linear(4, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[8, 11])
    scaler = torch.amp.GradScaler("cpu")
    for _ in range(2):
        opt.zero_grad()
        scaler.scale(model(torch.ones(1, 4)).sum()).backward()
        scaler.step(opt)
        scaler.update()
        sched.step()
    assert isinstance(sched.state_dict()["milestones"], collections.Counter)
    return opt.state_dict(), sched.state_dict(), scaler.state_dict()


@functools.lru_cache(maxsize=1)
def _message_hub():
    mmengine = pytest.importorskip("mmengine")
    hub = mmengine.logging.MessageHub.get_instance("cfglint-matrix")
    hub.update_scalar("train/loss", 0.5)
    hub.update_info("iter", 100)
    return hub.state_dict()


def _write(tmp: Path, framework: str, layout: str, shapes: dict) -> Path:
    opt, sched, scaler = _trainer_state()
    if layout in ("safetensors", "safetensors-no-meta"):
        from safetensors.torch import save_file
        path = tmp / "model.safetensors"
        save_file({k: torch.zeros(v if v else ()) for k, v in shapes.items()}, str(path),
                  metadata={"format": "pt", "framework": framework} if layout == "safetensors" else None)
        return path
    if layout == "pkl":
        path = tmp / "model_final.pkl"
        model = {k: np.zeros(v, dtype=np.int64 if k.endswith("num_batches_tracked") else np.float32)
                 for k, v in shapes.items()}
        with open(path, "wb") as f:
            pickle.dump({"model": model, "__author__": "Detectron2 Model Zoo"}, f, protocol=2)
        return path
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(layout, torch.float32)
    state = _tensors(shapes, dtype)
    if layout == "ddp":
        state = {f"module.{k}": v for k, v in state.items()}
    if layout == "ema" and framework == "mm":   # mmcv EMAHook buffers
        state.update({"ema_" + k.replace(".", "_"): v for k, v in list(state.items())
                      if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))})
    if layout == "lightning":
        ckpt = {"epoch": 3, "global_step": 120, "pytorch-lightning_version": "2.5.0",
                "state_dict": {f"model.{k}": v for k, v in state.items()}, "optimizer_states": [opt],
                "lr_schedulers": [sched], "callbacks": {}, "loops": {}}
    elif framework == "d2":
        ckpt = {"model": state, "optimizer": opt, "scheduler": sched, "iteration": 89999}
        if layout in ("trainer-zip", "trainer-legacy"):
            ckpt["grad_scaler"] = scaler
        if layout == "ema":   # Detectron2's model EMA keeps a second copy under its own key
            ckpt["ema_state"] = dict(state)
    else:
        ckpt = {"meta": {"epoch": 12, "iter": 3000, "seed": np.int64(42), "mmengine_version": "0.10.7",
                         "dataset_meta": {"classes": tuple(f"c{i}" for i in range(_classes(shapes)))}},
                "state_dict": state, "optimizer": dict(opt, loss_scaler=scaler), "param_schedulers": [sched],
                "message_hub": _message_hub()}
        if layout == "ema":   # mmengine EMAHook: the averaged model's own state dict
            ckpt["ema_state_dict"] = {"steps": torch.tensor(3000), **{f"module.{k}": v for k, v in state.items()}}
    path = tmp / ("epoch_12.pth" if framework == "mm" else "model_final.pth")
    torch.save(ckpt, path, _use_new_zipfile_serialization=layout != "trainer-legacy")
    if layout == "zip64":
        path = _as_zip64(path)
    return path


def _classes(shapes: dict) -> int:
    for key in ("roi_head.bbox_head.fc_cls.weight", "roi_head.bbox_head.2.fc_cls.weight"):
        if key in shapes:
            return shapes[key][0] - 1
    for key in ("bbox_head.retina_cls.weight", "bbox_head.conv_cls.weight", "bbox_head.atss_cls.weight"):
        if key in shapes:
            return 80
    return 80


def _as_zip64(path: Path) -> Path:
    """The same archive with zip64 records for every entry (what torch writes past 4 GiB)."""
    out = path.with_name("zip64_" + path.name)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", allowZip64=True) as dst:
        for entry in src.infolist():
            with dst.open(zipfile.ZipInfo(entry.filename), "w", force_zip64=True) as member:
                member.write(src.read(entry))
    data = out.read_bytes()
    with zipfile.ZipFile(out) as check:
        for info in check.infolist():   # every local header carries a zip64 extra field (id 1, 16 bytes)
            start = info.header_offset
            name_len, extra_len = int.from_bytes(data[start + 26:start + 28], "little"), \
                int.from_bytes(data[start + 28:start + 30], "little")
            extra = data[start + 30 + name_len:start + 30 + name_len + extra_len]
            assert b"\x01\x00\x10\x00" in extra, info.filename
    return out


def _errors(path: Path, config: Path):
    report = verify(str(path), str(config))
    return report, [f for f in report.findings if f.severity == "error"]


CASES = [(fw, arch, layout) for fw, archs in (("d2", D2_ARCHS), ("mm", MM_ARCHS)) for arch in archs
         for layout in LAYOUTS if not (fw == "mm" and layout == "pkl")]


def _ids(case):
    return f"{case[0]}-{case[1].rsplit('/', 1)[-1]}-{case[2]}"


FAST_ARCHS = {D2_ARCHS[0], MM_ARCHS[1]}


def _params(cases):
    """One architecture per framework runs in the fast suite; the rest of the matrix is `slow`."""
    return [pytest.param(c, id=_ids(c), marks=() if c[1] in FAST_ARCHS else pytest.mark.slow) for c in cases]


@pytest.mark.parametrize("case", _params(CASES))
def test_layout_against_own_config(tmp_path, case):
    framework, arch, layout = case
    shapes, config = _arch(framework, arch)
    path = _write(tmp_path, framework, layout, shapes)
    report, errors = _errors(path, config)
    if layout == "lightning":
        assert [f.rule for f in errors] == ["K715"], [f.message for f in errors]
        assert "strip the `model.` prefix" in errors[0].message
    else:
        assert errors == [], [f.message for f in errors]
    if report.state_dict.ran:
        assert not report.state_dict.missing and not report.state_dict.mismatched
        extra = set(report.state_dict.unexpected)
        if layout == "ema" and framework == "mm":   # exactly mmcv's EMA buffers, reported as one info
            assert extra == {"ema_" + k.replace(".", "_") for k in shapes
                             if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
            assert sum("EMA" in f.message for f in report.findings if f.rule == "K714") == 1
        else:
            assert report.state_dict.checked == len(shapes) and not extra


PLANTED = [(fw, arch, layout) for fw, archs in (("d2", D2_ARCHS), ("mm", MM_ARCHS)) for arch in archs
           for layout in ("trainer-zip", "safetensors", "lightning")]


@pytest.mark.parametrize("case", _params(PLANTED))
def test_planted_shape_change_is_named(tmp_path, case):
    framework, arch, layout = case
    shapes, config = _arch(framework, arch)
    key = [k for k, v in shapes.items() if k.endswith(".weight") and len(v) == 4][-1]   # the last conv
    shapes[key] = [shapes[key][0] + 1] + shapes[key][1:]
    _, errors = _errors(_write(tmp_path, framework, layout, shapes), config)
    assert errors, "a changed shape passed"
    assert any(key in f.message for f in errors), [f.message for f in errors]


@pytest.mark.parametrize("case", _params(PLANTED[::3]))
def test_planted_missing_module_is_named(tmp_path, case):
    framework, arch, layout = case
    shapes, config = _arch(framework, arch)
    last = list(shapes)[-1]
    module = last.rsplit(".", 2)[0] + "."
    dropped = [k for k in shapes if k.startswith(module)]
    for k in dropped:
        del shapes[k]
    _, errors = _errors(_write(tmp_path, framework, layout, shapes), config)
    assert any(f.rule in ("K710", "K705") and any(k in f.message for k in dropped + [module.rstrip(".")])
               for f in errors) or any(f.rule == "K710" for f in errors), [f.message for f in errors]


TRUNCATED = [(fw, arch, layout) for fw, arch, layout in CASES if arch in (D2_ARCHS[0], MM_ARCHS[1], D2_ARCHS[2],
                                                                          MM_ARCHS[4])]


@pytest.mark.parametrize("case", _params(TRUNCATED))
def test_truncated_copy_never_passes(tmp_path, case):
    framework, arch, layout = case
    shapes, config = _arch(framework, arch)
    path = _write(tmp_path, framework, layout, shapes)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 1):
        short = tmp_path / f"cut{cut}{path.suffix}"
        short.write_bytes(data[:cut])
        with pytest.raises(CfglintError):
            verify(str(short), str(config))


@pytest.mark.parametrize("layout, code", [("trainer-zip", 0), ("lightning", 1)])
def test_cli_exit_codes(tmp_path, layout, code):
    shapes, config = _arch("mm", MM_ARCHS[0])
    path = _write(tmp_path, "mm", layout, shapes)
    proc = run_cli("verify", str(path), "--config", str(config))
    assert proc.returncode == code, proc.stdout + proc.stderr
    short = tmp_path / "cut.pth"
    short.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    proc = run_cli("verify", str(short), "--config", str(FIXTURES / "examples/train.yaml"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
