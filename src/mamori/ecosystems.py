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


_PUB_NON_NAME = re.compile(r"[^a-z0-9]")
_SIMPLE_PURL = re.compile(r"^pkg:([a-z][a-z0-9.+-]*)/([A-Za-z0-9._~/-]+?)(?:@([A-Za-z0-9._~+!-]+))?$")
"""A package URL with no percent-escapes, qualifiers or subpath: read without the full parser."""


def from_purl(purl: str) -> tuple[str, str, str] | None:
    """(ecosystem, name, version) of a package URL, or None if mamori has no ecosystem for it."""
    m = _SIMPLE_PURL.match(purl)
    if m is not None:
        fast = _from_simple(m.group(1), m.group(2), m.group(3) or "")
        if fast is not None:
            return fast
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


def _from_simple(ptype: str, path: str, version: str) -> tuple[str, str, str] | None:
    """The common case of :func:`from_purl`: ``pkg:type/[namespace/]name@version``."""
    eco = ECOSYSTEM_BY_PURL_TYPE.get(ptype)
    if eco is None or eco in ("Debian", "Alpine", "Red Hat") or "//" in path or path.endswith("/"):
        return None  # OS packages carry a distro namespace and qualifiers: use the full parser
    namespace, _, name = path.rpartition("/")
    if eco == "Maven":
        if not namespace or "/" in namespace:
            return None
        full = f"{namespace}:{name}"
    elif eco in ("PyPI", "npm", "crates.io", "RubyGems", "NuGet", "Hex", "Pub", "CRAN"):
        if eco == "npm" and namespace:
            return None  # scopes are percent-encoded (%40): the full parser decodes them
        if namespace:
            return None
        full = name
    else:  # Go, Packagist, SwiftURL keep their namespace in the name
        full = path
    # the purl spec lower-cases the names of these types
    if ptype in ("pypi", "npm", "composer", "nuget", "hex", "pub"):
        full = full.lower()
    if ptype == "pub":
        # packageurl (the reference reader) turns every other character of a pub name into "_"
        full = _PUB_NON_NAME.sub("_", full)
    return eco, normalize_name(eco, full), version
