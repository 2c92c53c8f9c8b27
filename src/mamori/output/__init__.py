"""Outputs: every rendering of a scan report (table, JSON, SARIF, CycloneDX) and SBOMs.

:func:`render` dispatches on ``--format``; :func:`render_sbom` writes CycloneDX or SPDX SBOMs
of an inventory. The JSON report reads back with :func:`report_from_dict` / :func:`load_report`.
"""

from typing import Any

from mamori.output.interface import FORMATS, Renderer, formats, register, render
from mamori.output.jsonout import load_report, report_from_dict, report_to_dict


def __getattr__(name: str) -> Any:
    """``render_sbom`` is imported on first use (it loads the CycloneDX library)."""
    if name == "render_sbom":
        from mamori.output.sbom import render_sbom

        return render_sbom
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FORMATS",
    "Renderer",
    "formats",
    "load_report",
    "register",
    "render",
    "render_sbom",
    "report_from_dict",
    "report_to_dict",
]
