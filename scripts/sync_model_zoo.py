"""Write cfglint/adapters/detectron2/model_zoo/checkpoints.json from a detectron2 release.

The table is detectron2's `_ModelZooUrls` (`detectron2/model_zoo/model_zoo.py`, Apache-2.0): which
trained checkpoint `model_zoo.get_checkpoint_url(name)` / `get_config(name, trained=True)` give
for each model-zoo config. It is read as literals (nothing imported or run) by the same reader
cfglint uses on an installed detectron2, so the shipped copy and an installed one cannot disagree
in form.

    python scripts/sync_model_zoo.py path/to/detectron2/model_zoo/model_zoo.py

(from a detectron2 checkout, or a wheel/sdist of it unpacked). Check afterwards that every name in
the table is a config in model_zoo/configs (tests/adapters/test_d2_zoo_checkpoints.py does).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cfglint.adapters.detectron2.zoo import SHIPPED_CHECKPOINT_TABLE, read_checkpoint_table  # noqa: E402


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    source = Path(argv[1])
    table = read_checkpoint_table(source.read_text(encoding="utf-8"))
    if table is None:
        print(f"{source}: no literal _ModelZooUrls table", file=sys.stderr)
        return 2
    prefix, suffixes = table
    Path(SHIPPED_CHECKPOINT_TABLE).write_text(json.dumps(
        {"S3_PREFIX": prefix, "CONFIG_PATH_TO_URL_SUFFIX": suffixes}, indent=1) + "\n", encoding="utf-8")
    print(f"{SHIPPED_CHECKPOINT_TABLE}: {len(suffixes)} models")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
