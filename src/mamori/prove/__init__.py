"""Proof of vulnerability: a real request, sent to the app in a sandbox, for each web finding.

Public interface: :func:`prove_findings`, :func:`apply_proofs`, :func:`pov_fires` (for
``mamori fix``), :func:`write_tests` (PoVs as pytest tests), and the model's
:class:`~mamori.model.Proof`.
"""

from mamori.model import Proof
from mamori.prove.interface import ProveStats, apply_proofs, pov_fires, prove_findings

__all__ = ["Proof", "ProveStats", "apply_proofs", "pov_fires", "prove_findings"]
