"""git for the watch service: clones, fetches, branch commits and pushes, with nothing run by git itself.

Why its own wrapper: the service clones repositories it does not trust and pushes to remotes
the operator named in the fleet file. It works only in its own clones, so a repository's
``.git/config`` (where filter drivers and hooks paths would be set) is never read. Like the fix
stage's git, every call turns off hooks, fsmonitor, pagers, signing and prompts on the command
line (``-c`` wins over every config file); unlike it, the transport protocols the fleet file's
remotes use (``file``, ``https``, ``ssh``) are allowed, and nothing else (no ``ext::`` remote
helpers).
Commits are deterministic (fixed author, committer and dates), so re-creating a branch after a
crash gives the same commit and pushing it again is a no-op.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

from mamori.errors import MamoriError
from mamori.watch._redact import redact, redact_text

_SAFE = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.pager=cat",
    "core.editor=false",
    "core.askPass=",
    "credential.helper=",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "protocol.allow=never",
    "protocol.file.allow=always",
    "protocol.https.allow=always",
    "protocol.ssh.allow=always",
    "submodule.recurse=false",
    "diff.external=",
    "init.defaultBranch=main",
    "advice.detachedHead=false",
    "user.name=mamori",
    "user.email=mamori@localhost",
)


class GitError(MamoriError):
    """A git command failed; the message carries git's own words."""


def git(*args: str, cwd: Path | None = None, timeout: float = 300, date: str = "") -> str:
    """Run git with the safe configuration; its stdout, or :class:`GitError` with its stderr."""
    argv = ["git"]
    for item in _SAFE:
        argv += ["-c", item]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_OPTIONAL_LOCKS": "0"})
    if date:
        env.update({"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    try:
        proc = subprocess.run(
            [*argv, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {args[0] if args else ''}: {exc}") from exc
    if proc.returncode != 0:
        raise GitError(
            redact_text(f"git {' '.join(args[:2])}: {(proc.stderr or proc.stdout).strip()[-500:]}")
        )
    return proc.stdout


def is_repository(folder: Path) -> bool:
    """True when ``folder`` is the top of a git work tree."""
    try:
        top = git("rev-parse", "--show-toplevel", cwd=folder).strip()
    except GitError:
        return False
    return Path(top).resolve() == folder.resolve()


def remote_head(url: str, branch: str) -> str:
    """The commit ``branch`` points to in the remote (``""`` when it has no such branch)."""
    out = git("ls-remote", "--heads", url, f"refs/heads/{branch}", timeout=120)
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        if ref == f"refs/heads/{branch}":
            return sha
    return ""


def default_branch(url: str) -> str:
    """The remote's default branch (what its HEAD names)."""
    out = git("ls-remote", "--symref", url, "HEAD", timeout=120)
    for line in out.splitlines():
        if line.startswith("ref: ") and line.endswith("\tHEAD"):
            return line[5:].split("\t", 1)[0].removeprefix("refs/heads/")
    raise GitError(f"{redact(url)}: the remote names no default branch; set branch = ... for the project")


def sync_checkout(url: str, branch: str, checkout: Path, commit: str = "") -> str:
    """Make ``checkout`` an exact copy of ``branch`` of ``url`` (at ``commit`` if given); its commit."""
    if not (checkout / ".git").is_dir():
        checkout.parent.mkdir(parents=True, exist_ok=True)
        tmp = checkout.with_name(checkout.name + ".partial")
        if tmp.exists():
            import shutil

            shutil.rmtree(tmp)
        git("clone", "--quiet", "--no-checkout", "--branch", branch, "--", url, str(tmp), timeout=900)
        os.replace(tmp, checkout)
    git(
        "fetch",
        "--quiet",
        "--no-tags",
        "origin",
        f"+refs/heads/{branch}:refs/remotes/origin/{branch}",
        cwd=checkout,
    )
    git(
        "checkout",
        "--quiet",
        "--force",
        "-B",
        branch,
        commit or f"refs/remotes/origin/{branch}",
        cwd=checkout,
    )
    git("clean", "-q", "-d", "-f", "-x", cwd=checkout)
    return git("rev-parse", "HEAD", cwd=checkout).strip()


def changed_files(checkout: Path, old: str, new: str) -> list[str] | None:
    """Paths changed between two commits (None when ``old`` is not known here: rescan all)."""
    try:
        out = git("diff", "--name-only", "--no-renames", "-z", old, new, cwd=checkout)
    except GitError:
        return None
    return sorted({p for p in out.split("\0") if p})


def commit_branch(checkout: Path, base: str, branch: str, diff: str, message: str, date: str) -> str:
    """Create local ``branch`` at ``base`` plus ``diff`` as one deterministic commit; its sha.

    The work happens in a temporary worktree: the checkout's own tree is left as it is.
    """
    import shutil
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="mamori-watch-branch-"))
    work = tmp / "wt"
    try:
        git("worktree", "add", "--quiet", "--detach", str(work), base, cwd=checkout)
        patch = tmp / "fix.diff"
        patch.write_text(diff, encoding="utf-8")
        git("apply", "--whitespace=nowarn", str(patch), cwd=work)
        git("add", "--all", cwd=work)
        git("commit", "--quiet", "--no-verify", "-m", message, cwd=work, date=date)
        sha = git("rev-parse", "HEAD", cwd=work).strip()
        git("branch", "--force", branch, sha, cwd=checkout)
        return sha
    finally:
        with contextlib.suppress(GitError):
            git("worktree", "remove", "--force", str(work), cwd=checkout)
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(GitError):
            git("worktree", "prune", cwd=checkout)


def push_branch(checkout: Path, branch: str, protected: set[str]) -> None:
    """Push local ``branch`` to a branch of the same name on ``origin`` — never to a protected one.

    No force: a branch that exists already with other commits makes the push fail, and the
    caller reports it instead of overwriting someone's work.
    """
    if branch in protected or not branch.startswith("mamori/"):
        raise GitError(f"refusing to push {branch}: mamori pushes only its own mamori/… branches")
    git("push", "--quiet", "--porcelain", "origin", f"refs/heads/{branch}:refs/heads/{branch}", cwd=checkout)
