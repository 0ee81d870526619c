"""The fuzz property and the mutations shared by the fuzz tests.

Property: a reader returns a result or raises CfglintError, nothing else, within a time limit.
Mutations are driven by a `random.Random` seeded per case, so a failure names a reproducible case.
"""
from __future__ import annotations

import contextlib
import random
import re
import signal
from typing import Callable, List

from cfglint.errors import CfglintError

#: Seconds one reader call may take before it counts as a hang.
CASE_TIMEOUT = 10
#: Multiplier on case counts; tests/fuzz/conftest.py sets it from --fuzz-long.
SCALE = 1

#: Fragments a hostile or careless edit puts into config text; mixed into mutations.
HOSTILE_TOKENS = [
    "__import__('os').system('touch pwned')", "().__class__.__base__", "!!python/object/apply:os.system [x]",
    "!!python/name:os.system", "&a [*a, *a]", "*a", "{{$CFGLINT_FUZZ:1}}", "{{_base_.model}}", "_base_ = ['x.py']",
    "_BASE_: missing.yaml", "[" * 60, "]" * 60, "(", ")", "{", "}", ":", "- ", "\t", "\x00", "\ufeff",
    "lambda: 0", "@dec\n", "10**10**10", "range(10**12)", "[0]*10**10", "\\", "'''", '"', "#", "\n", "  ",
    "from .x import *", "import os\n", "with read_base():\n", "L(os.system)()", "\udcff",
]


#: Replacements for one number, name or quoted string: other types, extremes, nesting, references.
VALUES = ["0", "-1", "10**20", "1e309", "'x'", "None", "True", "[]", "{}", "()", "[[[[1]]]]", "dict()",
          "''", "'${..x}'", "'{{_base_.model}}'", "2**62", "nan", ".inf", "~", "null", "[1, 'a', None]"]
_VALUE_RE = re.compile(r"\b\d+(?:\.\d+)?\b|'[^'\n]*'|\"[^\"\n]*\"|\b(?:True|False|None|true|false)\b")


class Hang(Exception):
    """A reader call exceeded CASE_TIMEOUT."""


@contextlib.contextmanager
def time_limit(seconds: int = CASE_TIMEOUT):
    def _alarm(signum, frame):
        raise Hang(f"no result after {seconds} s")
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def holds(read: Callable[[], object], label: str) -> str:
    """Run one reader call under the property; returns "ok" or "refused", raises on a violation."""
    try:
        with time_limit():
            read()
    except CfglintError as err:
        assert err.message, f"{label}: CfglintError without a message"
        return "refused"
    except Hang as err:
        raise AssertionError(f"{label}: {err}") from None
    except Exception as err:  # noqa: BLE001 -- the property is precisely "no other exception"
        raise AssertionError(f"{label}: {type(err).__name__}: {err}") from err
    return "ok"


def mutate_bytes(data: bytes, rng: random.Random, splice_from: List[bytes] = ()) -> bytes:
    """One to three random edits: bit flips, truncation, deletion, duplication, zero runs, splicing."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("flip", "truncate", "delete", "duplicate", "zeros", "ff", "splice", "insert"))
        pos = rng.randrange(len(out)) if out else 0
        if kind == "flip" and out:
            out[pos] ^= 1 << rng.randrange(8)
        elif kind == "truncate":
            del out[pos:]
        elif kind == "delete":
            del out[pos:pos + rng.randint(1, 64)]
        elif kind == "duplicate":
            out[pos:pos] = out[pos:pos + rng.randint(1, 256)]
        elif kind in ("zeros", "ff"):
            n = rng.randint(1, 16)
            out[pos:pos + n] = (b"\x00" if kind == "zeros" else b"\xff") * n
        elif kind == "splice" and splice_from:
            other = rng.choice(list(splice_from))
            start = rng.randrange(len(other))
            out[pos:pos + rng.randint(0, 128)] = other[start:start + rng.randint(1, 512)]
        elif kind == "insert":
            out[pos:pos] = rng.randbytes(rng.randint(1, 32))
    return bytes(out)


def mutate_text(text: str, rng: random.Random) -> str:
    """Line-level edits plus hostile fragments: what a broken or malicious config looks like."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        text = "\n".join(lines)
        kind = rng.choice(("value",) * 6 + ("delete", "duplicate", "swap", "token", "truncate", "indent", "chars"))
        i = rng.randrange(len(lines))
        if kind == "value":  # keeps the syntax, so the edit reaches merging and typing, not just the parser
            words = list(_VALUE_RE.finditer(text))
            if words:
                hit = rng.choice(words)
                text = text[:hit.start()] + rng.choice(VALUES) + text[hit.end():]
                lines = text.split("\n")
        elif kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "token":
            col = rng.randint(0, len(lines[i]))
            lines[i] = lines[i][:col] + rng.choice(HOSTILE_TOKENS) + lines[i][col:]
        elif kind == "truncate":
            lines = lines[:i + 1]
            lines[-1] = lines[-1][:rng.randint(0, len(lines[-1]))]
        elif kind == "indent":
            lines[i] = " " * rng.randint(1, 5) + lines[i]
        elif kind == "chars" and lines[i]:
            col = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:col] + rng.choice(":,[]{}()'\"=#-") + lines[i][col + 1:]
    return "\n".join(lines)
