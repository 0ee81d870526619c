"""Benchmark: cfglint's lazy checkpoint reader vs ``torch.load(weights_only=True)`` on an R50-FPN-sized file.

Synthesizes a ~170 MB Mask R-CNN R50-FPN state dict (zeros, fp32, about 44M values) in a subprocess,
then times both readers in fresh subprocesses of this torch-free parent (Linux carries ``ru_maxrss``
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

from tests.checkpoint.synth import full_r50_fpn_shapes, save_torch  # noqa: E402

_MEASURE = """
import json, resource, sys, time
start = time.perf_counter()
if sys.argv[1] == "cfglint":
    from cfglint.checkpoint import read_checkpoint
    imported = time.perf_counter()
    count = len(read_checkpoint(sys.argv[2]).tensors)
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


def make_checkpoint(path: Path) -> None:
    import torch

    shapes = full_r50_fpn_shapes()
    save_torch({"model": {name: torch.zeros(shape) for name, shape in shapes}, "iteration": 89999}, path)


def main() -> None:
    shapes = full_r50_fpn_shapes()
    values = sum(_numel(shape) for _, shape in shapes)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model_final.pth"
        subprocess.run([sys.executable, __file__, "--make", str(path)], check=True, cwd=REPO)
        print(f"checkpoint: {path.stat().st_size / 2**20:.0f} MB, {len(shapes)} tensors, {values / 1e6:.1f}M values")
        ours, theirs = measure("cfglint", path), measure("torch", path)
    assert ours["tensors"] == theirs["tensors"] == len(shapes)
    for label, run in (("cfglint read_checkpoint ", ours), ("torch.load(weights_only)", theirs)):
        print(f"{label}: {run['seconds'] * 1000:8.1f} ms with imports, {run['read_seconds'] * 1000:8.1f} ms read, "
              f"peak RSS {run['peak_rss_mb']:6.1f} MB")
    print(f"speed-up: {theirs['seconds'] / ours['seconds']:.1f}x with imports, "
          f"{theirs['read_seconds'] / ours['read_seconds']:.1f}x read only (target >= 10x); "
          f"reader RSS target < 150 MB: {'met' if ours['peak_rss_mb'] < 150 else 'MISSED'}")


def _numel(shape) -> int:
    count = 1
    for dim in shape:
        count *= dim
    return count


if __name__ == "__main__":
    if sys.argv[1:2] == ["--make"]:
        make_checkpoint(Path(sys.argv[2]))
    else:
        main()
