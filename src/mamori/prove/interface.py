"""Proofs of vulnerability: for each web finding, a real request that shows the sink is reachable.

:func:`prove_findings` builds, for every code finding whose source is a web request and whose
class has an oracle (:mod:`mamori.prove.oracles`), requests from the finding's trace
(:mod:`mamori.prove._request`), each carrying a unique canary; the app is started in the
sandbox the way its users start it (:mod:`mamori.prove._apps`) and the harness replays the
requests through the framework's test client. Every finding gets a :class:`~mamori.model.Proof`
with a status and a reason — a proof that could not be built says why, never silently.

:func:`pov_fires` is what ``mamori fix`` calls: does a finding's proof still fire on a
(patched) scratch copy?
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mamori._text import count
from mamori.model import Finding, Proof
from mamori.prove import _request
from mamori.prove._apps import AppSpec, find_apps, framework_of_file, imports_of, specs_for
from mamori.prove._run import (
    COMPAT_ERRORS,
    START_HINT,
    Batch,
    app_environment,
    explain_missing,
    run_batch,
    sandbox_reason,
    scratch_copy,
)
from mamori.prove.oracles import Canary, Family, Verdict, family_for

NO_CLASS = "no proof for this class"
NOT_WEB = "the input is not a web request (no request can carry it)"
_FRAMEWORK_NAMES = {
    "flask": "Flask",
    "django": "Django",
    "asgi": "FastAPI/Starlette",
    "aiohttp": "aiohttp",
    "tornado": "Tornado",
    "wsgi": "WSGI",
    "httpserver": "http.server",
}
_WEB_FRAMEWORKS = ("django", "flask", "asgi", "aiohttp", "tornado", "wsgi", "httpserver")


@dataclass(frozen=True, slots=True)
class ProveStats:
    """Figures of one run (for progress, benchmarks and ``--format table``'s footer)."""

    attempted: int = 0
    proven: int = 0
    requests: int = 0
    seconds: float = 0.0
    startup: float = 0.0
    environment: str = ""
    """How the app's interpreter was had (given, cached, installed; pins left out are named)."""


@dataclass(slots=True)
class _Job:
    index: int
    finding: Finding
    family: Family
    plan: _request.Plan
    framework: str
    canary: Canary
    requests: list[dict[str, Any]]


def _requests_for(
    key: str, finding: Finding, family: Family, plan: _request.Plan, canary: Canary
) -> list[dict[str, Any]]:
    """Concrete requests: each payload in the precise place first, then under every name tried."""
    steps = [[s.path, s.line] for s in finding.trace]
    out: list[dict[str, Any]] = []
    extras = [{"place": e.place, "name": e.name, "value": e.value} for e in plan.extras]
    shapes: list[list[tuple[str, str, bool, str]]] = []
    precise = [(c.place, c.name, c.name_is_payload, c.value) for c in plan.carriers]
    if precise:
        shapes.append(precise)
    # a broader request when the precise one may miss: every name the route uses, in every place
    broad: list[tuple[str, str, bool, str]] = []
    for lit in plan.literals[:12]:
        for place in ("query", "form", "cookie", "header"):
            broad.append((place, lit, False, ""))
        broad.append(("form", "", True, lit))
    if broad:
        shapes.append(broad)
    n = 0
    for shape in shapes:
        for payload in family.payloads(canary):
            inputs: list[dict[str, Any]] = []
            for place, name, name_is_payload, value in shape:
                if name_is_payload:
                    inputs.append({"place": place, "name": payload, "value": value or "x"})
                else:
                    inputs.append({"place": place, "name": name, "value": payload})
            inputs += [
                e
                for e in extras
                if not any(i["name"] == e["name"] and i["place"] == e["place"] for i in inputs)
            ]
            out.append(
                {
                    "id": key,
                    "attempt": n,
                    "steps": steps,
                    "method": plan.method,
                    "inputs": inputs,
                    "marks": canary.marks,
                    "payload": payload,
                }
            )
            n += 1
    return out


def _framework(root: Path, finding: Finding, available: set[str]) -> str:
    source = _request.source_name(finding)
    if source.startswith(("flask.", "werkzeug.")):
        return "flask"
    if source.startswith("tornado."):
        return "tornado"
    if source.startswith("http.server."):
        return "httpserver"
    if "WSGI environ" in finding.trace[0].note:
        return "wsgi"
    found: set[str] = set()
    for step in (finding.trace[0], finding.trace[-1]):
        found |= framework_of_file(root / step.path)
    for fw in _WEB_FRAMEWORKS:
        if fw in found and fw in available:
            return fw
    for fw in _WEB_FRAMEWORKS:
        if fw in found:
            return fw
    return next(iter(sorted(available)), "wsgi")


def _relative(proof: Proof, scratch: Path, venv: Path | None = None) -> Proof:
    """Paths of the scratch copy shown relative to the project (no machine path in a report);
    those of mamori's scratch virtualenv (``venv``) named as such."""
    prefix = str(scratch) + "/"

    def fix(value: object) -> object:
        if isinstance(value, str):
            value = value.replace(prefix, "").replace(str(scratch), ".").replace(sys.base_prefix, "<python>")
            return value.replace(str(venv), "<scratch virtualenv>") if venv is not None else value
        return value

    observed = {k: fix(v) for k, v in proof.observed.items()} if proof.observed else proof.observed
    return replace(proof, reason=str(fix(proof.reason)), observed=observed)


def _judge(job: _Job, observations: list[dict[str, Any]], crashed: str) -> Proof:
    by_attempt = {int(o.get("attempt", 0)): o for o in observations}
    negatives: list[tuple[Verdict, dict[str, Any]]] = []
    for req in job.requests:
        obs = by_attempt.get(req["attempt"])
        if obs is None:
            continue
        verdict = job.family.judge(obs, job.canary, req["payload"])
        if verdict is None:
            continue
        if verdict.proven:
            observed: dict[str, object] = {
                "sink": verdict.sink,
                "value": verdict.value,
                "framework": job.framework,
                "canary": job.canary.token,
                "payload": req["payload"],
            }
            if verdict.where.get("path"):
                observed["path"] = str(verdict.where["path"])
                observed["line"] = int(verdict.where.get("line", 0))
            route = obs.get("route") or {}
            if route.get("path"):
                observed["route"] = str(route["path"])
            resp = obs.get("response") or {}
            if resp.get("status") is not None:
                observed["status"] = int(resp["status"])
            return Proof("proven", verdict.reason, _clean_request(obs.get("request")), observed)
        negatives.append((verdict, obs))
    if negatives:
        verdict, obs = negatives[0]
        return Proof("not_proven", verdict.reason, _clean_request(obs.get("request")), None)
    reason = _why_not(observations, crashed)
    if any(c.place == "header" and c.name_is_payload for c in job.plan.carriers) and not crashed:
        reason = (
            "the input is the name of a request header, which HTTP case-folds and restricts to token "
            f"characters: it cannot carry this payload ({reason})"
        )
    return Proof("not_proven", reason, _clean_request(_first_request(observations)), None)


def _first_request(observations: list[dict[str, Any]]) -> Any:
    return next((o.get("request") for o in observations if o.get("request")), None)


def _clean_request(raw: Any) -> dict[str, object] | None:
    return dict(raw) if isinstance(raw, dict) else None


def _why_not(observations: list[dict[str, Any]], crashed: str) -> str:
    """Why no request reached the sink, from what the responses say."""
    if crashed:
        return crashed
    if not observations:
        return "no request was sent (the app's process ended before)"
    errors = [str(o["error"]) for o in observations if o.get("error")]
    if len(errors) == len(observations):
        return errors[0]
    statuses = [int((o.get("response") or {}).get("status", 0)) for o in observations if o.get("response")]
    locations = [
        str(v)
        for o in observations
        for k, v in (o.get("response") or {}).get("headers") or []
        if str(k).lower() == "location"
    ]
    if statuses and all(s in (401, 403) for s in statuses):
        return f"the route needs authentication mamori could not obtain (HTTP {statuses[0]})"
    if (
        statuses
        and all(300 <= s < 400 for s in statuses)
        and any("login" in loc.lower() for loc in locations)
    ):
        return f"the route needs authentication mamori could not obtain (redirect to {locations[0]})"
    exceptions = [str(o["exception"]) for o in observations if o.get("exception")]
    if exceptions and len(exceptions) == len(observations):
        return f"every request raised before the sink: {exceptions[0][:300]}"
    if statuses and all(s == 404 for s in statuses):
        return "every request was answered 404: the route's path parameters could not be satisfied"
    shown = ", ".join(sorted({str(s) for s in statuses})) or "no response"
    return (
        f"{count(len(observations), 'request')} (HTTP {shown}) did not bring the canary to the sink: a branch "
        "condition was not satisfied, or the input was transformed or sanitised on the way"
    )


def prove_findings(
    root: Path,
    findings: Sequence[Finding],
    *,
    python: Path | None = None,
    offline: bool = False,
    unsafe: bool = False,
    timeout: float = 10.0,
    progress: Any = None,
    stats: Callable[[ProveStats], None] | None = None,
) -> list[Proof | None]:
    """A proof for each finding (None for dependency findings), in the order given.

    ``python`` is the app's interpreter (else ``MAMORI_FIX_PYTHON``, else a cached scratch
    virtualenv of the project's pinned packages, which ``offline`` forbids: then the proofs are
    ``not_attempted``, "no environment: pass --python or drop --offline");
    ``unsafe`` runs the app without a sandbox when none can be had (tests, the demo).
    ``progress`` follows the stages' progress protocol (``start``, ``advance``, ``finish``).
    """
    root = Path(root).resolve()
    proofs: list[Proof | None] = [None] * len(findings)
    jobs: list[_Job] = []
    apps = find_apps(root)
    available = {a.framework for a in apps}
    for i, f in enumerate(findings):
        if f.kind != "code":
            continue
        family = family_for(f.rule_id, f.cwe)
        if family is None:
            proofs[i] = Proof("not_attempted", NO_CLASS)
            continue
        if not _request.is_web_source(f):
            proofs[i] = Proof("not_attempted", NOT_WEB)
            continue
        plan = _request.plan_for(root, f)
        if plan is None:
            proofs[i] = Proof(
                "not_proven", f"the source line {f.trace[0].path}:{f.trace[0].line} could not be read"
            )
            continue
        jobs.append(_Job(i, f, family, plan, _framework(root, f, available), Canary.new(), []))
    reason = sandbox_reason(unsafe)
    if reason is not None:
        for job in jobs:
            proofs[job.index] = Proof("not_attempted", reason)
        return proofs
    if not jobs:
        return proofs
    by_framework: dict[tuple[str, tuple[AppSpec, ...]], list[_Job]] = {}
    for job in jobs:
        job.requests = _requests_for(str(job.index), job.finding, job.family, job.plan, job.canary)
        if not job.requests:
            src = job.finding.trace[0]
            proofs[job.index] = Proof(
                "not_proven", f"no request could be built: {src.path}:{src.line} names no request parameter"
            )
            continue
        # a project of several apps of one framework: the app nearest the finding's file first
        order = tuple(
            specs_for([a for a in apps if a.framework == job.framework], job.finding.trace[-1].path)
        )
        by_framework.setdefault((job.framework, order), []).append(job)
    if not by_framework:
        return proofs
    if progress is not None and python is None:
        progress.start("preparing the app's environment")
    imported: set[str] = set()
    wanted = {fw for fw, _order in by_framework}
    for spec in apps:
        if spec.framework in wanted:
            imported |= imports_of(root, spec) | {spec.framework}
    app_python, how = app_environment(
        root, python, offline=offline, unsafe=unsafe, frameworks=frozenset(imported)
    )
    auto = python is None and not os.environ.get("MAMORI_FIX_PYTHON")
    venv = app_python.parent.parent if auto and app_python is not None else None
    if progress is not None and python is None:
        progress.finish()
    if app_python is None:
        for members in by_framework.values():
            for job in members:
                proofs[job.index] = Proof("not_attempted", how)
        return proofs
    if progress is not None:
        progress.start("proving findings", total=len(jobs))
    figures = ProveStats(attempted=len(jobs), environment=how)
    scratch = scratch_copy(root)
    try:
        for (framework, order), members in by_framework.items():
            specs: list[AppSpec] = list(order)
            if not specs:
                name = _FRAMEWORK_NAMES.get(framework, framework)
                for job in members:
                    proofs[job.index] = Proof(
                        "not_proven", f"app would not start: no {name} application found in the project"
                    )
                    if progress is not None:
                        progress.advance()
                continue
            files: dict[str, str] = {}
            for job in members:
                files.update(job.family.files(job.canary))
            requests = [r for job in members for r in job.requests]
            last_done: dict[str, int] = {
                job.requests[-1]["id"]: job.requests[-1]["attempt"] for job in members
            }

            def on_result(msg: dict[str, Any], last_done: dict[str, int] = last_done) -> None:
                if progress is not None and last_done.get(str(msg.get("id"))) == msg.get("attempt"):
                    progress.advance()

            run = functools.partial(
                run_batch,
                scratch,
                framework,
                specs,
                requests,
                files=files,
                unsafe=unsafe,
                timeout=timeout,
                on_result=on_result,
            )

            batch: Batch = run(python=app_python)
            newer_how = ""
            # pins with no wheel for this Python, installed at the nearest release that has one
            env_note = (
                how[how.index("no wheel of the pin") :].split("; left out")[0]
                if auto and "no wheel of the pin" in how
                else ""
            )
            if auto and batch.start_error and any(e in batch.start_error for e in COMPAT_ERRORS):
                # pins too old for this Python (Werkzeug 0.14 on 3.11): the newest releases instead
                newer, newer_how = app_environment(
                    root, None, offline=offline, unsafe=unsafe, frameworks=frozenset(imported), newest=True
                )
                if newer is not None:
                    again = run(python=newer)
                    if again.start_error:
                        batch.start_error += (
                            f"; with the newest releases of its packages: {again.start_error[:300]}"
                        )
                    else:
                        env_note = (
                            "the newest releases of the project's packages (with its pins the app "
                            f"would not start on this Python: {batch.start_error[:200]})"
                        )
                        batch = again
            figures = replace(
                figures,
                requests=figures.requests + sum(len(v) for v in batch.results.values()),
                seconds=figures.seconds + batch.seconds,
                startup=figures.startup + batch.startup,
            )
            for job in members:
                if batch.start_error and not batch.results.get(str(job.index)):
                    hint = START_HINT if auto and "Error" in batch.start_error else ""
                    why = explain_missing(batch.start_error, how, newer_how) if auto else batch.start_error
                    proofs[job.index] = _relative(Proof("not_proven", why + hint), scratch, venv)
                else:
                    proof = _judge(
                        job, batch.results.get(str(job.index), []), batch.crashed.get(str(job.index), "")
                    )
                    if env_note and proof.observed is not None:
                        proof = replace(proof, observed={**proof.observed, "environment": env_note})
                    if batch.prepared and proof.observed is not None:
                        proof = replace(
                            proof, observed={**proof.observed, "prepared": "; ".join(batch.prepared)}
                        )
                    failed = [p for p in batch.prepared if "(it failed:" in p]
                    if failed and proof.status == "not_proven":
                        proof = replace(
                            proof, reason=f"{proof.reason} (preparing the app: {'; '.join(failed)})"
                        )
                    proofs[job.index] = _relative(proof, scratch, venv)
    finally:
        shutil.rmtree(scratch.parent, ignore_errors=True)
        if progress is not None:
            progress.finish()
    figures = replace(figures, proven=sum(1 for p in proofs if p is not None and p.status == "proven"))
    if stats is not None:
        stats(figures)
    return proofs


def apply_proofs(findings: Sequence[Finding], proofs: Sequence[Proof | None]) -> list[Finding]:
    """The findings with their proofs attached (dependency findings unchanged)."""
    return [f if p is None else replace(f, proof=p) for f, p in zip(findings, proofs, strict=True)]


def pov_fires(
    root: Path, finding: Finding, *, python: Path | None = None, offline: bool = False, unsafe: bool = False
) -> bool | None:
    """Does ``finding``'s proof fire on the project at ``root`` (e.g. a patched scratch copy)?

    True: proven there; False: a request was sent and did not prove it; None: no proof could be
    attempted (no class, no web source, no sandbox). ``mamori fix`` calls this before and after
    a patch: a code fix is proven when it fires before and not after.
    """
    proof = prove_findings(root, [finding], python=python, offline=offline, unsafe=unsafe)[0]
    if proof is None or proof.status == "not_attempted":
        return None
    return proof.status == "proven"
