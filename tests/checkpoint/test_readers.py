"""Readers against synthesized checkpoints: names, shapes and dtypes must equal what the real loaders give."""
from __future__ import annotations

import pickle
import zipfile

import pytest

from cfglint.checkpoint import TensorInfo, read_checkpoint, read_state_dict_shapes
from cfglint.errors import CfglintError
from tests.checkpoint import synth


def _as_pairs(info):
    return {name: (t.shape, t.dtype) for name, t in info.tensors.items()}


def _torch_reference(path, unwrap=None, prefix="", protocol=2):
    """torch.load(weights_only=True), allowing only the numpy scalar globals our metadata uses."""
    torch = pytest.importorskip("torch")
    import numpy as np

    with torch.serialization.safe_globals([np._core.multiarray.scalar, np.dtype, type(np.dtype("int64"))]):
        return synth.expected_from_torch(path, unwrap, prefix, weights_only=protocol == 2)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_bare_state_dict_matches_torch(tmp_path, legacy, protocol):
    pytest.importorskip("torch")
    path = synth.save_torch(synth.torch_state_dict(), tmp_path / "bare.pth", legacy, protocol)
    info = read_checkpoint(str(path))
    assert info.format == ("torch-legacy" if legacy else "torch-zip")
    assert (info.wrapper, info.prefix) == (None, None)
    expected = _torch_reference(path, protocol=protocol)
    assert _as_pairs(info) == expected
    assert list(info.tensors) == list(expected)  # file order
    assert info.tensors["backbone.fpn_lateral2.weight"] == TensorInfo((256, 256, 1, 1), "bfloat16")
    assert info.tensors["backbone.bottom_up.stem.conv1.norm.num_batches_tracked"] == TensorInfo((), "int64")


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_mmdet3_checkpoint_meta_classes_and_config(tmp_path, legacy):
    pytest.importorskip("torch")
    cfg = "model = dict(type='FasterRCNN', roi_head=dict(bbox_head=dict(num_classes=2)))\n"
    ckpt = synth.mmdet3_checkpoint(synth.torch_state_dict(), classes=("bolt", "nut"), cfg_text=cfg)
    path = synth.save_torch(ckpt, tmp_path / "epoch_12.pth", legacy)
    info = read_checkpoint(str(path))
    assert info.wrapper == "state_dict"
    assert _as_pairs(info) == _torch_reference(path, "state_dict")
    assert info.classes == ["bolt", "nut"]
    assert info.config_text == cfg
    assert info.meta["seed"] == 42 and info.meta["epoch"] == 12
    assert info.meta["dataset_meta"]["palette"] == [[220, 20, 60], [119, 11, 32]]
    assert info.top_level_keys == ["meta", "state_dict"]


def test_mmdet2_checkpoint_uses_CLASSES_and_config(tmp_path):
    pytest.importorskip("torch")
    ckpt = {"meta": {"mmdet_version": "2.25.0", "CLASSES": ("cat", "dog"), "config": "img_norm_cfg = dict()\n"},
            "state_dict": synth.torch_state_dict(), "optimizer": {"state": {}, "param_groups": [{"lr": 0.02}]}}
    info = read_checkpoint(str(synth.save_torch(ckpt, tmp_path / "v2.pth")))
    assert info.classes == ["cat", "dog"]
    assert info.config_text == "img_norm_cfg = dict()\n"


def test_d2_training_checkpoint_with_module_prefix(tmp_path):
    pytest.importorskip("torch")
    ckpt = {"model": synth.torch_state_dict(prefix="module."), "iteration": 89999,
            "trainer": {"iteration": 89999}}
    path = synth.save_torch(ckpt, tmp_path / "model_final.pth")
    info = read_checkpoint(str(path))
    assert (info.wrapper, info.prefix) == ("model", "module.")
    assert _as_pairs(info) == _torch_reference(path, "model", "module.")
    assert info.meta == {"iteration": 89999}


