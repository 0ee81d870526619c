"""Inline suppressions: `# cfglint: ignore[ID, ID2]` on the line that sets a value.

Adapters call :func:`scan` on every file they read and store the result in
``ResolvedConfig.suppressions``; the rule engine drops findings located on those lines and reports
suppressions that suppressed nothing.
"""
from __future__ import annotations

import re
from typing import Dict, List, Tuple

_PATTERN = re.compile(r"#\s*cfglint:\s*ignore\[([A-Za-z0-9_,\s-]+)\]")


def scan(file: str, text: str) -> Dict[Tuple[str, int], List[str]]:
    found: Dict[Tuple[str, int], List[str]] = {}
    if "cfglint:" not in text:
        return found
    for lineno, line in enumerate(text.splitlines(), start=1):
        m = _PATTERN.search(line)
        if m:
            ids = [part.strip() for part in m.group(1).split(",") if part.strip()]
            if ids:
                found[(file, lineno)] = ids
    return found
