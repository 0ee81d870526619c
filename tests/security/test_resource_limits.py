"""Resource limits: cycles, deep chains, deep nesting, alias bombs, huge files, compute bombs,
zip bombs and absurd sizes in checkpoints. Each case runs the real CLI in a fresh process with its
address space capped (capped.MEMORY_LIMIT) and must end within capped.WALL_LIMIT with exit 2, a message saying
what was refused, and no traceback. The inputs are built here, in a scratch directory.
"""
from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pytest

from tests.fuzz.make_seed_checkpoints import OUT as SEED_DIR
from tests.security.capped import run_capped

pytestmark = pytest.mark.slow   # resource bombs through the CLI, each in a capped subprocess

N = 100_000              # nesting depth of the deep-nesting cases
MiB = 1 << 20

LAZY = "from detectron2.config import LazyCall as L\nfrom detectron2.modeling import GeneralizedRCNN\n"


def _write(path: Path, content) -> str:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path.name


def _sparse(path: Path, head: str, size: int) -> str:
    """A `size`-byte file that costs no disk: `head`, then a hole of zeros."""
    with open(path, "wb") as f:
        f.write(head.encode())
        f.truncate(size)
    return path.name


def _chain(d: Path, stem: str, suffix: str, depth: int, link, body) -> str:
    for i in range(depth):
        _write(d / f"{stem}{i}{suffix}", (link(f"{stem}{i + 1}{suffix}") if i < depth - 1 else "") + body(i))
    return f"{stem}0{suffix}"


