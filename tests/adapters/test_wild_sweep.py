"""Acceptance sweep over ../shared/corpus/wild with ../shared/oracles/wild (issue 15).

Every config outside `_base_/` that has an oracle is resolved in-process exactly as the CLI does it
without `--framework` (auto-detected) and compared with what the framework resolved
(`wild_compare`). Categories per codebase:
- equal: the framework loads it and cfglint's data equals the oracle;
- differ: cfglint loads it and the data is different (never allowed);
- refused-correctly: the framework refuses it and so does cfglint;
- accepted-but-framework-refuses: cfglint loads what the framework refuses with `cfglint_must_refuse`;
- cfglint-refuses: the framework loads it and cfglint refuses it (each with its reason);
Detectron2 YAMLs whose oracle lists project add-ons (`<config>.addons.json`) are counted apart
(`addons:` prefix): reading them is the scripts/add-ons work (issue 12).

Run with `-s` to print the table.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from cfglint import adapters
from cfglint.errors import CfglintError
from tests.adapters.wild_compare import first_diff, lazy_canon, needs_addons, norm, oracle_files
from tests.conftest import SHARED

pytestmark = [pytest.mark.slow, pytest.mark.shared]

CORPUS = SHARED / "corpus" / "wild"
ORACLES = SHARED / "oracles" / "wild"

#: Measured floors (equal configs, add-on YAMLs not included); raise them when cfglint improves.
EQUAL_AT_LEAST = {
    "IDEA-Research__detrex": 160,
    "SwinTransformer__Swin-Transformer-Object-Detection": 439,
    "facebookresearch__detectron2": 159,
    "open-mmlab__mmrotate": 106,
}
#: detrex's own acceptance bar: project configs (projects/**) equal to LazyConfig.load.
DETREX_PROJECTS_EQUAL_AT_LEAST = 150

#: Why cfglint may still refuse a config the framework loads: each reason is a deliberate refusal
#: (code that would run at load time) or a known gap reported to its owner; anything else fails.
ALLOWED_REFUSALS = (
    "a class body runs code at load time",
    "at load time; cfglint never runs config code",          # register_coco_instances, MetadataCatalog.get, ...
    "uses the builtin `type`",
    "cannot tell whether this is a Detectron2 or an MMDetection config",   # empty / `x = dict(...)` only files
)


def _index():
    if not (ORACLES / "index.json").is_file():
        return {}
    return json.loads((ORACLES / "index.json").read_text())


def classify(repo: str, config: str, kind: str):
    files = oracle_files(ORACLES, repo, config)
    prefix = "addons:" if kind == "d2yaml" and needs_addons(files[".addons.json"]) else ""
    path = CORPUS / repo / config
    try:
        resolved = adapters.resolve(str(path))
        error = None
    except CfglintError as exc:
        resolved, error = None, str(exc).replace(str(path), "")
    if files[".refused.json"].is_file():
        refusal = json.loads(files[".refused.json"].read_text())
        if error is not None:
            return prefix + "refused-correctly", error
        if refusal.get("cfglint_must_refuse"):
            return prefix + "accepted-but-framework-refuses", refusal.get("error")
        return prefix + "accepted-no-verdict", None
    if error is not None:
        return prefix + "cfglint-refuses", error
    expected = json.loads(files[".json"].read_text())
    actual = resolved.data
    objects = None
    if kind == "lazy":
        actual = lazy_canon(actual)
        objects = json.loads(files[".objects.json"].read_text()) if files[".objects.json"].is_file() else {}
    diff = first_diff(norm(expected), norm(actual), objects)
    return (prefix + "differ", diff) if diff else (prefix + "equal", None)


def sweep(repo: str):
    counts: Counter = Counter()
    details = []
    for config, info in sorted(_index()[repo].items()):
        category, detail = classify(repo, config, info["kind"])
        counts[category] += 1
        details.append((config, category, detail))
    return counts, details


@pytest.mark.parametrize("repo", sorted(EQUAL_AT_LEAST))
def test_wild_corpus_matches_the_frameworks(repo, shared_dir):
    if repo not in _index():
        pytest.skip(f"{repo} is not in the wild oracles")
    counts, details = sweep(repo)
    print(f"\n{repo}: {dict(sorted(counts.items()))}")
    problems = [d for d in details if d[1] in ("differ", "accepted-but-framework-refuses")
                or (d[1] == "cfglint-refuses" and not any(r in (d[2] or "") for r in ALLOWED_REFUSALS))]
    assert not problems, "\n".join(f"{c}: {cat}: {detail}" for c, cat, detail in problems)
    assert counts["equal"] >= EQUAL_AT_LEAST[repo]
    assert counts["addons:differ"] == 0       # add-on YAMLs that do load must load right
    if repo == "IDEA-Research__detrex":
        projects = sum(1 for c, cat, _ in details if c.startswith("projects/") and cat == "equal")
        assert projects >= DETREX_PROJECTS_EQUAL_AT_LEAST
