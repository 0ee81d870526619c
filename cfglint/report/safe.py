"""Output that a hostile input cannot turn against the reader: terminals, CI logs, JSON parsers.

cfglint prints names and values taken from untrusted files (keys, file names, class names). This
module is the one place that makes them printable:

- :func:`escape` for a value inside one line: control characters (C0, DEL, C1, line and paragraph
  separators, bidirectional overrides) and lone surrogates become visible `\\uNNNN`
  escapes, so a value can neither start a new line nor drive the terminal;
- :func:`excerpt` is :func:`escape` cut to a short length, for quoting input in a message;
- :class:`GuardedStream`, installed on stdout and stderr by the CLI (:func:`install`), is the last
  line of defence for everything else: it escapes the same characters (keeping newline and tab),
  masks environment values a config read under `--env`, and turns any line that GitHub's runner
  would take as a workflow command (`::error ...`, `::add-mask::`, `##[...]`, leading whitespace
  allowed) into a harmless `\\::...` line -- except on stdout under `--format github`, whose lines
  are built by :mod:`findings_github` with every value escaped.
"""
from __future__ import annotations

import io
import re
import sys
from typing import Callable, Iterable, Optional, TextIO

from cfglint.printable import _BLOCK_UNSAFE, _INLINE_UNSAFE, _code, _str, escape, escape_block, excerpt  # noqa: F401

#: Characters never printed raw inside a line.
#: The same, but newline and tab kept (for whole blocks of output).
_WORKFLOW = re.compile(r"^\s*(?:::|##\[)")
#: Colour/bold (SGR) sequences: the only escape sequences passed through, and only to a terminal.
_SGR = re.compile("(\x1b\\[[0-9;]{0,32}m)")


def neutralize_workflow_command(line: str) -> str:
    """A line the GitHub runner would execute as a workflow command, made inert."""
    if _WORKFLOW.match(line):
        return "\\" + line.lstrip()
    return line


class GuardedStream(io.TextIOBase):
    """A text stream that writes whole lines to `target`, each made safe (see the module doc)."""

    def __init__(self, target: TextIO, allow_workflow_commands: bool = False,
                 secrets: Optional[Callable[[], Iterable[str]]] = None) -> None:
        super().__init__()
        self._target = target
        self._allow = allow_workflow_commands
        self._secrets = secrets or (lambda: ())
        self._pending = ""
        self._midline = False

    # Attributes click and others look at.
    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "backslashreplace"

    def isatty(self) -> bool:
        try:
            return self._target.isatty()
        except (AttributeError, ValueError):
            return False

    def fileno(self) -> int:
        return self._target.fileno()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:  # type: ignore[override]
        if not isinstance(text, str):
            text = bytes(text).decode("utf-8", "backslashreplace")
        data = self._pending + text
        head, sep, tail = data.rpartition("\n")
        self._pending = tail
        if sep:
            self._emit(head + "\n")
        if len(self._pending) > 65536:  # a huge line without newline: out in pieces, still guarded
            self._emit(self._pending)
            self._pending = ""
        return len(text)

    def flush(self) -> None:
        try:
            self._target.flush()
        except (OSError, ValueError):
            pass

    def close_pending(self) -> None:
        if self._pending:
            self._emit(self._pending)
            self._pending = ""
        self.flush()

    def _emit(self, text: str) -> None:
        text = mask_secrets(text, self._secrets())
        if "\x1b[" in text and self.isatty():   # keep colour on a terminal, nothing else
            text = "".join(part if i % 2 else escape_block(part) for i, part in enumerate(_SGR.split(text)))
        else:
            text = escape_block(text)
        if not self._allow:
            lines = text.split("\n")
            start = 1 if self._midline else 0
            lines[start:] = [neutralize_workflow_command(line) for line in lines[start:]]
            text = "\n".join(lines)
        self._midline = not text.endswith("\n")
        self._target.write(text)


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        for form in (secret, secret[::-1]):
            if form in text:
                text = text.replace(form, "***")
    return text


def install(github_stdout: bool = False) -> Callable[[], None]:
    """Guard sys.stdout and sys.stderr; returns the function that flushes and removes the guards."""
    from cfglint.adapters import roots

    def secrets() -> Iterable[str]:
        return roots.current().secrets

    guards = []
    originals = {}
    for name, allow in (("stdout", github_stdout), ("stderr", False)):
        stream = getattr(sys, name)
        if isinstance(stream, GuardedStream) or stream is None:
            continue
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, io.UnsupportedOperation):
            pass
        guard = GuardedStream(stream, allow_workflow_commands=allow, secrets=secrets)
        originals[name] = stream
        setattr(sys, name, guard)
        guards.append(guard)

    def finish() -> None:
        for guard in guards:
            try:
                guard.close_pending()
            except (OSError, ValueError):
                pass
        for name, stream in originals.items():
            setattr(sys, name, stream)

    return finish
