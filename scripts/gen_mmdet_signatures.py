"""Generate cfglint/adapters/mmdet/signatures.json: constructor parameters of every registered
class of mmdet, mmyolo, mmrotate, mmpretrain, mmcv and mmengine, per package, read statically from
the installed sources (nothing is imported; the packages need not even be importable).

`cfglint lint` checks each `type=X` dict of an MMDetection config against X's parameters to catch
misspelled keys (`num_clases=3` is silently swallowed by `**kwargs`-less constructors only at
build time, or by ones with **kwargs never). When mmdet is installed cfglint reads the installed
sources the same way at run time; otherwise it uses this snapshot.

Regenerate (with the `mmdet` extra installed; the toolboxes can sit in a side directory, since
only their sources are read, e.g. `pip install --no-deps --target /tmp/mm mmrotate==1.0.0rc1
mmyolo==0.6.0 mmpretrain==1.2.0`):
    PYTHONPATH=/tmp/mm python scripts/gen_mmdet_signatures.py

A package that is not found is left out of the snapshot: cfglint then does not judge its types.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cfglint.adapters.mmdet.signatures import scan_installed  # noqa: E402

OUT = ROOT / "cfglint" / "adapters" / "mmdet" / "signatures.json"


def main() -> int:
    tables, versions = scan_installed()
    if not all(pkg in tables for pkg in ("mmdet", "mmcv", "mmengine")):
        print("mmdet/mmcv/mmengine sources not found; install the `mmdet` extra", file=sys.stderr)
        return 1
    OUT.write_text(json.dumps({"versions": versions, "packages": tables}, indent=0, sort_keys=True) + "\n")
    counts = ", ".join(f"{pkg} {versions[pkg]}: {len(t)}" for pkg, t in sorted(tables.items()))
    print(f"wrote registered classes ({counts}) to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
