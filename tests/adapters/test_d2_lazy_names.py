"""Names that do not exist: LazyConfig.load evaluates `nn.SyncBatchNorm2d` and fails
(AttributeError / ImportError); cfglint refuses the same, where it knows the module's names."""
from __future__ import annotations

import textwrap

import pytest

from cfglint.adapters import known_names
from cfglint.adapters.detectron2.lazy import resolve_lazy
from cfglint.errors import CfglintError


def write(tmp_path, text):
    path = tmp_path / "cfg.py"
    path.write_text(textwrap.dedent(text))
    return str(path)


@pytest.mark.parametrize("body, line", [
    ("import torch.nn as nn\nfrom detectron2.config import LazyCall as L\nnorm = L(nn.SyncBatchNorm2d)(num_features=3)\n", 3),
    ("from torch.nn import SyncBatchNorm2d\nmodel = dict(norm=SyncBatchNorm2d)\n", 1),   # the import fails
    ("import torch\nopt = dict(cls=torch.optim.AdamWW)\n", 2),
])
def test_missing_names_are_refused_where_the_framework_fails(tmp_path, body, line):
    with pytest.raises(CfglintError, match="has no attribute") as info:
        resolve_lazy(write(tmp_path, body))
    assert info.value.line == line


@pytest.mark.parametrize("body", [
    "import torch.nn as nn\nmodel = dict(norm=nn.SyncBatchNorm, act=nn.functional.relu, m=nn.modules.batchnorm.X)\n",
    "import torchvision\nmodel = dict(m=torchvision.models.NotKnownHere)\n",     # module names not known: no claim
])
def test_existing_or_unknown_names_are_accepted(tmp_path, body):
    resolve_lazy(write(tmp_path, body))


def test_table():
    assert known_names.missing_attribute("torch.nn.SyncBatchNorm2d") == ("torch.nn", "SyncBatchNorm2d")
    assert known_names.missing_attribute("torch.nn.SyncBatchNorm") is None
    assert known_names.missing_attribute("torch.nn.functional.nope") == ("torch.nn.functional", "nope")
    assert known_names.missing_attribute("detectron2.modeling.Nope") is None
    assert "torch" in known_names.versions()
