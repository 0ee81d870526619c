"""`cfglint rules [ID]`: list the rules (id, name, severity, summary) or print one rule's docs."""
from __future__ import annotations

from typing import List, Optional

import typer

from cfglint.cli.common import FORMAT_OPTION, OutputFormat, dump_json, fail_usage, print_error
from cfglint.errors import CfglintError


def rules(
    rule_id: Optional[str] = typer.Argument(None, metavar="[ID]", help="A rule id (A101) or name (arch-mismatch)."),
    output_format: OutputFormat = FORMAT_OPTION,
    extra: Optional[List[str]] = typer.Option(None, "--rules", help="Extra rule file (YAML); repeatable."),
) -> None:
    """List cfglint's rules, or explain one: what it does, why it matters, an example."""
    from cfglint.cli.common import settings

    if output_format not in (OutputFormat.text, OutputFormat.json):
        raise fail_usage("rules supports --format text or json")
    try:
        _, rule_set = settings(rules=extra).engine()
    except CfglintError as err:
        print_error(err)
        raise typer.Exit(2)
    if rule_id is None:
        if output_format is OutputFormat.json:
            typer.echo(dump_json([rule.to_json() for rule in rule_set]))
            return
        width = max(len(rule.name) for rule in rule_set)
        for rule in rule_set:
            typer.echo(f"{rule.id}  {rule.name.ljust(width)}  {rule.severity.ljust(7)}  {rule.summary}")
        return
    match = [r for r in rule_set if r.id == rule_id.upper() or r.name == rule_id]
    if not match:
        raise fail_usage(f"no rule {rule_id!r}; `cfglint rules` lists them")
    rule = match[0]
    if output_format is OutputFormat.json:
        typer.echo(dump_json({**rule.to_json(), "what": rule.what.strip(), "why": rule.why.strip(),
                              "example": rule.example, "message": rule.message}))
    else:
        typer.echo(rule.docs(), nl=False)


def register(app: typer.Typer) -> None:
    app.command("rules")(rules)
