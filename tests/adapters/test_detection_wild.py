"""Detection that does not guess, on code nobody here wrote: every file of ../shared/corpus/wild that
the frameworks were run on (oracles/wild/index.json) is classified as the kind of config the
framework read it as, and no Python file of the frameworks' own demo/tools scripts is taken for a
config file of either framework (scripts that build a model are the serving-script kind)."""
from __future__ import annotations

import json

import pytest

from cfglint.adapters import detect_kind
from tests.conftest import HAVE_SHARED, SHARED

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not HAVE_SHARED, reason="../shared is not present")]

#: oracle kind -> the framework kind that must claim the file
EXPECTED = {"mm": "mmdet", "d2yaml": "detectron2", "lazy": "detectron2"}


def test_every_wild_config_with_an_oracle_is_classified_as_its_framework():
    index = json.loads((SHARED / "oracles" / "wild" / "index.json").read_text())
    wrong, total = [], 0
    for repo, files in index.items():
        for path, info in files.items():
            total += 1
            kind = detect_kind(str(SHARED / "corpus" / "wild" / repo / path))
            if kind is None or kind.name != EXPECTED[info["kind"]]:
                wrong.append((repo, path, info["kind"], kind and kind.name))
    assert total > 900 and not wrong, wrong[:20]


def test_framework_scripts_are_not_config_files():
    scripts = sorted((SHARED / "corpus" / "scripts").rglob("*.py"))
    assert scripts
    claimed = [(p.name, kind.name) for p in scripts
               if (kind := detect_kind(str(p))) is not None and kind.is_framework]
    assert not claimed, claimed
