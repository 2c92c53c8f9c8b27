"""Environments for a project's tests, prepared without running any of the project's code.

Why not ``pip install -r requirements.txt``: a requirements file may name the project itself
(``-e .``), a local folder or an sdist, and installing those runs their ``setup.py``; it may
also name its own index. mamori instead reads the exact pins with its own parsers (lockfiles
first, then requirement files, then manifests) and installs only ``name==version`` wheels
(``--only-binary :all:``) from the configured index into a scratch virtualenv cached under
``MAMORI_HOME/cache/venvs`` (keyed by the interpreter, the pins and the index settings). pip
runs in the sandbox; the network is shared for that step only. ``PIP_INDEX_URL``,
``PIP_EXTRA_INDEX_URL``, ``PIP_CONSTRAINT``, ``PIP_FIND_LINKS`` pass through to it (local
constraint files and wheel folders are mounted read-only).

With ``--python PATH`` (or ``MAMORI_FIX_PYTHON``) the user names the interpreter instead, and it
is mounted read-only. Offline, without one, there is no environment: fixes that need the tests
are ``unverified`` with :data:`NO_ENVIRONMENT`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mamori import sandbox
from mamori.sandbox import Sandbox, SandboxUnavailable

NO_ENVIRONMENT = "no environment: pass --python or drop --offline"
PASS_THROUGH = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT", "PIP_FIND_LINKS")
"""Variables of mamori's environment that reach the install step (and nothing else)."""
NPM_PASS_THROUGH = ("npm_config_registry",)
LOCK_TOOL_PASS_THROUGH = ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "UV_PYTHON_DOWNLOADS")
"""Registry settings of the lock tools, passed to lock regeneration only."""
TRUST_PASS_THROUGH = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "PIP_CERT",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "UV_NATIVE_TLS",
)
"""Which certificate authorities to trust (an organisation's TLS-inspecting proxy): passed to
the steps that use the network, so that they reach the index the user's own pip reaches. They
name files, not secrets; the files are mounted read-only."""
INSTALL_TIMEOUT = 900
_LOCK_SOURCES = ("uv-lock", "poetry-lock", "pdm-lock", "pylock", "pipfile-lock")
_COMPLETE = ".mamori-complete"


@dataclass(frozen=True, slots=True)
class RunPolicy:
    """How project commands run: in the sandbox (default), with or without the network."""

    network: bool = False
    """``--allow-network``: the project's tests and tools share the host's network."""
    unsafe: bool = False
    """``--unsafe-run-tests``: run without a sandbox (still with the scrubbed environment)."""
    readonly: tuple[Path, ...] = ()
    """Extra read-only folders for every project command (a harness, coverage's files)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra variables for every project command."""

    def blocked(self) -> str | None:
        """Why project commands cannot run here (no sandbox and not unsafe), or None."""
        return None if self.unsafe else sandbox.unavailable_reason()

    def sandbox(
        self,
        root: Path,
        python: str | Path | None = None,
        *,
        network: bool | None = None,
        readonly: tuple[Path, ...] = (),
        env: Mapping[str, str] | None = None,
        path: tuple[str, ...] = (),
    ) -> Sandbox:
        """The sandbox for one command with its scratch ``root`` as the writable folder."""
        return Sandbox(
            root=Path(root),
            network=self.network if network is None else network,
            python=Path(python) if python else None,
            readonly=(*self.readonly, *readonly),
            env={**self.env, **(env or {})},
            unsafe=self.unsafe,
            path=path,
        )


