"""Regenerate cfglint/adapters/known_names.json: every attribute name of the modules below, as the
installed frameworks define them (run in an environment that has them; cfglint itself never
imports them). Used to say that `nn.SyncBatchNorm2d` does not exist (LazyConfig.load fails on it)
and that a `_target_` naming a missing attribute cannot be located.

Only modules whose complete set of names is known are listed: a partial table could not say that
a name does not exist.

    python scripts/gen_known_names.py
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

MODULES = ["torch.nn", "torch.nn.functional", "torch.nn.init", "torch.optim", "torch.optim.lr_scheduler"]
OUT = Path(__file__).resolve().parents[1] / "cfglint" / "adapters" / "known_names.json"


def main() -> None:
    import torch
    table = {}
    for name in MODULES:
        module = importlib.import_module(name)
        table[name] = sorted(set(dir(module)))
    OUT.write_text(json.dumps({"generated_by": "scripts/gen_known_names.py",
                               "versions": {"torch": torch.__version__.split("+")[0]},
                               "modules": table}, indent=0, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({sum(len(v) for v in table.values())} names)")


if __name__ == "__main__":
    main()
