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

from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Sequence, Tuple

from cfglint.checkpoint.expected import expected_state_dict
from cfglint.checkpoint.expected.layers import ExpectedStateDict, UnsupportedArchitecture
from cfglint.checkpoint.fingerprint import Evidence, Fingerprint, fingerprint
from cfglint.checkpoint.info import CheckpointInfo
from cfglint.engine import EngineConfig, Finding, fails, load_rules
from cfglint.engine.context import describe, location
from cfglint.engine.plural import with_plural_forms
from cfglint.adapters import kinds
from cfglint.engine.rules import Rule, RuleSet
from cfglint.errors import CfglintError
from cfglint.model import CommonModel

#: Fingerprint fields compared with the config, and the check (rules/checkpoint.yaml) that reports each.
_FIELD_CHECKS = {
    "num_classes": "num_classes_mismatch",
    "backbone.type": "backbone_mismatch", "backbone.depth": "backbone_mismatch", "backbone.groups": "backbone_mismatch",
    "backbone.width_per_group": "backbone_mismatch",
    "neck.type": "neck_mismatch", "neck.out_channels": "neck_mismatch",
    "arch": "head_mismatch", "heads.mask": "head_mismatch", "heads.keypoint": "head_mismatch", "heads.cls_agnostic_bbox_reg": "head_mismatch",
    "heads.num_stages": "head_mismatch",
    "backbone.norm": "norm_mismatch",
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
                "state_dict": self.state_dict.to_json(),
                **({"remote_read": self.checkpoint.remote_read} if self.checkpoint.remote_read else {})}


class VerificationError(Exception):
    """Raised by VerifyReport.raise_for_errors(): the checkpoint does not fit the config."""

    def __init__(self, findings: List[Finding]):
        self.findings = findings
        super().__init__("; ".join(f.message for f in findings[:5]) +
                         (f" (+{len(findings) - 5} more)" if len(findings) > 5 else ""))


