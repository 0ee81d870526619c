"""Where a config may read from: the one policy for every file a config pulls in.

A config from an untrusted pull request names other files (`_base_`, `_BASE_`, LazyConfig relative
imports, `model_zoo.get_config`, `pkg::path`, `read_base()` modules). Each such file must be a
regular file whose real path (symlinks resolved) lies under an allowed root:

- the project of the file that names it: the nearest ancestor with `.git` (a directory or a
  worktree's file), `.hg` or `.svn`; without one, the nearest ancestor holding a project marker
  (`pyproject.toml`, `setup.py`, `setup.cfg`, `LICENSE`); without one, the working directory when
  the file lies inside it (cfglint run from the top of an unversioned tree: `configs/x/a.py`
  naming `../_base_/b.py`) unless that is `/`, the home directory or a system directory; else the
  file's own directory;
- the installed frameworks' config folders (`<pkg>/.mim/configs`, `<pkg>/configs`,
  `detectron2/model_zoo/configs`), found without importing anything;
- cfglint's own package directory (the shipped Detectron2 model zoo lives there);
- roots named with `--allow-root` or `allow-roots` in `[tool.cfglint]` (see :func:`using`).

Everything else is refused with `file:line` of the reference, naming the path as written.

How code must open a config-referenced path::

    from cfglint.adapters import roots
    real = roots.confine(target, referrer=including_file, written=entry, at_file=f, at_line=n)
    text = roots.read_text(real_or_target, shown)      # regular file only, bounded, UTF-8

`confine` raises :class:`UnsafeContentError`; `read_text` (= `limits.read_config_text`) refuses
FIFOs, devices and directories before reading a byte and, for any read, refuses a path whose
symlinks lead out of the project of the directory it was named in. :func:`open_regular` is the
same check for files that are not configs (rule files, checkpoints named on the command line).

The policy (extra roots, whether `{{$VAR}}` may read the environment) travels in a context
variable set by :func:`using`; the default is no extra roots and no environment.
"""
from __future__ import annotations

import contextvars
import functools
import os
import stat
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple

from cfglint.errors import CfglintError, UnsafeContentError

_VCS_MARKERS = (".git", ".hg", ".svn")
_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "LICENSE")
#: Scopes whose installed config folders may be read (mmengine's MODULE2PACKAGE keys + detectron2).
_FRAMEWORK_PACKAGES = ("mmdet", "mmengine", "mmcv", "mmpretrain", "mmcls", "mmseg", "mmdet3d", "mmpose",
                       "mmocr", "mmrotate", "mmyolo", "mmtrack", "mmaction", "mmedit", "mmagic", "mmselfsup",
                       "mmrazor", "mmflow", "mmfewshot", "mmgen", "mmhuman3d", "detectron2")
_CONFIG_SUBDIRS = (os.path.join(".mim", "configs"), "configs", os.path.join("model_zoo", "configs"))


_SECRETS: Set[str] = set()


@dataclass(frozen=True)
class Policy:
    """Extra allowed roots (real paths) and whether the environment may be read."""

    extra_roots: Tuple[str, ...] = ()
    env: bool = False
    #: Environment values a config used under `env=True`; output masks them (see report.safe).
    #: One set for the whole process: a memoized file does not substitute (and note) them again.
    secrets: Set[str] = field(default_factory=lambda: _SECRETS, compare=False, hash=False)
    #: (file, line, message) notes for the user (an environment reference not read, ...).
    notices: Dict[Tuple[str, Optional[int], str], None] = field(default_factory=dict, compare=False, hash=False)


_POLICY: contextvars.ContextVar[Policy] = contextvars.ContextVar("cfglint_read_policy", default=Policy())
#: The process-wide policy the CLI sets, so worker processes and threads see it too.
_PROCESS_POLICY: Optional[Policy] = None


def current() -> Policy:
    policy = _POLICY.get()
    if policy == Policy() and _PROCESS_POLICY is not None:
        return _PROCESS_POLICY
    return policy


def make_policy(allow_roots: Iterable[str] = (), env: bool = False) -> Policy:
    roots = []
    for root in allow_roots:
        real = os.path.realpath(os.path.expanduser(str(root)))
        if not os.path.isdir(real):
            raise CfglintError(f"allowed root {str(root)!r} is not a directory")
        roots.append(real)
    return Policy(tuple(dict.fromkeys(roots)), bool(env))


