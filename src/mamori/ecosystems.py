"""Ecosystem names shared by inventory, advisories and outputs.

OSV ecosystem names are canonical inside mamori. This module maps them to package-URL types
and normalises package names the way each ecosystem compares them, so a name from a lockfile
and a name from an advisory meet in one key.
"""

from __future__ import annotations

import re

from packageurl import PackageURL

PURL_TYPES: dict[str, str] = {
    "PyPI": "pypi",
    "npm": "npm",
    "Go": "golang",
    "crates.io": "cargo",
    "RubyGems": "gem",
    "Packagist": "composer",
    "Maven": "maven",
    "NuGet": "nuget",
    "Hex": "hex",
    "Pub": "pub",
    "Debian": "deb",
    "Ubuntu": "deb",
    "Alpine": "apk",
    "Rocky Linux": "rpm",
    "AlmaLinux": "rpm",
    "Red Hat": "rpm",
    "SUSE": "rpm",
    "openSUSE": "rpm",
    "CRAN": "cran",
    "SwiftURL": "swift",
}
"""OSV ecosystem → package-URL type."""

ECOSYSTEM_BY_PURL_TYPE: dict[str, str] = {
    "pypi": "PyPI",
    "npm": "npm",
    "golang": "Go",
    "cargo": "crates.io",
    "gem": "RubyGems",
    "composer": "Packagist",
    "maven": "Maven",
    "nuget": "NuGet",
    "hex": "Hex",
    "pub": "Pub",
    "deb": "Debian",
    "apk": "Alpine",
    "rpm": "Red Hat",
    "cran": "CRAN",
    "swift": "SwiftURL",
}
"""Package-URL type → OSV ecosystem (for SBOM components)."""

_PEP503 = re.compile(r"[-_.]+")


def base_ecosystem(ecosystem: str) -> str:
    """``Debian:12`` → ``Debian``; OSV suffixes a release after a colon."""
    return ecosystem.split(":", 1)[0]


def normalize_name(ecosystem: str, name: str) -> str:
    """The name as the ecosystem compares it (PyPI per PEP 503; case-insensitive ones lowered)."""
    eco = base_ecosystem(ecosystem)
    if eco == "PyPI":
        return _PEP503.sub("-", name).lower()
    if eco in ("NuGet", "Packagist", "Hex", "Pub", "Debian", "Ubuntu", "Alpine"):
        return name.lower()
    return name


def purl_for(ecosystem: str, name: str, version: str = "") -> str:
    """The package URL of a package (``pkg:pypi/jinja2@2.10``)."""
    eco = base_ecosystem(ecosystem)
    ptype = PURL_TYPES.get(eco, eco.lower())
    namespace: str | None = None
    pname = name
    if eco == "Maven" and ":" in name:
        namespace, pname = name.split(":", 1)
    elif eco in ("npm",) and name.startswith("@") and "/" in name:
        namespace, pname = name.split("/", 1)
    elif eco in ("Go", "Packagist") and "/" in name:
        namespace, pname = name.rsplit("/", 1)
    elif eco == "PyPI":
        pname = normalize_name(eco, name)
    return PackageURL(type=ptype, namespace=namespace, name=pname, version=version or None).to_string()


def from_purl(purl: str) -> tuple[str, str, str] | None:
    """(ecosystem, name, version) of a package URL, or None if mamori has no ecosystem for it."""
    try:
        p = PackageURL.from_string(purl)
    except ValueError:
        return None
    eco = ECOSYSTEM_BY_PURL_TYPE.get(p.type)
    if eco is None:
        return None
    if eco == "Maven":
        name = f"{p.namespace}:{p.name}" if p.namespace else p.name
    elif p.namespace:
        name = f"{p.namespace}/{p.name}"
    else:
        name = p.name
    if eco == "Debian" and p.namespace and p.namespace.lower() == "ubuntu":
        eco = "Ubuntu"
    if eco in ("Debian", "Ubuntu", "Alpine", "Red Hat"):
        name = p.name
    return eco, normalize_name(eco, name), p.version or ""
