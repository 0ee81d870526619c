"""Resource limits shared by every config reader, so hostile files fail fast instead of hanging.

A linter reads files it does not trust; each limit here is far above what real configs need
(the largest Detectron2/MMDetection configs are tens of kilobytes, with `_base_` chains a few
levels deep) and far below what would exhaust a CI machine. The per-evaluator limits on what a
config may *compute* (sequence lengths, integer sizes) live next to each evaluator
(`expr.MAX_ITEMS`, `lazy_interp.MAX_ITEMS`, `mmdet.interp.MAX_SEQUENCE`); checkpoint limits are in
`cfglint.checkpoint.readers`. Nesting too deep for Python's recursion is refused where it happens
(and, as a last resort, by `cfglint.adapters.resolve`).
"""
from __future__ import annotations

from typing import Optional

from cfglint.errors import CfglintError

MiB = 1 << 20
#: Largest config file cfglint reads; a larger one is refused after reading this many bytes.
MAX_CONFIG_BYTES = 16 * MiB
#: Expanded YAML nodes one file may produce (a full dumped config has about 400); stops alias bombs.
MAX_YAML_NODES = 200_000
#: Longest `_BASE_`/`_base_` inheritance chain (real ones are 2-4 files); a cycle is reported as such.
MAX_BASE_DEPTH = 64


def read_config_text(path: str, shown: Optional[str] = None) -> str:
    """A config file's text, decoded as UTF-8; too large, unreadable or not text is a CfglintError.

    Only a regular file is opened (a FIFO or device is refused before a byte is read), and at most
    MAX_CONFIG_BYTES + 1 bytes are read, so a huge or growing file is refused after a bounded read.
    A file a config *names* must also pass :func:`cfglint.adapters.roots.confine` at the place
    that resolves the name. `shown` is the
    name used in messages. Newlines are translated as text-mode `open` does.
    """
    from cfglint.adapters import roots
    shown = shown or path
    roots.check_input(path, shown)   # its symlinks may not lead out of its project
    data = roots.read_bytes(path, MAX_CONFIG_BYTES, shown)   # regular files only, never blocks
    if len(data) > MAX_CONFIG_BYTES:
        raise CfglintError(f"the file is larger than {MAX_CONFIG_BYTES // MiB} MB, cfglint's limit for a "
                           "config file; refusing to read it", shown)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CfglintError(f"the file is not UTF-8 text (byte {exc.start} cannot be decoded)", shown) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")