@contextmanager
def using(allow_roots: Iterable[str] = (), env: bool = False) -> Iterator[Policy]:
    """Resolve configs under a policy: `allow_roots` widen the allowed roots, `env` lets
    `{{$VAR:default}}` read the environment."""
    policy = make_policy(allow_roots, env)
    token = _POLICY.set(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(token)


def set_process_policy(allow_roots: Iterable[str] = (), env: bool = False) -> Policy:
    """The CLI's policy, for the whole process (inherited by forked lint workers)."""
    global _PROCESS_POLICY
    _PROCESS_POLICY = make_policy(allow_roots, env)
    return _PROCESS_POLICY


def env_allowed() -> bool:
    return current().env


def note_secret(value: str) -> None:
    """An environment value a config read (with --env): never printed."""
    if value and len(value) >= 3:
        current().secrets.add(value)


def notice(file: str, line: Optional[int], message: str) -> None:
    """An informational note (printed by the CLI on stderr as `file:line: info: message`)."""
    notices = current().notices
    if len(notices) < 1000:
        notices[(file, line, message)] = None


def take_notices() -> List[Tuple[str, Optional[int], str]]:
    notices = current().notices
    out = list(notices)
    notices.clear()
    return out


# ------------------------------------------------------------------------------------------------
# Roots


def project_root(directory: str) -> str:
    """The allowed root a file in `directory` (a real path) may read from."""
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = ""
    return _project_root(directory, cwd)


@functools.lru_cache(maxsize=4096)
def _project_root(directory: str, cwd: str) -> str:
    """The allowed root a file in `directory` (a real path) may read from."""
    probe = directory
    while True:
        if any(os.path.lexists(os.path.join(probe, m)) for m in _VCS_MARKERS):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    probe = directory
    while True:
        if any(os.path.isfile(os.path.join(probe, m)) for m in _PROJECT_MARKERS):
            return probe if probe != os.path.dirname(probe) else directory
        parent = os.path.dirname(probe)
        if parent == probe:
            return _working_directory_root(directory, cwd) or directory
        probe = parent


#: Never a project root by being the working directory: reading "anything below" them is reading the machine.
_WIDE_DIRS = ("/", "/proc", "/sys", "/dev", "/etc", "/root", "/run", "/var", "/boot", "/tmp", "/home", "/usr")


def _working_directory_root(directory: str, cwd: str) -> Optional[str]:
    """The working directory, when `directory` (a real path) lies inside it and it is no wide directory."""
    if not cwd:
        return None
    cwd = os.path.realpath(cwd)
    if cwd in _WIDE_DIRS or cwd == os.path.realpath(os.path.expanduser("~")):
        return None
    return cwd if _under(directory, cwd) else None


@functools.lru_cache(maxsize=1)
def framework_roots() -> Tuple[str, ...]:
    """Installed frameworks' config folders and cfglint's own package, found without importing."""
    import importlib.machinery
    found = [os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))]
    for package in _FRAMEWORK_PACKAGES:
        try:
            spec = importlib.machinery.PathFinder.find_spec(package, sys.path)
        except (ImportError, ValueError, OSError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            for sub in _CONFIG_SUBDIRS:
                candidate = os.path.realpath(os.path.join(location, sub))
                if os.path.isdir(candidate):
                    found.append(candidate)
    return tuple(dict.fromkeys(found))


def _real(path: str) -> str:
    """The real path of `path` exactly as it will be opened: symlinks resolved component by
    component *before* `..` is applied (never `abspath` first: `link/../x` is beside the link's
    target, not beside the link). The directory part is memoized: a zoo resolution names the same
    base directories thousands of times, and the files of one run do not change under it."""
    directory, name = os.path.split(path)
    if name in ("", ".", ".."):
        return os.path.realpath(path)
    real_dir = _real_dir(directory or ".", os.getcwd() if not os.path.isabs(path) else "")
    candidate = os.path.join(real_dir, name)
    return os.path.realpath(candidate) if os.path.islink(candidate) else candidate


@functools.lru_cache(maxsize=1 << 14)
def _real_dir(directory: str, cwd: str) -> str:
    return os.path.realpath(os.path.join(cwd, directory) if cwd else directory)


def _referrer_root(referrer: str) -> str:
    return project_root(_real_dir(os.path.dirname(referrer) or ".",
                                  os.getcwd() if not os.path.isabs(referrer) else ""))


def _under(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def allowed_roots(referrer: Optional[str]) -> Tuple[str, ...]:
    """Every root a file named by `referrer` may lie under (`referrer` None: only the global ones)."""
    local = (_referrer_root(referrer),) if referrer else ()
    return local + current().extra_roots + framework_roots()


def _in_vcs_dir(real: str) -> bool:
    """Inside `.git`/`.hg`/`.svn`: a checkout's `.git/config` holds the CI token of actions/checkout."""
    parts = real.split(os.sep)
    return any(part in _VCS_MARKERS for part in parts)


def is_allowed(real: str, referrer: Optional[str]) -> bool:
    return _allowed(real, _referrer_root(referrer) if referrer else None, current().extra_roots)


@functools.lru_cache(maxsize=1 << 16)
def _allowed(real: str, local: Optional[str], extra_roots: Tuple[str, ...]) -> bool:
    if _in_vcs_dir(real):
        return False
    if local is not None and _under(real, local):
        return True
    if any(_under(real, root) for root in extra_roots):
        return True
    return any(_under(real, root) for root in framework_roots())


def shown_path(written: str, limit: int = 120) -> str:
    """A path as the config wrote it, safe to print (escaped, shortened)."""
    from cfglint.printable import excerpt
    return excerpt(written, limit)


def confine(target: str, referrer: Optional[str], written: Optional[str] = None,
            at_file: Optional[str] = None, at_line: Optional[int] = None, what: str = "file",
            within: Optional[str] = None) -> str:
    """`target` (a path a config named) if its real path is under an allowed root, else refuse.

    `referrer` is the file that names it; `written` the reference as written (for the message);
    `at_file:at_line` where the reference is; `within` a further root the caller found the target
    in by a framework's own lookup (a model-zoo directory). Returns the target unchanged (callers
    keep their display paths); the check is on the real path."""
    real = _real(os.path.expanduser(target))
    if is_allowed(real, referrer) or (within is not None and not _in_vcs_dir(real)
                                      and _under(real, os.path.realpath(within))):
        return target
    name = shown_path(written if written is not None else target)
    raise UnsafeContentError(f"{what} {name} is outside the allowed roots (the project of the file that "
                             "names it, the installed frameworks' configs, --allow-root); cfglint refuses "
                             "to read it", at_file or referrer, at_line)


def check_input(path: str, shown: Optional[str] = None) -> None:
    """A file read directly (named on the command line, found in a directory, or already confined):
    its symlinks may not lead out of the project of the directory it is named in."""
    path = os.path.expanduser(path)
    directory = _real_dir(os.path.dirname(path) or ".", os.getcwd() if not os.path.isabs(path) else "")
    real = _real(path)
    if real == os.path.join(directory, os.path.basename(path)):
        return   # not a symlink: the file named, in the directory named
    local = project_root(directory)
    if not _in_vcs_dir(real) and (_under(real, local) or is_allowed(real, None)):
        return
    raise UnsafeContentError("is a symbolic link to a file outside the allowed roots (its project, the "
                             "installed frameworks' configs, --allow-root); cfglint refuses to read it",
                             shown or path)


# ------------------------------------------------------------------------------------------------
# Regular files only


def open_regular(path: str, shown: Optional[str] = None, kind: str = "the file") -> int:
    """An O_RDONLY file descriptor for a regular file; a FIFO, device, socket or directory is
    refused without blocking (opened non-blocking, then fstat'ed)."""
    shown = shown if shown is not None else path
    try:
        st = os.stat(path)
    except OSError as exc:
        raise CfglintError(f"cannot read {kind}: {exc.strerror or 'no such file'}", shown) from None
    if not stat.S_ISREG(st.st_mode):
        raise CfglintError(f"is not a regular file ({_kind(st.st_mode)}); cfglint only reads regular files",
                           shown)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise CfglintError(f"cannot read {kind}: {exc.strerror or exc}", shown) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped between stat and open
            raise CfglintError(f"is not a regular file ({_kind(st.st_mode)}); cfglint only reads regular files",
                               shown)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


#: Whole files read this run, by (absolute path, inode, size, mtime): a linted config is read to
#: detect its kind, to resolve it and by the image-flow check, and a base by every config of a
#: tree. Only files read to the end are kept, none over _KEEP_AT_MOST (configs are kilobytes),
#: at most _READ_LIMIT bytes in all; a changed file has a new key.
_READ: Dict[Tuple[str, int, int, int], bytes] = {}
_KEEP_AT_MOST = 1 << 20
_READ_LIMIT = 64 << 20
_read_total = 0


def read_bytes(path: str, limit: int, shown: Optional[str] = None, kind: str = "the file") -> bytes:
    """At most `limit + 1` bytes of a regular file (the caller refuses more than `limit`)."""
    global _read_total
    try:
        st = os.stat(path)
        key = (os.path.abspath(path), st.st_ino, st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None
    except (OSError, ValueError):
        key = None   # open_regular reports it
    if key is not None and key in _READ and st.st_size <= limit:
        return _READ[key]
    fd = open_regular(path, shown, kind)
    with os.fdopen(fd, "rb") as f:
        try:
            # read(limit + 1) alone would allocate limit + 1 bytes for every small config
            expected = min(os.fstat(fd).st_size, limit) + 1
            data = f.read(expected)
            if len(data) == expected and expected <= limit:   # it grew since fstat: read on, bounded
                data += f.read(limit + 1 - expected)
        except OSError as exc:
            raise CfglintError(f"cannot read {kind}: {exc.strerror or exc}", shown or path) from None
    if key is not None and len(data) == st.st_size <= min(limit, _KEEP_AT_MOST):
        if _read_total + len(data) > _READ_LIMIT:
            _READ.clear()
            _read_total = 0
        _READ[key] = data
        _read_total += len(data)
    return data


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def is_regular_file(path: str) -> bool:
    """`os.path.isfile` that never follows into a FIFO or device (stat only, no open)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_text(path: str, shown: Optional[str] = None) -> str:
    from cfglint.adapters.limits import read_config_text
    return read_config_text(path, shown)
