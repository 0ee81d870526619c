"""Counts in the user's language: "1 error", "2 errors"; "names 1 class", not "1 classes"."""
from __future__ import annotations

from typing import Any, Dict

#: Placeholders a message may add to any count placeholder `{n}`: "{n} class{n_es} {n_are}".
PLURAL_FORMS = {"_s": ("", "s"), "_es": ("", "es"), "_are": ("is", "are"), "_have": ("has", "have"),
                "_verb_s": ("s", "")}


def plural(count: int, singular: str, plural_form: str = "") -> str:
    """'1 error', '0 errors', '3 errors' (plural_form for irregular nouns)."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def with_plural_forms(values: Dict[str, Any]) -> Dict[str, Any]:
    """`values` plus `{n}_s`, `_es`, `_are`, `_have`, `_verb_s` for each int value, so one template
    says "1 class is" and "3 classes are" ({n} class{n_es} {n_are})."""
    out = dict(values)
    for key, value in values.items():
        if type(value) is int:
            for suffix, (one, many) in PLURAL_FORMS.items():
                out.setdefault(key + suffix, one if value == 1 else many)
    return out


def plural_base(placeholder: str) -> str:
    """The count a plural-form placeholder belongs to ('count_es' -> 'count'), or '' for none."""
    for suffix in sorted(PLURAL_FORMS, key=len, reverse=True):     # "_verb_s" before "_s"
        if placeholder.endswith(suffix) and len(placeholder) > len(suffix):
            return placeholder[:-len(suffix)]
    return ""
