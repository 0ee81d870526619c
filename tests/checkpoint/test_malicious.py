"""Malicious checkpoints: every one would write a canary file if unpickled; reading must refuse and name the global.

The payloads are built in the test (``__reduce__`` classes and hand-written opcodes), placed in the
state dict, in ``meta`` and deep inside containers, and saved as zip ``.pth``, legacy ``.pth`` and
Detectron2 ``.pkl`` across pickle protocols. ``test_payloads_are_live`` proves that the payloads do
write the canary under a real ``pickle.loads``, so the "canary absent" assertions can fail.
"""
from __future__ import annotations

import copyreg
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from cfglint.checkpoint import read_checkpoint
from cfglint.errors import UnsafeContentError
from tests.checkpoint import synth

SYSTEM = f"{os.system.__module__}.system"  # posix.system here, nt.system on Windows


class _Reduce:
    """Pickles as ``callable(*args)``: what a malicious ``__reduce__`` produces."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def _payloads(canary: Path):
    """name -> (object whose unpickling writes ``canary``, the global that must be named)."""
    write = f"open({str(canary)!r}, 'w').close()"
    return {
        "os.system": (_Reduce(os.system, f"touch {canary}"), SYSTEM),
        "subprocess.Popen": (_Reduce(subprocess.Popen, ["touch", str(canary)]), "subprocess.Popen"),
        "builtins.eval": (_Reduce(eval, write), "builtins.eval"),
        "builtins.exec": (_Reduce(exec, write), "builtins.exec"),
    }


def _place(payload, where: str):
    if where == "state_dict":
        return {"state_dict": {"backbone.conv.weight": 0, "x": payload}}
    if where == "meta":
        return {"meta": {"dataset_meta": {"classes": ("a",)}, "cfg": payload}, "state_dict": {}}
    return {"meta": {"hooks": [{"deep": ({"x": [payload]},)}]}, "state_dict": {}}  # nested


def _assert_refused(path: Path, canary: Path, global_name: str):
    with pytest.raises(UnsafeContentError) as err:
        read_checkpoint(str(path))
    assert f"'{global_name}" in err.value.message
    assert err.value.file == str(path)
    assert not canary.exists()


PAYLOADS = ["os.system", "subprocess.Popen", "builtins.eval", "builtins.exec"]
PLACES = ["state_dict", "meta", "nested"]


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_d2_pkl(tmp_path, payload, place, protocol):
    canary = tmp_path / "canary"
    obj, name = _payloads(canary)[payload]
    ckpt = _place(obj, place)
    path = tmp_path / "model_final.pkl"
    path.write_bytes(pickle.dumps({"model": ckpt.pop("state_dict"), "__author__": "x", **ckpt}, protocol=protocol))
    _assert_refused(path, canary, name)


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_torch_save(tmp_path, payload, place, protocol, legacy):
    pytest.importorskip("torch")
    canary = tmp_path / "canary"
    obj, name = _payloads(canary)[payload]
    path = synth.save_torch(_place(obj, place), tmp_path / "epoch_1.pth", legacy=legacy, protocol=protocol)
    _assert_refused(path, canary, name)


def test_payloads_are_live(tmp_path):
    """Control: a real unpickler runs each payload, so the canary checks above are meaningful."""
    for label, (obj, _) in _payloads(tmp_path / "canary").items():
        result = pickle.loads(pickle.dumps(_place(obj, "nested"), protocol=2))
        popen = result["meta"]["hooks"][0]["deep"][0]["x"][0]
        if isinstance(popen, subprocess.Popen):
            popen.wait()
        assert (tmp_path / "canary").exists(), label
        (tmp_path / "canary").unlink()


# ----------------------------------------------------------------------- hand-written opcode tricks

def _str0(text: str) -> bytes:
    return f"V{text}\n".encode()


def _u(text: str) -> bytes:  # SHORT_BINUNICODE
    return b"\x8c" + bytes([len(text)]) + text.encode()


def _opcode_cases(canary: Path):
    cmd = f"touch {canary}".encode()
    code = f"open({str(canary)!r}, 'w').close()".encode()
    short = lambda b: b"U" + bytes([len(b)]) + b  # SHORT_BINSTRING  # noqa: E731
    return {
        # GLOBAL with other OS modules and code-running modules (fickling / picklescan bypass list).
        "posix.system": b"cposix\nsystem\n" + short(cmd) + b"\x85R.",
        "nt.system": b"cnt\nsystem\n" + short(cmd) + b"\x85R.",
        "os.system": b"cos\nsystem\n" + short(cmd) + b"\x85R.",
        "torch.load": b"ctorch\nload\n" + short(cmd) + b"\x85R.",
        "builtins.__import__": b"c__builtin__\n__import__\n" + short(b"os") + b"\x85R.",
        "importlib.import_module": b"cimportlib\nimport_module\n" + short(b"os") + b"\x85R.",
        "runpy._run_code": b"crunpy\n_run_code\n" + short(code) + b"}\x86R.",
        "pty.spawn": b"cpty\nspawn\n" + short(cmd) + b"\x85R.",
        "pickle.loads": b"cpickle\nloads\n" + short(b"x") + b"\x85R.",
        "_pickle.loads": b"c_pickle\nloads\n" + short(b"x") + b"\x85R.",
        "marshal.loads": b"cmarshal\nloads\n" + short(b"x") + b"\x85R.",
        "types.FunctionType": b"ctypes\nFunctionType\n" + short(b"x") + b"\x85R.",
        "ctypes.CDLL": b"cctypes\nCDLL\n" + short(b"libc.so.6") + b"\x85R.",
        "code.InteractiveInterpreter": b"ccode\nInteractiveInterpreter\n)R.",
        "numpy.testing._private.utils.runstring":
            b"cnumpy.testing._private.utils\nrunstring\n" + short(code) + b"}\x86R.",
        # defaultdict is plain data (trainer state), but only with a builtin type as its factory.
        "collections.defaultdict": b"ccollections\ndefaultdict\nctorch._utils\n_rebuild_tensor_v2\n\x85R.",
        "defaultdict(posix.system)": b"ccollections\ndefaultdict\ncposix\nsystem\n\x85R.",
        # builtin types are allowed only as such a factory, never called.
        "builtins.list called": b"c__builtin__\nlist\n)R.",
        "_rebuild_from_type_v2 of a non-rebuilder": b"\x80\x02ctorch._tensor\n_rebuild_from_type_v2\n(ctorch\n"
                                                    b"FloatStorage\nctorch\nTensor\n)}tR.",
        "copyreg._reconstructor": b"ccopy_reg\n_reconstructor\n)R.",
        # getattr is allowed only on inert stand-ins: from an allow-listed global it is refused.
        "builtins.getattr": b"\x80\x02c__builtin__\ngetattr\nctorch._utils\n_rebuild_tensor_v2\n"
                            + short(b"__globals__") + b"\x86R.",
        "builtins.getattr on a dict": b"\x80\x02c__builtin__\ngetattr\n}" + short(b"__class__") + b"\x86R.",
        # INST and OBJ opcodes name/take classes without GLOBAL+REDUCE.
        "INST os.system": b"(" + _str0(f"touch {canary}") + b"ios\nsystem\n.",
        "OBJ os.system": b"\x80\x02(cos\nsystem\n" + short(cmd) + b"o.",
        # STACK_GLOBAL with module/name strings fetched from the memo or built by an allowed call.
        "STACK_GLOBAL memo": b"\x80\x04" + _u("os") + b"\x94" + _u("system") + b"\x94h\x00h\x01\x93"
                             + _u(f"touch {canary}") + b"\x85R.",
        "STACK_GLOBAL runtime": b"\x80\x04" + _u("torch") + _u("device") + b"\x93\x94" + b"h\x00" + _u("posix")
                                + b"\x85Rh\x00" + _u("system") + b"\x85R\x93" + _u(f"touch {canary}") + b"\x85R.",
        # Memo confusion: an allowed global memoised, then a forbidden one stored under the same index.
        "memo overwrite": b"\x80\x02ccollections\nOrderedDict\nq\x000cos\nsystem\nq\x000h\x00"
                          + short(cmd) + b"\x85R.",
        # Nested in a dict inside a list inside a tuple, protocol 0.
        "nested protocol 0": b"(dp0\nVmeta\np1\n(lp2\n((dp3\nVx\np4\ncos\nsystem\np5\n(" + _str0(f"touch {canary}")
                             + b"tRp6\nstp7\nap8\ns.",
        # Allowed helpers abused: a bytes-to-bytes codec (zlib bomb), BUILD on a shared global.
        "_codecs.encode": b"\x80\x02c_codecs\nencode\nC\x01x" + short(b"zlib_codec") + b"\x86R.",
        "BUILD on a global": b"\x80\x02ctorch\nFloatStorage\n}" + short(b"dtype") + short(b"x") + b"sb.",
        # Extension registry (EXT1) resolves through find_class too.
        "EXT1 posix.system": b"\x80\x02\x82\xf0" + short(cmd) + b"\x85R.",
    }


_EXPECTED_GLOBAL = {
    "INST os.system": "os.system", "OBJ os.system": "os.system", "STACK_GLOBAL memo": "os.system",
    "STACK_GLOBAL runtime": "posix.system", "memo overwrite": "os.system", "nested protocol 0": "os.system",
    "builtins.getattr on a dict": "builtins.getattr", "BUILD on a global": "torch.FloatStorage",
    "EXT1 posix.system": "posix.system", "defaultdict(posix.system)": "posix.system",
    "builtins.list called": "builtins.list",
    "_rebuild_from_type_v2 of a non-rebuilder": "torch._tensor._rebuild_from_type_v2",
}


@pytest.fixture
def extension_code():
    copyreg.add_extension("posix", "system", 0xF0)
    yield
    copyreg.remove_extension("posix", "system", 0xF0)


OPCODE_CASES = list(_opcode_cases(Path("x")))


@pytest.mark.parametrize("container", ["pkl", "zip", "legacy"])
@pytest.mark.parametrize("case", OPCODE_CASES)
def test_hand_written_opcodes(tmp_path, case, container, extension_code):
    canary = tmp_path / "canary"
    data = _opcode_cases(canary)[case]
    if container == "pkl":
        path = tmp_path / "evil.pkl"
        path.write_bytes(data)
    else:
        path = _wrap_in_torch(tmp_path, data, legacy=container == "legacy")
    _assert_refused(path, canary, _EXPECTED_GLOBAL.get(case, case))


def _wrap_in_torch(tmp_path: Path, data_pkl: bytes, legacy: bool) -> Path:
    """Replace the object pickle of a real torch.save file with the payload."""
    pytest.importorskip("torch")
    import zipfile

    good = synth.save_torch({"w": __import__("torch").zeros(2)}, tmp_path / "good.pth", legacy=legacy)
    path = tmp_path / "evil.pth"
    if legacy:
        header = b"".join(pickle.dumps(x, protocol=2) for x in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}))
        path.write_bytes(header + data_pkl)
        return path
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for entry in src.infolist():
            dst.writestr(entry, data_pkl if entry.filename.endswith("/data.pkl") else src.read(entry))
    return path


def test_opcode_payloads_are_live(tmp_path, extension_code):
    """Control for the hand-written cases that execute something observable under a real unpickler."""
    canary = tmp_path / "canary"
    for case in ("posix.system", "os.system", "INST os.system", "OBJ os.system", "STACK_GLOBAL memo",
                 "nested protocol 0", "runpy._run_code", "EXT1 posix.system", "memo overwrite"):
        pickle.loads(_opcode_cases(canary)[case])
        assert canary.exists(), case
        canary.unlink()


def test_refusal_happens_in_a_subprocess_without_side_effects(tmp_path):
    """End to end in a fresh interpreter: refused, and the canary is still absent afterwards."""
    canary = tmp_path / "canary"
    path = tmp_path / "evil.pkl"
    path.write_bytes(_opcode_cases(canary)["os.system"])
    code = ("import sys\nfrom cfglint.checkpoint import read_checkpoint\nfrom cfglint.errors import UnsafeContentError\n"
            "try:\n    read_checkpoint(sys.argv[1])\nexcept UnsafeContentError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert "refusing to load pickle global 'os.system'" in out.stdout
    assert not canary.exists()


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("kind", ["zip", "legacy", "pkl"])
def test_verify_cli_refuses_with_exit_2(tmp_path, payload, kind):
    """End to end: `cfglint verify` on a hostile file exits 2, names the global, and nothing ran."""
    from tests.conftest import FIXTURES, run_cli

    canary = tmp_path / "canary"
    obj, name = _payloads(canary)[payload]
    if kind == "pkl":
        path = tmp_path / "model_final.pkl"
        path.write_bytes(pickle.dumps({"model": {"x": obj}, "__author__": "x"}, protocol=2))
    else:
        torch = pytest.importorskip("torch")
        path = tmp_path / "model.pth"
        torch.save({"meta": {"cfg": obj}, "state_dict": {}}, path, _use_new_zipfile_serialization=kind == "zip")
    proc = run_cli("verify", str(path), "--config", str(FIXTURES / "examples" / "train.yaml"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert name in proc.stderr and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not canary.exists()
