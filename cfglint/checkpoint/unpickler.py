"""A pickle reader that refuses every global outside :data:`cfglint.checkpoint.standins.ALLOWED`.

``find_class`` never imports anything: allowed names resolve to the inert stand-ins, every other
name raises :class:`UnsafeContentError` naming it, before any object is built. Reads are bounded so a
huge or endless stream fails fast instead of filling memory.
"""
from __future__ import annotations

import _compat_pickle
import pickle
from typing import Any, BinaryIO, Callable, Dict, Optional, Tuple

from cfglint.checkpoint.standins import ALLOWED
from cfglint.errors import CfglintError, UnsafeContentError

MiB = 1 << 20



def python3_name(module: str, name: str):
    """Protocol 0-2 pickles use Python 2 names (``__builtin__``, ``commands.Popen``); map them as pickle does."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[module, name]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class BoundedStream:
    """File wrapper for the unpickler that stops after ``limit`` bytes (``what`` names the stream in errors)."""

    def __init__(self, raw: BinaryIO, limit: int, what: str, source: str):
        self._raw, self._left, self._limit = raw, limit, limit
        self._what, self._source = what, source

    def _take(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise CfglintError(f"{self._what} is larger than cfglint's {self._limit // MiB} MB limit; "
                               "refusing to read it", self._source)
        return data

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._left + 1
        return self._take(self._raw.read(min(size, self._left + 1)))

    def readline(self, size: int = -1) -> bytes:
        cap = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        return self._take(self._raw.readline(cap))

    def skip(self, size: int) -> None:
        """Pass over ``size`` bytes without keeping them: a seek when the file can, else chunked reads."""
        if size > self._left:
            raise CfglintError(f"{self._what} declares an item of {size} bytes, more than cfglint's "
                               f"{self._limit // MiB} MB limit (that much memory); refusing to read it", self._source)
        raw = self._raw
        if getattr(raw, "seekable", lambda: False)():
            self._left -= size
            raw.seek(size, 1)
            return
        while size > 0:
            chunk = self.read(min(size, 1 << 20))
            if not chunk:
                return
            size -= len(chunk)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose globals are the inert stand-ins; ``persistent_ids`` handles torch storage ids."""

    def __init__(self, stream: BinaryIO, source: str, persistent_ids: Optional[Callable[[Any], Any]] = None,
                 allowed: Dict[Tuple[str, str], Any] = ALLOWED):
        # latin1 is how Detectron2 reads Python 2 pickles (model-zoo .pkl files).
        super().__init__(stream, encoding="latin1")
        self._source = source
        self._persistent_ids = persistent_ids
        self._allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        try:
            module, name = python3_name(module, name)
            return self._allowed[module, name]
        except (KeyError, TypeError):
            raise UnsafeContentError(
                f"refusing to load pickle global '{module}.{name}': loading it could run code; cfglint only "
                "rebuilds tensors, containers and plain metadata", self._source) from None

    def persistent_load(self, pid: Any) -> Any:
        if self._persistent_ids is None:
            raise CfglintError("plain pickle refers to external data (a persistent id); "
                               "this is not a checkpoint cfglint can read", self._source)
        return self._persistent_ids(pid)


def load_restricted(stream: BinaryIO, source: str, what: str,
                    persistent_ids: Optional[Callable[[Any], Any]] = None,
                    allowed: Dict[Tuple[str, str], Any] = ALLOWED) -> Any:
    """Unpickle one object from ``stream``; every failure becomes a :class:`CfglintError` for ``source``.

    ``allowed`` is :data:`ALLOWED` or :data:`~cfglint.checkpoint.standins.ALLOWED_WITH_ARRAY_DATA`.
    """
    try:
        return RestrictedUnpickler(stream, source, persistent_ids, allowed).load()
    except CfglintError as err:
        err.file = err.file or source  # stand-ins raise without knowing the file
        raise
    except RecursionError:
        raise CfglintError(f"{what} is nested too deeply to read", source) from None
    except MemoryError:
        raise CfglintError(f"{what} needs more memory than is available", source) from None
    except EOFError:
        raise CfglintError(f"{what} ends unexpectedly: the file is truncated", source) from None
    except Exception as err:  # the pickle VM reports corrupt input with many exception types
        raise CfglintError(f"{what} is not a valid pickle ({type(err).__name__}: {err})", source) from None
