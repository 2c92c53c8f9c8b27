"""A loopback world for the watch tests: osv.dev's bucket layout, CISA KEV, FIRST EPSS, GitHub's
pull request API and a webhook receiver, all on one real HTTP server on 127.0.0.1; and real git
projects with bare repositories as their remotes.

Layouts served as the real services serve them:

* ``/osv/{ecosystem}/modified_id.csv``: ``<modified>,<id>`` lines, newest first;
  ``/osv/{ecosystem}/{id}.json``: one record; ``/osv/{ecosystem}/all.zip``: every record;
* ``/kev.json``: ``{"catalogVersion", "dateReleased", "count", "vulnerabilities": [{"cveID" …}]}``
  with an ``ETag`` (``If-None-Match`` → 304);
* ``/epss.csv``: ``#model_version:…,score_date:…`` then ``cve,epss,percentile``;
* ``/github/repos/{owner}/{repo}/pulls``: GET (``head=owner:branch``, ``state``) and POST, with
  GitHub's field names; a POST whose head branch is not in the bare repository is a 422, as on
  GitHub; a request without the token is a 401;
* ``/hook``: records JSON POSTs;
* ``/simple/{name}/``: a PEP 503 package index of the wheels in :attr:`World.wheels` (made by
  :func:`make_wheel`: the fleet's packages are generated, never downloaded), ``/wheels/{file}``;
* ``/npm/{name}``: an npm registry's packument (``dist-tags``, ``versions`` with ``dist.tarball``,
  ``shasum`` and ``integrity``) of the tarballs in :attr:`World.npm` (made by
  :func:`make_npm_tarball`), ``/npm/{name}/-/{name}-{version}.tgz``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import subprocess
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "test-token-not-secret"


def now_iso() -> str:
    """The current time as OSV writes it."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class World:
    """Mutable state behind the server; tests change it while the service runs."""

    osv: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """ecosystem → id → OSV record."""
    kev: list[dict[str, Any]] = field(default_factory=list)
    epss: dict[str, tuple[float, float]] = field(default_factory=dict)
    epss_date: str = "2026-12-01"
    repos: dict[str, Path] = field(default_factory=dict)
    """owner/repo → bare repository (for the forge's head-branch check)."""
    pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    hooks: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    wheels: dict[str, bytes] = field(default_factory=dict)
    """file name → wheel, served by the package index."""
    npm: dict[str, dict[str, bytes]] = field(default_factory=dict)
    """npm package → version → tarball, served by the npm registry."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def publish(self, ecosystem: str, record: dict[str, Any]) -> None:
        """Make a record appear (or change) in the OSV feed."""
        with self.lock:
            self.osv.setdefault(ecosystem, {})[record["id"]] = record

    def add_wheel(self, name: str, version: str, module: str, source: str) -> None:
        """Serve a generated pure-Python wheel of ``name`` ``version`` whose ``module`` is ``source``."""
        filename, data = make_wheel(name, version, {f"{module}/__init__.py": source})
        with self.lock:
            self.wheels[filename] = data

    def add_npm(self, name: str, version: str, files: dict[str, str]) -> None:
        """Serve a generated npm package ``name`` ``version`` holding ``files`` (package.json added)."""
        data = make_npm_tarball(name, version, files)
        with self.lock:
            self.npm.setdefault(name, {})[version] = data

    def packument(self, name: str) -> dict[str, Any] | None:
        versions = self.npm.get(name)
        if not versions:
            return None
        base = name.split("/")[-1]
        docs = {
            v: {
                "name": name,
                "version": v,
                "dist": {
                    "tarball": f"{self.url}/npm/{name}/-/{base}-{v}.tgz",
                    "shasum": hashlib.sha1(data).hexdigest(),  # npm's own field
                    "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
                },
            }
            for v, data in versions.items()
        }
        latest = max(versions, key=lambda v: tuple(int(x) for x in re.findall(r"\d+", v)))
        return {"name": name, "dist-tags": {"latest": latest}, "versions": docs}

    def simple_page(self, project: str) -> bytes | None:
        links = [
            f'<a href="/wheels/{f}#sha256={hashlib.sha256(d).hexdigest()}">{f}</a>'
            for f, d in sorted(self.wheels.items())
            if _normal(f.split("-", 1)[0]) == _normal(project)
        ]
        if not links:
            return None
        return ("<!DOCTYPE html><html><body>\n" + "<br>\n".join(links) + "\n</body></html>\n").encode()

    def modified_csv(self, ecosystem: str) -> str:
        records = sorted(self.osv.get(ecosystem, {}).values(), key=lambda r: r["modified"], reverse=True)
        return "".join(f"{r['modified']},{r['id']}\n" for r in records)

    def all_zip(self, ecosystem: str) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for rid, rec in self.osv.get(ecosystem, {}).items():
                z.writestr(f"{rid}.json", json.dumps(rec))
        return buf.getvalue()

    def kev_doc(self) -> bytes:
        doc = {
            "title": "CISA Catalog of Known Exploited Vulnerabilities",
            "catalogVersion": f"2026.12.{len(self.kev)}",
            "dateReleased": "2026-12-01T12:00:00.0000Z",
            "count": len(self.kev),
            "vulnerabilities": self.kev,
        }
        return json.dumps(doc).encode()

    def epss_csv(self) -> bytes:
        lines = [
            f"#model_version:v2025.03.14,score_date:{self.epss_date}T00:00:00+0000",
            "cve,epss,percentile",
        ]
        lines += [f"{c},{s},{p}" for c, (s, p) in sorted(self.epss.items())]
        return ("\n".join(lines) + "\n").encode()


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def make_wheel(name: str, version: str, files: dict[str, str]) -> tuple[str, bytes]:
    """A pure-Python wheel (PEP 427: the files, METADATA, WHEEL, RECORD with hashes): (file name, bytes)."""
    dist = re.sub(r"[-_.]+", "_", name)
    info = f"{dist}-{version}.dist-info"
    entries = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: mamori-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, text in entries.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(data)}")
            z.writestr(path, data)
        z.writestr(f"{info}/RECORD", "\n".join([*record, f"{info}/RECORD,,"]) + "\n")
    return f"{dist}-{version}-py3-none-any.whl", buf.getvalue()


def make_npm_tarball(name: str, version: str, files: dict[str, str]) -> bytes:
    """An npm package tarball (gzip'd tar, every entry under ``package/``) with its package.json."""
    entries = {"package.json": json.dumps({"name": name, "version": version, "main": "index.js"}), **files}
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for path, text in sorted(entries.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"package/{path}")
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


STOCK = {
    "pyyaml": ("yaml", ("5.3", "5.4", "5.4.1")),
    "jinja2": ("jinja2", ("2.11.2", "2.11.3", "3.1.4")),
    "requests": ("requests", ("2.19.1", "2.20.0")),
    "urllib3": ("urllib3", ("1.24.1", "1.24.2")),
}
"""The packages the tests' projects pin (name → module, versions), as generated wheels."""


def stock_index(world: World) -> None:
    """Put :data:`STOCK` on the world's package index: each module has ``safe_load`` (returning
    its input and its version), so a test that calls it checks which version it runs with."""
    for name, (module, versions) in STOCK.items():
        for version in versions:
            world.add_wheel(
                name,
                version,
                module,
                f"__version__ = {version!r}\n\n\ndef safe_load(text):\n    return (text, __version__)\n",
            )


def kev_entry(cve: str) -> dict[str, Any]:
    """A KEV catalogue entry with CISA's field names."""
    return {
        "cveID": cve,
        "vendorProject": "PyYAML",
        "product": "PyYAML",
        "vulnerabilityName": "PyYAML arbitrary code execution",
        "dateAdded": "2026-12-01",
        "shortDescription": "full_load can construct arbitrary Python objects",
        "requiredAction": "Apply updates per vendor instructions.",
        "dueDate": "2026-12-22",
        "knownRansomwareCampaignUse": "Unknown",
        "notes": "",
        "cwes": ["CWE-20"],
    }


def _handler(world: World) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(
            self,
            code: int,
            body: bytes,
            ctype: str = "application/json",
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, code: int, data: Any) -> None:
            self._send(code, json.dumps(data).encode())

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            with world.lock:
                world.requests.append(f"GET {path}")
                if path.startswith("/osv/"):
                    _, _, eco, name = path.split("/", 3)
                    if name == "modified_id.csv":
                        return self._send(200, world.modified_csv(eco).encode(), "text/csv")
                    if name == "all.zip":
                        return self._send(200, world.all_zip(eco), "application/zip")
                    rec = world.osv.get(eco, {}).get(name.removesuffix(".json"))
                    if rec is None:
                        return self._send(404, b"not found", "text/plain")
                    return self._json(200, rec)
                if path.startswith("/simple/"):
                    page = world.simple_page(path.strip("/").split("/")[-1])
                    if page is None:
                        return self._send(404, b"not found", "text/plain")
                    return self._send(200, page, "text/html")
                if path.startswith("/npm/"):
                    name, sep, file = path[len("/npm/") :].partition("/-/")
                    if not sep:
                        doc = world.packument(name)
                        if doc is None:
                            return self._json(404, {"error": "Not found"})
                        return self._json(200, doc)
                    base = name.split("/")[-1]
                    version = file.removeprefix(base + "-").removesuffix(".tgz")
                    data = world.npm.get(name, {}).get(version)
                    if data is None:
                        return self._send(404, b"not found", "text/plain")
                    return self._send(200, data, "application/octet-stream")
                if path.startswith("/wheels/"):
                    wheel = world.wheels.get(path[len("/wheels/") :])
                    if wheel is None:
                        return self._send(404, b"not found", "text/plain")
                    return self._send(200, wheel, "application/octet-stream")
                if path == "/kev.json":
                    body = world.kev_doc()
                    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                    if self.headers.get("If-None-Match") == etag:
                        return self._send(304, b"", headers={"ETag": etag})
                    return self._send(200, body, headers={"ETag": etag})
                if path == "/epss.csv":
                    body = world.epss_csv()
                    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                    if self.headers.get("If-None-Match") == etag:
                        return self._send(304, b"", headers={"ETag": etag})
                    return self._send(200, body, "text/csv", headers={"ETag": etag})
                if path.startswith("/github/repos/") and "/pulls/" in path:
                    if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                        return self._json(401, {"message": "Bad credentials"})
                    repo, _, number = path[len("/github/repos/") :].partition("/pulls/")
                    for pull in world.pulls.get(repo, []):
                        if str(pull["number"]) == number:
                            return self._json(200, pull)
                    return self._json(404, {"message": "Not Found"})
                if path.startswith("/github/repos/") and path.endswith("/pulls"):
                    if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                        return self._json(401, {"message": "Bad credentials"})
                    repo = path[len("/github/repos/") : -len("/pulls")]
                    query = parse_qs(parts.query)
                    head = query.get("head", [""])[0]
                    found = [
                        p
                        for p in world.pulls.get(repo, [])
                        if not head or f"{repo.split('/')[0]}:{p['head']['ref']}" == head
                    ]
                    return self._json(200, found)
            self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"null")
            with world.lock:
                world.requests.append(f"POST {path}")
                if path == "/hook":
                    world.hooks.append({"body": body, "delivery": self.headers.get("X-Mamori-Delivery")})
                    return self._json(200, {"ok": True})
                if path.startswith("/github/repos/") and path.endswith("/pulls"):
                    if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                        return self._json(401, {"message": "Bad credentials"})
                    repo = path[len("/github/repos/") : -len("/pulls")]
                    bare = world.repos.get(repo)
                    heads = (
                        subprocess.run(
                            ["git", "ls-remote", "--heads", str(bare), body["head"]],
                            capture_output=True,
                            text=True,
                            check=False,
                        ).stdout
                        if bare
                        else ""
                    )
                    if not heads.strip():
                        return self._json(
                            422,
                            {
                                "message": "Validation Failed",
                                "errors": [{"field": "head", "code": "invalid"}],
                            },
                        )
                    pulls = world.pulls.setdefault(repo, [])
                    number = len(pulls) + 1
                    pull = {
                        "number": number,
                        "state": "open",
                        "title": body["title"],
                        "body": body["body"],
                        "html_url": f"{world.url}/github/{repo}/pull/{number}",
                        "head": {"ref": body["head"]},
                        "base": {"ref": body["base"]},
                        "merged_at": None,
                    }
                    pulls.append(pull)
                    return self._json(201, pull)
            self._send(404, b"not found", "text/plain")

    return Handler


