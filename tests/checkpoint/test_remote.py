"""Remote checkpoints over HTTP, against servers on 127.0.0.1 run by the test in bounded threads.

Servers: range-capable (the normal case), one that ignores ``Range``, one without
``Content-Length``, one that accepts the connection and never answers, one that answers 404/500,
and a closed port. The server counts the body bytes it sends, so "reads < 2 % of the file" is
measured where the bytes leave, not where cfglint says it read them.
"""
from __future__ import annotations

import http.server
import pickle
import socket
import threading
import time
from pathlib import Path

import pytest

from cfglint.checkpoint import read_checkpoint
from cfglint.errors import CfglintError
from tests.checkpoint import synth
from tests.conftest import FIXTURES, run_cli

pytestmark = pytest.mark.slow   # local HTTP servers, including silent ones that must time out (run with --all)

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")
pytest.importorskip("aiohttp")   # fsspec's HTTP driver (the `remote` extra)

# R50-FPN keys plus the real box-head fc1 (1024 x 12544, fp16): a 27 MB file, small for a checkpoint.
SPEC = synth.SMALL_R50_FPN + [("roi_heads.box_head.fc1.weight", (1024, 12544), "float16")]


class _Server:
    """A ThreadingHTTPServer serving one directory in one of several behaviours."""

    def __init__(self, root: Path, mode: str):
        self.root, self.mode = root, mode
        self.sent = 0
        self.requests = []
        self.release = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0" if mode == "no-length" else "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self._answer(body=False)

            def do_GET(self):
                self._answer(body=True)

            def _answer(self, body: bool):
                server.requests.append((self.command, self.headers.get("Range")))
                if server.mode == "silent":
                    server.release.wait(20)
                    return
                if server.mode in ("404", "500"):
                    self.send_error(int(server.mode))
                    return
                path = server.root / self.path.lstrip("/")
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                start, end = 0, len(data)
                ranged = self.headers.get("Range")
                if ranged and server.mode == "range":
                    first, _, last = ranged.split("=", 1)[1].partition("-")
                    start, end = int(first), min(len(data), int(last) + 1 if last else len(data))
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
                else:
                    self.send_response(200)
                if server.mode != "no-length":
                    self.send_header("Content-Length", str(end - start))
                if server.mode == "range":
                    self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if body:
                    try:
                        for at in range(start, end, 1 << 16):
                            chunk = data[at:min(end, at + (1 << 16))]
                            self.wfile.write(chunk)
                            server.sent += len(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    state = synth.torch_state_dict(SPEC)
    synth.save_torch({"model": state}, root / "model.pth")
    synth.save_torch({"model": state}, root / "legacy.pth", legacy=True)
    from safetensors.torch import save_file
    save_file(state, str(root / "model.safetensors"), metadata={"format": "pt"})
    arrays = {k: np.zeros(v.shape, dtype=np.float32 if v.dtype == torch.bfloat16 else str(v.dtype).split(".")[1])
              for k, v in state.items()}
    synth.save_d2_pkl(arrays, root / "model_final.pkl")
    return root, {k: tuple(v.shape) for k, v in state.items()}


@pytest.mark.parametrize("name", ["model.pth", "legacy.pth", "model.safetensors"])
def test_indexed_formats_read_under_2_percent(files, name):
    root, shapes = files
    with _Server(root, "range") as server:
        info = read_checkpoint(server.url(name), timeout=10)
    size = (root / name).stat().st_size
    assert info.shapes() == shapes
    assert server.sent < 0.02 * size, (server.sent, size)
    assert info.remote_read["bytes"] <= server.sent
    gets = [r for r in server.requests if r[0] == "GET"]
    assert len(set(gets)) == len(gets), f"a range was fetched twice: {gets}"
    assert len(server.requests) <= 5, server.requests


def test_pkl_skips_its_inline_arrays_and_reports_what_it_read(files):
    """A .pkl keeps its arrays inside the pickle: they are seeked over, so it reads little too."""
    root, shapes = files
    with _Server(root, "range") as server:
        info = read_checkpoint(server.url("model_final.pkl"), timeout=10)
    size = (root / "model_final.pkl").stat().st_size
    assert info.shapes() == shapes
    assert info.remote_read["size"] == size
    assert info.remote_read["bytes"] <= server.sent < 0.02 * size, (server.sent, size)


def test_pkl_from_a_server_without_ranges_is_a_whole_file_read(files):
    """Without Content-Length there is no seeking: the whole stream is read, and the report says so."""
    root, shapes = files
    with _Server(root, "no-length") as server:
        info = read_checkpoint(server.url("model_final.pkl"), timeout=10)
    size = (root / "model_final.pkl").stat().st_size
    assert info.shapes() == shapes
    assert info.remote_read["bytes"] == size and info.remote_read["size"] is None


@pytest.mark.parametrize("name", ["legacy.pth", "model_final.pkl"])
def test_pickle_formats_without_content_length(files, name):
    root, shapes = files
    with _Server(root, "no-length") as server:
        info = read_checkpoint(server.url(name), timeout=10)
    assert info.shapes() == shapes


@pytest.mark.parametrize("mode, name, words", [
    ("no-length", "model.pth", "no Content-Length"),
    ("no-length", "model.safetensors", "no Content-Length"),
    ("404", "model.pth", "not found"),
    ("500", "model.pth", "HTTP 500"),
])
def test_server_limits_are_one_line(files, mode, name, words):
    root, _ = files
    with _Server(root, mode) as server:
        with pytest.raises(CfglintError) as err:
            read_checkpoint(server.url(name), timeout=10)
    assert words in err.value.message and "\n" not in err.value.message


def test_connection_refused_is_not_called_not_found():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(CfglintError) as err:
        read_checkpoint(f"http://127.0.0.1:{port}/model.pth", timeout=5)
    assert "refused" in err.value.message and "not found" not in err.value.message


def test_silent_server_times_out(files):
    root, _ = files
    with _Server(root, "silent") as server:
        began = time.monotonic()
        with pytest.raises(CfglintError) as err:
            read_checkpoint(server.url("model.pth"), timeout=1.0)
        elapsed = time.monotonic() - began
    assert "no answer" in err.value.message and "--timeout" in err.value.message
    assert elapsed < 6, elapsed


def test_cli_silent_server_exit_2_within_timeout(files):
    root, _ = files
    with _Server(root, "silent") as server:
        began = time.monotonic()
        proc = run_cli("verify", server.url("legacy.pth"), "--config", str(FIXTURES / "examples/train.yaml"),
                       "--timeout", "1")
        elapsed = time.monotonic() - began
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert elapsed < 15, elapsed   # interpreter start-up plus at most a few 1 s waits


def test_cli_remote_truncated_legacy_is_exit_2(files, tmp_path):
    root, _ = files
    data = (root / "legacy.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[:len(data) // 2])
    with _Server(tmp_path, "range") as server:
        proc = run_cli("verify", server.url("cut.pth"), "--config", str(FIXTURES / "examples/train.yaml"))
    assert proc.returncode == 2 and "truncated" in proc.stderr, proc.stderr


def test_protocol_0_pickle_over_http(tmp_path):
    """Text-line opcodes need readline(size): the call fsspec's file object did not accept."""
    (tmp_path / "old.pkl").write_bytes(pickle.dumps({"model": {"w": np.zeros((2, 3), dtype=np.float32)}},
                                                    protocol=0))
    with _Server(tmp_path, "range") as server:
        info = read_checkpoint(server.url("old.pkl"), timeout=10)
    assert info.shapes() == {"w": (2, 3)}


@pytest.mark.parametrize("name", ["model_final.pkl", "model.pth"])
def test_server_without_ranges_is_read_forward(files, name):
    """No ranges: the file is read from the start up to what is needed (a zip's directory is at its
    end, so all of it), and the bytes read say so."""
    root, shapes = files
    with _Server(root, "no-range") as server:
        info = read_checkpoint(server.url(name), timeout=10)
    size = (root / name).stat().st_size
    assert info.shapes() == shapes
    assert info.remote_read["bytes"] > 0.9 * size


@pytest.mark.parametrize("name", ["legacy.pth", "model.safetensors"])
def test_formats_indexed_at_the_start_need_no_ranges(files, name):
    """A legacy object pickle or a safetensors header in the first block: one plain GET is enough."""
    root, shapes = files
    with _Server(root, "no-range") as server:
        info = read_checkpoint(server.url(name), timeout=10)
    assert info.shapes() == shapes
