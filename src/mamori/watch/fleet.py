"""The fleet file ``watch.toml``: which projects ``mamori watch`` watches, and how it may react.

Why a file and not a database: the fleet is configuration a person owns, reviews and keeps in
version control; the service's own state (queue, cursors, index) lives in ``watch.sqlite``.
:func:`add_project` edits the file with tomlkit so comments and layout survive.

Layout::

    [feeds]                      # every URL configurable; "" turns a feed off
    osv = "https://osv-vulnerabilities.storage.googleapis.com"   # {osv}/{ecosystem}/modified_id.csv
    kev = "https://www.cisa.gov/…/known_exploited_vulnerabilities.json"
    epss = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
    interval = 300               # seconds between two poll cycles of `watch run`

    [forge]                      # GitHub's REST API, for merge (pull) requests
    api = "https://api.github.com"
    token_env = "GITHUB_TOKEN"   # the environment variable holding the token (never the token)

    [notify]
    webhooks = ["https://chat.example/hooks/mamori"]

    [hub]                        # the sector hub, pulled like `mamori share pull`
    url = "https://hub.example.org"
    collection = "electric-power"
    token_env = "MAMORI_TOKEN"

    [fix]                        # passed to the fix stage as they are
    python = ""                  # the interpreter the project's tests run with
    test_command = ""
    strategy = "in-place"
    broker = ""                  # redis://host:6379/0: fix jobs run on `mamori watch worker`s
    timeout = 3600               # seconds to wait for a worker's result

    [[project]]
    name = "billing"
    git = "https://github.com/example/billing.git"    # or: path = "/srv/billing"
    branch = "main"
    github = "example/billing"  # owner/repo for merge requests (default: from a github.com URL)
    policy = "propose"          # or "notify-only"
    auto_fix = ["act", "attend"]
    asset = { sector = "electric-power", criticality = "high", exposure = "internet" }
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from mamori.config import mamori_home
from mamori.errors import InputError

DEFAULT_OSV_BASE = "https://osv-vulnerabilities.storage.googleapis.com"
DEFAULT_KEV = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
DEFAULT_EPSS = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
DEFAULT_FORGE_API = "https://api.github.com"

POLICIES = ("propose", "notify-only")
DECISIONS = ("act", "attend", "track*", "track")
EXPOSURES = ("internet", "internal", "isolated")
CRITICALITIES = ("low", "medium", "high")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True, slots=True)
class Asset:
    """What the project is to the organisation: its mission's sector, criticality and exposure."""

    sector: str = ""
    criticality: str | None = None
    exposure: str = ""
    """``internet``, ``internal`` or ``isolated``; empty: the project's own ``[asset]`` (else internet)."""


@dataclass(frozen=True, slots=True)
class Project:
    """One watched project: a local folder or a git remote, with its context and policy."""

    name: str
    path: str = ""
    """A local folder (absolute, or relative to the fleet file)."""
    git: str = ""
    """A git remote URL (or the local folder itself when it is a git repository)."""
    branch: str = ""
    """The watched branch (default: the remote's default branch)."""
    github: str = ""
    """``owner/repo`` of the forge project merge requests are opened on."""
    policy: str = "propose"
    auto_fix: tuple[str, ...] = ("act", "attend")
    asset: Asset = field(default_factory=Asset)

    @property
    def source(self) -> str:
        """The remote or folder, as the user wrote it."""
        return self.git or self.path


@dataclass(frozen=True, slots=True)
class Feeds:
    """Where the feeds are polled (an empty URL turns a feed off)."""

    osv: str = DEFAULT_OSV_BASE
    kev: str = DEFAULT_KEV
    epss: str = DEFAULT_EPSS
    interval: float = 300.0


@dataclass(frozen=True, slots=True)
class Forge:
    """GitHub's REST API (or a server speaking it) and where its token comes from."""

    api: str = DEFAULT_FORGE_API
    token_env: str = "GITHUB_TOKEN"

    def token(self) -> str:
        """The token from the environment variable (never stored in the fleet file)."""
        return os.environ.get(self.token_env, "") if self.token_env else ""


@dataclass(frozen=True, slots=True)
class Hub:
    """The sector hub pulled each cycle (TAXII 2.1, as ``mamori share pull``)."""

    url: str = ""
    collection: str = ""
    token_env: str = "MAMORI_TOKEN"
    user: str = ""

    def token(self) -> str:
        """The organisation's token from the environment variable."""
        return os.environ.get(self.token_env, "") if self.token_env else ""


@dataclass(frozen=True, slots=True)
class FixSettings:
    """Settings handed to :func:`mamori.fix.fix_project` unchanged."""

    python: str = ""
    test_command: str = ""
    strategy: str = "in-place"
    broker: str = ""
    """A Celery broker URL (``redis://…``): fix jobs run on ``mamori watch worker`` processes."""
    broker_timeout: float = 0.0
    """Seconds to wait for a worker's result (0: :data:`mamori.watch.distributed.RESULT_TIMEOUT`)."""


