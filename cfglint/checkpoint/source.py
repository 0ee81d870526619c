"""Open a checkpoint from disk or any fsspec URL for random access, reading only what is asked for.

Remote files are read through :class:`RemoteStream`: fixed blocks by byte range (a few requests for
a zip's directory and object pickle, each block fetched once), large reads in one request, a
per-request timeout, and every network failure as one :class:`CfglintError` line. A server that
gives no file size can still serve the pickle formats, which are read from the start; from a
server that ignores byte ranges the file is read forward from its start as far as needed (the
whole file for a zip, whose directory is at the end), and what was read is reported.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, BinaryIO, Iterator, Optional, Tuple

from cfglint.errors import CfglintError

# Range requests of this size: large enough for a zip's end records and a state dict's object
# pickle, small next to any checkpoint (so that a zip read costs a few percent of a small file).
REMOTE_BLOCK_SIZE = 64 * 1024
REMOTE_CACHED_BLOCKS = 16
#: Seconds a remote server may stay silent (connect, or between bytes) before cfglint gives up.
DEFAULT_TIMEOUT = 30.0
# What a stream without random access keeps of its start, so the format can be sniffed and re-read.
_STREAM_HEAD_BYTES = 64 * 1024

# Detectron2's own URL scheme (detectron2/utils/file_io.py).
_D2_PREFIX = ("detectron2://", "https://dl.fbaipublicfiles.com/detectron2/")


def is_url(path_or_url: str) -> bool:
    return "://" in path_or_url


@contextmanager
def open_checkpoint(path_or_url: str, timeout: Optional[float] = None) -> Iterator[Tuple[BinaryIO, Optional[int]]]:
    """Yield a binary stream and the file size (None: a remote file whose server does not say).

    A missing or unreadable file is a CfglintError. Local and sized remote streams are seekable.
    """
    if is_url(path_or_url):
        stream = _open_url(path_or_url, DEFAULT_TIMEOUT if timeout is None else timeout)
        with stream:
            yield stream, stream.size
        return
    try:
        if os.path.isdir(path_or_url):
            raise CfglintError("is a directory, not a checkpoint file", path_or_url)
        from cfglint.adapters import roots
        roots.check_input(path_or_url)   # a symlink may not lead out of its project
        if os.path.exists(path_or_url) and not roots.is_regular_file(path_or_url):   # a FIFO would block
            raise CfglintError("is not a regular file (a FIFO or a device); cfglint only reads regular files",
                               path_or_url)
        stream = open(path_or_url, "rb")
        with stream:
            size = stream.seek(0, os.SEEK_END)
            stream.seek(0)
            yield stream, size
    except FileNotFoundError:
        raise CfglintError("checkpoint not found", path_or_url) from None
    except PermissionError:
        raise CfglintError("permission denied reading the checkpoint", path_or_url) from None
    except OSError as err:
        raise CfglintError(f"cannot read the checkpoint ({err})", path_or_url) from None


def _open_url(url: str, timeout: float) -> "RemoteStream":
    try:
        import fsspec  # only remote checkpoints need it
    except ImportError:
        raise CfglintError("reading a remote checkpoint needs fsspec (pip install 'cfglint[remote]')", url) from None
    shown = url
    if url.startswith(_D2_PREFIX[0]):
        url = _D2_PREFIX[1] + url[len(_D2_PREFIX[0]):]
    protocol = url.split("://", 1)[0].lower()
    try:
        filesystem, path = fsspec.core.url_to_fs(url, **_timeout_options(protocol, timeout))
    except (ImportError, ValueError) as err:  # unknown protocol, or its driver (aiohttp, s3fs, gcsfs) missing
        raise CfglintError(f"cannot open this URL ({err})", shown) from None
    with remote_errors(shown, timeout):
        # cache_type "none": RemoteStream does the caching, so each block is fetched exactly once.
        raw = filesystem.open(path, "rb", block_size=REMOTE_BLOCK_SIZE, cache_type="none")
        size = getattr(raw, "size", None)
        if size is None or not raw.seekable():
            size = None
    stream = RemoteStream(raw, size, shown, timeout)
    stream.reopen_as_stream = lambda: filesystem.open(path, "rb", block_size=0)
    return stream


def _timeout_options(protocol: str, timeout: float) -> dict:
    """The per-request timeout in each fsspec driver's own terms (aiohttp, botocore)."""
    if protocol in ("http", "https", "gs", "gcs"):   # both drivers are aiohttp clients
        try:
            import aiohttp
        except ImportError:
            return {}   # url_to_fs then names the missing driver
        limits = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        return {"client_kwargs": {"timeout": limits}} if protocol.startswith("http") else \
            {"session_kwargs": {"timeout": limits}}
    if protocol in ("s3", "s3a"):   # botocore.config.Config
        return {"config_kwargs": {"connect_timeout": timeout, "read_timeout": timeout}}
    return {}


