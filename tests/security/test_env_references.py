"""`{{$NAME:default}}` is found by a linear scan that must match mmengine's own regular expression."""
from __future__ import annotations

import random
import re
import time

from cfglint.adapters.mmdet.sources import env_references

#: mmengine/config/config.py `_substitute_environment_vars`
MMENGINE = re.compile(r"\{\{['\"]?\s*\$(\w+)\s*\:\s*(\S*?)\s*['\"]?\}\}")
ALPHABET = ["{{", "}}", "$", "A", "b_", ":", " ", "'", '"', "x", "\n", "{", "}", "\u3000", "é", "\t", "٣"]


def test_same_matches_as_mmengine():
    rng = random.Random(16)
    for _ in range(40_000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 16)))
        expected = [(m.start(), m.end(), m.group(1), m.group(2)) for m in MMENGINE.finditer(text)]
        assert env_references(text) == expected, repr(text)


def test_linear_on_hostile_text():
    for text in ["{{$A:" * 50_000, "{{ $A : " * 50_000, "{{$A:" + "x" * 300_000, "{{$A:x}" * 50_000,
                 ("{{$A:x" + " " * 10) * 20_000, "{{'$" + "a" * 200_000]:
        start = time.monotonic()
        env_references(text)
        assert time.monotonic() - start < 2, text[:20]
