"""Command-line overrides with yacs `merge_from_list` semantics (expected values by hand)."""
from __future__ import annotations

import json

import pytest

from cfglint.adapters.detectron2.yacs import resolve_yaml
from cfglint.errors import CfglintError
from cfglint.model import Location
from tests.conftest import FIXTURES

CHILD = str(FIXTURES / "detectron2" / "yaml" / "provenance" / "child.yaml")


def test_opts_override_file_values_and_are_located_at_opts():
    r = resolve_yaml(CHILD, opts=["MODEL.ROI_HEADS.NUM_CLASSES", "5", "MODEL.WEIGHTS", "other.pkl"])
    assert r.data["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] == 5
    assert r.data["MODEL"]["WEIGHTS"] == "other.pkl"
    assert r.locations[("MODEL", "ROI_HEADS", "NUM_CLASSES")] == Location("--opts", None)


def test_opts_values_are_literal_evaluated_and_cast_to_the_default_container():
    r = resolve_yaml(CHILD, opts=["INPUT.MIN_SIZE_TRAIN", "[800, 900]",       # tuple default: list -> tuple
                                  "MODEL.PIXEL_MEAN", "(1.0, 2.0, 3.0)",       # list default: tuple -> list
                                  "SOLVER.BASE_LR", "1e-3",
                                  "MODEL.ROI_HEADS.SCORE_THRESH_TEST", "0.5"])
    assert r.data["INPUT"]["MIN_SIZE_TRAIN"] == (800, 900)
    assert r.data["MODEL"]["PIXEL_MEAN"] == [1.0, 2.0, 3.0]
    assert type(r.data["SOLVER"]["BASE_LR"]) is float and r.data["SOLVER"]["BASE_LR"] == 0.001
    assert r.data["MODEL"]["ROI_HEADS"]["SCORE_THRESH_TEST"] == 0.5


@pytest.mark.parametrize("opts, message", [
    (["MODEL.ROI_HEADS.NUM_CLASSES"], "--opts: expected KEY VALUE pairs, got an odd number of items: "
                                      "MODEL.ROI_HEADS.NUM_CLASSES"),
    (["MODEL.ROI_HEADS.NUM_CLASS", "3"], "--opts: unknown config key MODEL.ROI_HEADS.NUM_CLASS; "
                                         "did you mean MODEL.ROI_HEADS.NUM_CLASSES?"),
    (["MODEL.ROI_HEADS.SCORE_THRESH_TEST", "1"], "--opts: type mismatch for MODEL.ROI_HEADS.SCORE_THRESH_TEST: "
     "the default is a float (0.05) but the config gives an int (1), which Detectron2 refuses; write 1.0"),
    (["_BASE_", "x.yaml"], "--opts: the reserved key '_BASE_' can only be used in files"),
])
def test_bad_opts(opts, message):
    with pytest.raises(CfglintError) as info:
        resolve_yaml(CHILD, opts=opts)
    assert str(info.value) == message


def test_opts_ignore_allow_new_keys():
    with pytest.raises(CfglintError, match="unknown config key MODEL.NEW_THING"):
        resolve_yaml(CHILD, opts=["MODEL.NEW_THING", "1"], allow_new_keys=True)


def test_cli_trailing_opts_end_to_end(cli):
    proc = cli("show", "--raw", "--format", "json", CHILD,
               "--opts", "MODEL.ROI_HEADS.NUM_CLASSES", "3", "TEST.AUG.MIN_SIZES", "(400, 500)")
    assert proc.returncode == 0, proc.stderr
    config = json.loads(proc.stdout)["config"]
    assert config["MODEL"]["ROI_HEADS"]["NUM_CLASSES"] == 3
    assert config["TEST"]["AUG"]["MIN_SIZES"] == [400, 500]


def test_cli_bad_opts_exit_2(cli):
    proc = cli("show", "--raw", CHILD, "--opts", "MODEL.ROI_HEADS.NUM_CLASSES")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["--opts: expected KEY VALUE pairs, got an odd number of items: "
                                        "MODEL.ROI_HEADS.NUM_CLASSES"]
