"""The renderer registry: every built-in format renders, unknown formats are refused."""

from __future__ import annotations

import json

import pytest

from mamori.errors import InputError
from mamori.inventory.interface import Inventory
from mamori.model import Report
from mamori.output import FORMATS, formats, register, render


def test_builtin_formats() -> None:
    assert FORMATS == ("table", "json", "sarif", "cyclonedx", "openvex", "csaf", "csaf-advisory", "stix")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_the_report(fmt: str, full_report: Report, inventory: Inventory) -> None:
    out = render(full_report, fmt, components=inventory.components)
    assert out.endswith("\n")
    if fmt == "table":
        assert "MAM-PY-SQLI" in out
    else:
        doc = json.loads(out)
        assert "MAM-PY-SQLI" in json.dumps(doc)


def test_cyclonedx_through_registry_includes_components(full_report: Report, inventory: Inventory) -> None:
    doc = json.loads(render(full_report, "cyclonedx", components=inventory.components))
    assert any(c["name"] == "log4j-core" for c in doc["components"])


def test_unknown_format_is_an_input_error(full_report: Report) -> None:
    with pytest.raises(InputError, match="unknown output format 'xml'"):
        render(full_report, "xml")


def test_register_adds_a_format(full_report: Report) -> None:
    def count(report: Report, **_: object) -> str:
        return f"{len(report.findings)}\n"

    register("count-test", count)
    try:
        assert "count-test" in formats()
        assert render(full_report, "count-test") == f"{len(full_report.findings)}\n"
    finally:
        from mamori.output import interface

        interface._REGISTRY.pop("count-test")
