"""Truncated and corrupt files, and files that are not checkpoints: one clear line, exit 2, never a pass.

Every file starts as a real ``torch.save`` / ``torch.jit.save`` output and is then cut or damaged
the way downloads and disks do it. ``test_controls_load`` shows the undamaged files are good.
"""
from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from cfglint.checkpoint import read_checkpoint
from cfglint.errors import CfglintError
from tests.checkpoint import synth
from tests.conftest import FIXTURES, run_cli

torch = pytest.importorskip("torch")
KiB = 1024


def _state():
    return synth.torch_state_dict()  # real zeros of R50-FPN shapes: about 1.6 MB of storage


def _save(tmp_path: Path, legacy: bool, name: str = "model.pth") -> Path:
    return synth.save_torch({"model": _state(), "iteration": 1}, tmp_path / name, legacy=legacy)


def _cut(path: Path, size: int) -> Path:
    out = path.with_name(f"cut{size}_{path.name}")
    out.write_bytes(path.read_bytes()[:size])
    return out


def _expect(path: Path, *words: str) -> str:
    with pytest.raises(CfglintError) as err:
        read_checkpoint(str(path))
    message = err.value.message
    assert "\n" not in message
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_controls_load(tmp_path, legacy):
    path = _save(tmp_path, legacy)
    assert read_checkpoint(str(path)).shapes() == {k: tuple(v.shape) for k, v in _state().items()}


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("where", ["64KiB", "half", "last byte", "after object pickle"])
def test_truncated(tmp_path, legacy, where):
    path = _save(tmp_path, legacy)
    size = path.stat().st_size
    if where == "after object pickle":
        if not legacy:
            pytest.skip("zip files keep their directory at the end: covered by the other cuts")
        # Just past the object pickle and the storage list: all metadata intact, the data gone.
        import io
        import pickle
        stream = io.BytesIO(path.read_bytes())
        for _ in range(3):
            pickle.load(stream)       # magic number, protocol version, sys info
        _skip_object(stream)
        pickle.load(stream)           # storage keys
        target = stream.tell() + 8
    else:
        target = {"64KiB": 64 * KiB, "half": size // 2, "last byte": size - 1}[where]
    assert target < size
    _expect(_cut(path, target), "truncated")


def _skip_object(stream):
    import pickle

    class Skip(pickle.Unpickler):
        def persistent_load(self, pid):
            return None

        def find_class(self, module, name):
            return lambda *a, **k: None
    Skip(stream).load()


def test_zip_with_damaged_central_directory(tmp_path):
    path = _save(tmp_path, legacy=False)
    data = bytearray(path.read_bytes())
    at = data.rindex(b"PK\x01\x02")            # the last central-directory record
    data[at + 4:at + 8] = b"\xff\xff\xff\xff"    # its "version made by / needed" fields
    data[at:at + 4] = b"XX\x01\x02"
    bad = tmp_path / "bad_cd.pth"
    bad.write_bytes(bytes(data))
    _expect(bad, "central directory")


def test_zip_entry_smaller_than_its_storage(tmp_path):
    """A storage entry rewritten shorter than the tensors declare (as a bad copy tool would)."""
    path = _save(tmp_path, legacy=False)
    bad = tmp_path / "short_entry.pth"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for entry in src.infolist():
            payload = src.read(entry)
            if "/data/" in entry.filename and len(payload) > 1000:
                payload = payload[:100]
            dst.writestr(entry, payload)
    _expect(bad, "declare", "corrupt")


def test_zip_missing_storage_entry(tmp_path):
    path = _save(tmp_path, legacy=False)
    bad = tmp_path / "missing_entry.pth"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for entry in src.infolist():
            if not entry.filename.endswith("/data/0"):
                dst.writestr(entry, src.read(entry))
    _expect(bad, "no entry", "data/0")


def test_encrypted_zip_entries(tmp_path):
    path = _save(tmp_path, legacy=False)
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):   # local headers, central records
        start = 0
        while (at := data.find(signature, start)) >= 0:
            (flags,) = struct.unpack_from("<H", data, at + flag_at)
            struct.pack_into("<H", data, at + flag_at, flags | 0x1)
            start = at + 4
    bad = tmp_path / "encrypted.pth"
    bad.write_bytes(bytes(data))
    _expect(bad, "encrypted")


def test_torchscript_archive(tmp_path):
    module = torch.jit.script(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)))
    path = tmp_path / "model_scripted.pt"
    torch.jit.save(module, str(path))
    _expect(path, "TorchScript")


@pytest.mark.parametrize("content, words", [
    (b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head></html>\n", ("HTML",)),
    (b"\n<html>\n<body>404 Not Found</body></html>", ("HTML",)),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"a" * 64 + b"\nsize 178090079\n",
     ("Git LFS pointer",)),
    (b"just some text that is not a checkpoint\n", ("not a checkpoint",)),
], ids=["html", "html-404", "git-lfs", "text"])
def test_not_a_checkpoint(tmp_path, content, words):
    path = tmp_path / "model_final.pth"
    path.write_bytes(content)
    _expect(path, *words)


@pytest.mark.parametrize("case", ["legacy-half", "zip-64KiB", "lfs"])
def test_cli_exit_2_one_line(tmp_path, case):
    if case == "lfs":
        path = tmp_path / "model.pth"
        path.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 9\n")
    else:
        full = _save(tmp_path, legacy=case.startswith("legacy"))
        path = _cut(full, full.stat().st_size // 2 if case.endswith("half") else 64 * KiB)
    proc = run_cli("verify", str(path), "--config", str(FIXTURES / "examples" / "train.yaml"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def test_safetensors_whose_header_length_starts_with_0x80(tmp_path):
    """0x80 is also pickle's PROTO opcode: the format is decided by the header, not the first byte."""
    from safetensors.torch import save_file
    for pad in range(0, 4096, 8):
        path = tmp_path / "model.safetensors"
        save_file({"w": torch.zeros(2, 3)}, str(path), metadata={"note": "x" * pad})
        if path.read_bytes()[0] == 0x80:
            break
    else:
        pytest.fail("no header length with a 0x80 low byte was produced")
    assert read_checkpoint(str(path)).shapes() == {"w": (2, 3)}
