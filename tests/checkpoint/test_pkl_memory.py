"""Arrays inlined in a ``.pkl`` are skipped, not kept: peak memory is far below the file size.

The files are real ``pickle.dump`` output of numpy state dicts in every protocol Detectron2 users
meet (Python 2's BINSTRING, protocol 2's ``_codecs.encode``, 3-5's BINBYTES/BYTEARRAY8 and
frames). Peak Python allocations are measured with tracemalloc; the reference for names, shapes
and dtypes is a real ``pickle.load``.
"""
from __future__ import annotations

import pickle
import struct
import tracemalloc

import pytest

from cfglint.checkpoint import read_checkpoint
from cfglint.checkpoint.readers.pickles import load_pickle_checkpoint

np = pytest.importorskip("numpy")

SHAPES = {f"backbone.bottom_up.res4.{i}.conv2.weight": (256, 256, 3, 3) for i in range(12)}
SHAPES.update({"roi_heads.box_predictor.cls_score.weight": (81, 1024), "roi_heads.box_predictor.cls_score.bias": (81,)})


def _model():
    return {k: np.zeros(v, dtype=np.float32) for k, v in SHAPES.items()}


class _Python2Pickler(pickle._Pickler):
    """Writes bytes as BINSTRING, as Python 2 wrote ``str`` (the model-zoo .pkl files)."""

    def save_bytes(self, obj):
        self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[bytes] = save_bytes


def _dump(path, protocol):
    obj = {"model": _model(), "__author__": "Detectron2 Model Zoo", "matching_heuristics": True}
    with open(path, "wb") as f:
        if protocol == "py2":
            # numpy pickles its data as bytes; written as BINSTRING, as Python 2 produced it.
            _Python2Pickler(f, protocol=3).dump(obj)
        else:
            pickle.dump(obj, f, protocol=protocol)
    return path


@pytest.mark.parametrize("protocol", ["py2", 2, 3, 4, 5])
def test_pkl_peak_memory_is_a_fraction_of_the_file(tmp_path, protocol):
    path = _dump(tmp_path / "model_final.pkl", protocol)
    size = path.stat().st_size
    assert size > 25 << 20
    tracemalloc.start()
    try:
        info = read_checkpoint(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    with open(path, "rb") as f:
        reference = pickle.load(f, encoding="latin1")["model"]
    assert info.shapes() == {k: v.shape for k, v in reference.items()}
    assert {k: t.dtype for k, t in info.tensors.items()} == {k: str(v.dtype) for k, v in reference.items()}
    assert peak < 0.05 * size, f"peak {peak} bytes for a {size}-byte file"


def test_array_data_is_still_read_when_asked_for(tmp_path):
    """The convert path keeps array bytes: skipping applies to describing only."""
    path = _dump(tmp_path / "model_final.pkl", 2)
    with open(path, "rb") as f:
        _, obj = load_pickle_checkpoint(f, str(path), keep_array_data=True)
    stub = obj["model"]["roi_heads.box_predictor.cls_score.bias"]
    assert stub.data == bytes(81 * 4)


def test_large_metadata_text_is_kept(tmp_path):
    """Only bytes payloads are skipped: a long text (an embedded config) arrives whole."""
    text = "model = dict()\n" * 10000
    path = tmp_path / "model_final.pkl"
    with open(path, "wb") as f:
        pickle.dump({"model": _model(), "meta": {"cfg": text}}, f, protocol=2)
    assert read_checkpoint(str(path)).meta["cfg"] == text


def test_truncated_inside_a_skipped_array_is_refused(tmp_path):
    from cfglint.errors import CfglintError
    path = _dump(tmp_path / "model_final.pkl", 2)
    cut = tmp_path / "cut.pkl"
    cut.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    with pytest.raises(CfglintError) as err:
        read_checkpoint(str(cut))
    assert "truncated" in err.value.message


@pytest.mark.parametrize("protocol", [2, 4])
def test_a_pickle_with_very_many_opcodes_still_reads(tmp_path, protocol, monkeypatch):
    """Past the scanner's opcode budget the rest of the stream goes to the unpickler unchanged."""
    import cfglint.checkpoint.readers.skipping as skipping
    monkeypatch.setattr(skipping, "MAX_SCANNED_OPS", 50)
    path = tmp_path / "model_final.pkl"
    with open(path, "wb") as f:
        pickle.dump({"meta": {"ids": list(range(1000)), "cfg": "x" * 100_000}, "model": _model()}, f,
                    protocol=protocol)
    info = read_checkpoint(str(path))
    assert info.shapes() == SHAPES
    assert info.meta == {"ids": list(range(1000)), "cfg": "x" * 100_000}