@contextmanager
def serve(world: World) -> Iterator[World]:
    """Run the world's server on 127.0.0.1 until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(world))
    world.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield world
    finally:
        server.shutdown()
        server.server_close()


def git(*args: str, cwd: Path) -> str:
    """Run git in ``cwd`` (the tests' own git, with a fixed identity)."""
    return subprocess.run(
        [
            "git",
            "-c",
            "user.name=dev",
            "-c",
            "user.email=dev@example.org",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def make_project(base: Path, name: str, requirements: str, *, seconds: float = 0.0) -> tuple[Path, Path]:
    """A small Python project with a test suite, pushed to a bare repository; (work tree, bare).

    Its code imports the module of each pinned package (:data:`STOCK`) and its tests call each
    one (so the fix stage's coverage sees the upgraded packages used); ``seconds``: how long the
    suite takes besides (a real suite's running time).
    """
    work = base / f"{name}-work"
    bare = base / f"{name}.git"
    (work / "tests").mkdir(parents=True)
    (work / "requirements.txt").write_text(requirements)
    names = [line.split("==")[0].strip().lower() for line in requirements.splitlines() if "==" in line]
    modules = [STOCK[n][0] for n in names if n in STOCK] or ["yaml"]
    (work / "app.py").write_text(
        "".join(f"import {m}\n" for m in modules)
        + "\n\ndef settings(text):\n"
        + f"    return {modules[0]}.safe_load(text)\n\n\n"
        + "def loaded(text):\n"
        + f"    return [{', '.join(f'{m}.safe_load(text)' for m in modules)}]\n\n\n"
        + "def double(n):\n    return 2 * n\n"
    )
    (work / "tests" / "test_app.py").write_text(
        "import time\nimport unittest\n\n\nclass T(unittest.TestCase):\n    def test_double(self):\n"
        "        from app import double\n\n        self.assertEqual(double(2), 4)\n\n"
        "    def test_settings(self):\n        from app import loaded, settings\n\n"
        "        self.assertEqual(settings('a: 1')[0], 'a: 1')\n"
        f"        self.assertEqual(len(loaded('x')), {len(modules)})\n"
        f"        time.sleep({seconds!r})\n"
    )
    git("init", "-q", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-qm", "initial", cwd=work)
    git("init", "-q", "--bare", str(bare), cwd=base)
    git("push", "-q", str(bare), "main", cwd=work)
    return work, bare


def make_npm_project(base: Path, name: str, version: str) -> Path:
    """An npm project locking lodash ``version`` (package.json + package-lock.json v3), pushed to a bare repository."""
    work, bare = base / f"{name}-work", base / f"{name}.git"
    work.mkdir(parents=True)
    (work / "package.json").write_text(
        json.dumps({"name": name, "version": "1.0.0", "dependencies": {"lodash": version}}, indent=2) + "\n"
    )
    lock = {
        "name": name,
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {"name": name, "version": "1.0.0", "dependencies": {"lodash": version}},
            "node_modules/lodash": {
                "version": version,
                "resolved": f"https://registry.npmjs.org/lodash/-/lodash-{version}.tgz",
            },
        },
    }
    (work / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    git("init", "-q", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-qm", "initial", cwd=work)
    git("init", "-q", "--bare", str(bare), cwd=base)
    git("push", "-q", str(bare), "main", cwd=work)
    return bare


def load_advisory(name: str) -> dict[str, Any]:
    """A real OSV record from the bundled demo advisories."""
    from mamori.demo import advisories_source

    return json.loads((Path(advisories_source()) / f"{name}.json").read_text())


def epss_gz(world: World) -> bytes:
    """The EPSS file gzipped (as FIRST serves it)."""
    return gzip.compress(world.epss_csv())