def project_pins(root: Path) -> tuple[list[str], list[str]]:
    """The exact ``name==version`` pins of the project's Python dependencies, and what was skipped.

    Lockfiles win over requirement files, which win over manifests; for each package the first
    source in that order decides. Ranges and local or VCS requirements are skipped (named in the
    second list): nothing is ever built from the project's own files.
    """
    from mamori.inventory import collect

    inventory = collect(root)
    order = {s: i for i, s in enumerate((*_LOCK_SOURCES, "requirements", "pyproject", "pipfile"))}
    ranked = sorted(
        (c for c in inventory.components if c.ecosystem == "PyPI"),
        key=lambda c: (order.get(c.source, len(order)), c.location.path, c.location.line),
    )
    pins: dict[str, str] = {}
    skipped: list[str] = []
    for c in ranked:
        if c.name in pins:
            continue
        if not c.version or any(ch in c.version for ch in " ;@/<>=!~*,"):
            if c.name not in skipped:
                skipped.append(c.name)
            continue
        pins[c.name] = c.version
    skipped = [s for s in skipped if s not in pins]
    return [f"{n}=={v}" for n, v in sorted(pins.items())], skipped


def _venvs_dir() -> Path:
    from mamori.config import mamori_home

    path = mamori_home() / "cache" / "venvs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pass_through(*, lock_tools: bool = False) -> dict[str, str]:
    names = (
        *PASS_THROUGH,
        *NPM_PASS_THROUGH,
        *TRUST_PASS_THROUGH,
        *(LOCK_TOOL_PASS_THROUGH if lock_tools else ()),
    )
    return {k: v for k in names if (v := os.environ.get(k))}


def _local_inputs(env: Mapping[str, str]) -> tuple[Path, ...]:
    """Local files and folders the pip settings name (mounted read-only for the install)."""
    out: list[Path] = []
    for key in ("PIP_CONSTRAINT", "PIP_FIND_LINKS", *TRUST_PASS_THROUGH):
        for part in env.get(key, "").split():
            value = part[len("file://") :] if part.startswith("file://") else part
            if "://" not in value and os.path.isabs(value) and os.path.exists(value):
                out.append(Path(value))
    return tuple(out)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def venv_python(folder: Path) -> Path:
    """The interpreter of the virtualenv ``folder``."""
    return folder / ("Scripts" if os.name == "nt" else "bin") / "python"


def _lend_venv_packages(base: Path, folder: Path) -> None:
    """When the user's interpreter is itself a virtualenv, its packages join the scratch one.

    ``venv --system-site-packages`` made from a virtualenv's interpreter sees only the base
    installation's site-packages, not the virtualenv's (where the user installed the project's
    packages); a ``.pth`` file lists those after the scratch virtualenv's own, so what mamori
    installs there comes first. Found from files (``pyvenv.cfg`` beside ``bin``); nothing runs.
    """
    prefix = base.parent.parent
    if not (prefix / "pyvenv.cfg").is_file():
        return
    lent = [str(site) for site in sorted(prefix.glob("lib/python*/site-packages")) if site.is_dir()]
    for site in folder.glob("lib/python*/site-packages"):
        if lent:
            (site / "_mamori_lent_packages.pth").write_text("\n".join(lent) + "\n", encoding="utf-8")


_EXACT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?)==(?P<version>\d+)(?P<rest>[.\w]*)$"
)


def nearer_releases(pin: str) -> tuple[str, ...]:
    """What to install instead of an exact pin that has no wheel for this Python, nearest first:
    a later release of the same major version, else any later release (``pyyaml==3.13`` ->
    ``pyyaml>3.13,<4``, then ``pyyaml>3.13``). A pin that is not ``name==version`` has none."""
    m = _EXACT.match(pin.strip())
    if m is None:
        return ()
    name, major = m["name"], int(m["version"])
    version = m["version"] + m["rest"]
    return (f"{name}>{version},<{major + 1}", f"{name}>{version}")


_RUNNER_PIP = (22, 3)
"""The first pip with ``--python`` (it runs itself under another interpreter)."""


def _host_pip() -> bool:
    """Whether mamori's own interpreter has a pip that installs into another (``pip --python``);
    read from its metadata, nothing imported."""
    try:
        version = importlib.metadata.version("pip")
    except importlib.metadata.PackageNotFoundError:
        return False
    parts = tuple(int(p) for p in re.findall(r"\d+", version)[:2])
    return parts >= _RUNNER_PIP


