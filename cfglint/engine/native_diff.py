"""`cfglint diff --raw`: every difference between two resolved *native* configs of one framework.

The comparison is deepdiff's over ``ResolvedConfig.data``. Keys that always differ between a
training run and a serving config, and do not change what the network computes, are left out by
default (``--no-filter`` keeps them, ``--exclude PATTERN`` adds more). :data:`NOISE` is the list:

* paths and run bookkeeping: output/work dirs, seeds, resume and weights paths, launcher/env/dist
* dataset roots and annotation files (not the pipelines: those change what the network sees)
* schedules and optimizers: SOLVER, optimizer/optim_wrapper, param_scheduler, lr_config, runner,
  train_cfg's epochs/iterations, evaluation period
* logging, checkpointing, visualization and hooks

A pattern without a dot matches a key of that name at any depth (``work_dir``); a dotted pattern
matches a key path from the top, with shell wildcards (``SOLVER.*``, ``model.*.init_cfg``); a
pattern matching a key also hides everything below it.
"""
from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, List, Optional, Sequence, Tuple

from cfglint.engine.context import render
from cfglint.engine.finding import Finding
from cfglint.engine.rules import RuleSet
from cfglint.errors import CfglintError
from cfglint.model import ResolvedConfig


NOISE: Tuple[str, ...] = (
    # paths and run bookkeeping
    "OUTPUT_DIR", "work_dir", "SEED", "seed", "randomness", "deterministic", "CUDNN_BENCHMARK",
    "MODEL.WEIGHTS", "load_from", "resume", "resume_from", "auto_resume", "launcher", "env_cfg",
    "dist_params", "gpu_ids", "mp_start_method", "opencv_num_threads", "VERSION",
    # dataset roots
    "data_root", "ann_file", "img_prefix", "seg_prefix", "data_prefix", "backend_args", "DATASETS",
    "DATALOADER", "num_workers", "workers_per_gpu", "persistent_workers", "samples_per_gpu", "batch_size",
    # schedules and optimizers
    "SOLVER", "optimizer", "optimizer_config", "optim_wrapper", "param_scheduler", "lr_config",
    "momentum_config", "runner", "train_cfg.max_epochs", "train_cfg.max_iters", "train_cfg.val_interval",
    "train_cfg.type", "total_epochs", "auto_scale_lr", "TEST.EVAL_PERIOD", "evaluation",
    # logging, checkpoints, visualization, hooks
    "log_config", "log_level", "log_processor", "default_hooks", "custom_hooks", "checkpoint_config",
    "visualizer", "vis_backends", "VIS_PERIOD", "workflow",
)


def is_noise(path: Sequence[Any], patterns: Sequence[str]) -> bool:
    keys = [str(p) for p in path if not isinstance(p, int)]
    for pattern in patterns:
        if "." not in pattern:
            if any(fnmatchcase(key, pattern) for key in keys):
                return True
            continue
        depth = pattern.count(".") + 1
        if any(fnmatchcase(".".join(keys[:n]), pattern) for n in range(depth, len(keys) + 1)):
            return True
    return False


def raw_diff(left: ResolvedConfig, right: ResolvedConfig, rules: RuleSet, filtered: bool = True,
             exclude: Sequence[str] = ()) -> List[Finding]:
    if left.framework != right.framework:
        raise CfglintError(f"--raw compares native configs of one framework, but {left.path} is "
                           f"{left.framework} and {right.path} is {right.framework}; drop --raw to compare "
                           f"their meaning")
    from deepdiff import DeepDiff

    patterns = [*(NOISE if filtered else ()), *exclude]
    rule = rules.for_check("raw", "raw_difference")
    tree = DeepDiff(left.data, right.data, view="tree", ignore_numeric_type_changes=True)
    findings = []
    for levels in tree.values():
        for level in levels:
            path = level.path(output_format="list")
            if is_noise(path, patterns):
                continue
            findings.append(_finding(rule, path, _value(level.t1), _value(level.t2), left, right))
    return sorted(findings, key=lambda f: f.field)


def _value(value: Any) -> Any:
    from deepdiff.helper import NotPresent
    return None if isinstance(value, NotPresent) else value


def _finding(rule, path: list, left_value: Any, right_value: Any, left: ResolvedConfig,
             right: ResolvedConfig) -> Finding:
    dotted = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")
    left_loc = left.location_of(tuple(path)) if left_value is not None else None
    right_loc = right.location_of(tuple(path)) if right_value is not None else None
    return Finding(rule=rule.id, name=rule.name, severity=rule.severity, field=dotted,
                   left=left_value, right=right_value, left_location=left_loc, right_location=right_loc,
                   message=render(rule, key=dotted, left=_show(left_value), right=_show(right_value)),
                   why=rule.why_line)


def _show(value: Optional[Any]) -> str:
    return "(absent)" if value is None else repr(value)
