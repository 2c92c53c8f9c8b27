"""The share stage: a TAXII 2.1 hub with STIX 2.1, TLP 2.0 and sectors; CSAF for vendors.

One operator's detection should become every sector's defence within seconds, without leaking
what must not leak. ``mamori serve`` is the hub (:mod:`mamori.share._server` over
:mod:`mamori.share._hub`), ``mamori share push|pull`` the client (:mod:`mamori.share._client`),
:mod:`mamori.share.stix` turns findings and alerts into STIX, :mod:`mamori.share.tlp` says who
may read what, and :mod:`mamori.share.csaf_advisory` / :mod:`mamori.share.csaf_check` write and
check CSAF 2.0 for vendors.

For ``mamori detect``: :func:`local_indicators` lists the peers' indicators pulled with
``share pull`` that run as detection rules, and :func:`indicator_matches` tells which of them an
event carries. Imports are lazy so that ``detect`` does not load the web server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mamori.share._local import IndicatorMatch, LocalIndicator

__all__ = ["indicator_matches", "local_indicators", "peer_vulnerabilities"]


def local_indicators() -> list[LocalIndicator]:
    """Peers' indicators (pulled with ``mamori share pull``) usable as local detection rules."""
    from mamori.share._local import local_indicators as _impl

    return _impl()


def indicator_matches(event: dict[str, Any]) -> list[IndicatorMatch]:
    """The peers' indicators whose observables (IPs, domains, URLs, hashes) ``event`` carries."""
    from mamori.share._local import indicator_matches as _impl

    return _impl(event)


def peer_vulnerabilities() -> dict[str, list[str]]:
    """Advisory ids (upper case) that peers shared as vulnerabilities, with their names."""
    from mamori.share._local import peer_vulnerabilities as _impl

    return _impl()