@dataclass(frozen=True, slots=True)
class Fleet:
    """The whole fleet file."""

    path: Path
    projects: tuple[Project, ...] = ()
    feeds: Feeds = field(default_factory=Feeds)
    forge: Forge = field(default_factory=Forge)
    webhooks: tuple[str, ...] = ()
    fix: FixSettings = field(default_factory=FixSettings)
    hub: Hub = field(default_factory=Hub)

    def project(self, name: str) -> Project:
        """The project called ``name`` (InputError naming the file when there is none)."""
        for p in self.projects:
            if p.name == name:
                return p
        raise InputError(f"no project {name!r} in the fleet", path=str(self.path))

    def folder_of(self, project: Project) -> Path | None:
        """The local folder of a ``path`` project (resolved against the fleet file's folder)."""
        if not project.path:
            return None
        p = Path(project.path).expanduser()
        return p if p.is_absolute() else (self.path.parent / p)


def default_fleet_path() -> Path:
    """``MAMORI_HOME/watch.toml``."""
    return mamori_home() / "watch.toml"


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return None


def _strings(value: Any, what: str, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{what} must be a list of strings", path=str(path))
    return tuple(str(v) for v in value)


def _asset(raw: Any, where: str, path: Path) -> Asset:
    from mamori.prioritize import SECTORS

    if raw is None:
        return Asset()
    if not isinstance(raw, dict):
        raise InputError(f"{where}: asset must be a table", path=str(path))
    sector = str(raw.get("sector", "")).lower()
    if sector and sector not in SECTORS:
        raise InputError(f"{where}: sector {sector!r} is not one of: {', '.join(SECTORS)}", path=str(path))
    crit = raw.get("criticality")
    if crit is not None and crit not in CRITICALITIES:
        raise InputError(f"{where}: criticality must be low, medium or high", path=str(path))
    exposure = raw.get("exposure", "")
    if exposure and exposure not in EXPOSURES:
        raise InputError(f"{where}: exposure must be internet, internal or isolated", path=str(path))
    return Asset(sector=sector, criticality=crit, exposure=str(exposure))


def _project(raw: Any, index: int, path: Path, text: str) -> Project:
    where = f"project {index + 1}"
    if not isinstance(raw, dict):
        raise InputError(f"{where} must be a table ([[project]])", path=str(path))
    name = str(raw.get("name", ""))
    line = _line_of(text, f'"{name}"') if name else None
    if not _NAME.match(name):
        raise InputError(
            f"{where}: name {name!r} must be letters, digits, '.', '_' or '-'", path=str(path), line=line
        )
    git, folder = str(raw.get("git", "")), str(raw.get("path", ""))
    if bool(git) == bool(folder):
        raise InputError(f"project {name}: give exactly one of git or path", path=str(path), line=line)
    policy = str(raw.get("policy", "propose"))
    if policy not in POLICIES:
        raise InputError(
            f"project {name}: policy must be propose or notify-only, not {policy!r}",
            path=str(path),
            line=line,
        )
    auto_fix = _strings(raw.get("auto_fix", ["act", "attend"]), f"project {name}: auto_fix", path)
    bad = [d for d in auto_fix if d not in DECISIONS]
    if bad:
        raise InputError(
            f"project {name}: auto_fix has {', '.join(bad)}; decisions are act, attend, track*, track",
            path=str(path),
            line=line,
        )
    github = str(raw.get("github", "")) or _github_of(git)
    return Project(
        name=name,
        path=folder,
        git=git,
        branch=str(raw.get("branch", "")),
        github=github,
        policy=policy,
        auto_fix=auto_fix,
        asset=_asset(raw.get("asset"), f"project {name}", path),
    )


def _github_of(url: str) -> str:
    """``owner/repo`` of a github.com remote URL, else ``""``."""
    m = re.match(
        r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)([^/]+)/([^/]+?)(?:\.git)?/?$", url
    )
    return f"{m.group(1)}/{m.group(2)}" if m else ""


def _broker(value: object, path: Path) -> str:
    url = str(value or "")
    if url and not url.startswith(("redis://", "rediss://")):
        raise InputError("[fix] broker must be a redis:// or rediss:// URL", path=str(path))
    return url


def _seconds(value: object, what: str, path: Path) -> float:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number of seconds", path=str(path)) from None
    if seconds < 0:
        raise InputError(f"{what} must not be negative", path=str(path))
    return seconds


