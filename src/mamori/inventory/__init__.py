"""Inventory: every dependency a project declares or locks, with where it came from.

Public interface: :func:`collect` (a target → :class:`Inventory`), :class:`Component`,
and :func:`parsers` (the registered lockfile/manifest/SBOM parsers).
"""

from mamori.inventory.interface import Component, Inventory, Parser, ParseResult
from mamori.inventory.registry import collect, parsers

__all__ = ["Component", "Inventory", "ParseResult", "Parser", "collect", "parsers"]
