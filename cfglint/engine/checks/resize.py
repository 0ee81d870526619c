"""Test-time resize of the inference config against the training config's test resize and the
range of scales the network saw in training."""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

from cfglint.engine.checks import TEXT, pair_check
from cfglint.engine.checks.compare import differing_fields
from cfglint.engine.context import PairContext
from cfglint.engine.finding import Finding
from cfglint.engine.rules import Rule

SHORT_EDGE = "test.resize.short_edge"


def training_range(ctx: PairContext) -> Optional[Tuple[int, int]]:
    """[min, max] short edge the training config trains on (choice or range alike), if it says."""
    sizes = ctx.left.get("train.resize.short_edge")
    if not sizes:
        return None
    sizes = [int(s) for s in sizes]
    return min(sizes), max(sizes)


@pair_check("test_resize", params={"range": TEXT}, placeholders={"train_max", "train_min"},
            fields=("test.resize.short_edge", "test.resize.max_size"))
def test_resize(ctx: PairContext, rule: Rule) -> Iterator[Finding]:
    """params.range: `inside` reports a changed test resize the network was trained for (or that
    cannot be judged), `outside` one outside the training scale range."""
    want_outside = rule.params.get("range") == "outside"
    scale_range = training_range(ctx)
    for field, left, right in differing_fields(ctx, rule):
        if left is None and right is None:
            if not want_outside:
                yield ctx.not_comparable(field)
            continue
        outside = (field == SHORT_EDGE and scale_range is not None
                   and not scale_range[0] <= right <= scale_range[1])
        if outside == want_outside:
            low, high = scale_range or (None, None)
            yield ctx.finding(rule, field, train_min=low, train_max=high)
