"""`--format text`: findings for people, grouped by severity, each with both locations and one line
on why it matters. Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
from __future__ import annotations

import os
from typing import List, Optional, Tuple

import typer

from cfglint.engine.finding import SEVERITIES, Finding, summarize

_COLOURS = {"error": typer.colors.RED, "warning": typer.colors.YELLOW, "info": typer.colors.CYAN}
_TITLES = {"error": "Errors", "warning": "Warnings", "info": "Info"}


def use_colour(is_tty: bool) -> bool:
    return is_tty and not os.environ.get("NO_COLOR")


def render(findings: List[Finding], left: Optional[str], right: Optional[str], colour: bool = False,
           roles: Tuple[str, str] = ("training", "inference")) -> str:
    """`roles` name what left and right are: a training and an inference config (diff), a
    checkpoint and a config (verify)."""
    def style(text: str, **kw) -> str:
        return typer.style(text, **kw) if colour else text

    lines = [style(f"{left} ({roles[0]}) vs {right} ({roles[1]})", bold=True)] if left or right else []
    for severity in SEVERITIES:
        group = [f for f in findings if f.severity == severity]
        if not group:
            continue
        lines.append(style(f"{_TITLES[severity]} ({len(group)})", fg=_COLOURS[severity], bold=True))
        for f in group:
            lines.append(f"  {style(f.rule, fg=_COLOURS[severity], bold=True)} {f.name} [{f.field}]: {f.message}")
            if f.left_location is not None:
                lines.append(f"      left:  {f.left_location}")
            if f.right_location is not None:
                lines.append(f"      right: {f.right_location}")
            if f.why:
                lines.append(style(f"      why:   {f.why}", dim=True))
    counts = summarize(findings)
    if findings:
        lines.append(", ".join(f"{counts[s]} {s}{'' if counts[s] == 1 or s == 'info' else 's'}"
                               for s in SEVERITIES))
    else:
        lines.append("No findings.")
    return "\n".join(lines)
