"""`--format json`: the contract's diff object (section 2), one per train/infer pair."""
from __future__ import annotations

from typing import List, Optional

from cfglint.engine.finding import Finding, summarize


def render(findings: List[Finding], left: Optional[str], right: Optional[str]) -> dict:
    return {"left": left, "right": right, "findings": [f.to_json() for f in findings],
            "summary": summarize(findings)}