@contextmanager
def remote_errors(url: str, timeout: float) -> Iterator[None]:
    """Network failures as one line each: timeout, refused connection, HTTP status, missing file."""
    try:
        yield
    except CfglintError:
        raise
    except FileNotFoundError as err:
        # fsspec's HTTP driver reports every failed size query as "not found": the cause says what it was.
        cause = err.__cause__ or err.__context__
        if cause is not None and getattr(cause, "status", 404) != 404:
            raise CfglintError(_describe_remote_error(cause), url) from None
        if isinstance(cause, (TimeoutError, ConnectionError, OSError)) and not isinstance(cause, FileNotFoundError):
            raise CfglintError(_describe_remote_error(cause, timeout), url) from None
        raise CfglintError("checkpoint not found on the server (HTTP 404 or no such object)", url) from None
    except PermissionError:
        raise CfglintError("the server refused access to the checkpoint (HTTP 401/403)", url) from None
    except (TimeoutError, _aiohttp_timeout()) as err:  # noqa: B030 (a tuple built at run time)
        raise CfglintError(f"no answer from the server within {timeout:g} s (see --timeout){_detail(err)}",
                           url) from None
    except ConnectionRefusedError:
        raise CfglintError("connection refused: nothing is listening at this address", url) from None
    except ValueError as err:
        if "range" in str(err).lower():
            raise CfglintError("the server does not support byte-range requests, which reading a checkpoint's "
                               "index without downloading it needs: download the file and verify the local copy",
                               url) from None
        raise CfglintError(f"cannot read the remote checkpoint ({err})", url) from None
    except Exception as err:  # aiohttp / botocore raise their own hierarchies
        raise CfglintError(_describe_remote_error(err), url) from None


def _aiohttp_timeout() -> type:
    try:
        import aiohttp
        return aiohttp.ServerTimeoutError
    except ImportError:
        return TimeoutError


def _detail(err: BaseException) -> str:
    return f" ({err})" if str(err) else ""


def _describe_remote_error(err: BaseException, timeout: Optional[float] = None) -> str:
    if isinstance(err, TimeoutError) and timeout is not None:
        return f"no answer from the server within {timeout:g} s (see --timeout)"
    status = getattr(err, "status", None)
    if isinstance(status, int):
        return f"the server answered HTTP {status} {getattr(err, 'message', '') or ''}".rstrip()
    name = type(err).__name__
    cause = err.__cause__ or err.__context__ or getattr(err, "os_error", None)
    if isinstance(cause, ConnectionRefusedError) or "refused" in str(err).lower():
        return "connection refused: nothing is listening at this address"
    if "Connector" in name or isinstance(err, OSError):
        return f"cannot connect to the server ({err})"
    return f"cannot read the remote checkpoint ({name}: {err})"


