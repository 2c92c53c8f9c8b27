"""``sync`` jobs: bring a project's checkout to the new commit and re-index what changed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from mamori._text import count
from mamori.ecosystems import base_ecosystem, normalize_name
from mamori.inventory import Component, collect, parsers
from mamori.model import Location
from mamori.watch import _git
from mamori.watch.context import Context
from mamori.watch.feeds.commits import branch_of, remote_of
from mamori.watch.state import Job


def to_record(component: Component) -> dict[str, Any]:
    """A component as the index stores it (JSON)."""
    return dataclasses.asdict(component)


def from_record(record: dict[str, Any]) -> Component:
    """The component an index record holds."""
    data = dict(record)
    data["location"] = Location(**data["location"])
    return Component(**data)


def _rows(components: list[Component]) -> list[tuple[str, str, str, str]]:
    return [
        (
            base_ecosystem(c.ecosystem),
            normalize_name(c.ecosystem, c.name),
            c.location.path,
            json.dumps(to_record(c), sort_keys=True),
        )
        for c in components
    ]


def _components_of_files(root: Path, files: list[str]) -> list[Component]:
    """The components of the given dependency files, with paths relative to ``root``."""
    readers = parsers()
    out: list[Component] = []
    for rel in files:
        path = root / rel
        if not path.is_file() or not any(p.matches(path) for p in readers):
            continue
        inventory = collect(path)
        prefix = Path(rel).parent
        for c in inventory.components:
            where = (prefix / c.location.path).as_posix() if str(prefix) != "." else c.location.path
            out.append(dataclasses.replace(c, location=dataclasses.replace(c.location, path=where)))
    return out


def sync(ctx: Context, job: Job) -> None:
    """Update the checkout to the job's commit and replace the index rows of the changed files."""
    project = ctx.fleet.project(job.payload["project"])
    root = ctx.checkout(project)
    remote = remote_of(ctx, project)
    changed: list[str] | None
    if remote:
        head = _git.sync_checkout(remote, branch_of(ctx, project), root, job.payload["new"])
        old = job.payload.get("old") or ""
        changed = (
            _git.changed_files(root, old, head) if old and ctx.state.components_of(project.name) else None
        )
    else:
        changed = job.payload.get("files")
        if not ctx.state.components_of(project.name):
            changed = None
    if changed is None:
        components = list(collect(root).components)
        with ctx.state.transaction():
            ctx.state.replace_components(project.name, _rows(components))
            ctx.state.enqueue(
                f"evaluate:{project.name}:{job.payload['new']}",
                "evaluate",
                {"project": project.name, "reason": "indexed"},
            )
        ctx.log(f"{project.name}: indexed {count(len(components), 'component')}")
        return
    readers = parsers()
    deps = [p for p in changed if any(r.matches(root / p) for r in readers) or not (root / p).exists()]
    if not deps and not any(p.endswith(".py") for p in changed):
        ctx.log(f"{project.name}: {count(len(changed), 'file')} changed, none a dependency file; index kept")
        return
    components = _components_of_files(root, deps)
    with ctx.state.transaction():
        ctx.state.replace_components(project.name, _rows(components), paths=deps)
        ctx.state.enqueue(
            f"evaluate:{project.name}:{job.payload['new']}",
            "evaluate",
            {"project": project.name, "reason": "commit"},
        )
    ctx.log(
        f"{project.name}: {count(len(changed), 'file')} changed; re-indexed {count(len(deps), 'dependency file')} ({count(len(components), 'component')})"
    )
