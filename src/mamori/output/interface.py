"""The output port: one renderer per ``--format``, all rendering the one :class:`Report`.

A renderer turns a report into text; the CLI writes that text to stdout or ``-o FILE``. Every
format is a rendering of the same findings model, so adding a format means adding one
renderer and registering it here (or from another stage with :func:`register`, as the
sharing stage does for OpenVEX, CSAF and STIX). Renderers are imported lazily: ``--format
json`` does not pay for importing the CycloneDX library.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mamori.errors import InputError
from mamori.inventory.interface import Component
from mamori.model import Report


class Renderer(Protocol):
    """Renders a report as text in one format."""

    def __call__(
        self,
        report: Report,
        *,
        target_root: Path | None = None,
        components: Sequence[Component] = (),
    ) -> str:
        """The report as text; paths relative to ``target_root``; ``components`` for SBOM formats."""
        ...


@dataclass(frozen=True, slots=True)
class _Lazy:
    """A renderer function named by module and attribute, imported on first use."""

    module: str
    attr: str
    takes_components: bool = False

    def __call__(
        self,
        report: Report,
        *,
        target_root: Path | None = None,
        components: Sequence[Component] = (),
    ) -> str:
        fn: Callable[..., str] = getattr(importlib.import_module(self.module), self.attr)
        kwargs: dict[str, Any] = {"target_root": target_root}
        if self.takes_components:
            kwargs["components"] = components
        return fn(report, **kwargs)


_REGISTRY: dict[str, Renderer] = {
    "table": _Lazy("mamori.output.table", "render_table"),
    "json": _Lazy("mamori.output.jsonout", "render_json"),
    "sarif": _Lazy("mamori.output.sarif", "render_sarif"),
    "cyclonedx": _Lazy("mamori.output.cyclonedx", "render_cyclonedx", takes_components=True),
    "openvex": _Lazy("mamori.output.openvex", "render_openvex"),
    "csaf": _Lazy("mamori.output.csaf", "render_csaf_vex"),
    "csaf-advisory": _Lazy("mamori.share.csaf_advisory", "render_csaf_advisory"),
    "stix": _Lazy("mamori.share.stix", "render_stix"),
}

FORMATS: tuple[str, ...] = tuple(_REGISTRY)
"""The formats this package renders itself (others may be added with :func:`register`)."""


def register(fmt: str, renderer: Renderer) -> None:
    """Add (or replace) the renderer of ``fmt``; other stages register their formats here."""
    _REGISTRY[fmt] = renderer


def formats() -> tuple[str, ...]:
    """Every registered format, built-in ones first."""
    return tuple(_REGISTRY)


def render(
    report: Report,
    fmt: str,
    *,
    target_root: Path | None = None,
    components: Sequence[Component] = (),
) -> str:
    """The report rendered in ``fmt``; an unknown format raises :class:`InputError`."""
    renderer = _REGISTRY.get(fmt)
    if renderer is None:
        raise InputError(f"unknown output format {fmt!r}; choose one of: {', '.join(_REGISTRY)}")
    return renderer(report, target_root=target_root, components=components)
