"""Detectron2 model-zoo ``.pkl`` checkpoints (numpy pickles) convert to mmdet with their values intact.

The .pkl files are written here with the real ``pickle.dump`` of real numpy arrays, so the records
cfglint reads are numpy's own. Expected values are the arrays written; expected mmdet names are
written by hand from notes/mmdetection.md §5.3 (not taken from cfglint's key map).
"""
from __future__ import annotations

import json
import math
import pickle

import pytest

from cfglint.convert import convert_checkpoint
from cfglint.convert.checkpoint_io import load_state_dict
from cfglint.convert.d2_pickle import load_model_arrays
from cfglint.convert.proof import verify_checkpoint
from cfglint.errors import CfglintError, UnsafeContentError
from tests.checkpoint.test_malicious import PAYLOADS, _payloads
from tests.conftest import SHARED, requires_shared, run_cli

pytestmark = pytest.mark.slow   # model-zoo .pkl files converted over the corpus

np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")

AUTHOR = "Detectron2 Model Zoo"
D2_CONFIGS = SHARED / "corpus" / "detectron2" / "configs"
D2_STATE_DICTS = SHARED / "oracles" / "detectron2" / "state_dicts" / "configs"
# Tensors this large are written as float16 so that a full-shape checkpoint and its conversion
# stay near 170 MB of temp space; the rest are float32 like the published files.
HALF_PRECISION_FROM = 1 << 18


def _write_pkl(path, model, protocol=4, **extra):
    with open(path, "wb") as f:
        pickle.dump({"model": model, "__author__": AUTHOR, **extra}, f, protocol=protocol)
    return path


def _model_zoo_arrays(name):
    """Random arrays with every name and shape the real Detectron2 model has (oracle manifest)."""
    rng = np.random.default_rng(0)
    shapes = json.loads((D2_STATE_DICTS / f"{name}.json").read_text())
    return {key: rng.standard_normal(shape, dtype=np.float32).astype(
                np.float16 if math.prod(shape) >= HALF_PRECISION_FROM else np.float32)
            for key, shape in shapes.items()}


@pytest.fixture
def scratch(tmp_path):
    """tmp_path, emptied afterwards: full-size checkpoints must not pile up in pytest's kept temp dirs."""
    yield tmp_path
    for path in tmp_path.iterdir():
        path.unlink()


def _anchor_blocks_to_mmdet(array, sizes, ratios):
    """Detectron2 orders anchors size-major (a = s*R + r), mmdet ratio-major (a = r*S + s)."""
    blocks = np.split(array, sizes * ratios)
    return np.concatenate([blocks[s * ratios + r] for r in range(ratios) for s in range(sizes)])


# (Detectron2 name, mmdet name) pairs that copy unchanged.
FASTER_RCNN_SAME = [
    ("backbone.bottom_up.stem.conv1.weight", "backbone.conv1.weight"),
    ("backbone.bottom_up.res2.0.conv1.norm.running_var", "backbone.layer1.0.bn1.running_var"),
    ("backbone.bottom_up.res4.0.shortcut.weight", "backbone.layer3.0.downsample.0.weight"),
    ("backbone.bottom_up.res5.2.conv3.weight", "backbone.layer4.2.conv3.weight"),
    ("backbone.fpn_lateral3.weight", "neck.lateral_convs.1.conv.weight"),
    ("proposal_generator.rpn_head.anchor_deltas.weight", "rpn_head.rpn_reg.weight"),   # 1 size: no reorder
    ("roi_heads.box_head.fc1.weight", "roi_head.bbox_head.shared_fcs.0.weight"),
    ("roi_heads.box_predictor.cls_score.bias", "roi_head.bbox_head.fc_cls.bias"),
]
RETINANET_SAME = [
    ("backbone.fpn_lateral3.weight", "neck.lateral_convs.0.conv.weight"),
    ("backbone.top_block.p6.weight", "neck.fpn_convs.3.conv.weight"),
    ("head.cls_subnet.2.weight", "bbox_head.cls_convs.1.conv.weight"),
]
# RetinaNet outputs are grouped per anchor: 3 sizes x 3 ratios (ANCHOR_GENERATOR of the config).
RETINANET_PERMUTED = [("head.cls_score.bias", "bbox_head.retina_cls.bias"),
                      ("head.cls_score.weight", "bbox_head.retina_cls.weight"),
                      ("head.bbox_pred.weight", "bbox_head.retina_reg.weight")]
