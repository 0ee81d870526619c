"""The fuzz property end to end: mutated configs and checkpoints through the real CLI, in a
memory-capped process. In-process fuzzing (the other modules) is fast; this sample checks what
users see: an exit code of 0, 1 or 2, and never a traceback.
"""
from __future__ import annotations

import random
import shutil

import pytest

from tests.conftest import FIXTURES, HAVE_SHARED, SHARED
from tests.fuzz.harness import mutate_bytes, mutate_text
from tests.security.capped import run_capped

pytestmark = pytest.mark.fuzz

CONFIGS_PER_RUN = 12
CHECKPOINT_CASES = 4
SEED_DIR = FIXTURES / "hostile" / "checkpoints"


def _config_sources():
    """Real configs, with the directory they must be copied with for their bases to resolve."""
    yield FIXTURES / "detectron2" / "lazy", "**/*.py"
    if HAVE_SHARED:
        yield SHARED / "corpus" / "detectron2", "**/*.yaml"
        yield SHARED / "corpus" / "mmdet2", "**/*.py"


@pytest.mark.parametrize("run", range(2))
def test_mutated_configs_through_show(tmp_path, run, fuzz_scale):
    for number, (tree, pattern) in enumerate(_config_sources()):
        copy = tmp_path / f"tree{number}"
        shutil.copytree(tree, copy)
        rng = random.Random(f"cli:{run}:{tree.name}")
        candidates = sorted(copy.glob(pattern))
        files = rng.sample(candidates, min(len(candidates), CONFIGS_PER_RUN * fuzz_scale))
        mutated = []
        for i, path in enumerate(files):
            target = path.with_name(f"{path.stem}__fuzz{i}{path.suffix}")
            target.write_bytes(mutate_text(path.read_text(), rng).encode("utf-8", "surrogateescape"))
            mutated.append(str(target.relative_to(copy)))
        run_capped(copy, "show", "--format", "json", *mutated, wall_limit=30)


@pytest.mark.parametrize("seed", sorted(p.name for p in SEED_DIR.iterdir()))
def test_mutated_checkpoints_through_verify(tmp_path, seed, fuzz_scale):
    (tmp_path / "cfg.yaml").write_text("MODEL:\n  WEIGHTS: ''\n")
    data = (SEED_DIR / seed).read_bytes()
    for case in range(CHECKPOINT_CASES * fuzz_scale):
        (tmp_path / seed).write_bytes(mutate_bytes(data, random.Random(f"cli:{seed}:{case}")))
        run_capped(tmp_path, "verify", seed, "--config", "cfg.yaml", "--format", "json")
