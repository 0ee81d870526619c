"""Fuzz the output guard and strict JSON: whatever the text and however it is chunked."""
from __future__ import annotations

import io
import json
import random

from cfglint.cli.common import dump_json
from cfglint.report.safe import GuardedStream, escape

PIECES = ["::", "error", " ", "\n", "\r", "\t", "##[", "x", "\x1b[31m", "\x07", "\x85", "\u2028", "\u202e",
          "\ud800", "\udcff", "é", "%0A", "file=a", ",", "add-mask", "\x00", "\x9b2J", "\u3000"]


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30)))


def test_guarded_stream_never_emits_commands_or_controls():
    rng = random.Random(1616)
    for _ in range(3000):
        target = io.StringIO()
        stream = GuardedStream(target)
        text = _random_text(rng)
        i = 0
        while i < len(text):
            j = i + rng.randint(1, 6)
            stream.write(text[i:j])
            i = j
        stream.close_pending()
        out = target.getvalue()
        out.encode("utf-8")
        assert not any(ch in out for ch in "\x1b\x07\r\x00\x85\x9b\u2028\u202e"), repr(out)
        for line in out.split("\n"):
            assert not line.lstrip().startswith(("::", "##[")), repr(text)


def test_escape_is_one_printable_line():
    rng = random.Random(16)
    for _ in range(3000):
        shown = escape(_random_text(rng))
        assert not any(ch in shown for ch in "\n\r\t\x1b\x07\x00\x85\x9b\u2028\u202e"), repr(shown)
        shown.encode("utf-8")


def test_dump_json_is_strict_for_any_value():
    values = [float("inf"), float("-inf"), float("nan"), 10 ** 5000, {(1, 2): 1, None: 2, 3.5: 3, 10 ** 5000: 4},
              "\ud800", {"\udcff": ["\x1b"]}, {1, 2}, (1, [2, (3,)]), b"bytes", object()]
    for value in values:
        text = dump_json({"v": value})
        text.encode("utf-8")

        def refuse(name):
            raise AssertionError(name)
        json.loads(text, parse_constant=refuse)
