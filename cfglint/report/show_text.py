"""Human-readable views for `cfglint show`: fields grouped by topic, each with where it came from."""
from __future__ import annotations

from typing import Any, Dict, List

from cfglint.report.jsonout import dump_json
from cfglint.model import FIELDS, CommonModel, ResolvedConfig

_GROUP_TITLES = {
    "model": "Model", "backbone": "Backbone", "neck": "Neck", "heads": "Heads", "anchors": "Anchors",
    "input": "Input", "train": "Training resize", "test": "Test time",
}


def _fmt(value: Any) -> str:
    from cfglint.report.safe import _str
    if isinstance(value, int) and not isinstance(value, bool):
        return _str(value)
    if value is None:
        return "-"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def render_model(model: CommonModel) -> str:
    lines: List[str] = [f"{model.path}  ({model.framework})"]
    groups: Dict[str, List[str]] = {}
    for name, spec in FIELDS.items():
        value = model.values.get(name)
        prov = model.provenance.get(name)
        if prov is None:
            where = "" if value is None else "(derived)"
        elif prov.location is None:
            where = f"{prov.native_key} (default)"
        else:
            where = f"{prov.native_key} at {prov.location}"
        groups.setdefault(spec.group, []).append((name, _fmt(value), where))
    for group, rows in groups.items():
        lines.append(f"  {_GROUP_TITLES.get(group, group)}")
        width = max(len(r[0]) for r in rows)
        vwidth = min(40, max(len(r[1]) for r in rows))
        for name, value, where in rows:
            if len(value) > vwidth and where:  # a long value (anchor lists, URLs): provenance below it
                lines.append(f"    {name.ljust(width)}  {value}")
                lines.append(f"    {''.ljust(width)}  {''.ljust(vwidth)}  {where}")
            else:
                lines.append(f"    {name.ljust(width)}  {value.ljust(vwidth)}  {where}".rstrip())
    for inc in model.inconsistencies:
        lines.append(f"  ! {inc.message}")
    return "\n".join(lines)


def render_raw(resolved: ResolvedConfig) -> str:
    head = f"# {resolved.path}  ({resolved.framework}, {resolved.syntax or 'config'})"
    unknown = _unknowns(resolved)
    if "config" in unknown:
        where = unknown.pop("config")
        head += (f"\n# the config cannot be known statically ({where['why']}, {where['file']}:{where['line']}): "
                 "below is only what the script sets around it")
    for key, where in unknown.get("keys", {}).items():
        head += f"\n# {key} cannot be known statically ({where['why']}, {where['file']}:{where['line']}): null below"
    return head + "\n" + dump_json(resolved.data, indent=2)


def _unknowns(resolved: ResolvedConfig) -> dict:
    """A serving script's values it cannot know: {"keys": {dotted: where}, "config": where}."""
    out: dict = {}
    keys = getattr(resolved, "unknown", None) or {}
    reasons = getattr(resolved, "unknown_reasons", None) or {}
    if keys:
        out["keys"] = {key: {"file": where.file, "line": where.line, "why": reasons.get(key, "")}
                       for key, where in keys.items()}
    whole = getattr(resolved, "unknown_config", None)
    if whole is not None:
        out["config"] = {"file": whole.file, "line": whole.line,
                         "why": getattr(resolved, "unknown_config_reason", None) or ""}
    return out


def render_json(shown, raw: bool) -> str:
    """One JSON line of `show --format json` (contract section 2); `shown` is an app.Shown."""
    if raw:
        out = {"path": shown.path, "framework": shown.resolved.framework, "config": shown.resolved.data}
        if getattr(shown.resolved, "from_script", False):   # contract section 3
            out["input"] = "script"
            unknown = _unknowns(shown.resolved)
            if unknown.get("keys"):
                out["unknown"] = unknown["keys"]           # their values are null in `config`
            if unknown.get("config"):
                out["unknown_config"] = unknown["config"]  # `config` holds only what is known around it
        return dump_json(out)
    return dump_json(shown.model.to_json())


def error_json(shown) -> str:
    return dump_json({"path": shown.path, "error": shown.error.to_json()})
