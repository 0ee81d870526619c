"""[tool.cfglint] from the nearest pyproject.toml upward; the command line beats the file."""
from __future__ import annotations

import pytest

from cfglint.engine import EngineConfig, load_config
from cfglint.errors import CfglintError


def test_found_upward_and_paths_relative_to_the_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.cfglint]\nselect = ["A", "I2"]\nignore = ["A105"]\nfail-on = "warning"\n'
        'rules = ["ci/rules.yaml"]\nraw-exclude = ["custom_imports"]\n'
        'pairs = [{train = "out/config.yaml", infer = "serve.yaml"}]\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    config = load_config(deep)
    assert config.select == ["A", "I2"] and config.ignore == ["A105"] and config.fail_on == "warning"
    assert config.rule_files == [str(tmp_path / "ci/rules.yaml")]
    assert config.pairs == [(str(tmp_path / "out/config.yaml"), str(tmp_path / "serve.yaml"))]
    assert config.raw_exclude == ["custom_imports"]


def test_cli_beats_file_key_by_key(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.cfglint]\nselect = ["A"]\nignore = ["A105"]\n')
    config = load_config(tmp_path).with_cli(select=["C,T4"], fail_on="info")
    assert config.select == ["C", "T4"] and config.ignore == ["A105"] and config.fail_on == "info"


def test_no_table_means_defaults(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(tmp_path) == EngineConfig()


@pytest.mark.parametrize("text, message", [
    ('[tool.cfglint]\nselct = ["A"]\n', "unknown keys selct"),
    ('[tool.cfglint]\nfail-on = "fatal"\n', "fail-on must be one of"),
    ('[tool.cfglint]\npairs = [{train = "a"}]\n', "pairs entries"),
    ('[tool.cfglint\n', "not valid TOML"),
])
def test_bad_configuration_is_reported(tmp_path, text, message):
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(CfglintError, match=message) as info:
        load_config(tmp_path)
    assert info.value.file == str(tmp_path / "pyproject.toml")
