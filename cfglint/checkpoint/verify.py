"""`cfglint verify`: prove or refute that a checkpoint loads into the model a config builds.

Three layers of evidence, cheapest first:
1. the fingerprint (what the key names and shapes say: framework, classes, depth, heads...)
   compared with the config's common model, explained in the user's terms;
2. the full key-by-key check against the state dict computed natively from the config
   (missing / unexpected / mismatched, grouped by the config setting that creates the keys);
3. when the checkpoint embeds its training config (mmdet ``meta['cfg']``), the rule engine's
   train-vs-serve diff of that config against the one given.
Nothing here loads tensor data or runs pickled code (see cfglint.checkpoint.readers).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from cfglint.checkpoint.expected import expected_state_dict
from cfglint.checkpoint.expected.layers import ExpectedStateDict, UnsupportedArchitecture
from cfglint.checkpoint.fingerprint import Evidence, Fingerprint, fingerprint
from cfglint.checkpoint.info import CheckpointInfo
from cfglint.engine import EngineConfig, Finding, fails, load_rules
from cfglint.engine.context import describe, location
from cfglint.engine.rules import Rule, RuleSet
from cfglint.errors import CfglintError
from cfglint.model import CommonModel

#: Fingerprint fields compared with the config, and the rule that reports each.
_FIELD_RULES = {
    "num_classes": "K702",
    "backbone.type": "K703", "backbone.depth": "K703", "backbone.groups": "K703",
    "backbone.width_per_group": "K703",
    "neck.type": "K704", "neck.out_channels": "K704",
    "arch": "K705", "heads.mask": "K705", "heads.keypoint": "K705", "heads.cls_agnostic_bbox_reg": "K705",
    "heads.num_stages": "K705",
    "backbone.norm": "K706",
}
_BATCH_NORMS = {"FrozenBN", "BN", "SyncBN", "naiveSyncBN", "nnSyncBN", "MMSyncBN"}
_EXAMPLES = 3


@dataclass
class StateDictCheck:
    checked: int = 0
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mismatched: List[Dict[str, Any]] = field(default_factory=list)
    ran: bool = False

    def to_json(self) -> dict:
        return {"checked": self.checked, "missing": self.missing, "unexpected": self.unexpected,
                "mismatched": self.mismatched}


@dataclass
class VerifyReport:
    """What `cfglint.verify` returns: `.ok`, `.findings`, `.raise_for_errors()`."""

    checkpoint: CheckpointInfo
    model: CommonModel
    fingerprint: Fingerprint
    findings: List[Finding]
    state_dict: StateDictCheck
    fail_on: str = "error"

    @property
    def ok(self) -> bool:
        return not fails(self.findings, self.fail_on)

    def raise_for_errors(self) -> None:
        if not self.ok:
            worst = [f for f in self.findings if fails([f], self.fail_on)]
            raise VerificationError(worst)

    def to_json(self) -> dict:
        from cfglint.engine import summarize
        return {"checkpoint": self.checkpoint.path, "config": self.model.path,
                "framework": {"checkpoint": self.fingerprint.framework, "config": self.model.framework},
                "findings": [f.to_json() for f in self.findings], "summary": summarize(self.findings),
                "state_dict": self.state_dict.to_json()}


class VerificationError(Exception):
    """Raised by VerifyReport.raise_for_errors(): the checkpoint does not fit the config."""

    def __init__(self, findings: List[Finding]):
        self.findings = findings
        super().__init__("; ".join(f.message for f in findings[:5]) +
                         (f" (+{len(findings) - 5} more)" if len(findings) > 5 else ""))


def verify(checkpoint: Any, config: Any, *, opts: Sequence[str] = (), framework: Optional[str] = None,
           engine_config: Optional[EngineConfig] = None, allow_new_keys: bool = False,
           engine: str = "native") -> VerifyReport:
    """Check `checkpoint` (path, URL or CheckpointInfo) against `config` (path, CfgNode or CommonModel).

    `engine="framework"` takes the expected state dict from the installed framework instead of
    cfglint's own model (see cfglint.checkpoint.framework_engine).
    """
    from cfglint.adapters import load
    from cfglint.checkpoint.readers import read_checkpoint

    engine_config = engine_config or EngineConfig()
    rules = load_rules(engine_config.rule_files)
    enabled = rules.enabled(engine_config.select, engine_config.ignore)
    info = checkpoint if isinstance(checkpoint, CheckpointInfo) else read_checkpoint(str(checkpoint))
    model = config if isinstance(config, CommonModel) else load(config, framework=framework, opts=opts,
                                                                 allow_new_keys=allow_new_keys)
    fp = fingerprint(info.shapes())
    checker = _Checker(info, model, fp, rules)
    checker.compare_fingerprint()
    check = checker.compare_state_dict(engine)
    checker.compare_classes()
    findings = [f for f in checker.findings if f.rule in enabled]
    findings += _embedded_config_diff(info, model, engine_config, rules)
    from cfglint.engine.finding import sort_key
    return VerifyReport(info, model, fp, sorted(findings, key=sort_key), check, engine_config.fail_on)


class _Checker:
    def __init__(self, info: CheckpointInfo, model: CommonModel, fp: Fingerprint, rules: RuleSet):
        self.info, self.model, self.fp, self.rules = info, model, fp, rules
        self.findings: List[Finding] = []

    # -- findings ------------------------------------------------------------------------------
    def _emit(self, rule_id: str, field_name: str, left: Any, right: Any, right_location=None,
              severity: Optional[str] = None, **values: Any) -> None:
        rule: Rule = self.rules[rule_id]
        values.setdefault("left", left)
        values.setdefault("right", right)
        values.setdefault("field", field_name)
        values.setdefault("config", self.model.path)
        try:
            message = rule.message.format(**values)
        except (KeyError, IndexError, ValueError):
            message = f"{rule.summary} (checkpoint: {left!r}; config: {right!r})"
        self.findings.append(Finding(rule=rule.id, name=rule.name, severity=severity or rule.severity,
                                     field=field_name, left=left, right=right, message=message,
                                     left_location=None, right_location=right_location, why=rule.why_line))

    # -- 1. fingerprint ------------------------------------------------------------------------
    def compare_fingerprint(self) -> None:
        fp, model = self.fp, self.model
        if fp.framework is None:
            return
        if fp.framework != model.framework:
            ev = next(iter(fp.fields.values()), Evidence(None))
            self._emit("K701", "framework", fp.framework, model.framework,
                       evidence=ev.because() or "its key names")
            return
        for name, rule_id in _FIELD_RULES.items():
            ev = fp.fields.get(name)
            configured = model.get(name)
            if ev is None or ev.value is None and name != "neck.type" or configured is None:
                continue
            if not _same(name, ev.value, configured):
                self._emit(rule_id, name, ev.value, configured, location(model, name),
                           evidence=ev.because() or "its key names", config_desc=describe(model, name))
        for head, ev in fp.head_classes.items():   # every head, not only the final one
            configured = model.get("num_classes")
            if configured is not None and ev.value not in (None, configured) and \
                    fp.get("num_classes") == configured:
                self._emit("K702", "num_classes", ev.value, configured, location(model, "num_classes"),
                           evidence=ev.because(), config_desc=describe(model, "num_classes"))
        self._compare_anchors()

    def _compare_anchors(self) -> None:
        ev = self.fp.anchors_per_location
        per_location = _anchors_per_location(self.model)
        if ev is None or per_location is None or ev.value == per_location:
            return
        self._emit("K707", "anchors.aspect_ratios", ev.value, per_location,
                   location(self.model, "anchors.aspect_ratios") or location(self.model, "anchors.sizes"),
                   evidence=ev.because(),
                   config_desc=f"{describe(self.model, 'anchors.sizes')} and "
                               f"{describe(self.model, 'anchors.aspect_ratios')} give {per_location}")

    # -- 2. key by key -------------------------------------------------------------------------
    def compare_state_dict(self, engine: str = "native") -> StateDictCheck:
        check = StateDictCheck()
        resolved = self.model.resolved
        if self.fp.framework not in (None, self.model.framework):
            self._emit("K713", "state_dict", None, None, reason="the checkpoint belongs to the other framework")
            return check
        if resolved is None:
            self._emit("K713", "state_dict", None, None, reason="the config was given without its native form")
            return check
        try:
            expected = _expected(resolved, engine)
        except UnsupportedArchitecture as exc:
            self._emit("K713", "state_dict", None, None, reason=exc.reason)
            return check
        check.ran = True
        actual = self.info.shapes()
        check.checked = len(actual)
        for key, shape in expected.keys.items():
            if key not in actual:
                check.missing.append(key)
            elif tuple(actual[key]) != tuple(shape):
                check.mismatched.append({"key": key, "checkpoint": list(actual[key]), "expected": list(shape)})
        check.unexpected = [k for k in actual if k not in expected.keys]
        self._explain(expected, check)
        return check

    def _explain(self, expected: ExpectedStateDict, check: StateDictCheck) -> None:
        tolerated, missing = _split_tolerated(check.missing)
        tolerated_unexp, unexpected = _split_tolerated(check.unexpected)
        for group, keys in _grouped(missing, expected.group_of).items():
            self._emit("K710", "state_dict", None, len(keys), count=len(keys), group=group,
                       example=", ".join(keys[:_EXAMPLES]))
        for group, keys in _grouped(unexpected, _module_of).items():
            self._emit("K711", "state_dict", len(keys), None, count=len(keys), group=group,
                       example=", ".join(keys[:_EXAMPLES]))
        by_group = _grouped([m["key"] for m in check.mismatched], expected.group_of)
        shapes = {m["key"]: m for m in check.mismatched}
        for group, keys in by_group.items():
            first = shapes[keys[0]]
            example = f"{keys[0]}: checkpoint {first['checkpoint']}, config {first['expected']}"
            self._emit("K712", "state_dict", first["checkpoint"], first["expected"], count=len(keys),
                       group=group, example=example)
        ignored = tolerated + tolerated_unexp
        if ignored:
            kinds = sorted({_tolerated_kind(k) for k in ignored})
            self._emit("K714", "state_dict", len(tolerated_unexp), len(tolerated), count=len(ignored),
                       what=", ".join(kinds), example=", ".join(ignored[:_EXAMPLES]))

    # -- class names in the checkpoint's metadata ----------------------------------------------
    def compare_classes(self) -> None:
        names = self.info.classes
        if not names:
            return
        names = list(names)
        configured_names = self.model.get("classes")
        num_classes = self.model.get("num_classes")
        short = "(" + ", ".join(map(str, names[:5])) + (", ..." if len(names) > 5 else "") + ")"
        if configured_names is not None and list(configured_names) != names:
            self._emit("K708", "classes", names, list(configured_names), location(self.model, "classes"),
                       left_count=len(names), left_short=short, config_desc=describe(self.model, "classes"))
        elif configured_names is None and num_classes is not None and len(names) != num_classes:
            self._emit("K708", "classes", names, num_classes, location(self.model, "num_classes"),
                       left_count=len(names), left_short=short, config_desc=describe(self.model, "num_classes"))


def _expected(resolved, engine: str) -> ExpectedStateDict:
    if engine == "framework":
        from cfglint.checkpoint.framework_engine import framework_state_dict
        return framework_state_dict(resolved)
    if engine != "native":
        raise CfglintError(f"unknown verify engine {engine!r} (use 'native' or 'framework')")
    return expected_state_dict(resolved.framework, resolved.data)


def _same(name: str, found: Any, configured: Any) -> bool:
    if name == "backbone.norm":
        # Only the kind is visible in weights: batch-norm flavours all carry running statistics.
        return (found in _BATCH_NORMS) == (configured in _BATCH_NORMS)
    if name == "arch":
        # The fingerprint cannot tell cascade_mask from cascade etc. beyond what heads.* compare.
        return _arch_family(found) == _arch_family(configured)
    return found == configured


def _arch_family(arch: Any) -> str:
    arch = str(arch)
    if arch.startswith("cascade"):
        return "cascade"
    if arch in ("faster_rcnn", "mask_rcnn", "keypoint_rcnn"):
        return "two_stage"   # heads.mask / heads.keypoint say the rest
    return arch


def _anchors_per_location(model: CommonModel) -> Optional[int]:
    sizes, ratios = model.get("anchors.sizes"), model.get("anchors.aspect_ratios")
    if not sizes or not ratios:
        return None
    first_sizes = sizes[0] if isinstance(sizes[0], (list, tuple)) else sizes
    first_ratios = ratios[0] if isinstance(ratios[0], (list, tuple)) else ratios
    return len(first_sizes) * len(first_ratios)


_TOLERATED = (
    ("num_batches_tracked", "batch-norm step counters"),
    ("pixel_mean", "stored pixel statistics"), ("pixel_std", "stored pixel statistics"),
    ("anchor_generator.", "cached anchors"), ("data_preprocessor.", "data preprocessor buffers"),
)


def _tolerated_kind(key: str) -> str:
    for marker, kind in _TOLERATED:
        if marker in key:
            return kind
    return "other"


def _split_tolerated(keys: List[str]) -> Tuple[List[str], List[str]]:
    tolerated = [k for k in keys if _tolerated_kind(k) != "other"]
    return tolerated, [k for k in keys if _tolerated_kind(k) == "other"]


def _module_of(key: str) -> str:
    """A readable module for an unexpected key: its first two or three name components."""
    parts = key.split(".")
    depth = 3 if parts[0] in ("roi_heads", "roi_head", "backbone", "proposal_generator") else 2
    return ".".join(parts[:depth]) if len(parts) > depth else ".".join(parts[:-1]) or key


def _grouped(keys: List[str], group_of) -> Dict[str, List[str]]:
    groups: Dict[str, List[str]] = {}
    for key in keys:
        groups.setdefault(group_of(key) or _module_of(key), []).append(key)
    return groups


def _embedded_config_diff(info: CheckpointInfo, model: CommonModel, engine_config: EngineConfig,
                          rules: RuleSet) -> List[Finding]:
    """The training config stored in an mmdet checkpoint, diffed against the serving config."""
    if not info.config_text:
        return []
    from cfglint import engine
    from cfglint.adapters import normalize, resolve_text
    try:
        trained = normalize(resolve_text(info.config_text, filename=f"{info.path}#meta.cfg"))
    except CfglintError as err:
        rule = rules["K713"]
        return [Finding(rule=rule.id, name=rule.name, severity="info", field="state_dict", left=None,
                        right=None, message=f"The training config embedded in the checkpoint could not be "
                                            f"read ({err.message}); it was not compared.", why=rule.why_line)]
    return engine.diff(trained, model, engine_config, rules=rules)
