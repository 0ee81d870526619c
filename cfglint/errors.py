"""The one exception type that crosses stage boundaries.

Every reader raises :class:`CfglintError` for input it cannot read (missing file, syntax error,
unsafe content, unknown key...). The CLI turns it into ``file:line: message`` and exit code 2,
so users never see a traceback for bad input.
"""
from __future__ import annotations

from typing import Optional


class CfglintError(Exception):
    """Input that cannot be read; carries the location the user must look at."""

    def __init__(self, message: str, file: Optional[str] = None, line: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.file = None if file is None else str(file)
        self.line = line

    def __str__(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}: {self.message}"
        if self.file:
            return f"{self.file}: {self.message}"
        return self.message

    def to_json(self) -> dict:
        return {"message": self.message, "file": self.file, "line": self.line}


class UnsafeContentError(CfglintError):
    """The input asks for code to run (a pickle global, a Python YAML tag, a call in a config)."""


class UnsupportedError(CfglintError):
    """Valid input that cfglint deliberately does not model (refused, never guessed)."""


class UnknownKeyError(CfglintError):
    """A config key the framework does not know (Detectron2 refuses it); `lint` reports it as a finding.

    Carries the key and the closest known key, so callers never parse the message text."""

    def __init__(self, message: str, key: str, suggestion: Optional[str] = None,
                 file: Optional[str] = None, line: Optional[int] = None):
        super().__init__(message, file, line)
        self.key = key
        self.suggestion = suggestion