def _laughs(indent: str) -> str:
    """Nine aliases per level, nine levels: 9**9 (~387 million) nodes once expanded."""
    lines = [f"{indent}l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{indent}l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


# ---- configs: name -> (builder(dir) -> file to show, text the error must contain)
CONFIG_CASES = {
    "d2_base_cycle": (lambda d: (_write(d / "b.yaml", "_BASE_: a.yaml\n"),
                                 _write(d / "a.yaml", "_BASE_: b.yaml\nMODEL: {}\n"))[1], "_BASE_ cycle"),
    "mm_base_cycle": (lambda d: (_write(d / "b.py", "_base_ = ['a.py']\n"),
                                 _write(d / "a.py", "_base_ = ['b.py']\nmodel = dict()\n"))[1], "circular _base_"),
    "mm_yaml_self_base": (lambda d: _write(d / "a.yaml", "_base_: a.yaml\nmodel: {}\n"), "circular _base_"),
    "lazy_import_cycle": (lambda d: (_write(d / "b.py", "from .a import model\n"),
                                     _write(d / "a.py", LAZY + "from .b import model\n"))[1], "circular import"),
    "d2_base_chain_500": (lambda d: _chain(d, "c", ".yaml", 500, lambda nxt: f"_BASE_: {nxt}\n",
                                           lambda i: f"SOLVER:\n  MAX_ITER: {i + 1}\n"), "deep"),
    "mm_base_chain_500": (lambda d: _chain(d, "c", ".py", 500, lambda nxt: f"_base_ = ['{nxt}']\n",
                                           lambda i: f"model = dict(a{i}=1)\n"), "files deep"),
    "lazy_import_chain_500": (lambda d: _chain(d, "c", ".py", 500, lambda nxt: f"from .{nxt[:-3]} import model\n",
                                               lambda i: LAZY + f"model = L(GeneralizedRCNN)(a={i})\n"), "deep"),
    "d2_yaml_nested_flow": (lambda d: _write(d / "a.yaml", "MODEL:\n  X: " + "[" * N + "]" * N + "\n"), "too deeply"),
    "d2_yaml_nested_block": (lambda d: _write(d / "a.yaml", "MODEL:\n  X:\n    " + "- " * 20_000 + "1\n"), "too deeply"),
    "mm_yaml_nested": (lambda d: _write(d / "a.yaml", "model: " + "[" * N + "]" * N + "\n"), "too deeply"),
    "mm_json_nested": (lambda d: _write(d / "a.json", '{"model": ' + "[" * N + "]" * N + "}"), "too deeply"),
    "mm_py_nested": (lambda d: _write(d / "a.py", "model = dict(a=" + "[" * N + "]" * N + ")\n"), "nested"),
    "mm_py_deep_binop": (lambda d: _write(d / "a.py", "model = dict(a=1" + "+1" * N + ")\n"), "too deeply"),
    "mm_py_deep_unary": (lambda d: _write(d / "a.py", "model = dict(a=" + "-" * N + "1)\n"), "memory"),
    "lazy_deep_binop": (lambda d: _write(d / "a.py", LAZY + "model = L(GeneralizedRCNN)(a=1" + "+1" * N + ")\n"),
                        "too deeply"),
    "d2_billion_laughs": (lambda d: _write(d / "a.yaml", "MODEL:\n" + _laughs("  ")), "nodes"),
    "mm_billion_laughs": (lambda d: _write(d / "a.yaml", "model:\n" + _laughs("  ")), "nodes"),
    "d2_huge_file": (lambda d: _sparse(d / "a.yaml", "MODEL: {}\n#", 200 * MiB), "larger than 16 MB"),
    "d2_huge_base": (lambda d: (_sparse(d / "b.yaml", "MODEL: {}\n#", 200 * MiB),
                                _write(d / "a.yaml", "_BASE_: b.yaml\n"))[1], "larger than 16 MB"),
    "mm_huge_py": (lambda d: _sparse(d / "a.py", "model = dict()\n#", 200 * MiB), "larger than 16 MB"),
    "mm_huge_json": (lambda d: _sparse(d / "a.json", '{"model": {}, "x": "', 200 * MiB), "larger than 16 MB"),
    "lazy_huge_import": (lambda d: (_sparse(d / "b.py", "x = 1\n#", 200 * MiB),
                                    _write(d / "a.py", LAZY + "from .b import x\n"))[1], "larger than 16 MB"),
    "zero_bytes_yaml": (lambda d: _write(d / "a.yaml", b""), "cannot tell"),
    "zero_bytes_py": (lambda d: _write(d / "a.py", b""), "cannot tell"),
    "binary_garbage": (lambda d: _write(d / "a.yaml", bytes(range(256)) * 16), "not UTF-8"),
    "latin1_text": (lambda d: _write(d / "a.py", "model = dict(type='caf\xe9')\n".encode("latin-1")), "not UTF-8"),
    "nul_byte": (lambda d: _write(d / "a.py", b"model = dict(\x00)\n"), "null bytes"),
    "truncated_yaml": (lambda d: _write(d / "a.yaml", "MODEL:\n  WEIGHTS: 'abc\n"), "end of stream"),
    "truncated_py": (lambda d: _write(d / "a.py", "model = dict(type='a',\n"), "never closed"),
    "lazy_str_doubling": (lambda d: _write(d / "a.py", LAZY + "s = 'x'\nfor i in range(64):\n    s = s + s\n"
                                           "model = L(GeneralizedRCNN)(a=s)\n"), "too long"),
    "mm_str_doubling": (lambda d: _write(d / "a.py", "s = 'x'\nfor i in range(64):\n    s = s + s\nmodel = dict(a=s)\n"),
                        "more than a million items"),
    "mm_int_squaring": (lambda d: _write(d / "a.py", "s = 10 ** 1000\nfor i in range(64):\n    s = s * s\n"
                                         "model = dict(a=s)\n"), "enormous number"),
    "lazy_int_squaring": (lambda d: _write(d / "a.py", LAZY + "s = 10 ** 1000\nfor i in range(64):\n    s = s * s\n"
                                           "model = L(GeneralizedRCNN)(a=s)\n"), "too large"),
}
for _tag, _expr in [("range", "range(10**12)"), ("repeat", "[0] * 10**10"), ("power", "10**10**10"),
                    ("str_repeat", "'a' * 10**10"), ("shift", "1 << 10**10"), ("sum_range", "sum(range(10**12))")]:
    CONFIG_CASES[f"mm_{_tag}"] = (lambda d, e=_expr: _write(d / "a.py", f"model = dict(a={e})\n"), "")
    CONFIG_CASES[f"lazy_{_tag}"] = (lambda d, e=_expr: _write(d / "a.py", LAZY + f"model = L(GeneralizedRCNN)(a={e})\n"), "")
    CONFIG_CASES[f"d2_eval_{_tag}"] = (lambda d, e=_expr: _write(
        d / "a.yaml", f"MODEL:\n  ANCHOR_GENERATOR:\n    SIZES: !!python/object/apply:eval [\"{e}\"]\n"), "")

@pytest.mark.parametrize("name", sorted(CONFIG_CASES))
def test_config_limits(tmp_path, name):
    build, expected = CONFIG_CASES[name]
    result = run_capped(tmp_path, "show", build(tmp_path))
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert expected in result.stderr, result.stderr


# ---- checkpoints, through `cfglint verify CKPT --config a.yaml`

def _zip_bomb(d: Path) -> str:
    """torch's layout with a data.pkl of 300 MB of zeros (300 KB compressed)."""
    path = d / "bomb.pth"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("archive/data.pkl", "w", force_zip64=True) as member:
            chunk = bytes(MiB)
            for _ in range(300):
                member.write(chunk)
    return path.name


def _lying_zip(d: Path, declared: int) -> str:
    """A data.pkl of 20 MB of zeros whose headers declare `declared` bytes instead."""
    path = d / "liar.pth"
    real = 20 * MiB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", bytes(real))
    data = path.read_bytes().replace(struct.pack("<I", real), struct.pack("<I", declared))
    path.write_bytes(data)
    return path.name


def _safetensors(d: Path, header_len: int = None, header: bytes = b"{}") -> str:
    size = len(header) if header_len is None else header_len
    return _write(d / "a.safetensors", struct.pack("<Q", size) + header + bytes(4))


def _seed(name: str) -> bytes:
    return (SEED_DIR / name).read_bytes()


CHECKPOINT_CASES = {
    "zip_bomb_declared": (lambda d: _zip_bomb(d), "limit"),
    "zip_bomb_lying_size": (lambda d: _lying_zip(d, declared=100), "torch zip"),
    "zip_absurd_declared_size": (lambda d: _lying_zip(d, declared=0xFFFFFFF0), "limit"),
    "safetensors_header_2_63": (lambda d: _safetensors(d, 1 << 63), "impossible"),
    "safetensors_absurd_shape": (lambda d: _safetensors(d, header=json.dumps(
        {"w": {"dtype": "F32", "shape": [1 << 40, 1 << 40], "data_offsets": [0, 4]}}).encode()), "data offsets"),
    "pickle_binbytes8_2_62": (lambda d: _write(d / "a.pkl", b"\x80\x04\x8e" + struct.pack("<Q", 1 << 62)), "memory"),
    "pickle_long4_huge": (lambda d: _write(d / "a.pkl", b"\x80\x02\x8b" + struct.pack("<i", 2**31 - 1)), "memory"),
    "pickle_deep_lists": (lambda d: _write(d / "a.pkl", b"\x80\x02" + b"]" * N + b"a" * (N - 1) + b"."), ""),
    "pickle_endless_marks": (lambda d: _write(d / "a.pkl", b"\x80\x02" + b"(" * (4 * MiB)), "truncated"),
    "zero_bytes": (lambda d: _write(d / "a.pth", b""), "empty"),
    "garbage": (lambda d: _write(d / "a.pth", bytes(range(256)) * 64), ""),
    "truncated_zip": (lambda d: _write(d / "a.pth", _seed("seed_zip.pth")[:1500]), ""),
    "truncated_legacy": (lambda d: _write(d / "a.pth", _seed("seed_legacy.pth")[:900]), "truncated"),
    "truncated_pkl": (lambda d: _write(d / "a.pkl", _seed("seed_d2.pkl")[:600]), "truncated"),
    "truncated_safetensors": (lambda d: _write(d / "a.safetensors", _seed("seed.safetensors")[:500]), ""),
}


@pytest.mark.parametrize("name", sorted(CHECKPOINT_CASES))
def test_checkpoint_limits(tmp_path, name):
    build, expected = CHECKPOINT_CASES[name]
    _write(tmp_path / "a.yaml", "MODEL:\n  WEIGHTS: ''\n")
    result = run_capped(tmp_path, "verify", build(tmp_path), "--config", "a.yaml")
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert expected in result.stderr, result.stderr
