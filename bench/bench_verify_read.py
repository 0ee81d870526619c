"""Benchmark: cfglint's lazy checkpoint reader vs the framework's own load, on R50-FPN-sized files.

Synthesizes a ~170 MB Mask R-CNN R50-FPN state dict (zeros, fp32, about 44M values) in a subprocess,
in three formats: torch's zip (``torch.load(weights_only=True)`` as reference), torch's legacy
format (same reference) and a Detectron2 model-zoo ``.pkl`` of numpy arrays (reference: the
``pickle.load(f, encoding="latin1")`` Detectron2's checkpointer does). It then times both readers in fresh subprocesses of this torch-free parent (Linux carries ``ru_maxrss``
across fork+exec, so a parent holding torch would inflate every child's figure) and reports the
ratio, with and without import time, and each one's peak RSS from ``resource.getrusage``. Run: ``/work/venv/bin/python bench/bench_verify_read.py``.
Targets: reader at least 10x faster, reader peak RSS under 150 MB.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.checkpoint.synth import full_r50_fpn_shapes, save_d2_pkl, save_torch  # noqa: E402

_MEASURE = """
import json, resource, sys, time
start = time.perf_counter()
if sys.argv[1] == "cfglint":
    from cfglint.checkpoint import read_checkpoint
    imported = time.perf_counter()
    count = len(read_checkpoint(sys.argv[2]).tensors)
elif sys.argv[1] == "pickle":
    import pickle
    imported = time.perf_counter()
    with open(sys.argv[2], "rb") as f:
        count = len(pickle.load(f, encoding="latin1")["model"])
else:
    import torch
    imported = time.perf_counter()
    count = len(torch.load(sys.argv[2], weights_only=True, map_location="cpu")["model"])
end = time.perf_counter()
print(json.dumps({"seconds": end - start, "read_seconds": end - imported, "tensors": count,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(reader: str, path: Path, repeats: int = 3) -> dict:
    """Best of ``repeats`` fresh-process runs (imports included: that is what a CLI user waits for)."""
    runs = [json.loads(subprocess.run([sys.executable, "-c", _MEASURE, reader, str(path)], check=True,
                                      capture_output=True, text=True, cwd=REPO).stdout) for _ in range(repeats)]
    return min(runs, key=lambda run: run["seconds"])


#: format -> (file name, reference reader, its label)
FORMATS = {"zip": ("model_final.pth", "torch", "torch.load(weights_only)"),
           "legacy": ("model_final_legacy.pth", "torch", "torch.load(weights_only)"),
           "pkl": ("model_final.pkl", "pickle", "pickle.load (Detectron2)")}


def make_checkpoint(path: Path, kind: str) -> None:
    shapes = full_r50_fpn_shapes()
    if kind == "pkl":
        import numpy as np
        save_d2_pkl({name: np.zeros(shape, dtype=np.float32) for name, shape in shapes}, path)
        return
    import torch
    save_torch({"model": {name: torch.zeros(shape) for name, shape in shapes}, "iteration": 89999}, path,
               legacy=kind == "legacy")


def main() -> None:
    shapes = full_r50_fpn_shapes()
    values = sum(_numel(shape) for _, shape in shapes)
    for kind, (name, reference, label) in FORMATS.items():
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            subprocess.run([sys.executable, __file__, "--make", str(path), kind], check=True, cwd=REPO)
            print(f"{kind} checkpoint: {path.stat().st_size / 2**20:.0f} MB, {len(shapes)} tensors, "
                  f"{values / 1e6:.1f}M values")
            ours, theirs = measure("cfglint", path), measure(reference, path)
        assert ours["tensors"] == theirs["tensors"] == len(shapes)
        for who, run in (("cfglint read_checkpoint ", ours), (f"{label:<24}", theirs)):
            print(f"  {who}: {run['seconds'] * 1000:8.1f} ms with imports, {run['read_seconds'] * 1000:8.1f} ms "
                  f"read, peak RSS {run['peak_rss_mb']:6.1f} MB")
        print(f"  speed-up: {theirs['seconds'] / ours['seconds']:.1f}x with imports, "
              f"{theirs['read_seconds'] / ours['read_seconds']:.1f}x read only (target >= 10x); "
              f"reader RSS target < 150 MB: {'met' if ours['peak_rss_mb'] < 150 else 'MISSED'}")


def _numel(shape) -> int:
    count = 1
    for dim in shape:
        count *= dim
    return count


if __name__ == "__main__":
    if sys.argv[1:2] == ["--make"]:
        make_checkpoint(Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "zip")
    else:
        main()
