"""Fuzz every config reader: seeded mutations of real corpus files, and hypothesis-built text.

Corpus cases mutate a copy of a real config *in its own directory* (so `_base_`/`_BASE_` and
relative imports still resolve) and resolve it with the framework forced, so the mutation reaches
the reader instead of failing detection. The property is harness.holds; afterwards every pristine
file must resolve exactly as it did before the fuzzing (no state leaks through the readers' caches).
"""
from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfglint.adapters import normalize, resolve
from cfglint.errors import CfglintError
from tests.conftest import FIXTURES, HAVE_SHARED, SHARED
from tests.fuzz import harness
from tests.fuzz.harness import HOSTILE_TOKENS, holds, mutate_text

pytestmark = pytest.mark.fuzz

FILES_PER_KIND = 8
MUTATIONS_PER_FILE = 8
#: reader -> (tree, glob under it, framework to force). "shared:" trees come from ../shared/corpus
#: (skipped when absent); the corpus has no LazyConfig files, so those come from the repo fixtures.
KINDS = {
    "d2-yaml": ("shared:detectron2", "**/*.yaml", "detectron2"),
    "d2-lazy": ("fixtures:detectron2/lazy", "**/*.py", "detectron2"),
    "mmengine-py": ("shared:mmdet2", "**/*.py", "mmdet"),
}
HYPOTHESIS = settings(max_examples=40 * harness.SCALE, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> Path:
    """Scratch copies of the trees the corpus cases mutate in place."""
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(FIXTURES / "detectron2" / "lazy", root / "fixtures" / "detectron2" / "lazy")
    if HAVE_SHARED:
        shutil.copytree(SHARED / "corpus", root / "shared")
    return root


def _read(path: Path, framework: str):
    """Both stages a command runs: resolve, then map onto the common model."""
    return normalize(resolve(str(path), framework=framework))


def _outcome(path: Path, framework: str):
    """What resolving gives, comparable across runs: the data, or the error message."""
    try:
        return ("ok", resolve(str(path), framework=framework).data)
    except CfglintError as err:
        return ("error", str(err))


def _sample(trees: Path, kind: str, scale: int):
    tree, pattern, _ = KINDS[kind]
    where, _, folder = tree.partition(":")
    if where == "shared" and not HAVE_SHARED:
        pytest.skip("../shared (corpus and oracles) is not present")
    files = sorted(p for p in (trees / where / folder).glob(pattern) if "__fuzz" not in p.name)
    return random.Random(kind).sample(files, min(len(files), FILES_PER_KIND * scale))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_corpus_mutations(trees, kind, fuzz_scale):
    framework = KINDS[kind][2]
    picked = _sample(trees, kind, fuzz_scale)
    before = {p: _outcome(p, framework) for p in picked}
    outcomes = {"ok": 0, "refused": 0}
    for path in picked:
        text = path.read_text()
        for case in range(MUTATIONS_PER_FILE):
            rng = random.Random(f"{path.name}:{case}")
            mutated = path.with_name(f"{path.stem}__fuzz{case}{path.suffix}")
            mutated.write_bytes(mutate_text(text, rng).encode("utf-8", "surrogateescape"))
            try:
                label = f"{path.relative_to(trees)} mutation {case}"
                outcomes[holds(lambda: _read(mutated, framework), label)] += 1
            finally:
                mutated.unlink()
    assert outcomes["refused"] > 0 and outcomes["ok"] > 0, outcomes
    assert {p: _outcome(p, framework) for p in picked} == before


# ---- hypothesis: text assembled from config-like and hostile fragments, per reader

D2_FRAGMENTS = ["MODEL:\n", "  WEIGHTS: x\n", "  META_ARCHITECTURE: GeneralizedRCNN\n", "SOLVER:\n",
                "  BASE_LR: 0.02\n", "  STEPS: (1, 2)\n", "INPUT:\n", "  MIN_SIZE_TRAIN: [1, 2]\n", "_BASE_: a.yaml\n",
                "VERSION: 2\n", "  ANCHOR_GENERATOR:\n    SIZES: !!python/object/apply:eval ['[[x] for x in [32]]']\n"]
LAZY_FRAGMENTS = ["from detectron2.config import LazyCall as L\n", "from detectron2.modeling import GeneralizedRCNN\n",
                  "model = L(GeneralizedRCNN)(", "x=1", ", ", ")\n", "model.x = ", "'${..x}'", "[1, 2]", "dict(a=1)",
                  "\n", "for i in range(3):\n    ", "if True:\n    ", "def f():\n    return 1\n", "f()"]
MM_FRAGMENTS = ["model = dict(", "type='FasterRCNN'", ", ", ")\n", "_base_ = ['a.py']\n", "x = ", "model['a'] = ",
                "[1, 2]", "dict(a=1)", "'s'", "1 + 2", "\n", "for i in range(3):\n    ", "if x:\n    ",
                "def f(a):\n    return a\n", "f(1)", "{{_base_.model}}", "{{$CFGLINT_FUZZ:1}}", "with read_base():\n    ",
                "from mmengine.config import read_base\n", "from .a import *\n"]


def _source(fragments):
    return st.lists(st.sampled_from(fragments + HOSTILE_TOKENS), max_size=30).map("".join)


def _resolve_text(tmp_path: Path, name: str, text: str, framework: str) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    (tmp_path / "a.yaml").write_text("MODEL:\n  WEIGHTS: base\n")
    (tmp_path / "a.py").write_text("model = dict(type='RetinaNet')\n")
    holds(lambda: _read(path, framework), f"{name}: {text!r}")


@HYPOTHESIS
@given(text=_source(D2_FRAGMENTS))
def test_hypothesis_d2_yaml(tmp_path, text):
    _resolve_text(tmp_path, "h.yaml", text, "detectron2")


@HYPOTHESIS
@given(text=_source(LAZY_FRAGMENTS))
def test_hypothesis_d2_lazy(tmp_path, text):
    _resolve_text(tmp_path, "h.py", text, "detectron2")


@HYPOTHESIS
@given(text=_source(MM_FRAGMENTS))
def test_hypothesis_mmengine_py(tmp_path, text):
    _resolve_text(tmp_path, "h.py", text, "mmdet")


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                     max_leaves=20)


@HYPOTHESIS
@given(data=st.dictionaries(st.sampled_from(["model", "_base_", "data", "x", "train_cfg"]), _JSON, max_size=4),
       as_json=st.booleans(), noise=st.sampled_from([""] + HOSTILE_TOKENS))
def test_hypothesis_mmengine_yaml_json(tmp_path, data, as_json, noise):
    text = json.dumps(data) if as_json else yaml.safe_dump(data)
    _resolve_text(tmp_path, "h.json" if as_json else "h.yaml", text + noise, "mmdet")