def test_prefix_kept_unless_every_key_has_it(tmp_path):
    torch = pytest.importorskip("torch")
    state = {"module.a.weight": torch.zeros(2), "b.weight": torch.zeros(3)}
    info = read_checkpoint(str(synth.save_torch(state, tmp_path / "mixed.pth")))
    assert info.prefix is None and list(info.tensors) == ["module.a.weight", "b.weight"]


def test_ema_checkpoint_reads_state_dict_like_mmengine(tmp_path):
    torch = pytest.importorskip("torch")
    ckpt = {"state_dict": {"w": torch.zeros(2, 3)},
            "ema_state_dict": {"steps": torch.zeros((), dtype=torch.int64), "module.w": torch.zeros(2, 3)}}
    info = read_checkpoint(str(synth.save_torch(ckpt, tmp_path / "ema.pth")))
    assert info.wrapper == "state_dict" and info.shapes() == {"w": (2, 3)}
    only_ema = read_checkpoint(str(synth.save_torch({"ema_state_dict": ckpt["ema_state_dict"]}, tmp_path / "e.pth")))
    assert only_ema.wrapper == "ema_state_dict" and only_ema.shapes() == {"steps": (), "module.w": (2, 3)}


def test_parameters_float8_and_torch_values_in_meta(tmp_path):
    torch = pytest.importorskip("torch")
    ckpt = {"state_dict": {"p": torch.nn.Parameter(torch.zeros(4, 2)), "f8": torch.zeros(3, dtype=torch.float8_e4m3fn),
                           "u16": torch.zeros(5, dtype=torch.uint16)},
            "meta": {"device": torch.device("cuda", 1), "dtype": torch.float16, "size": torch.Size([3, 4]),
                     "classes": {"a", "b"}}}
    path = synth.save_torch(ckpt, tmp_path / "p.pth")
    info = read_checkpoint(str(path))
    assert _as_pairs(info) == _torch_reference(path, "state_dict")
    assert info.meta["device"] == "cuda:1" and info.meta["dtype"] == "float16" and info.meta["size"] == [3, 4]


