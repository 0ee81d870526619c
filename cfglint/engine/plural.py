"""Counts in the user's language: "1 error", "2 errors"; "names 1 class", not "1 classes"."""
from __future__ import annotations

import re

#: Plural nouns that messages put after a count, and their singular.
_SINGULAR = {"classes": "class", "keys": "key", "parameters": "parameter", "sizes": "size", "tensors": "tensor",
             "files": "file", "errors": "error", "warnings": "warning", "values": "value", "names": "name",
             "configs": "config", "findings": "finding"}
_VERBS = {" are": " is", " differ": " differs", " have": " has"}
_ONE = re.compile(r"(?<![\w.])1 ((?:checkpoint |config )?)(" + "|".join(_SINGULAR) + r")\b( are\b| differ\b| have\b)?")


def plural(count: int, singular: str, plural_form: str = "") -> str:
    """'1 error', '0 errors', '3 errors' (plural_form for irregular nouns)."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def fix_counts(text: str) -> str:
    """A rendered message with every '1 <plural noun>' made singular ('1 sizes are' -> '1 size is')."""
    return _ONE.sub(lambda m: f"1 {m.group(1)}{_SINGULAR[m.group(2)]}{_VERBS.get(m.group(3) or '', '')}", text)
