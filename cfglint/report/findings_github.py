"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

`::error file=F,line=L,title=T::message`; info becomes `notice`. Values are escaped as the runner
expects (% CR LF in messages, also : and , in properties). A finding without a location is still
printed, without file/line, so nothing is dropped.
"""
from __future__ import annotations

from typing import List

from cfglint.engine.finding import Finding

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(findings: List[Finding]) -> str:
    lines = []
    for f in findings:
        location = f.right_location or f.left_location   # the inference config is what changed
        props = []
        if location is not None:
            props.append(f"file={_escape_property(location.file)}")
            if location.line:
                props.append(f"line={location.line}")
        props.append(f"title={_escape_property(f'{f.rule} {f.name}')}")
        lines.append(f"::{_COMMANDS[f.severity]} {','.join(props)}::{_escape_data(f.message)}")
    return "\n".join(lines)