def test_real_mmengine_training_checkpoint(tmp_path):
    """Runner checkpoints carry message_hub (HistoryBuffer objects) and optimizer state next to the weights."""
    torch = pytest.importorskip("torch")
    from mmengine.logging import MessageHub

    hub = MessageHub.get_instance("cfglint-test")
    hub.update_scalar("train/loss", 0.5)
    hub.update_info("epoch", 3)
    model = torch.nn.Conv2d(3, 8, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    model(torch.zeros(1, 3, 5, 5)).sum().backward()
    optimizer.step()
    ckpt = synth.mmdet3_checkpoint(model.state_dict())
    ckpt.update(message_hub=hub.state_dict(), optimizer=optimizer.state_dict(),
                param_schedulers=[{"base_lrs": [0.02], "last_step": 3}])
    path = synth.save_torch(ckpt, tmp_path / "epoch_3.pth")
    info = read_checkpoint(str(path))
    assert info.shapes() == {"weight": (8, 3, 3, 3), "bias": (8,)}
    assert info.classes == ["bolt", "nut"]


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_d2_model_zoo_pkl(tmp_path, protocol):
    pytest.importorskip("numpy")
    model = synth.numpy_state_dict()
    path = synth.save_d2_pkl(model, tmp_path / "model_final_f10217.pkl", protocol, matching_heuristics=True)
    info = read_checkpoint(str(path))
    assert (info.format, info.wrapper) == ("d2-pkl", "model")
    assert _as_pairs(info) == {name: (a.shape, str(a.dtype)) for name, a in model.items()}
    assert list(info.tensors) == list(model)
    assert info.meta == {"__author__": "Detectron2 Model Zoo", "matching_heuristics": True}


def test_caffe2_pkl_blobs(tmp_path):
    np = pytest.importorskip("numpy")
    path = tmp_path / "R-50.pkl"
    path.write_bytes(pickle.dumps({"blobs": {"conv1_w": np.zeros((64, 3, 7, 7), "float32"),
                                             "res2_0_branch2a_w": np.zeros((64, 64, 1, 1), "float32")}}))
    info = read_checkpoint(str(path))
    assert info.wrapper == "blobs" and info.shapes() == {"conv1_w": (64, 3, 7, 7), "res2_0_branch2a_w": (64, 64, 1, 1)}


def test_safetensors_header(tmp_path):
    pytest.importorskip("torch")
    from safetensors import safe_open
    from safetensors.torch import save_file

    path = tmp_path / "model.safetensors"
    save_file(synth.torch_state_dict(), str(path), metadata={"format": "pt"})
    info = read_checkpoint(str(path))
    with safe_open(str(path), "pt") as f:
        expected = {k: (tuple(f.get_slice(k).get_shape()), str(f.get_tensor(k).dtype).replace("torch.", ""))
                    for k in f.keys()}
    assert info.format == "safetensors" and _as_pairs(info) == expected
    assert info.meta == {"format": "pt"}
    assert read_state_dict_shapes(str(path)) == {k: v[0] for k, v in expected.items()}


# ------------------------------------------------------------------------------------- bad input

def _garbage_cases(tmp_path):
    pytest.importorskip("torch")
    good = synth.save_torch(synth.torch_state_dict(), tmp_path / "good.pth")
    legacy = synth.save_torch(synth.torch_state_dict(), tmp_path / "good_legacy.pth", legacy=True)
    cases = {
        "empty": b"",
        "garbage": b"this is not a checkpoint at all\n" * 10,
        "control: valid with meta": _with_meta_payload(pickle.dumps("ok", protocol=2)[2:-1]),
        "zip truncated": good.read_bytes()[: good.stat().st_size // 2],
        "zip no data.pkl": _zip_bytes(tmp_path, {"archive/version": b"3\n"}),
        "zip empty": _zip_bytes(tmp_path, {}),
        "legacy truncated": legacy.read_bytes()[:200],
        "pickle truncated": pickle.dumps({"model": {"a": 1}}, protocol=2)[:-5],
        "pickle of a list": pickle.dumps([1, 2, 3]),
        "no tensors": pickle.dumps({"model": {"a": 1}, "__author__": "x"}),
        "persistent id in plain pickle": b"\x80\x02X\x01\x00\x00\x00aQ.",
        "safetensors length too big": (2**40).to_bytes(8, "little") + b"{}",
        "safetensors bad json": (4).to_bytes(8, "little") + b"{xx}",
        "safetensors offsets": _safetensors({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}, 16),
        "safetensors duplicate": _safetensors_raw(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                                                  b'"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4),
        "deep nesting in the pickle": _with_meta_payload(b"(" * 100_000 + b"t" * 100_000),
        "deep nesting in meta": _with_meta_payload(pickle.dumps(_nested(200), protocol=2)[2:-1]),
        "memo bomb in meta": _with_meta_payload(pickle.dumps(_memo_bomb(60), protocol=2)[2:-1]),
    }
    return cases


def _zip_bytes(tmp_path, entries):
    target = tmp_path / "z.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return target.read_bytes()


def _safetensors(header, data_len):
    import json

    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + b"\0" * data_len


def _safetensors_raw(header: bytes, data_len: int) -> bytes:
    return len(header).to_bytes(8, "little") + header + b"\0" * data_len


def _nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


def _memo_bomb(levels):
    """Each level holds the previous one twice: a small pickle (memo references) with 2**levels leaves."""
    value = []
    for _ in range(levels):
        value = [value, value]
    return value


_SENTINEL = "@@meta-payload@@"


def _with_meta_payload(opcodes: bytes) -> bytes:
    """A valid D2 .pkl (one real tensor) whose ``meta['x']`` is built by the given protocol-2 opcodes."""
    np = pytest.importorskip("numpy")
    data = pickle.dumps({"model": {"w": np.zeros(2, "float32")}, "__author__": "x", "meta": {"x": _SENTINEL}},
                        protocol=2)
    encoded = b"X" + len(_SENTINEL).to_bytes(4, "little") + _SENTINEL.encode()
    assert data.count(encoded) == 1
    return data.replace(encoded, opcodes)


def test_bad_inputs_are_cfglint_errors(tmp_path):
    cases = _garbage_cases(tmp_path)
    control = tmp_path / "control.pkl"
    control.write_bytes(cases.pop("control: valid with meta"))
    assert read_checkpoint(str(control)).meta["x"] == "ok"  # the splicing helper itself builds valid files
    for label, data in cases.items():
        path = tmp_path / f"{label.replace(' ', '_')}.pth"
        path.write_bytes(data)
        with pytest.raises(CfglintError) as err:
            read_checkpoint(str(path))
        assert err.value.file == str(path), label
        assert not isinstance(err.value.__cause__, BaseException) or err.value.__suppress_context__, label


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CfglintError, match="not found"):
        read_checkpoint(str(tmp_path / "nope.pth"))
    with pytest.raises(CfglintError, match="directory"):
        read_checkpoint(str(tmp_path))


def test_oversized_data_pkl_is_refused(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from cfglint.checkpoint.readers import torch_zip

    path = synth.save_torch(synth.torch_state_dict(), tmp_path / "big.pth")
    monkeypatch.setattr(torch_zip, "MAX_DATA_PKL_BYTES", 100)
    with pytest.raises(CfglintError, match="limit"):
        read_checkpoint(str(path))


def test_reading_does_not_import_heavy_modules(tmp_path):
    """The reader runs in a fresh interpreter and must leave torch/numpy/mmengine unimported."""
    import subprocess
    import sys

    pytest.importorskip("torch")
    ckpt = synth.mmdet3_checkpoint(synth.torch_state_dict())
    path = synth.save_torch(ckpt, tmp_path / "m.pth")
    code = ("import sys; from cfglint.checkpoint import read_checkpoint; read_checkpoint(sys.argv[1]); "
            "print(sorted(m for m in ('torch', 'numpy', 'mmengine', 'mmdet', 'detectron2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------ remote

def _counting_filesystem(blobs, fetched):
    from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

    class CountingFile(AbstractBufferedFile):
        def _fetch_range(self, start, end):
            data = blobs[self.path][start:end]
            fetched.append(len(data))
            return data

    class CountingFileSystem(AbstractFileSystem):
        protocol = "counting"
        cachable = False

        def info(self, path, **kwargs):
            path = self._strip_protocol(path)
            if path not in blobs:
                raise FileNotFoundError(path)
            return {"name": path, "size": len(blobs[path]), "type": "file"}

        def _open(self, path, mode="rb", block_size=None, **kwargs):
            info = self.info(path)
            return CountingFile(self, info["name"], mode, block_size or 5 * 2**20, size=info["size"])

    return CountingFileSystem


@pytest.mark.parametrize("kind", ["zip", "safetensors"])
def test_remote_reads_only_headers(tmp_path, kind, monkeypatch):
    """A ~20 MB remote checkpoint is described from a few range requests, identically to the local read."""
    torch = pytest.importorskip("torch")
    import fsspec

    state = synth.torch_state_dict()
    state["roi_heads.box_head.fc1.weight"] = torch.zeros(1024, 4096)  # 16 MB of weights nobody needs to read
    path = tmp_path / f"remote.{kind}"
    if kind == "zip":
        synth.save_torch({"state_dict": state}, path)
    else:
        from safetensors.torch import save_file
        save_file(state, str(path))
    blobs, fetched = {f"bucket/{path.name}": path.read_bytes()}, []
    fsspec.register_implementation("counting", _counting_filesystem(blobs, fetched), clobber=True)
    remote = read_checkpoint(f"counting://bucket/{path.name}")
    local = read_checkpoint(str(path))
    assert _as_pairs(remote) == _as_pairs(local) and len(remote.tensors) == len(state)
    size = path.stat().st_size
    assert size > 16 * 2**20
    assert 0 < sum(fetched) < size * 0.05, (sum(fetched), size)
    with pytest.raises(CfglintError, match="not found"):
        read_checkpoint("counting://bucket/missing.pth")
    with pytest.raises(CfglintError, match="URL"):
        read_checkpoint("nosuchprotocol://x/y.pth")
