"""Open a checkpoint from disk or any fsspec URL for random access, reading only what is asked for."""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import BinaryIO, Iterator, Tuple

from cfglint.errors import CfglintError

# Range requests of this size: large enough for a zip central directory, small next to any tensor.
REMOTE_BLOCK_SIZE = 256 * 1024

# Detectron2's own URL scheme (detectron2/utils/file_io.py).
_D2_PREFIX = ("detectron2://", "https://dl.fbaipublicfiles.com/detectron2/")


def is_url(path_or_url: str) -> bool:
    return "://" in path_or_url


@contextmanager
def open_checkpoint(path_or_url: str) -> Iterator[Tuple[BinaryIO, int]]:
    """Yield a seekable binary stream and the file size; a missing or unreadable file is a CfglintError."""
    try:
        if is_url(path_or_url):
            stream = _open_url(path_or_url)
        else:
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


def _open_url(url: str) -> BinaryIO:
    import fsspec  # only remote checkpoints need it

    if url.startswith(_D2_PREFIX[0]):
        url = _D2_PREFIX[1] + url[len(_D2_PREFIX[0]):]
    try:
        filesystem, path = fsspec.core.url_to_fs(url)
        return filesystem.open(path, "rb", block_size=REMOTE_BLOCK_SIZE)
    except (ImportError, ValueError) as err:  # unknown protocol, or its driver (aiohttp, s3fs, gcsfs) missing
        raise CfglintError(f"cannot open this URL ({err})", url) from None
