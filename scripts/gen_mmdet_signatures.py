"""Generate cfglint/adapters/mmdet/signatures.json: constructor parameters of every registered
mmdet / mmcv / mmengine class, read statically from the installed sources (nothing is imported).

`cfglint lint` checks each `type=X` dict of an MMDetection config against X's parameters to catch
misspelled keys (`num_clases=3` is silently swallowed by `**kwargs`-less constructors only at
build time, or by ones with **kwargs never). When mmdet is installed cfglint reads the installed
sources the same way at run time; otherwise it uses this snapshot.

Regenerate (with the `mmdet` extra installed):
    python scripts/gen_mmdet_signatures.py
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
    table, versions = scan_installed()
    if not table:
        print("mmdet/mmcv/mmengine sources not found; install the `mmdet` extra", file=sys.stderr)
        return 1
    OUT.write_text(json.dumps({"versions": versions, "classes": table}, indent=0, sort_keys=True) + "\n")
    print(f"wrote {len(table)} registered classes from {versions} to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
