"""Stage 4: the rule engine. Rules are data (``rules/*.yaml``) naming Python checks; the engine runs
the enabled ones, drops suppressed findings and returns them sorted, most severe first.

API for the commands: :func:`diff` (two common models), :func:`lint` (one), :func:`raw_diff`
(two native configs), with an :class:`EngineConfig` from ``[tool.cfglint]`` and the command line.
"""
from __future__ import annotations

from typing import List, Optional

from cfglint.engine.config import EngineConfig, load_config
from cfglint.engine.finding import SEVERITIES, Finding, fails, sort_key, summarize
from cfglint.engine.rules import Rule, RuleSet, load_rules
from cfglint.model import CommonModel

__all__ = ["diff", "lint", "raw_diff", "Finding", "EngineConfig", "load_config", "load_rules", "Rule",
           "RuleSet", "SEVERITIES", "fails", "summarize"]


def diff(left: CommonModel, right: CommonModel, config: Optional[EngineConfig] = None,
         rules: Optional[RuleSet] = None) -> List[Finding]:
    """Findings of a training config (`left`) against its inference config (`right`)."""
    from cfglint.engine.checks import checks_of
    from cfglint.engine.context import ModelContext, PairContext

    config = config or EngineConfig()
    rules = rules or load_rules(config.rule_files)
    enabled = rules.enabled(config.select, config.ignore)
    ctx = PairContext(left, right, rules)
    pair_checks, model_checks = checks_of("pair"), checks_of("model")
    findings: List[Finding] = []
    for rule in enabled.values():
        if rule.scope == "pair" and rule.check in pair_checks:
            findings.extend(pair_checks[rule.check].fn(ctx, rule))
        elif rule.scope == "model" and rule.check in model_checks and rule.in_diff:
            check = model_checks[rule.check]
            for side, model in (("left", left), ("right", right)):
                if check.applies_to(model):
                    findings.extend(check.fn(ModelContext(model, rules, side), rule))
    evaluated = {i for i, r in enabled.items() if r.scope in ("pair", "meta") or r.in_diff}
    from cfglint.engine.checks.causes import fold
    return fold(_finish(findings, [left, right], rules, evaluated))


def lint(model: CommonModel, config: Optional[EngineConfig] = None,
         rules: Optional[RuleSet] = None) -> List[Finding]:
    """Findings of one config on its own: the model-scope rules, facts in the `left` slots."""
    from cfglint.engine.checks import checks_of
    from cfglint.engine.context import ModelContext

    config = config or EngineConfig()
    rules = rules or load_rules(config.rule_files)
    enabled = rules.enabled(config.select, config.ignore)
    model_checks = checks_of("model")
    findings: List[Finding] = []
    for rule in enabled.values():
        check = model_checks.get(rule.check) if rule.scope == "model" else None
        if check is not None and check.applies_to(model):
            findings.extend(check.fn(ModelContext(model, rules), rule))
    return _finish(findings, [model], rules, {i for i, r in enabled.items() if r.scope in ("model", "meta")})


def raw_diff(left, right, config: Optional[EngineConfig] = None, filtered: bool = True,
             exclude=(), rules: Optional[RuleSet] = None) -> List[Finding]:
    """Every difference of two resolved native configs (`diff --raw`), noise filtered."""
    from cfglint.engine.native_diff import raw_diff as _raw_diff

    config = config or EngineConfig()
    rules = rules or load_rules(config.rule_files)
    return _raw_diff(left, right, rules, filtered=filtered, exclude=[*config.raw_exclude, *exclude])


def _finish(findings: List[Finding], models: List[CommonModel], rules: RuleSet,
            evaluated: set) -> List[Finding]:
    """Keep findings of the rules this run evaluated (S903 is emitted by checks even when ignored),
    apply inline suppressions, and sort."""
    from cfglint.engine import suppress

    findings = [f for f in findings if f.rule in evaluated]
    # A serving script's values it cannot know (sys.argv, an option without default) are never judged.
    unknown = set().union(*(getattr(m, "unknown_fields", ()) for m in models))
    if unknown:
        findings = [f for f in findings if f.field not in unknown]
    findings = suppress.apply(findings, suppress.collect(models), rules, evaluated)
    return sorted(findings, key=sort_key)
