"""mamori (守り, "defence"): find, prioritise, fix, detect and share vulnerabilities at machine speed.

The package is a chain of stages, one sub-package each (see ARCHITECTURE.md):
``inventory`` → ``advisories`` → ``analysis`` → ``prioritize`` → ``fix`` → ``detect`` → ``share``,
rendered by ``output``. Every stage speaks the one findings model in :mod:`mamori.model`.
"""

from mamori.errors import MamoriError
from mamori.model import Finding, Location, Package, Report

__version__ = "0.1.0"

__all__ = ["Finding", "Location", "MamoriError", "Package", "Report", "__version__"]
