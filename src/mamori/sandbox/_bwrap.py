"""Running a command in a kernel sandbox made with bubblewrap (``bwrap``).

Why bubblewrap: it gives user, mount, pid, ipc, uts and network namespaces without root, and
those are enforced by the kernel — a project test that calls ``os.system('touch …')`` or opens a
raw socket is stopped by the kernel, not by a Python hook it could remove. The sandbox sees:

- the system folders (``/usr``, ``/bin``, ``/lib*``, ``/etc``, ``/opt``) read-only, with the
  system's password hashes and SSH host keys hidden; not ``/home``, ``/root``, ``/var``,
  ``/run``, ``/srv``, ``/mnt`` or ``/work``;
- the interpreter (its venv and the base installation it points at) and any extra folders the
  caller names, read-only;
- the scratch root read-write — the only writable place besides a private ``/tmp`` (a tmpfs
  that disappears with the sandbox; ``HOME`` lives there);
- its own network namespace with only a loopback interface (unless ``network=True``);
- no capabilities (``--cap-drop ALL``, also when mamori runs as root), a new session (no
  terminal injection) and ``--die-with-parent`` (killing mamori kills the sandbox).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt")
"""Host folders every sandbox sees read-only (symlinks, as in merged /usr, are kept as symlinks)."""

HIDDEN_FILES = ("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers")
"""Files under the system folders that are replaced by an empty file inside the sandbox."""

SANDBOX_HOME = "/tmp/home"
"""``HOME`` inside the sandbox: in its private ``/tmp``."""

NO_SANDBOX = "no sandbox: install bubblewrap or pass --unsafe-run-tests"


def bwrap_path() -> str | None:
    """The bubblewrap binary: ``MAMORI_BWRAP`` when set, else ``bwrap`` on PATH or /usr/bin/bwrap."""
    named = os.environ.get("MAMORI_BWRAP")
    if named:
        return named if os.access(named, os.X_OK) and Path(named).is_file() else None
    found = shutil.which("bwrap")
    if found:
        return found
    return "/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None


@functools.cache
def probe(bwrap: str) -> str | None:
    """None when ``bwrap`` can make a sandbox here; else why not (kernel or container refuses)."""
    argv = [bwrap, *namespace_args(network=False), *system_args(), "--", "/bin/sh", "-c", "exit 0"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False, env={})
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{bwrap} could not run: {exc}"
    if proc.returncode != 0:
        return f"{bwrap} cannot create namespaces here: {proc.stderr.strip()[-300:]}"
    return None


def namespace_args(*, network: bool) -> list[str]:
    """The isolation flags: every namespace (the network one unless ``network``), no capabilities."""
    args = [
        "--unshare-user",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "mamori-sandbox",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
    ]
    if not network:
        args.insert(0, "--unshare-net")
    return args


def system_args() -> list[str]:
    """Read-only mounts of the system folders, /dev, /proc and a private /tmp."""
    args: list[str] = []
    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    for name in HIDDEN_FILES:
        if Path(name).is_file():
            args += ["--ro-bind", "/dev/null", name]
    ssh = Path("/etc/ssh")
    if ssh.is_dir():
        try:
            keys = sorted(p for p in ssh.iterdir() if p.name.startswith("ssh_host_") and p.is_file())
        except OSError:
            keys = []
        for key in keys:
            args += ["--ro-bind", "/dev/null", str(key)]
    args += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--dir", SANDBOX_HOME]
    return args


def _covered(path: Path, mounted: Iterable[Path]) -> bool:
    return any(path == m or m in path.parents for m in mounted)


def mount_args(root: Path, readonly: Sequence[Path], *, network: bool) -> list[str]:
    """Read-only binds of ``readonly`` (resolved, deduplicated) and the writable bind of ``root``."""
    system = [Path(p).resolve() for p in SYSTEM_DIRS if Path(p).exists()]
    args: list[str] = []
    done: list[Path] = []
    extra = list(readonly)
    if network:
        # A resolver file may be a symlink into /run (systemd-resolved); make its target visible.
        resolv = Path("/etc/resolv.conf")
        if resolv.is_symlink():
            extra.append(resolv.resolve())
    for item in sorted(
        {Path(os.path.realpath(p)) for p in extra if Path(p).exists()}, key=lambda p: len(p.parts)
    ):
        if _covered(item, system) or _covered(item, done):
            continue
        args += ["--ro-bind", str(item), str(item)]
        done.append(item)
    named = Path(os.path.abspath(root))
    real_root = Path(os.path.realpath(root))
    args += ["--bind", str(real_root), str(real_root)]
    if named != real_root:
        # The caller named the root through a symlink: make that name lead there too.
        args += ["--symlink", str(real_root), str(named)]
    return args


def python_mounts(python: Path) -> list[Path]:
    """The folders an interpreter needs, found from files alone (nothing is executed).

    A venv's prefix and the base installation its ``pyvenv.cfg`` names, the prefix of the
    interpreter the symlinks lead to, and folders that ``.pth`` files in its site-packages add
    to ``sys.path`` (editable installs). Lines of a ``.pth`` that are code are not run.
    """
    python = Path(python)
    out: list[Path] = []
    prefixes = [python.parent.parent, Path(os.path.realpath(python)).parent.parent]
    cfg = python.parent.parent / "pyvenv.cfg"
    if cfg.is_file():
        try:
            for line in cfg.read_text(encoding="utf-8", errors="replace").splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "home" and value.strip():
                    prefixes.append(Path(value.strip()).parent)
        except OSError:
            pass
    for prefix in prefixes:
        if prefix.is_dir() and prefix not in out:
            out.append(prefix)
    for prefix in list(out):
        for site in prefix.glob("lib/python*/site-packages"):
            for pth in site.glob("*.pth"):
                try:
                    lines = pth.read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    continue
                for line in lines:
                    line = line.strip()
                    if not line or line.startswith(("#", "import ", "import\t")):
                        continue
                    entry = Path(line) if os.path.isabs(line) else site / line
                    if entry.is_dir() and entry not in out:
                        out.append(entry)
    return out
