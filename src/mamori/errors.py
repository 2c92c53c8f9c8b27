"""The one exception tree of mamori.

Every error a stage raises derives from :class:`MamoriError` and may carry the location
(path, line) it is about. Only :mod:`mamori.cli` maps errors to exit codes::

    MamoriError                 any failure mamori reports                 (exit 2)
    ├── InputError              bad input: a file, a flag, a config value  (exit 2)
    │   └── ParseError          a file that cannot be parsed; has path/line (exit 2)
    ├── ResourceUnavailable     a network resource or server unreachable   (exit 3)
    │   └── NoDatabaseError     no advisory database and no way to get one (exit 3)
    └── SandboxUnavailable      no kernel sandbox for a project's own code (exit 2;
                                ``mamori fix`` reports such fixes unverified instead)

Partial failure is not an exception: parsers return :class:`mamori.model.ScanError` values so
one bad file never hides the rest.
"""

from __future__ import annotations


class MamoriError(Exception):
    """Root of mamori's errors; ``path`` and ``line`` say where, when known."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path + (f":{self.line}" if self.line else "") + ": "
        return where + self.message


class InputError(MamoriError):
    """Bad input that stops the command: a missing file, an invalid flag or configuration."""


class ParseError(InputError):
    """A file that could not be parsed; carries its path and line."""


class ResourceUnavailable(MamoriError):
    """A needed resource (network, server) could not be reached."""


class NoDatabaseError(ResourceUnavailable):
    """There is no advisory database and it cannot be downloaded."""


class SandboxUnavailable(MamoriError):
    """No kernel sandbox (bubblewrap) can be made here and running unsandboxed was not asked for."""
