"""Python checks: the logic that rule data cannot express, registered by name.

A rule file names its check (``check: equal``); the check gets the rule (fields, params, message)
and a context, and yields Findings. Pair checks compare a training and an inference config; model
checks look at one config (used by `lint`, and on each side of a `diff`).
"""
from __future__ import annotations

from typing import Callable, Dict

PAIR_CHECKS: Dict[str, Callable] = {}
MODEL_CHECKS: Dict[str, Callable] = {}


def pair_check(name: str):
    def register(fn: Callable) -> Callable:
        PAIR_CHECKS[name] = fn
        return fn
    return register


def model_check(name: str):
    def register(fn: Callable) -> Callable:
        MODEL_CHECKS[name] = fn
        return fn
    return register


def known_check(scope: str, name: str) -> bool:
    registry = {"pair": PAIR_CHECKS, "model": MODEL_CHECKS}.get(scope, {})
    return name in registry


# Importing the modules registers their checks.
from cfglint.engine.checks import classes, compare, consistency, resize  # noqa: E402,F401
from cfglint.engine.checks import lint_effect, lint_input, lint_keys, lint_values, lint_weights  # noqa: E402,F401
from cfglint.engine.checks import script_input  # noqa: E402,F401
