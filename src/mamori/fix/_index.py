"""The package indexes as the fix stage uses them: see :mod:`mamori.registry` (shared with scan)."""

from mamori.registry import DEFAULT_NPM_URL, DEFAULT_PYPI_URL, PackageIndex, Release

__all__ = ["DEFAULT_NPM_URL", "DEFAULT_PYPI_URL", "PackageIndex", "Release"]