def verify(checkpoint: Any, config: Any, *, opts: Sequence[str] = (), framework: Optional[str] = None,
           engine_config: Optional[EngineConfig] = None, allow_new_keys: bool = False,
           engine: str = "native", timeout: Optional[float] = None) -> VerifyReport:
    """Check `checkpoint` (path, URL or CheckpointInfo) against `config` (path, CfgNode or CommonModel).

    `engine="framework"` takes the expected state dict from the installed framework instead of
    cfglint's own model (see cfglint.checkpoint.framework_engine). `timeout`: seconds a remote
    server may stay silent (default cfglint.checkpoint.source.DEFAULT_TIMEOUT).
    """
    from cfglint.adapters import load
    from cfglint.checkpoint.readers import read_checkpoint

    engine_config = engine_config or EngineConfig()
    rules = load_rules(engine_config.rule_files)
    enabled = rules.enabled(engine_config.select, engine_config.ignore)
    info = checkpoint if isinstance(checkpoint, CheckpointInfo) else read_checkpoint(str(checkpoint), timeout)
    model = config if isinstance(config, CommonModel) else load(config, framework=framework, opts=opts,
                                                                 allow_new_keys=allow_new_keys)
    checked_info, foreign = _strip_foreign_prefix(info, model.framework)
    fp = fingerprint(checked_info.shapes())
    checker = _Checker(checked_info, model, fp, rules)
    if foreign is not None:
        checker.report_prefix(*foreign)
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
    def _emit(self, check: str, field_name: str, left: Any, right: Any, right_location=None,
              severity: Optional[str] = None, **values: Any) -> None:
        """A finding of the rule bound to `check` (see cfglint.engine.checks.EMITTED)."""
        rule: Rule = self.rules.for_check("checkpoint", check)
        values.setdefault("left", left)
        values.setdefault("right", right)
        values.setdefault("field", field_name)
        values.setdefault("config", self.model.path)
        values = with_plural_forms(values)
        try:
            message = rule.message.format(**values)
        except (KeyError, IndexError, ValueError):
            message = f"{rule.summary} (checkpoint: {left!r}; config: {right!r})"
        self.findings.append(Finding(rule=rule.id, name=rule.name, severity=severity or rule.severity,
                                     field=field_name, left=left, right=right, message=message,
                                     left_location=None, right_location=right_location, why=rule.why_line))

    # -- 0. a training wrapper's prefix -------------------------------------------------------
    def report_prefix(self, prefix: str, inside: List[str], outside: List[str]) -> None:
        rest = ""
        if outside:
            one = len(outside) == 1
            rest = (f" {len(outside)} other key{'' if one else 's'} {'is' if one else 'are'} outside it and "
                    f"{'belongs' if one else 'belong'} to no part of the detector "
                    f"(e.g. {', '.join(outside[:_EXAMPLES])}).")
        self._emit("wrapper_prefix", "state_dict", prefix, None, count=len(inside), prefix=prefix,
                   example=", ".join(inside[:_EXAMPLES]), rest=rest)

    # -- 1. fingerprint ------------------------------------------------------------------------
    def compare_fingerprint(self) -> None:
        fp, model = self.fp, self.model
        if fp.framework is None:
            return
        if fp.framework != model.framework:
            ev = next(iter(fp.fields.values()), Evidence(None))
            self._emit("framework_mismatch", "framework", fp.framework, model.framework,
                       evidence=ev.because() or "its key names")
            return
        for name, rule_id in _FIELD_CHECKS.items():
            ev = fp.fields.get(name)
            configured = model.get(name)
            # "No neck" is a configured value when the adapter derived it (Detectron2: a C4 backbone builder).
            explicit_none = name == "neck.type" and name in model.provenance
            if ev is None or ev.value is None and name != "neck.type" or configured is None and not explicit_none:
                continue
            if name == "arch" and (_arch_family(ev.value) is None or _arch_family(configured) is None):
                continue   # a family cfglint cannot read from weights: the key-by-key check decides
            if not _same(name, ev.value, configured):
                desc, loc = _described(model, name)
                self._emit(rule_id, name, ev.value, configured, loc,
                           evidence=ev.because() or "its key names", config_desc=desc)
        for head, ev in fp.head_classes.items():   # every head, not only the final one
            configured = model.get("num_classes")
            if configured is not None and ev.value not in (None, configured) and \
                    fp.get("num_classes") == configured:
                self._emit("num_classes_mismatch", "num_classes", ev.value, configured, location(model, "num_classes"),
                           evidence=ev.because(), config_desc=describe(model, "num_classes"))
        self._compare_anchors()

    def _compare_anchors(self) -> None:
        ev = self.fp.anchors_per_location
        per_location = _anchors_per_location(self.model)
        if ev is None or per_location is None or ev.value == per_location:
            return
        sizes_desc, sizes_loc = _described(self.model, "anchors.sizes")
        prov = self.model.provenance.get("anchors.sizes")
        if prov is not None and prov.native_key.endswith(".octave_base_scale"):
            # mmdet: the number of scales is scales_per_octave; octave_base_scale only sets their size.
            key = prov.native_key[:-len("octave_base_scale")] + "scales_per_octave"
            sizes_desc, sizes_loc = _described_key(self.model, key) or (sizes_desc, sizes_loc)
        ratios_desc, ratios_loc = _described(self.model, "anchors.aspect_ratios")
        # Point at the factor the config file itself sets, else at the ratios.
        own = [loc for loc in (sizes_loc, ratios_loc) if loc is not None and loc.file == self.model.path]
        self._emit("anchors_mismatch", "anchors.aspect_ratios", ev.value, per_location,
                   (own or [ratios_loc or sizes_loc])[0], evidence=ev.because(),
                   config_desc=f"{sizes_desc} and {ratios_desc} give {per_location}")

    # -- 2. key by key -------------------------------------------------------------------------
    def compare_state_dict(self, engine: str = "native") -> StateDictCheck:
        check = StateDictCheck()
        resolved = self.model.resolved
        if self.fp.framework not in (None, self.model.framework):
            self._emit("state_dict_not_checked", "state_dict", None, None, reason="the checkpoint belongs to the other framework")
            return check
        if resolved is None:
            self._emit("state_dict_not_checked", "state_dict", None, None, reason="the config was given without its native form")
            return check
        try:
            expected = _expected(resolved, engine)
        except UnsupportedArchitecture as exc:
            self._emit("state_dict_not_checked", "state_dict", None, None, reason=exc.reason)
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
        ema, unexpected = _split_ema_buffers(unexpected, expected)
        if ema:
            self._emit("tolerated_keys", "state_dict", len(ema), None, count=len(ema),
                       what="EMA copies of the weights, the ema_* buffers mmcv's EMAHook adds to the model",
                       example=", ".join(ema[:_EXAMPLES]))
        for group, keys in _grouped(missing, expected.group_of).items():
            self._emit("missing_keys", "state_dict", None, len(keys), count=len(keys), group=group,
                       example=", ".join(keys[:_EXAMPLES]))
        for group, keys in _grouped(unexpected, _module_of).items():
            self._emit("unexpected_keys", "state_dict", len(keys), None, count=len(keys), group=group,
                       example=", ".join(keys[:_EXAMPLES]))
        by_group = _grouped([m["key"] for m in check.mismatched], expected.group_of)
        shapes = {m["key"]: m for m in check.mismatched}
        for group, keys in by_group.items():
            first = shapes[keys[0]]
            example = f"{keys[0]}: checkpoint {first['checkpoint']}, config {first['expected']}"
            self._emit("shape_mismatch", "state_dict", first["checkpoint"], first["expected"], count=len(keys),
                       group=group, example=example)
        ignored = tolerated + tolerated_unexp
        if ignored:
            kinds = sorted({_tolerated_kind(k) for k in ignored})
            self._emit("tolerated_keys", "state_dict", len(tolerated_unexp), len(tolerated), count=len(ignored),
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
            self._emit("class_names_mismatch", "classes", names, list(configured_names), location(self.model, "classes"),
                       left_count=len(names), left_short=short, config_desc=describe(self.model, "classes"))
        elif configured_names is None and num_classes is not None and len(names) != num_classes:
            self._emit("class_names_mismatch", "classes", names, num_classes, location(self.model, "num_classes"),
                       left_count=len(names), left_short=short, config_desc=describe(self.model, "num_classes"))


def _described(model: CommonModel, name: str):
    """``(description, location)`` of a field; a native key written in the file (even as None) is
    located there rather than described as a default (adapters mark a missing-or-None key a default)."""
    prov = model.provenance.get(name)
    if prov is not None and prov.location is None:
        found = _described_key(model, prov.native_key, model.get(name), name)
        if found is not None:
            return found
    return describe(model, name), location(model, name)


def _described_key(model: CommonModel, native: str, value: Any = None, name: Optional[str] = None):
    """``file:line sets <native> to <value>`` for a key the resolved config holds explicitly, else None."""
    resolved = model.resolved
    if resolved is None or not native:
        return None
    path = tuple(int(p) if p.isdigit() else p for p in native.replace("[", ".").replace("]", "").split(".") if p)
    parent = resolved.get(path[:-1]) if path else None
    if not (isinstance(parent, dict) and path[-1] in parent) or not hasattr(resolved, "locations"):
        return None
    loc = resolved.locations.get(path)
    if loc is None:
        return None
    native_value = parent[path[-1]]
    desc = f"{loc} sets {native} to {native_value!r}"
    if name is not None and native_value != value:
        desc += f" ({name} {value!r})"
    return desc, loc


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


#: What the weights can show of a detector family: the layout of its heads, not its name. A config
#: family missing here is not compared (its keys may look like a known family's or like nothing).
_ARCH_FAMILIES = {
    "faster_rcnn": "two_stage", "mask_rcnn": "two_stage", "keypoint_rcnn": "two_stage",
    # Same RPN + ROI-head key layout; what differs (point head, trident branches share weights,
    # mask-IoU head) is left to the key-by-key check.
    "point_rend": "two_stage", "trident_faster_rcnn": "two_stage", "mask_scoring_rcnn": "two_stage",
    "fast_rcnn": "fast_rcnn",   # ROI heads on precomputed proposals: no RPN weights
    "cascade_rcnn": "cascade", "rpn": "rpn", "panoptic_fpn": "panoptic_fpn",
    "semantic_segmentor": "semantic_segmentor",
    "retinanet": "retinanet", "fsaf": "retinanet",   # FSAFHead is a RetinaHead (retina_cls/retina_reg)
    "fcos": "fcos", "atss": "atss", "gfl": "gfl",
}


def _arch_family(arch: Any) -> Optional[str]:
    arch = str(arch)
    if arch.startswith("cascade"):
        return "cascade"
    return _ARCH_FAMILIES.get(arch)


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


def _split_ema_buffers(keys: List[str], expected: ExpectedStateDict) -> Tuple[List[str], List[str]]:
    """mmcv's EMAHook registers ``ema_<parameter name with dots as underscores>`` buffers on the model;
    only keys that name a parameter of this model that way count as EMA copies."""
    flat = {key.replace(".", "_") for key in expected.keys}
    ema = [k for k in keys if k.startswith("ema_") and "." not in k and k[len("ema_"):] in flat]
    chosen = set(ema)
    return ema, [k for k in keys if k not in chosen]


def _strip_foreign_prefix(info: CheckpointInfo, framework: str):
    """A training wrapper's attribute prefix (Lightning's ``model.``, ``_orig_mod.`` of torch.compile...).

    Only when the keys are not a detector's as they stand and are one's under the prefix: the most
    common one- or two-component prefix whose keys the fingerprint recognises. Returns the info to
    check (the keys under the prefix, stripped) and ``(prefix, keys inside, keys outside)``, or None.
    """
    shapes = info.shapes()
    if shapes and all(key.startswith("module.") for key in shapes):   # as the reader strips it
        info = replace(info, tensors={key[len("module."):]: value for key, value in info.tensors.items()})
        shapes = info.shapes()
    if fingerprint(shapes).framework is not None:
        return info, None
    counts: Dict[str, int] = {}
    for key in shapes:
        parts = key.split(".")
        for depth in (1, 2):
            if len(parts) > depth + 1:
                prefix = ".".join(parts[:depth]) + "."
                counts[prefix] = counts.get(prefix, 0) + 1
    for prefix, _ in sorted(counts.items(), key=lambda item: -item[1])[:8]:
        inside = [k for k in shapes if k.startswith(prefix)]
        stripped = {k[len(prefix):]: v for k, v in shapes.items() if k.startswith(prefix)}
        if fingerprint(stripped).framework is None:
            continue
        tensors = {k[len(prefix):]: info.tensors[k] for k in inside}
        outside = [k for k in shapes if not k.startswith(prefix)]
        if kinds.get(framework).loader_strips(prefix, every_key=not outside):
            # The framework's loader removes this prefix itself (DDP's `module.`).
            return replace(info, tensors=tensors), None
        return replace(info, tensors=tensors), (prefix, inside, outside)
    return info, None


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
        rule = rules.for_check("checkpoint", "state_dict_not_checked")
        return [Finding(rule=rule.id, name=rule.name, severity="info", field="state_dict", left=None,
                        right=None, message=f"The training config embedded in the checkpoint could not be "
                                            f"read ({err.message}); it was not compared.", why=rule.why_line)]
    return engine.diff(trained, model, engine_config, rules=rules)
