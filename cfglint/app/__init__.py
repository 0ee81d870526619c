"""Orchestration of the commands: what `cfglint show|diff|lint|verify|convert` do, without a terminal.

The CLI parses arguments into :class:`Settings`, calls one function here and hands the result to
``report/``; the Python API (``cfglint.verify``) calls the same functions. Nothing here prints or
exits: unreadable input is a :class:`CfglintError` (or an entry in a result's ``errors``), so the
caller decides how it is shown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple

from cfglint.engine.config import EngineConfig
from cfglint.engine.finding import Finding
from cfglint.engine.rules import RuleSet
from cfglint.errors import CfglintError
from cfglint.model import CommonModel, ResolvedConfig


@dataclass
class Settings:
    """Everything a command takes besides its paths (command line over `[tool.cfglint]`)."""

    select: Optional[List[str]] = None
    ignore: Optional[List[str]] = None
    rule_files: Optional[List[str]] = None
    fail_on: Optional[str] = None
    opts: List[str] = field(default_factory=list)     # overrides, for the (inference) config
    framework: Optional[str] = None
    allow_new_keys: bool = False

    def engine(self) -> Tuple[EngineConfig, RuleSet]:
        """The run's EngineConfig and rules; unknown rule codes are bad arguments (CfglintError)."""
        from cfglint import engine
        config = engine.load_config().with_cli(select=self.select, ignore=self.ignore, rule_files=self.rule_files,
                                               fail_on=self.fail_on)
        rules = engine.load_rules(config.rule_files)
        rules.enabled(config.select, config.ignore)
        return config, rules


# -- show -------------------------------------------------------------------------------------------

@dataclass
class Shown:
    path: str
    resolved: Optional[ResolvedConfig] = None
    model: Optional[CommonModel] = None
    error: Optional[CfglintError] = None


def show(paths: Sequence[str], settings: Settings, raw: bool = False) -> List[Shown]:
    from cfglint.adapters import normalize, resolve
    shown: List[Shown] = []
    for path in paths:
        try:
            resolved = resolve(path, framework=settings.framework, opts=settings.opts,
                               allow_new_keys=settings.allow_new_keys)
            shown.append(Shown(path, resolved, None if raw else normalize(resolved)))
        except CfglintError as err:
            shown.append(Shown(path, error=err))
    return shown


# -- diff -------------------------------------------------------------------------------------------

@dataclass
class DiffRun:
    reports: List[Tuple[str, str, List[Finding]]] = field(default_factory=list)
    errors: List[CfglintError] = field(default_factory=list)
    failed: List[str] = field(default_factory=list)   # per error: the config being read (train or infer)

    def findings(self) -> List[Finding]:
        return [f for _, _, findings in self.reports for f in findings]


def diff(pairs: Sequence[Tuple[str, str]], settings: Settings, config: EngineConfig, rules: RuleSet,
         raw: bool = False, filtered: bool = True, exclude: Sequence[str] = ()) -> DiffRun:
    """Each (train, infer) pair; the overrides apply to the inference side, as in the demo scripts."""
    from cfglint import engine
    from cfglint.adapters import load, resolve
    run = DiffRun()
    read = resolve if raw else load
    for left, right in pairs:
        current = left   # named in the error when one of its bases is at fault
        try:
            left_cfg = read(left, framework=settings.framework, allow_new_keys=settings.allow_new_keys)
            current = right
            right_cfg = read(right, framework=settings.framework, opts=settings.opts,
                             allow_new_keys=settings.allow_new_keys)
            if raw:
                findings = engine.raw_diff(left_cfg, right_cfg, config, filtered=filtered, exclude=exclude, rules=rules)
            else:
                findings = engine.diff(left_cfg, right_cfg, config, rules=rules)
        except CfglintError as err:
            run.errors.append(err)
            run.failed.append(current)
            continue
        run.reports.append((left, right, findings))
    return run


# -- lint -------------------------------------------------------------------------------------------

@dataclass
class LintRun:
    reports: List[Any]                       # engine.lint_files.FileReport, in the order of the files
    skipped: List[str]

    def findings(self) -> List[Finding]:
        return [f for report in self.reports for f in report.findings]

    @property
    def unreadable(self) -> List[Any]:
        return [report for report in self.reports if report.error is not None]


def lint(paths: Sequence[str], settings: Settings, config: EngineConfig, jobs: Optional[int] = None) -> LintRun:
    from cfglint.engine.lint_files import discover, lint_paths
    files, skipped = discover(paths, framework=settings.framework)
    return LintRun(lint_paths(files, config, jobs=jobs, allow_new_keys=settings.allow_new_keys,
                              framework=settings.framework), skipped)


# -- verify -----------------------------------------------------------------------------------------

def verify(checkpoint: Any, config: Any, settings: Optional[Settings] = None,
           engine_config: Optional[EngineConfig] = None, engine: str = "native", timeout: Optional[float] = None):
    """`cfglint verify` and `cfglint.verify`: a VerifyReport of `checkpoint` against `config`.
    `timeout`: seconds a remote server may stay silent (None: the reader's default)."""
    from cfglint.checkpoint.verify import verify as run_verify
    settings = settings or Settings()
    return run_verify(checkpoint, config, opts=settings.opts, framework=settings.framework,
                      engine_config=engine_config, allow_new_keys=settings.allow_new_keys, engine=engine,
                      timeout=timeout)


# -- convert ----------------------------------------------------------------------------------------

@dataclass
class ConvertRun:
    output: str
    target: str
    warnings: List[Any]
    proof: Any                               # convert.proof.Proof

    @property
    def failed(self) -> bool:
        proof = self.proof
        return any(f.severity == "error" for f in proof.diff) or (proof.verify is not None and not proof.verify.ok)


def convert(source: str, target: str, output: str, config: Optional[str] = None,
            framework: Optional[str] = None) -> ConvertRun:
    """A config (or, with `config`, a checkpoint) converted to `target` and proven, then written to
    `output` atomically: a run that fails before its proof leaves no output, never half a file."""
    import os
    from cfglint.convert import convert_checkpoint, convert_config
    from cfglint.convert import output as out
    from cfglint.convert.proof import Proof, diff_configs, verify_checkpoint
    if config is None:
        result = convert_config(source, target, framework=framework)
        proof = Proof(diff=diff_configs(source, result.text, target, framework))
        out.write_text_atomic(output, result.text)
        return ConvertRun(output, target, result.warnings, proof)
    tmp = out.temp_beside(output)
    try:
        result = convert_checkpoint(source, config, target, tmp, framework=framework)
        proof = Proof(diff=diff_configs(config, result.config.text, target, framework),
                      verify=verify_checkpoint(tmp, result.config.text, target))
        os.replace(tmp, output)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return ConvertRun(output, target, result.config.warnings + result.warnings, proof)