def load_fleet(path: Path | None = None) -> Fleet:
    """Read the fleet file (``MAMORI_HOME/watch.toml`` by default); a missing file is an empty fleet."""
    path = Path(path) if path is not None else default_fleet_path()
    if not path.exists():
        return Fleet(path=path)
    try:
        text = path.read_text(encoding="utf-8")
        doc = tomlkit.parse(text).unwrap()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the fleet file: {exc}", path=str(path)) from exc
    except TOMLKitError as exc:
        raise InputError(f"invalid TOML: {exc}", path=str(path), line=getattr(exc, "line", None)) from exc
    raw_projects = doc.get("project", [])
    if not isinstance(raw_projects, list):
        raise InputError("project must be an array of tables ([[project]])", path=str(path))
    projects = tuple(_project(raw, i, path, text) for i, raw in enumerate(raw_projects))
    names = [p.name for p in projects]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"project names must be unique: {', '.join(dupes)}", path=str(path))
    feeds_raw = doc.get("feeds", {}) or {}
    forge_raw = doc.get("forge", {}) or {}
    notify_raw = doc.get("notify", {}) or {}
    fix_raw = doc.get("fix", {}) or {}
    hub_raw = doc.get("hub", {}) or {}
    for table, raw in (
        ("feeds", feeds_raw),
        ("forge", forge_raw),
        ("notify", notify_raw),
        ("fix", fix_raw),
        ("hub", hub_raw),
    ):
        if not isinstance(raw, dict):
            raise InputError(f"[{table}] must be a table", path=str(path))
    try:
        interval = float(feeds_raw.get("interval", 300))
    except (TypeError, ValueError):
        raise InputError("[feeds] interval must be a number of seconds", path=str(path)) from None
    if interval <= 0:
        raise InputError("[feeds] interval must be above 0", path=str(path))
    if hub_raw.get("url") and not hub_raw.get("collection"):
        raise InputError("[hub] needs a collection (id, title or sector name)", path=str(path))
    strategy = str(fix_raw.get("strategy", "in-place"))
    if strategy not in ("in-place", "latest-safe"):
        raise InputError("[fix] strategy must be in-place or latest-safe", path=str(path))
    return Fleet(
        path=path,
        projects=projects,
        feeds=Feeds(
            osv=str(feeds_raw.get("osv", DEFAULT_OSV_BASE)).rstrip("/"),
            kev=str(feeds_raw.get("kev", DEFAULT_KEV)),
            epss=str(feeds_raw.get("epss", DEFAULT_EPSS)),
            interval=interval,
        ),
        forge=Forge(
            api=str(forge_raw.get("api", DEFAULT_FORGE_API)).rstrip("/"),
            token_env=str(forge_raw.get("token_env", "GITHUB_TOKEN")),
        ),
        webhooks=_strings(notify_raw.get("webhooks", []), "[notify] webhooks", path),
        fix=FixSettings(
            python=str(fix_raw.get("python", "")),
            test_command=str(fix_raw.get("test_command", "")),
            strategy=strategy,
            broker=_broker(fix_raw.get("broker", ""), path),
            broker_timeout=_seconds(fix_raw.get("timeout", 0), "[fix] timeout", path),
        ),
        hub=Hub(
            url=str(hub_raw.get("url", "")),
            collection=str(hub_raw.get("collection", "")),
            token_env=str(hub_raw.get("token_env", "MAMORI_TOKEN")),
            user=str(hub_raw.get("user", "")),
        ),
    )


def _looks_like_url(source: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://", source)) or bool(re.match(r"^[\w.-]+@[\w.-]+:", source))


def _name_from(source: str) -> str:
    tail = source.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    tail = tail.removesuffix(".git")
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", tail).strip("-.") or "project"
    return cleaned[:100]


def add_project(
    source: str,
    *,
    fleet_path: Path | None = None,
    name: str = "",
    branch: str = "",
    github: str = "",
    policy: str = "propose",
    auto_fix: tuple[str, ...] | None = None,
    sector: str = "",
    criticality: str | None = None,
    exposure: str = "",
) -> Project:
    """Add a project (a local folder or a git URL) to the fleet file, keeping its comments.

    The edited file is validated by :func:`load_fleet` before it replaces the old one
    (atomically), so a bad value never leaves a broken fleet file behind.
    """
    path = Path(fleet_path) if fleet_path is not None else default_fleet_path()
    if path.exists():
        try:
            doc = tomlkit.parse(path.read_text(encoding="utf-8"))
        except TOMLKitError as exc:
            raise InputError(f"invalid TOML: {exc}", path=str(path)) from exc
    else:
        doc = tomlkit.document()
        doc.add(tomlkit.comment("mamori watch: the fleet of projects and how mamori may react"))
    entry = tomlkit.table()
    is_url = _looks_like_url(source)
    project_name = name or _name_from(source)
    entry["name"] = project_name
    if is_url:
        entry["git"] = source
    else:
        folder = Path(source).expanduser()
        if not folder.is_dir():
            raise InputError("not a folder (give a project folder or a git URL)", path=source)
        entry["path"] = str(folder.resolve())
    if branch:
        entry["branch"] = branch
    if github:
        entry["github"] = github
    entry["policy"] = policy
    entry["auto_fix"] = list(auto_fix if auto_fix is not None else ("act", "attend"))
    asset = tomlkit.inline_table()
    if sector:
        asset["sector"] = sector
    if criticality:
        asset["criticality"] = criticality
    if exposure:
        asset["exposure"] = exposure
    if asset:
        entry["asset"] = asset
    projects = doc.get("project")
    if projects is None:
        projects = tomlkit.aot()
        doc["project"] = projects
    projects.append(entry)
    text = tomlkit.dumps(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            load_fleet(Path(tmp))  # validate before replacing: a bad value never lands
        except InputError as exc:
            raise InputError(exc.message, path=str(path)) from exc
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return load_fleet(path).project(project_name)
