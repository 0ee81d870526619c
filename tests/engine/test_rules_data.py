"""The rule data: every built-in rule well formed and documented; user rule files validated."""
from __future__ import annotations

import re

import pytest

from cfglint.engine import load_rules
from cfglint.engine.rules import builtin_rules_dir, load_rule_file
from cfglint.errors import CfglintError
from tests.engine.helpers import model
from cfglint import engine


def test_builtin_rules_are_complete_and_unique():
    rules = list(load_rules())
    assert builtin_rules_dir().name == "rules"
    assert len({r.name for r in rules}) == len(rules)
    for rule in rules:
        assert re.match(r"^[A-Z]\d{3}$", rule.id)
        assert rule.what.strip() and rule.why.strip() and rule.summary
        assert "## What it does" in rule.docs() and "## Why it matters" in rule.docs()


def write(tmp_path, text):
    path = tmp_path / "extra.yaml"
    path.write_text(text)
    return path


USER_RULE = """\
- id: U001
  name: neck-channels-changed
  severity: warning
  scope: pair
  fields: [neck.out_channels]
  check: differs
  summary: Our deployment needs 256 FPN channels.
  message: "{field}: {left} vs {right}"
  what: Compares FPN channels.
  why: Our exporter assumes it.
"""


def test_user_rule_file_adds_a_rule_using_a_builtin_check(tmp_path):
    path = write(tmp_path, USER_RULE)
    rules = load_rules([str(path)])
    [f] = [f for f in engine.diff(model(), model("i.py", neck__out_channels=128), rules=rules) if f.rule == "U001"]
    assert (f.rule, f.severity, f.message) == ("U001", "warning", "neck.out_channels: 256 vs 128")


@pytest.mark.parametrize("edit, message, line", [
    (("id: U001", "id: A101"), "defined twice", 1),
    (("check: differs", "check: exec_python"), "names check 'exec_python'", 1),
    (("neck.out_channels", "neck.channels"), "not a common-model field", 1),
    (("severity: warning", "severity: fatal"), "severity must be one of", 1),
    (("name: neck-channels-changed", "name: NeckChannels"), "kebab-case", 1),
    (("  why: Our exporter assumes it.\n", ""), "lacks why", 1),
    (("  check: differs\n", ""), "lacks check", 1),
    (("  check: differs\n", "  check: differs\n  params: {rel_tl: 0.1}\n"), "has no param 'rel_tl'", 1),
    (("  check: differs\n", "  check: differs\n  params: {rel_tol: fast}\n"), "must be a number", 1),
    (("{field}: {left}", "{field}: {lefft}"), "names {lefft}, which check 'differs' does not provide", 1),
    (("check: differs", "check: test_resize"), "does not look at field 'neck.out_channels'", 1),
])
def test_bad_user_rules_are_reported_with_file_and_line(tmp_path, edit, message, line):
    path = write(tmp_path, "# my rules\n\n" + USER_RULE.replace(*edit))
    with pytest.raises(CfglintError, match=message) as info:
        load_rules([str(path)])
    assert info.value.file == str(path) and info.value.line == 3


def test_yaml_syntax_error_in_rule_file(tmp_path):
    path = write(tmp_path, "- id: U001\n  name: [unclosed\n")
    with pytest.raises(CfglintError) as info:
        load_rule_file(path)
    assert info.value.file == str(path) and info.value.line


def test_missing_rule_file(tmp_path):
    with pytest.raises(CfglintError, match="cannot read rule file"):
        load_rules([str(tmp_path / "nope.yaml")])


def test_every_rule_is_bound_to_a_check_of_its_scope():
    from cfglint.engine.checks import get_check
    for rule in load_rules():
        assert get_check(rule.scope, rule.check) is not None, rule.id


def test_rules_readme_lists_the_registered_checks():
    """rules/README.md's check table is generated from the registry (scripts/gen_rules_readme.py)."""
    from scripts.gen_rules_readme import checks_section
    readme = (builtin_rules_dir() / "README.md").read_text()
    assert checks_section() in readme, "rules/README.md is stale: run python scripts/gen_rules_readme.py"


def test_builtin_rules_cache_round_trips_and_survives_corruption(tmp_path, monkeypatch):
    from cfglint.engine import rules as rules_module
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("CFGLINT_NO_CACHE", raising=False)
    rules_module._builtin_rules.cache_clear()
    try:
        parsed = rules_module._builtin_rules()                 # parses, writes the cache
        [cache] = (tmp_path / "cfglint").glob("rules-*.json")
        rules_module._builtin_rules.cache_clear()
        assert rules_module._builtin_rules() == parsed          # read back from the cache
        cache.write_text("[{\"id\": ")                          # a torn or corrupted cache
        rules_module._builtin_rules.cache_clear()
        assert rules_module._builtin_rules() == parsed
    finally:
        rules_module._builtin_rules.cache_clear()
