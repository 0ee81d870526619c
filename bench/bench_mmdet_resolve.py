"""Resolve the mmdet 3.3 zoo and the 2.28 corpus with cfglint and with mmengine; print the speed ratio.

Run standalone: `python bench/bench_mmdet_resolve.py`. Only configs both tools load are timed.
"""
from __future__ import annotations

import gc
import importlib.util
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cfglint.adapters.mmdet.evaluator import resolve_file  # noqa: E402
from cfglint.errors import CfglintError  # noqa: E402


def corpora() -> dict:
    spec = importlib.util.find_spec("mmdet")
    found = {}
    if spec and spec.submodule_search_locations:
        found["mmdet 3.3 zoo"] = Path(list(spec.submodule_search_locations)[0]) / ".mim" / "configs"
    shared = REPO.parent / "shared" / "corpus" / "mmdet2" / "configs"
    if shared.is_dir():
        found["mmdet 2.28 corpus"] = shared
    return found


def _time_cfglint(paths, gc_enabled: bool) -> float:
    """Fresh caches each time, so both settings parse every file once."""
    from cfglint.adapters import roots
    from cfglint.adapters.mmdet import evaluator, sources
    evaluator._RESOLVED.clear(), sources._CACHE.clear(), sources._RAW.clear(), roots._READ.clear()
    gc.enable() if gc_enabled else gc.disable()
    start = time.perf_counter()
    for p in paths:
        try:
            resolve_file(p)
        except CfglintError:
            pass
    elapsed = time.perf_counter() - start
    gc.enable()
    return elapsed


def main() -> dict:
    """Prints each corpus's figures; returns {corpus name: seconds mmengine took}."""
    from mmengine.config import Config
    framework_seconds = {}
    for name, root in corpora().items():
        paths = sorted(str(p) for p in root.rglob("*.py"))
        ok = []
        t_mm = 0.0
        for p in paths:
            start = time.perf_counter()
            try:
                Config.fromfile(p, import_custom_modules=False).to_dict()
            except Exception:
                continue
            t_mm += time.perf_counter() - start
            ok.append(p)
        # The cfglint CLI runs with the cyclic GC off (cfglint/cli/main.py); the library keeps it on.
        t_cli, t_lib = _time_cfglint(ok, gc_enabled=False), _time_cfglint(ok, gc_enabled=True)
        print(f"{name}: {len(ok)} configs; mmengine Config.fromfile {t_mm:.2f} s; cfglint {t_cli:.2f} s as the "
              f"CLI runs (ratio {t_mm / t_cli:.1f}x, target >= 20x), {t_lib:.2f} s with the GC on "
              f"({t_mm / t_lib:.1f}x)")
        framework_seconds[name] = t_mm
    return framework_seconds


if __name__ == "__main__":
    main()
