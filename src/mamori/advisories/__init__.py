"""Advisories: the OSV advisory database, version ordering per ecosystem, and matching.

Public interface: :class:`~mamori.advisories.interface.Advisory` and
:class:`~mamori.advisories.interface.Match` (values), :mod:`mamori.advisories.versions`
(``compare``), :mod:`mamori.advisories.ranges` (``is_affected``) and
:mod:`mamori.advisories.store` (``AdvisoryStore``: import, update, lookup, status).
"""
