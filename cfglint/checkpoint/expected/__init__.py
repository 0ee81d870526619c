"""The state dict a config's model has (names and shapes), derived from the config alone.

`expected_state_dict(framework, config)` takes the *native resolved* config as plain data
(Detectron2: the merged CfgNode as a dict; mmdet: `Config.to_dict()`) and mirrors what the
framework's model builder registers, without importing torch or the framework. Each key prefix
is filed under a config-level explanation (`ExpectedStateDict.groups`) so that missing or
unexpected checkpoint keys can be explained in config terms. Architectures not modelled raise
`UnsupportedArchitecture`, never a guess.
"""
from __future__ import annotations

from cfglint.checkpoint.expected.layers import ExpectedStateDict, UnsupportedArchitecture

__all__ = ["ExpectedStateDict", "UnsupportedArchitecture", "expected_state_dict"]


def expected_state_dict(framework: str, config: dict) -> ExpectedStateDict:
    """The kind's own builder (see its `expected_state_dict` endpoint); unknown kinds are an error."""
    from cfglint.adapters import kinds
    from cfglint.errors import CfglintError
    try:
        kind = kinds.get(framework)
    except CfglintError as err:
        raise UnsupportedArchitecture(err.message) from None
    return kind.endpoint("expected_state_dict")(config)
