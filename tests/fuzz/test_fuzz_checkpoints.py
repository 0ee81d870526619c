"""Fuzz every checkpoint reader with seeded mutations of small real checkpoints.

Seeds are fixtures/hostile/checkpoints/ (written by torch via make_seed_checkpoints.py, so the
readers see torch's real layout). Cases mutate one seed (bit flips, truncation, zero runs,
duplication, splicing in bytes of another seed) and must give a result or a CfglintError quickly.
Hypothesis drives a second, shrinking search over the same edits.
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfglint.checkpoint import read_checkpoint
from tests.conftest import FIXTURES
from tests.fuzz import harness
from tests.fuzz.harness import holds, mutate_bytes
from tests.fuzz.make_seed_checkpoints import SEED_CLASSES, SEED_SPEC

pytestmark = pytest.mark.fuzz

SEEDS = {path.name: path.read_bytes() for path in sorted((FIXTURES / "hostile" / "checkpoints").iterdir())}
FORMATS = {"seed_zip.pth": "torch-zip", "seed_legacy.pth": "torch-legacy", "seed_d2.pkl": "d2-pkl",
           "seed.safetensors": "safetensors"}
CASES_PER_SEED = 60


def _expected_tensors():
    return {name: (shape, dtype) for name, shape, dtype in SEED_SPEC}


def _read(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return read_checkpoint(str(path))


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_pristine_seed_reads_as_written(tmp_path, seed):
    """The seeds are what make_seed_checkpoints wrote (names, shapes, dtypes by construction)."""
    info = _read(tmp_path, seed, SEEDS[seed])
    assert info.format == FORMATS[seed]
    assert {k: (v.shape, v.dtype) for k, v in info.tensors.items()} == _expected_tensors()
    if seed.endswith(".pth"):
        assert tuple(info.classes) == SEED_CLASSES


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_seeded_mutations(tmp_path, seed, fuzz_scale):
    others = [data for name, data in SEEDS.items() if name != seed]
    outcomes = {"ok": 0, "refused": 0}
    for case in range(CASES_PER_SEED * fuzz_scale):
        rng = random.Random(f"{seed}:{case}")
        data = mutate_bytes(SEEDS[seed], rng, others)
        outcomes[holds(lambda: _read(tmp_path, seed, data), f"{seed} case {case}")] += 1
    assert outcomes["refused"] > 0  # the mutations do reach the error paths
    # Reading mutated files leaves no state behind: the pristine seed still reads the same.
    assert {k: (v.shape, v.dtype) for k, v in _read(tmp_path, seed, SEEDS[seed]).tensors.items()} == _expected_tensors()


@settings(max_examples=40 * harness.SCALE, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(sorted(SEEDS)), edits=st.lists(
    st.tuples(st.floats(0, 1, allow_nan=False), st.binary(min_size=0, max_size=8)), min_size=1, max_size=4))
def test_hypothesis_overwrites(tmp_path, seed, edits):
    data = bytearray(SEEDS[seed])
    for where, new in edits:
        pos = int(where * len(data))
        data[pos:pos + len(new)] = new
    holds(lambda: _read(tmp_path, seed, bytes(data)), f"{seed} with {edits!r}")


@settings(max_examples=30 * harness.SCALE, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=256), suffix=st.sampled_from([".pth", ".pkl", ".safetensors", ".pt"]))
def test_hypothesis_arbitrary_bytes(tmp_path, data, suffix):
    holds(lambda: _read(tmp_path, "any" + suffix, data), f"{data!r}{suffix}")