def prepare_env(
    pins: list[str],
    extra: tuple[str, ...] = ("pytest",),
    *,
    base: str | None = None,
    offline: bool,
    policy: RunPolicy,
    timeout: int = INSTALL_TIMEOUT,
    best_effort: bool = False,
) -> tuple[str | None, str]:
    """A cached scratch virtualenv holding ``pins`` and ``extra``: (its interpreter, how), or (None, why not).

    ``base`` is the interpreter the virtualenv is made from (default: mamori's own, and then the
    virtualenv holds only the pins; a given ``base`` lends its installed packages, the pins
    installed over them). Nothing is
    built from source; pip runs in the sandbox with the network shared for this step only.
    ``best_effort``: when the packages cannot all be installed together (a pin with no wheel
    for this Python), install them one at a time and leave out those that fail, naming them.
    """
    # on the user's own interpreter (--python), the pins are layered over what it has installed
    # (its test runner among them); on mamori's, the virtualenv holds the pins and nothing else
    layered = base is not None
    base = base or sys.executable
    settings = _pass_through()
    key = hashlib.sha256(
        json.dumps(
            [os.path.realpath(base), sorted(pins), sorted(extra), sorted(settings.items())]
            + (["best-effort", "nearer"] if best_effort else [])
            + (["layered"] if layered else []),
            sort_keys=True,
        ).encode()
    ).hexdigest()[:24]
    where = _venvs_dir()
    folder = where / key
    shown = ", ".join(pins[:4]) + (f" and {len(pins) - 4} more" if len(pins) > 4 else "")
    what = f"{shown or 'no pinned packages'}{' + ' + ', '.join(extra) if extra else ''}"
    note = ""
    with _locked(where / f"{key}.lock"):
        python = venv_python(folder)
        if (folder / _COMPLETE).is_file() and python.exists():
            with contextlib.suppress(OSError, ValueError, AttributeError):
                note = str(json.loads((folder / _COMPLETE).read_text(encoding="utf-8")).get("note") or "")
            return str(python), f"a cached scratch virtualenv with {what}{note}"
        if offline:
            return None, NO_ENVIRONMENT
        blocked = policy.blocked()
        if blocked:
            return None, blocked
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        base_mounts = tuple(sandbox.python_mounts(Path(base)))
        try:
            # pip from mamori's own interpreter installs into the virtualenv (``pip --python``):
            # the virtualenv is made without one (seeding pip costs about 3 CPU seconds a time)
            runner = _host_pip()
            made = sandbox.run(
                policy.sandbox(folder, network=False, readonly=base_mounts),
                [
                    base,
                    "-m",
                    "venv",
                    *(["--system-site-packages"] if layered else []),
                    *(["--without-pip"] if runner else []),
                    str(folder),
                ],
                timeout=300,
            )
            if made.returncode != 0:
                shutil.rmtree(folder, ignore_errors=True)
                return None, f"could not make a scratch virtualenv: {(made.stderr or made.stdout)[-400:]}"
            if layered:
                _lend_venv_packages(Path(base), folder)
            if pins or extra:
                pip = (
                    [sys.executable, "-m", "pip", "--python", str(python)]
                    if runner
                    else [str(python), "-m", "pip"]
                )
                command = [
                    *pip,
                    "install",
                    "--only-binary",
                    ":all:",
                    "--disable-pip-version-check",
                    "--no-input",
                    "-q",
                ]
                argv = [*command, *pins, *extra]
                runner_mounts = tuple(sandbox.python_mounts(Path(sys.executable))) if runner else ()
                install_box = policy.sandbox(
                    folder,
                    network=True,
                    readonly=(*base_mounts, *runner_mounts, *_local_inputs(settings)),
                    env=settings,
                )
                proc = sandbox.run(install_box, argv, timeout=timeout)
                if proc.returncode != 0 and best_effort:
                    left_out: list[str] = []
                    nearer: list[str] = []
                    for one in (*pins, *extra):
                        if sandbox.run(install_box, [*command, one], timeout=timeout).returncode == 0:
                            continue
                        # an exact pin with no wheel for this Python: the nearest release that has one
                        alt = next(
                            (
                                spec
                                for spec in nearer_releases(one)
                                if sandbox.run(install_box, [*command, spec], timeout=timeout).returncode == 0
                            ),
                            None,
                        )
                        if alt is None:
                            left_out.append(one)
                        else:
                            nearer.append(f"{one} as {alt}")
                    if len(left_out) < len(pins) + len(extra):
                        if nearer:
                            note += f"; no wheel of the pin for this Python, the nearest release with one: {', '.join(nearer)}"
                        if left_out:
                            note += f"; left out (no wheel could be installed): {', '.join(left_out)}"
                        proc = subprocess.CompletedProcess(argv, 0, "", "")
                if proc.returncode != 0:
                    shutil.rmtree(folder, ignore_errors=True)
                    tail = (proc.stderr or proc.stdout).strip()[-600:]
                    return None, (
                        "pip could not install the pinned packages as wheels (mamori builds "
                        "nothing from source): pass --python with an interpreter that has the "
                        "project's packages installed, or PIP_FIND_LINKS=<folder of wheels>; "
                        f"pip said: {tail}"
                    )
        except subprocess.TimeoutExpired:
            shutil.rmtree(folder, ignore_errors=True)
            return None, f"installing {what} did not finish within {timeout} s"
        except (SandboxUnavailable, OSError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            return None, f"could not build a scratch environment: {exc}"
        (folder / _COMPLETE).write_text(
            json.dumps({"pins": pins, "extra": list(extra), "note": note}), encoding="utf-8"
        )
        return str(python), f"installed {what} into a scratch virtualenv{note}"


def tool_sandbox(
    policy: RunPolicy,
    workdir: Path,
    tool: str,
    *,
    lock_tools: bool = False,
    env: Mapping[str, str] | None = None,
) -> Sandbox:
    """The sandbox of a package tool (npm, uv, poetry…) over the scratch ``workdir``: the
    network shared (it reaches the registry), the registry and CA settings passed through (the
    lock tools' own with ``lock_tools``), their local files and the tool's folders read-only."""
    readonly, path = sandbox.tool_mounts(tool)
    settings = _pass_through(lock_tools=lock_tools)
    return policy.sandbox(
        workdir,
        network=True,
        readonly=(*readonly, *_local_inputs(settings)),
        path=path,
        env={**settings, "npm_config_update_notifier": "false", **(env or {})},
    )


NODE_INSTALL = ("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund")
"""How ``node_modules`` is installed from the project's lockfile: exactly the locked versions
(``npm ci`` refuses a lock that disagrees with package.json), and no package's install script
runs (``--ignore-scripts``): what runs of the project's is its tests, in the sandbox."""
_NODE_LOCKS = ("package-lock.json", "npm-shrinkwrap.json")


def install_node_modules(
    workdir: Path, *, offline: bool, policy: RunPolicy, timeout: int = INSTALL_TIMEOUT
) -> str:
    """Install the npm lockfile's packages into ``workdir`` (a scratch copy) for its tests: ``""``
    when done, else why not. npm runs in the sandbox over ``workdir`` with the scrubbed
    environment plus the registry settings (``npm_config_registry``) and trusted CA files, the
    network shared for this step only (the tests after it have none)."""
    if not any((workdir / lock).is_file() for lock in _NODE_LOCKS):
        return "no package-lock.json to install node_modules from (run `npm install --package-lock-only`)"
    if offline:
        return "node_modules not installed: offline (drop --offline)"
    blocked = policy.blocked()
    if blocked:
        return blocked
    if shutil.which("npm") is None:
        return "npm is not on PATH: node_modules not installed"
    box = tool_sandbox(policy, workdir, "npm", env={"npm_config_loglevel": "error"})
    shown = " ".join(NODE_INSTALL)
    try:
        proc = sandbox.run(box, list(NODE_INSTALL), cwd=workdir, timeout=timeout, max_output=1024 * 1024)
    except subprocess.TimeoutExpired:
        return f"`{shown}` did not finish within {timeout} s"
    except (SandboxUnavailable, OSError) as exc:
        return f"could not run `{shown}`: {exc}"
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-600:]
        return f"`{shown}` failed: {tail}"
    return ""
