"""The restricted expression evaluator used for `!!python/object/apply:eval` (never Python's eval)."""
from __future__ import annotations

import pytest

from cfglint.adapters.expr import evaluate
from cfglint.errors import CfglintError, UnsafeContentError


@pytest.mark.parametrize("source, expected", [
    # configs/Base-RetinaNet.yaml:8 -- expected computed by hand: 32 * 2**(1/3) = 40.3174...
    ("[[x, x * 2**(1.0/3), x * 2**(2.0/3) ] for x in [32, 64]]",
     [[32, 32 * 2 ** (1.0 / 3), 32 * 2 ** (2.0 / 3)], [64, 64 * 2 ** (1.0 / 3), 64 * 2 ** (2.0 / 3)]]),
    # Panoptic-DeepLab dsconv yaml:34
    ("[int(x * 0.1 * 640) for x in range(5, 16)]", [320, 384, 448, 512, 576, 640, 704, 768, 832, 896, 960]),
    ("tuple(512 for _ in range(3))", (512, 512, 512)),
    ("1.0 / 1000", 0.001),
    ("14 * 14", 196),
    ("{k: v for k, v in [('a', 1)]}", {"a": 1}),
    ("[x for x in range(6) if x % 2 == 0]", [0, 2, 4]),
    ("max(1, 2) if len([1]) == 1 else 0", 2),
    ("round(2.567, 2)", 2.57),
])
def test_allowed_expressions(source, expected):
    assert evaluate(source) == expected


@pytest.mark.parametrize("source", [
    "__import__('os').system('true')", "open('/etc/passwd')", "().__class__", "(lambda: 1)()",
    "x", "getattr(1, 'real')", "[y := 1]",
])
def test_unsafe_constructs_are_refused(source):
    with pytest.raises(UnsafeContentError) as info:
        evaluate(source, file="f.yaml", line=7)
    assert (info.value.file, info.value.line) == ("f.yaml", 7)


@pytest.mark.parametrize("source, fragment", [
    ("2 ** 10 ** 10", "too large"),
    ("[0] * 10 ** 9", "more than 100000 items"),
    ("list(range(10 ** 9))", "exceeds the limit"),
    ("[[i, j] for i in range(1000) for j in range(1000)]", "more than 100000 items"),
    ("1 / 0", "division by zero"),
    ("(x for x in [1])", "generator expression is not a value"),
    ("[1,", "invalid expression"),
])
def test_bounded_and_failing_expressions(source, fragment):
    with pytest.raises(CfglintError) as info:
        evaluate(source)
    assert not isinstance(info.value, UnsafeContentError)
    assert fragment in info.value.message
