"""Every performance figure cfglint promises, measured in one run, as ratios against the frameworks.

    python bench/run_all.py            # needs the `test` extras (mmengine, mmdet, torch)

1. start-up: `cfglint lint one.yaml` against a bare `python -c pass` (target: at most 150 ms more);
2. resolving the mmdet 3.3 zoo and the 2.28 corpus: cfglint against mmengine's `Config.fromfile`
   (target: at least 20x), and `cfglint lint` of the whole zoo with 1 and N processes, the `-j 1`
   run through the CLI against `Config.fromfile` of the zoo (target: at least 20x; the lint run
   also reads and lints the `_base_` files mmengine is not timed on);
3. linting the Detectron2 corpus (configs per minute; detectron2 itself is not installable here);
4. reading a 170 MB R50-FPN checkpoint as torch zip, torch legacy and Detectron2 `.pkl`: cfglint
   against `torch.load(weights_only=True)` / `pickle.load` (target: at least 10x, peak RSS under 150 MB).
Nothing here is a test: timings depend on the machine, so they are printed, not asserted.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import bench_mmdet_resolve  # noqa: E402
import bench_verify_read  # noqa: E402

SHARED = REPO.parent / "shared"
ONE_YAML = REPO / "fixtures" / "examples" / "train.yaml"


def _wall(args, repeats: int) -> float:
    """Median wall time of a fresh process, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def startup(repeats: int = 21) -> None:
    # An installed package has its bytecode written; compile it here too, so that an environment
    # with PYTHONDONTWRITEBYTECODE=1 does not time the compiler instead of cfglint.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "cfglint")], check=True,
                   stdout=subprocess.DEVNULL)
    # The `cfglint` command a user (or pre-commit) runs, when installed beside this interpreter;
    # `python -m cfglint` otherwise. Each is timed interleaved with `python -c pass`, so a
    # noisy machine slows both alike.
    command = Path(sys.executable).with_name("cfglint")
    runs = {"python -m cfglint": [sys.executable, "-m", "cfglint"]}
    if command.is_file():
        runs["cfglint"] = [str(command)]
    bare = []
    timed = {name: [] for name in runs}
    for _ in range(repeats):
        bare.append(_wall([sys.executable, "-c", "pass"], 1))
        for name, prefix in runs.items():
            timed[name].append(_wall(prefix + ["lint", str(ONE_YAML)], 1))
    base = statistics.median(bare)
    print(f"start-up: python -c pass {base * 1000:.0f} ms (median of {repeats}; fastest {min(bare) * 1000:.0f} ms)")
    for name, times in timed.items():
        median = statistics.median(times)
        print(f"  {name} lint one.yaml {median * 1000:.0f} ms (+{(median - base) * 1000:.0f} ms, target <= 150 ms; "
              f"fastest {min(times) * 1000:.0f} ms, +{(min(times) - min(bare)) * 1000:.0f} ms)")
    show = _wall(list(runs.get("cfglint", runs["python -m cfglint"])) + ["show", str(ONE_YAML)], repeats)
    print(f"  cfglint show one.yaml {show * 1000:.0f} ms")


def lint_tree(root: Path, label: str, jobs: int, repeats: int = 3) -> float:
    """Median wall time of `repeats` runs of `cfglint lint root -j jobs` (one run is too noisy here)."""
    count = sum(1 for _ in root.rglob("*.py")) + sum(1 for _ in root.rglob("*.yaml"))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cfglint", "lint", str(root), "-j", str(jobs), "--format", "json"],
                       cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    print(f"cfglint lint {label} ({count} files, -j {jobs}): {seconds:.2f} s median of {repeats} "
          f"(fastest {min(times):.2f} s), {count / seconds * 60:.0f} configs/min")
    return seconds


def main() -> None:
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    startup()
    # First, while this process is small: Linux carries the parent's peak RSS into a child's
    # ru_maxrss, and the mmengine comparison below loads torch.
    bench_verify_read.main()
    framework_seconds = bench_mmdet_resolve.main()
    corpora = bench_mmdet_resolve.corpora()
    zoo = corpora.get("mmdet 3.3 zoo")
    if zoo is not None:
        for jobs in (1, os.cpu_count() or 1):
            seconds = lint_tree(zoo, "mmdet 3.3 zoo", jobs)
            if jobs == 1 and "mmdet 3.3 zoo" in framework_seconds:
                ratio = framework_seconds["mmdet 3.3 zoo"] / seconds
                print(f"  cfglint lint -j 1 of the zoo through the CLI (median) vs Config.fromfile of it: {ratio:.1f}x "
                      f"(target >= 20x)")
    if (SHARED / "corpus" / "detectron2").is_dir():
        lint_tree(SHARED / "corpus" / "detectron2", "Detectron2 corpus", 1)


if __name__ == "__main__":
    main()
