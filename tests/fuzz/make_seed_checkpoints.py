"""Write the small seed checkpoints the fuzz tests mutate (fixtures/hostile/checkpoints/).

Needs torch, which the test suite does not: run once by hand, e.g.
`PYTHONPATH=/path/to/torch /work/venv/bin/python -m tests.fuzz.make_seed_checkpoints`.
The tensor spec below is also what the fuzz tests expect the pristine seeds to read as.
"""
from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

from tests.checkpoint import synth

OUT = Path(__file__).resolve().parents[2] / "fixtures" / "hostile" / "checkpoints"

#: name, shape, dtype: tiny, so the seeds stay a few kilobytes; mixes dtypes and a scalar.
SEED_SPEC = [
    ("backbone.stem.conv1.weight", (4, 3, 3, 3), "float32"),
    ("backbone.stem.conv1.norm.running_mean", (4,), "float32"),
    ("backbone.stem.conv1.norm.num_batches_tracked", (), "int64"),
    ("backbone.fpn_lateral2.weight", (2, 4, 1, 1), "float16"),
    ("roi_heads.box_predictor.cls_score.weight", (3, 2), "float32"),
]
#: Class names the mmdet-style seeds carry in meta.dataset_meta.
SEED_CLASSES = ("bolt", "nut")
_SAFETENSORS_DTYPES = {"float32": ("F32", 4), "float16": ("F16", 2), "int64": ("I64", 8)}


def write_safetensors(path: Path) -> None:
    header, offset = {}, 0
    for name, shape, dtype in SEED_SPEC:
        code, size = _SAFETENSORS_DTYPES[dtype]
        numel = 1
        for dim in shape:
            numel *= dim
        header[name] = {"dtype": code, "shape": list(shape), "data_offsets": [offset, offset + numel * size]}
        offset += numel * size
    header["__metadata__"] = {"format": "pt"}
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + bytes(offset))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    state = synth.torch_state_dict(SEED_SPEC)
    checkpoint = synth.mmdet3_checkpoint(state, classes=SEED_CLASSES)
    checkpoint["meta"]["seed"] = 42  # plain int: the seeds must not need numpy to read
    synth.save_torch(checkpoint, OUT / "seed_zip.pth")
    synth.save_torch(checkpoint, OUT / "seed_legacy.pth", legacy=True)
    numpy_state = {name: value.numpy() for name, value in state.items()}
    with open(OUT / "seed_d2.pkl", "wb") as f:
        pickle.dump({"model": numpy_state, "__author__": "Detectron2 Model Zoo"}, f, protocol=2)
    write_safetensors(OUT / "seed.safetensors")


if __name__ == "__main__":
    main()
