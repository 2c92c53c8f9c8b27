"""Is a vulnerable dependency used by the project's own code?

For PyPI components: the distribution's import names (from the installed package metadata when
the distribution is installed, else a table of well-known differences such as PyYAML → ``yaml``
and Pillow → ``PIL``, else the normalised name) are looked up among the modules the project's
Python files import. When an advisory names affected functions or modules, the question
narrows to whether one of them is referenced. Other ecosystems answer ``unknown``.

Unreachable does not mean "ignore": it lowers the priority and the reasons say so.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from mamori._text import count
from mamori.ecosystems import normalize_name
from mamori.inventory.registry import SKIP_DIRS
from mamori.model import Finding
from mamori.prioritize.interface import Reachability
from mamori.pyfacts import EMPTY, FactsCache, FileFacts
from mamori.treewalk import MAX_SOURCE_BYTES, regular_file_error, walk_files

# Distributions whose import name is not their normalised name (a fallback when the
# distribution is not installed where mamori runs; installed metadata wins).
KNOWN_IMPORT_NAMES: dict[str, tuple[str, ...]] = {
    "pyyaml": ("yaml",),
    "pillow": ("PIL",),
    "beautifulsoup4": ("bs4",),
    "scikit-learn": ("sklearn",),
    "scikit-image": ("skimage",),
    "python-dateutil": ("dateutil",),
    "opencv-python": ("cv2",),
    "opencv-python-headless": ("cv2",),
    "opencv-contrib-python": ("cv2",),
    "pycryptodome": ("Crypto",),
    "pycryptodomex": ("Cryptodome",),
    "pyjwt": ("jwt",),
    "python-jose": ("jose",),
    "pyopenssl": ("OpenSSL",),
    "protobuf": ("google.protobuf",),
    "djangorestframework": ("rest_framework",),
    "django-cors-headers": ("corsheaders",),
    "msgpack-python": ("msgpack",),
    "python-multipart": ("multipart", "python_multipart"),
    "python-ldap": ("ldap",),
    "pymysql": ("pymysql",),
    "mysqlclient": ("MySQLdb",),
    "psycopg2-binary": ("psycopg2",),
    "psycopg-binary": ("psycopg",),
    "attrs": ("attr", "attrs"),
    "setuptools": ("setuptools", "pkg_resources"),
    "pywin32": ("win32api", "win32con", "pythoncom"),
    "ruamel-yaml": ("ruamel.yaml",),
    "google-cloud-storage": ("google.cloud.storage",),
    "azure-storage-blob": ("azure.storage.blob",),
    "lxml-html-clean": ("lxml_html_clean",),
    "typing-extensions": ("typing_extensions",),
    "markupsafe": ("markupsafe",),
    "werkzeug": ("werkzeug",),
    "gitpython": ("git",),
    "pysaml2": ("saml2",),
    "python-socketio": ("socketio",),
    "python-engineio": ("engineio",),
    "dnspython": ("dns",),
    "paho-mqtt": ("paho.mqtt",),
    "pymodbus": ("pymodbus",),
}


@lru_cache(maxsize=1)
def _installed_map() -> dict[str, tuple[str, ...]]:
    """Normalised distribution name → top-level import names, from installed metadata."""
    out: dict[str, set[str]] = {}
    for module, dists in importlib.metadata.packages_distributions().items():
        for dist in dists:
            out.setdefault(normalize_name("PyPI", dist), set()).add(module)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def import_names(distribution: str) -> tuple[str, ...]:
    """The modules a distribution provides (best knowledge available here)."""
    norm = normalize_name("PyPI", distribution)
    installed = _installed_map().get(norm)
    if installed:
        return installed
    if norm in KNOWN_IMPORT_NAMES:
        return KNOWN_IMPORT_NAMES[norm]
    guess = norm.replace("-", "_")
    names = {guess}
    for prefix in ("python_", "py_", "django_", "flask_"):
        if guess.startswith(prefix) and prefix in ("python_", "py_"):
            names.add(guess[len(prefix) :])
    return tuple(sorted(names))


_IMPORT_RE = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w., ]+))", re.MULTILINE)


@dataclass(slots=True)
class ProjectUsage:
    """The modules a project imports and the dotted names it references."""

    modules: set[str] = field(default_factory=set)
    """Every imported module path and each of its parents (``a.b.c`` → a, a.b, a.b.c)."""
    references: set[str] = field(default_factory=set)
    """Dotted names used, resolved through import aliases (``yaml.load``, ``jinja2.Template``)."""
    python_files: int = 0


def project_usage(
    root: Path, *, facts: FactsCache | None = None, files: Mapping[str, FileFacts] | None = None
) -> ProjectUsage:
    """What the Python files under ``root`` import and reference (no code is run).

    ``files``/``facts`` as for :func:`mamori.prioritize.entrypoints.entry_index`: facts the
    analysis already collected are reused instead of parsing every file again.
    """
    usage = ProjectUsage()
    if files is None and facts is not None:
        files = facts.files_of(root)
    if files is None:
        if not root.is_dir():
            return usage
        cache = facts if facts is not None else FactsCache()
        paths = sorted(_python_files(root))
        files = cache.read_all(root, paths)
    for rel in sorted(files):
        usage.python_files += 1
        ff = files[rel]
        if ff == EMPTY:  # no parser read it
            _regex_imports(root / rel, usage)
            continue
        usage.modules |= ff.modules
        usage.references |= ff.references
    return usage


def _regex_imports(path: Path, usage: ProjectUsage) -> None:
    """Imports of a file no parser reads, by pattern (a best effort)."""
    try:
        if regular_file_error(path) or path.stat().st_size > MAX_SOURCE_BYTES:
            return
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for m in _IMPORT_RE.finditer(text):
        names = [m.group(1)] if m.group(1) else [n.split(" as ")[0] for n in m.group(2).split(",")]
        for n in names:
            _add_module(usage, n.strip())


def _python_files(root: Path) -> list[Path]:
    # the shared walker: a symlink loop (`a -> .`) or a link to `/` must not hang this walk
    return list(
        walk_files(
            root,
            skip_dir=lambda d: d in SKIP_DIRS or d.startswith("."),
            want=lambda p: p.suffix in (".py", ".pyw"),
        )
    )


def _add_module(usage: ProjectUsage, module: str) -> None:
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        usage.modules.add(".".join(parts[:i]))


def dependency_reachability(finding: Finding, usage: ProjectUsage) -> tuple[Reachability, str]:
    """Whether the project's code uses the vulnerable package (and its affected functions)."""
    pkg = finding.package
    if pkg is None or pkg.ecosystem != "PyPI":
        return "unknown", ""
    if usage.python_files == 0:
        return "unknown", "no Python source to check whether the package is imported"
    names = import_names(pkg.name)
    imported = sorted(n for n in names if n in usage.modules)
    if not imported:
        return "unreachable", (
            f"{pkg.name} is not imported by the project's code (looked for {', '.join(names)} "
            f"in {count(usage.python_files, 'file')}): lower priority, not ignored"
        )
    functions = finding.advisory.functions if finding.advisory else ()
    if functions:
        called = sorted(f for f in functions if _referenced(f, usage))
        if called:
            return "reachable", f"the project calls affected {', '.join(called)}"
        return "unreachable", (
            f"{pkg.name} is imported ({', '.join(imported)}) but none of the affected functions "
            f"({', '.join(functions[:5])}) is referenced: lower priority, not ignored"
        )
    return "reachable", f"{pkg.name} is imported by the project's code ({', '.join(imported)})"


def _referenced(function: str, usage: ProjectUsage) -> bool:
    target = function.replace(":", ".")
    if target in usage.references or target in usage.modules:
        return True
    return any(ref.startswith(target + ".") for ref in usage.references)
