"""Python checks: the logic that rule data cannot express, registered by name with what they accept.

A rule file names its check (``check: differs``); the check gets the rule (fields, params, message)
and a context, and yields Findings. Pair checks compare a training and an inference config; model
checks look at one config (used by `lint`, and on each side of a `diff`).

Each check declares the params it reads (with their types), the message placeholders it provides,
and which fields it looks at, so that a rule file with a misspelled param, an unknown placeholder
or a field the check never reads fails to load (``file:line``) instead of silently doing nothing.
Checks whose findings the engine emits itself (suppressions, not-comparable fields, raw diffs,
unknown keys, the checkpoint comparisons of `verify`) are declared in ``EMITTED`` below: they have
no function here, but their rules are bound to them by name all the same.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, Iterable, Mapping, Optional, Tuple

#: Message placeholders every check of a scope provides (see engine.context).
BASE_PLACEHOLDERS: Dict[str, FrozenSet[str]] = {
    "pair": frozenset({"field", "left", "right", "left_desc", "right_desc"}),
    "model": frozenset({"field", "value", "path", "desc"}),
    "checkpoint": frozenset({"field", "left", "right", "config"}),
    "meta": frozenset(),
    "raw": frozenset(),
}

#: Param types a check can declare: the name shown in errors and the Python types that match.
NUMBER, TEXT, LIST, MAPPING = "number", "string", "list", "mapping"
_PARAM_TYPES: Dict[str, Tuple[type, ...]] = {NUMBER: (int, float), TEXT: (str,), LIST: (list,), MAPPING: (dict,)}


@dataclass(frozen=True)
class Check:
    name: str
    scope: str
    fn: Optional[Callable]                  # None: the engine emits this check's findings itself
    params: Mapping[str, str]               # param name -> one of NUMBER, TEXT, LIST, MAPPING
    placeholders: FrozenSet[str]            # what a message template may name
    fields: Optional[FrozenSet[str]]        # None: the check reads the rule's own fields
    kinds: Optional[FrozenSet[str]] = None  # model checks: only configs of these kinds (None: all)
    syntaxes: Optional[FrozenSet[str]] = None   # ... and only of these ResolvedConfig.syntax values

    def applies_to(self, model) -> bool:
        """Whether a model check looks at `model` at all (a Detectron2-only check skips mmdet)."""
        if self.kinds is not None and model.framework not in self.kinds:
            return False
        resolved = getattr(model, "resolved", None)
        return self.syntaxes is None or (resolved is not None and resolved.syntax in self.syntaxes)

    def problems(self, fields: Iterable[str], params: Mapping[str, object], message_names: Iterable[str]):
        """What is wrong with a rule bound to this check (messages, empty when it is fine)."""
        for name, value in params.items():
            kind = self.params.get(name)
            if kind is None:
                known = ", ".join(sorted(self.params)) or "none"
                yield f"check {self.name!r} has no param {name!r} (it accepts: {known})"
            elif isinstance(value, bool) or not isinstance(value, _PARAM_TYPES[kind]):
                yield f"param {name!r} of check {self.name!r} must be a {kind}, not {type(value).__name__}"
        if self.fields is not None:
            for field in fields:
                if field not in self.fields:
                    yield (f"check {self.name!r} does not look at field {field!r} "
                           f"(it reads: {', '.join(sorted(self.fields)) or 'no common-model field'})")
        from cfglint.engine.plural import plural_base
        for name in message_names:
            if name not in self.placeholders and plural_base(name) not in self.placeholders:
                yield (f"the message names {{{name}}}, which check {self.name!r} does not provide "
                       f"(it provides: {', '.join(sorted(self.placeholders))})")


CHECKS: Dict[Tuple[str, str], Check] = {}


def _register(scope: str, name: str, fn: Optional[Callable], params: Optional[Mapping[str, str]],
              placeholders: Iterable[str], fields: Optional[Iterable[str]], kinds: Optional[Iterable[str]] = None,
              syntaxes: Optional[Iterable[str]] = None) -> Check:
    for kind in (params or {}).values():
        assert kind in _PARAM_TYPES, f"{name}: unknown param type {kind!r}"
    check = Check(name, scope, fn, dict(params or {}), BASE_PLACEHOLDERS[scope] | frozenset(placeholders),
                  None if fields is None else frozenset(fields), None if kinds is None else frozenset(kinds),
                  None if syntaxes is None else frozenset(syntaxes))
    CHECKS[(scope, name)] = check
    return check


def pair_check(name: str, params: Optional[Mapping[str, str]] = None, placeholders: Iterable[str] = (),
               fields: Optional[Iterable[str]] = None):
    def register(fn: Callable) -> Callable:
        _register("pair", name, fn, params, placeholders, fields)
        return fn
    return register


def model_check(name: str, params: Optional[Mapping[str, str]] = None, placeholders: Iterable[str] = (),
                fields: Optional[Iterable[str]] = None, kinds: Optional[Iterable[str]] = None,
                syntaxes: Optional[Iterable[str]] = None):
    """`kinds` / `syntaxes`: the configs the check is about (the engine skips the others)."""
    def register(fn: Callable) -> Callable:
        _register("model", name, fn, params, placeholders, fields, kinds, syntaxes)
        return fn
    return register


def get_check(scope: str, name: str) -> Optional[Check]:
    return CHECKS.get((scope, name))


def checks_of(scope: str) -> Dict[str, Check]:
    """{name: check} of the checks of `scope` that have a function."""
    return {name: check for (s, name), check in CHECKS.items() if s == scope and check.fn is not None}


# -- checks whose findings the engine emits itself (no function; the emitter looks its rule up) -------
_STATE_DICT = ("state_dict",)
EMITTED = [
    ("meta", "unused_suppression", {"code", "location", "reason"}, ()),
    ("pair", "not_comparable", (), None),
    ("raw", "raw_difference", {"key", "left", "right"}, ()),
    ("model", "unknown_key", {"message", "key", "suggestion"}, ()),
    ("checkpoint", "framework_mismatch", {"evidence"}, ("framework",)),
    ("checkpoint", "num_classes_mismatch", {"evidence", "config_desc"}, ("num_classes",)),
    ("checkpoint", "backbone_mismatch", {"evidence", "config_desc"},
     ("backbone.type", "backbone.depth", "backbone.groups", "backbone.width_per_group")),
    ("checkpoint", "neck_mismatch", {"evidence", "config_desc"}, ("neck.type", "neck.out_channels")),
    ("checkpoint", "head_mismatch", {"evidence", "config_desc"},
     ("arch", "heads.mask", "heads.keypoint", "heads.cls_agnostic_bbox_reg", "heads.num_stages")),
    ("checkpoint", "norm_mismatch", {"evidence", "config_desc"}, ("backbone.norm",)),
    ("checkpoint", "anchors_mismatch", {"evidence", "config_desc"}, ("anchors.sizes", "anchors.aspect_ratios")),
    ("checkpoint", "class_names_mismatch", {"evidence", "config_desc", "left_count", "left_short"}, ("classes",)),
    ("checkpoint", "missing_keys", {"count", "group", "what", "example", "evidence"}, _STATE_DICT),
    ("checkpoint", "unexpected_keys", {"count", "group", "what", "example", "evidence"}, _STATE_DICT),
    ("checkpoint", "shape_mismatch", {"count", "group", "what", "example", "evidence"}, _STATE_DICT),
    ("checkpoint", "state_dict_not_checked", {"reason"}, _STATE_DICT),
    ("checkpoint", "tolerated_keys", {"count", "group", "what", "example", "evidence", "reason"}, _STATE_DICT),
    ("checkpoint", "wrapper_prefix", {"count", "prefix", "example", "rest"}, _STATE_DICT),
]
for _scope, _name, _placeholders, _fields in EMITTED:
    _register(_scope, _name, None, None, _placeholders, _fields)


# Importing the modules registers their checks.
from cfglint.engine.checks import classes, compare, consistency, resize  # noqa: E402,F401
from cfglint.engine.checks import lint_effect, lint_input, lint_keys, lint_values, lint_weights  # noqa: E402,F401
from cfglint.engine.checks import image_flow  # noqa: E402,F401
from cfglint.engine.checks import lint_targets  # noqa: E402,F401
from cfglint.engine.checks import script_input  # noqa: E402,F401