CASES = {"COCO-Detection/faster_rcnn_R_50_FPN_3x": (FASTER_RCNN_SAME, []),
         "COCO-Detection/retinanet_R_50_FPN_3x": (RETINANET_SAME, RETINANET_PERMUTED)}


@requires_shared
@pytest.mark.parametrize("name", list(CASES))
def test_model_zoo_pkl_converts_exactly_and_verifies(name, scratch):
    same, permuted = CASES[name]
    model = _model_zoo_arrays(name)
    src = _write_pkl(scratch / "model_final_abc123.pkl", model)
    out = scratch / "converted.pth"
    result = convert_checkpoint(str(src), str(D2_CONFIGS / f"{name}.yaml"), "mmdet", str(out))
    saved = torch.load(out, weights_only=True)["state_dict"]
    for d2_name, mm_name in same:
        assert saved[mm_name].numpy().tobytes() == model[d2_name].tobytes(), d2_name
        assert str(saved[mm_name].dtype) == f"torch.{model[d2_name].dtype}"
    for d2_name, mm_name in permuted:
        expected = _anchor_blocks_to_mmdet(model[d2_name], sizes=3, ratios=3)
        assert saved[mm_name].numpy().tobytes() == expected.tobytes(), d2_name
    report = verify_checkpoint(str(out), result.config.text, "mmdet")
    sd = report.state_dict
    assert (sd.missing, sd.unexpected, sd.mismatched) == ([], [], [])
    assert sd.checked == len(saved) == result.converted
    assert report.ok


# --------------------------------------------------------------------------- array records

def _unusual_arrays():
    base = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7
    return {
        "c_float32": base.astype(np.float32),
        "fortran_float64": np.asfortranarray(base),
        "big_endian_float32": base.astype(">f4"),
        "float16": base.astype(np.float16),
        "int64": np.arange(-5, 5, dtype=np.int64),
        "bool": np.array([True, False, True]),
        "scalar": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "strided_view": base[:, ::2, 1],     # pickled from a non-contiguous view
    }


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_array_records_rebuild_exactly(tmp_path, protocol):
    """dtype records with byte order, Fortran order, 0-d and empty arrays, every pickle protocol."""
    arrays = _unusual_arrays()
    path = _write_pkl(tmp_path / "model_final.pkl", arrays, protocol)
    rebuilt = load_model_arrays(str(path))
    assert list(rebuilt) == list(arrays)
    for name, original in arrays.items():
        got = rebuilt[name]
        assert got.shape == original.shape and got.dtype == original.dtype.newbyteorder("="), name
        assert np.array_equal(got, original), name
        assert got.flags.c_contiguous and got.flags.writeable, name


def test_reading_for_description_drops_array_bytes(tmp_path):
    """Only the convert path keeps array bytes; describing a checkpoint (verify, show) does not."""
    from cfglint.checkpoint.readers.pickles import load_pickle_checkpoint

    path = _write_pkl(tmp_path / "model_final.pkl", {"w": np.ones(4, np.float32)})
    with open(path, "rb") as f:
        _, described = load_pickle_checkpoint(f, str(path))
    with open(path, "rb") as f:
        _, kept = load_pickle_checkpoint(f, str(path), keep_array_data=True)
    assert described["model"]["w"].data is None
    assert kept["model"]["w"].data == np.ones(4, np.float32).tobytes()


def test_object_array_refused(tmp_path):
    path = _write_pkl(tmp_path / "model_final.pkl", {"w": np.array([1, "two"], dtype=object)})
    with pytest.raises(CfglintError, match="'w' has dtype object; only numeric arrays"):
        load_model_arrays(str(path))


class _ForgedArray:
    """Pickles as numpy's own array record, but with 8 bytes of data for a 5-element float32 shape."""

    def __reduce__(self):
        from numpy._core.multiarray import _reconstruct
        return _reconstruct, (np.ndarray, (0,), b"b"), (1, (5,), np.dtype("f4"), False, b"\0" * 8)


def test_array_with_wrong_byte_count_refused(tmp_path):
    path = _write_pkl(tmp_path / "model_final.pkl", {"w": _ForgedArray()})
    with pytest.raises(CfglintError, match=r"'w' holds 8 bytes, but float32 of shape \[5\] needs 20"):
        load_model_arrays(str(path))


# --------------------------------------------------------------------------- layouts convert refuses

def test_caffe2_blobs_refused(tmp_path):
    path = tmp_path / "R-50.pkl"
    path.write_bytes(pickle.dumps({"blobs": {"conv1_w": np.zeros((64, 3, 7, 7), np.float32)}}))
    with pytest.raises(CfglintError, match=r"Caffe2/Detectron1 checkpoint \(its weights are under 'blobs'\)"):
        load_state_dict(str(path))


