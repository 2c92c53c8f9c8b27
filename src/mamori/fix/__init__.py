"""The fix stage: patches produced, proven and applied (``mamori fix``).

:func:`fix_project` scans a project, writes a patch for each finding that has a safe one
(dependency upgrades to a version no known advisory affects; libcst rewrites of code
weaknesses), proves each patch in a scratch copy (the project's tests before and after, a
re-scan that no longer shows the finding and shows nothing new), proves the verified ones
together, and only then writes them to the project (or commits them to a git branch). The
result is a :class:`FixReport`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamori.fix.interface import FileEdit, FixReport, FixResult, Patch, Verification

if TYPE_CHECKING:
    from mamori.fix._engine import fix_project


def __getattr__(name: str) -> Any:
    # The engine (libcst, the version chooser) loads on first use, not when the CLI starts.
    if name == "fix_project":
        from mamori.fix._engine import fix_project

        return fix_project
    raise AttributeError(f"module 'mamori.fix' has no attribute {name!r}")


__all__ = ["FileEdit", "FixReport", "FixResult", "Patch", "Verification", "fix_project"]
