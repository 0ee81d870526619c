"""`cfglint convert` output: what was written, the warnings, and the proof (diff and verify)."""
from __future__ import annotations

from typing import Any

from cfglint.report.jsonout import dump_json


def render(output_format: str, run: Any) -> str:
    """`run` is an app.ConvertRun."""
    proof = run.proof
    if output_format == "json":
        return dump_json({"output": run.output, "target": run.target,
                          "warnings": [w.to_json() for w in run.warnings], **proof.to_json()})
    lines = [f"wrote {run.output}"]
    lines += [f"warning: {w}" for w in run.warnings]
    lines.append(f"diff source vs converted: {len(proof.diff)} finding(s)")
    lines += [f"  {f.severity}: {f.field}: {f.message}" for f in proof.diff]
    if proof.verify is not None:
        sd = proof.verify.state_dict
        lines.append(f"verify converted checkpoint: {sd.checked} tensors checked, {len(sd.missing)} missing, "
                     f"{len(sd.unexpected)} unexpected, {len(sd.mismatched)} mismatched")
        lines += [f"  {f.severity}: {f.message}" for f in proof.verify.findings]
    return "\n".join(lines)