def test_pkl_without_author_is_caffe2_layout(tmp_path):
    """Detectron2 takes a .pkl as its own format only with both 'model' and '__author__'."""
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"model": {"conv1_w": np.zeros(3, np.float32)}}))
    with pytest.raises(CfglintError, match="no 'model' and '__author__' keys"):
        load_state_dict(str(path))


def test_matching_heuristics_refused(tmp_path):
    path = _write_pkl(tmp_path / "R-50.pkl", {"stem.conv1.weight": np.zeros(3, np.float32)},
                      matching_heuristics=True)
    with pytest.raises(CfglintError, match="sets matching_heuristics") as err:
        load_state_dict(str(path))
    assert err.value.file == str(path)


def test_model_zoo_pkl_loads_as_tensors(tmp_path):
    model = _unusual_arrays()
    path = _write_pkl(tmp_path / "model_final.pkl", {f"module.{k}": v for k, v in model.items()})
    tensors, fmt = load_state_dict(str(path))
    assert fmt == "d2-pkl" and list(tensors) == list(model)      # DataParallel prefix dropped
    assert all(np.array_equal(tensors[k].numpy(), v) for k, v in model.items())


# --------------------------------------------------------------------------- hostile files

@requires_shared
@pytest.mark.parametrize("payload", PAYLOADS)
def test_malicious_pkl_refused_by_convert(tmp_path, payload):
    canary = tmp_path / "canary"
    obj, global_name = _payloads(canary)[payload]
    path = _write_pkl(tmp_path / "model_final.pkl", {"backbone.bottom_up.stem.conv1.weight": obj}, protocol=2)
    config = D2_CONFIGS / "COCO-Detection" / "faster_rcnn_R_50_FPN_3x.yaml"
    proc = run_cli("convert", str(path), "--config", str(config), "--to", "mmdet", "-o", str(tmp_path / "o.pth"))
    assert proc.returncode == 2, proc.stderr
    assert f"refusing to load pickle global '{global_name}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not canary.exists() and not (tmp_path / "o.pth").exists()


def test_malicious_global_inside_array_record_refused(tmp_path):
    """The data path reads with the same allow-list: a payload in an array's state is refused."""
    canary = tmp_path / "canary"
    payload, global_name = _payloads(canary)["builtins.exec"]

    class Trojan:
        def __reduce__(self):
            from numpy._core.multiarray import _reconstruct
            return _reconstruct, (np.ndarray, (0,), b"b"), (1, (1,), np.dtype("f4"), False, payload)

    path = _write_pkl(tmp_path / "model_final.pkl", {"w": Trojan()})
    with pytest.raises(UnsafeContentError, match=f"'{global_name}'"):
        load_model_arrays(str(path))
    assert not canary.exists()


def test_bytes_global_only_builds_empty_bytes(tmp_path):
    """``builtins.bytes()`` (how protocols 0-2 write an empty array's data) is allowed without
    arguments only: ``bytes(n)`` would allocate n bytes."""
    path = tmp_path / "model_final.pkl"
    path.write_bytes(b"\x80\x02}(X\x05\x00\x00\x00modelcbuiltins\nbytes\nJ@B\x0f\x00\x85Ru.")
    with pytest.raises(UnsafeContentError, match="'builtins.bytes' with arguments"):
        load_model_arrays(str(path))


def _python2_array_pickle(values: bytes) -> bytes:
    """A model-zoo .pkl as Python 2 wrote it: the array data is a py2 ``str`` (SHORT_BINSTRING)."""
    dtype = (b"cnumpy\ndtype\nU\x02f4K\x00K\x01\x87R"
             b"(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R"
             b"(K\x01K\x02\x85" + dtype + b"\x89U" + bytes([len(values)]) + values + b"tb")
    return (b"\x80\x02}(U\x05model}U\x01w" + array + b"sU\n__author__U\x03py2u.")


def test_python2_pickled_array(tmp_path):
    values = np.array([1.5, -2.0], dtype="<f4")
    data = _python2_array_pickle(values.tobytes())
    reference = pickle.loads(data, encoding="latin1")["model"]["w"]      # numpy's own reading
    assert np.array_equal(reference, values)
    path = tmp_path / "model_final.pkl"
    path.write_bytes(data)
    assert np.array_equal(load_model_arrays(str(path))["w"], reference)