class RemoteStream:
    """A read-only file over an fsspec file with ``cache_type='none'``: blocks fetched by range once.

    ``bytes_fetched`` and ``requests`` count what was asked of the server. Without a known size (no
    Content-Length) the file is read as a stream; only its first bytes can be re-read.
    """

    def __init__(self, raw: Any, size: Optional[int], url: str, timeout: float):
        self._raw, self.size, self._url, self._timeout = raw, size, url, timeout
        self._pos = 0
        self._blocks: "OrderedDict[int, bytes]" = OrderedDict()
        self._head = b""        # streaming mode: the first bytes, kept for sniffing
        self._streamed = 0      # streaming mode: bytes taken from the stream so far
        self.bytes_fetched = 0
        self.requests = 0
        #: Opens the file again as a plain stream (set by the opener): the fallback for a server
        #: without range support, which can still serve forward reads by reading from the start.
        self.reopen_as_stream = None
        self._sequential: Any = None   # that stream, once in use
        self._sequential_pos = 0

    # -- file protocol ----------------------------------------------------------------------
    def seekable(self) -> bool:
        return self.size is not None

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == os.SEEK_END:
            if self.size is None:
                raise CfglintError("the server does not give the file size (no Content-Length), and this format "
                                   "needs random access: download the file and verify the local copy", self._url)
            offset += self.size
        elif whence == os.SEEK_CUR:
            offset += self._pos
        if offset < 0:
            raise ValueError("negative seek position")
        if self.size is None and offset != self._pos and not (offset <= self._streamed == len(self._head)):
            raise CfglintError("the server does not give the file size (no Content-Length), and this format "
                               "needs random access: download the file and verify the local copy", self._url)
        self._pos = offset
        return offset

    def read(self, size: int = -1) -> bytes:
        if self.size is None:
            return self._read_stream(size)
        end = self.size if size is None or size < 0 else min(self.size, self._pos + size)
        if end <= self._pos:
            return b""
        start = self._pos
        first, last = start // REMOTE_BLOCK_SIZE, (end - 1) // REMOTE_BLOCK_SIZE
        if last - first >= 2 and not all(i in self._blocks for i in range(first, last + 1)):
            # A large read (inline arrays, a big central directory): one request up to the end of its
            # last block, which is kept because sequential reads continue there.
            # The leading block, when it is cached already, is not fetched again.
            lead = b""
            if first in self._blocks:
                lead = self._blocks[first][start - first * REMOTE_BLOCK_SIZE:]
            begin = start + len(lead)
            tail = last * REMOTE_BLOCK_SIZE
            fetched = self._fetch(begin, min(self.size, tail + REMOTE_BLOCK_SIZE))
            self._keep(last, fetched[tail - begin:])
            data = (lead + fetched)[:end - start]
        else:
            data = b"".join(self._block(i) for i in range(first, last + 1))
            offset = start - first * REMOTE_BLOCK_SIZE
            data = data[offset:offset + end - start]
        self._pos = start + len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        """Pickle protocols 0-1 read text lines; built on read() (fsspec's readline takes no size)."""
        limit = None if size is None or size < 0 else size
        out = bytearray()
        while limit is None or len(out) < limit:
            chunk = self.read(1)
            if not chunk:
                break
            out += chunk
            if chunk == b"\n":
                break
        return bytes(out)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        for raw in (self._raw, self._sequential):
            try:
                if raw is not None:
                    raw.close()
            except Exception:   # closing a half-read HTTP stream may raise; nothing is left to report
                pass

    def __enter__(self) -> "RemoteStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- fetching ---------------------------------------------------------------------------
    def _block(self, index: int) -> bytes:
        block = self._blocks.get(index)
        if block is None:
            start = index * REMOTE_BLOCK_SIZE
            block = self._fetch(start, min(self.size, start + REMOTE_BLOCK_SIZE))
            self._keep(index, block)
        else:
            self._blocks.move_to_end(index)
        return block

    def _keep(self, index: int, block: bytes) -> None:
        self._blocks[index] = block
        if len(self._blocks) > REMOTE_CACHED_BLOCKS:
            self._blocks.popitem(last=False)

    def _fetch(self, start: int, end: int) -> bytes:
        if self._sequential is not None:
            return self._fetch_forward(start, end)
        try:
            with remote_errors(self._url, self._timeout):
                self._raw.seek(start)
                data = self._raw.read(end - start)
        except CfglintError as err:
            if "byte-range" not in err.message or self.reopen_as_stream is None:
                raise
            with remote_errors(self._url, self._timeout):
                self._sequential = self.reopen_as_stream()
            self.requests += 1
            return self._fetch_forward(start, end)
        self.requests += 1
        self.bytes_fetched += len(data)
        if len(data) != end - start:
            raise CfglintError(f"the server sent {len(data)} bytes for a {end - start}-byte range: the remote file "
                               "changed or the server is broken", self._url)
        return data

    def _fetch_forward(self, start: int, end: int) -> bytes:
        """Without ranges: read the stream up to ``start`` (counted, not kept), then the range.
        Forward only, which is how the pickle formats are read; going back needs ranges."""
        if start < self._sequential_pos:
            raise CfglintError("the server does not support byte-range requests, and this file must be read "
                               "out of order: download the file and verify the local copy", self._url)
        with remote_errors(self._url, self._timeout):
            while self._sequential_pos < start:
                gap = self._sequential.read(min(start - self._sequential_pos, 1 << 20))
                if not gap:
                    break
                self._sequential_pos += len(gap)
                self.bytes_fetched += len(gap)
            pieces, want = [], end - start
            while want > 0:
                data = self._sequential.read(want)
                if not data:
                    break
                pieces.append(data)
                want -= len(data)
        data = b"".join(pieces)
        self._sequential_pos += len(data)
        self.bytes_fetched += len(data)
        if len(data) != end - start:
            raise CfglintError(f"the server sent {len(data)} of the {end - start} bytes asked for: the remote file "
                               "changed or the server is broken", self._url)
        return data

    def _read_stream(self, size: Optional[int]) -> bytes:
        want = None if size is None or size < 0 else size
        out = b""
        if self._pos < self._streamed:   # re-reading the kept start (seek() made sure it is all kept)
            stop = self._streamed if want is None else min(self._streamed, self._pos + want)
            out = self._head[self._pos:stop]
            self._pos = stop
            if want is not None:
                want -= len(out)
                if want == 0:
                    return out
        pieces = []
        with remote_errors(self._url, self._timeout):
            while want is None or want > 0:
                data = self._raw.read(-1 if want is None else want)   # a stream may return less than asked
                if not data:
                    break
                pieces.append(data)
                if want is not None:
                    want -= len(data)
        data = b"".join(pieces)
        self.requests += self._streamed == 0 and bool(data)
        self.bytes_fetched += len(data)
        if len(self._head) == self._streamed < _STREAM_HEAD_BYTES:
            self._head += data[:_STREAM_HEAD_BYTES - self._streamed]
        self._streamed += len(data)
        self._pos += len(data)
        return out + data
