"""Generators and measuring helpers shared by the benchmarks.

The benchmarks need inputs bigger or more varied than any fixture: requirement files pinned to
versions the real PyPA advisories enumerate, a synthetic OSV database of realistic shape and a
CycloneDX SBOM that hits part of it. Everything here is deterministic (seeded) so two runs
measure the same work. Nothing here is imported by mamori itself.
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PYPA_VULNS = SHARED_DATA / "pypa-advisory-db" / "vulns"
# mamori's package data, by path: the benchmarks run the `mamori` command and import none of it
PACKAGE = REPO / "src" / "mamori"
DEMO_SAMPLE = PACKAGE / "demo" / "sample"
DEMO_ADVISORIES = PACKAGE / "demo" / "advisories"
BUNDLED_RULES = PACKAGE / "detect" / "rules"
CODE_CACHE_RACY_SECONDS = 2
"""The code cache trusts a file's stat record only when its ctime is this much older than the
scan that recorded it (``mamori.analysis.RACY_SECONDS``)."""


# -- running the CLI with measurements -----------------------------------------------------------

_WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:])\n"
    "el = time.perf_counter() - t\n"
    "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stderr.write(f'\\n@@measure {p.returncode} {el} {rss}\\n')\n"
    "sys.exit(p.returncode)\n"
)


@dataclass(frozen=True)
class Measured:
    """One command's outcome: exit code, output, wall-clock seconds and peak RSS (KiB)."""

    code: int
    out: str
    err: str
    seconds: float
    peak_rss_kib: int


def run_measured(args: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> Measured:
    """Run ``args`` under a fresh wrapper process so its peak RSS is its own, not the maximum
    over every child this benchmark started before."""
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *args], env=env, cwd=cwd, capture_output=True, text=True
    )
    err, _, tail = proc.stderr.rpartition("@@measure ")
    code, seconds, rss = tail.split()
    return Measured(int(code), proc.stdout, err, float(seconds), int(rss))


@dataclass(frozen=True)
class Run:
    """One child process measured alone: CPU seconds (user+sys), wall, peak RSS, exit, output."""

    cpu: float
    wall: float
    rss_mb: float
    code: int
    stdout: str


_WAIT4 = (
    "import os, sys, time\n"
    "t = time.perf_counter()\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execvp(sys.argv[1], sys.argv[1:])\n"
    "_, status, u = os.wait4(pid, 0)\n"
    "el = time.perf_counter() - t\n"
    "sys.stderr.write(f'\\n@@wait4 {os.waitstatus_to_exitcode(status)} {el} {u.ru_utime + u.ru_stime} {u.ru_maxrss}\\n')\n"
)


def run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run ``cmd`` and measure that child alone (``os.wait4`` in a small launcher: a child
    forked from a benchmark that holds generated data would start with its pages, and Linux
    keeps them in the child's peak RSS across exec)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        subprocess.run(
            [sys.executable, "-c", _WAIT4, *cmd], stdout=out, stderr=err, env=env, cwd=cwd, check=False
        )
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
        err.seek(0)
        tail = err.read().decode("utf-8", errors="replace").rpartition("@@wait4 ")[2].split()
    code, wall, cpu, rss_kib = int(tail[0]), float(tail[1]), float(tail[2]), int(tail[3])
    # ru_maxrss is in KiB on Linux
    return Run(cpu, wall, rss_kib / 1024, code, text)


def summary(name: str, runs: list[Run]) -> float:
    cpus = sorted(r.cpu for r in runs)
    walls = sorted(r.wall for r in runs)
    med = statistics.median(cpus)
    print(
        f"{name:<26} CPU s {med:7.2f} (spread {cpus[0]:.2f}-{cpus[-1]:.2f})   wall s "
        f"{statistics.median(walls):7.2f} (spread {walls[0]:.2f}-{walls[-1]:.2f})   peak RSS "
        f"{max(r.rss_mb for r in runs):6.0f} MB   runs: "
        + ", ".join(f"{c:.2f}" for c in (r.cpu for r in runs))
    )
    return med


def mamori_cmd() -> list[str]:
    """The CLI as a subprocess command (the installed entry point of this interpreter)."""
    script = Path(sys.executable).with_name("mamori")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mamori"]


def self_peak_rss_kib() -> int:
    """Peak RSS of this process so far (KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# -- PyPA pins ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PyPARecord:
    """What the matching benchmark needs of one PyPA advisory."""

    id: str
    package: str
    aliases: tuple[str, ...]
    versions: frozenset[str]
    ranges: tuple[tuple[tuple[str, str], ...], ...]
    """ECOSYSTEM ranges as (event kind, version) tuples."""
    withdrawn: bool


def load_pypa(vulns: Path = PYPA_VULNS) -> list[PyPARecord]:
    """Every PyPA advisory (one YAML file each) with its explicit versions and ranges."""
    records: list[PyPARecord] = []
    for path in sorted(vulns.glob("*/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for aff in data.get("affected", []):
            ranges = tuple(
                tuple((k, str(v)) for e in r["events"] for k, v in e.items())
                for r in aff.get("ranges", [])
                if r.get("type") == "ECOSYSTEM"
            )
            records.append(
                PyPARecord(
                    id=data["id"],
                    package=aff["package"]["name"],
                    aliases=tuple(data.get("aliases") or ()),
                    versions=frozenset(str(v) for v in aff.get("versions") or ()),
                    ranges=ranges,
                    withdrawn=bool(data.get("withdrawn")),
                )
            )
    return records


def _pep440(v: str) -> Version | None:
    try:
        return Version(v)
    except InvalidVersion:
        return None


def in_ecosystem_range(version: str, events: Sequence[tuple[str, str]]) -> bool:
    """OSV ECOSYSTEM range semantics with PEP 440 ordering (independent of mamori)."""
    target = _pep440(version)
    if target is None:
        return False
    parsed: list[tuple[str, Version | None]] = []
    for kind, value in events:
        if value == "0":
            parsed.append((kind, None))
        elif (pv := _pep440(value)) is not None:
            parsed.append((kind, pv))
        else:
            return False  # a git hash in an ECOSYSTEM range: not comparable
    parsed.sort(key=lambda kv: (kv[1] is not None, kv[1] or Version("0")))
    affected = False
    for kind, pv in parsed:
        if kind == "introduced" and (pv is None or target >= pv):
            affected = True
        elif (kind == "fixed" and pv is not None and target >= pv) or (
            kind == "last_affected" and pv is not None and target > pv
        ):
            affected = False
    return affected


def choose_pins(
    records: Sequence[PyPARecord], n_packages: int = 300, per_package: int = 4, seed: int = 2661
) -> dict[str, list[str]]:
    """Old pins for ``n_packages`` packages: versions the advisories enumerate (affected) and
    versions exactly at a ``fixed`` boundary (usually not affected), at most ``per_package``."""
    rng = random.Random(seed)
    by_pkg: dict[str, list[PyPARecord]] = {}
    for rec in records:
        if not rec.withdrawn:
            by_pkg.setdefault(rec.package, []).append(rec)
    names = sorted(by_pkg)
    rng.shuffle(names)
    pins: dict[str, list[str]] = {}
    for name in names:
        if len(pins) >= n_packages:
            break
        listed = sorted({v for r in by_pkg[name] for v in r.versions if _pep440(v)}, key=Version)
        fixed = sorted(
            {v for r in by_pkg[name] for rng_ in r.ranges for k, v in rng_ if k == "fixed" and _pep440(v)},
            key=Version,
        )
        chosen: list[str] = []
        if listed:
            chosen.extend(rng.sample(listed, min(len(listed), per_package - 1)))
        if fixed:
            chosen.append(rng.choice(fixed))
        chosen = list(dict.fromkeys(chosen))[:per_package]
        if chosen:
            pins[name] = chosen
    return pins


def write_requirement_files(pins: dict[str, list[str]], folder: Path) -> list[Path]:
    """One ``requirements-NN.txt`` per round, so each file pins a package once."""
    folder.mkdir(parents=True, exist_ok=True)
    rounds = max((len(v) for v in pins.values()), default=0)
    written: list[Path] = []
    for i in range(rounds):
        lines = [f"{name}=={versions[i]}" for name, versions in sorted(pins.items()) if i < len(versions)]
        path = folder / f"requirements-{i + 1:02d}.txt"
        path.write_text("# generated by benchmarks/bench_matching_pypa.py\n" + "\n".join(lines) + "\n")
        written.append(path)
    return written


# -- a synthetic OSV database and SBOM --------------------------------------------------------------

_WORDS = [
    "amber",
    "axis",
    "beacon",
    "birch",
    "canal",
    "cedar",
    "cinder",
    "comet",
    "coral",
    "delta",
    "drift",
    "ember",
    "fable",
    "falcon",
    "fern",
    "flint",
    "forge",
    "frost",
    "garnet",
    "glade",
    "harbor",
    "hazel",
    "helix",
    "indigo",
    "iris",
    "jade",
    "juniper",
    "kelp",
    "kestrel",
    "lagoon",
    "lantern",
    "larch",
    "lumen",
    "maple",
    "marble",
    "meadow",
    "mesa",
    "nectar",
    "nimbus",
    "nova",
    "oak",
    "onyx",
    "orbit",
    "otter",
    "pebble",
    "pine",
    "plume",
    "prism",
    "quartz",
    "quill",
    "raven",
    "reef",
    "ridge",
    "river",
    "saffron",
    "sable",
    "sage",
    "shale",
    "sierra",
    "slate",
    "sparrow",
    "spruce",
    "summit",
    "tide",
    "timber",
    "topaz",
    "tundra",
    "umber",
    "vale",
    "vapor",
    "velvet",
    "willow",
    "wren",
    "yarrow",
    "zephyr",
    "zinc",
]
_SUFFIXES = [
    "core",
    "utils",
    "client",
    "server",
    "parser",
    "cli",
    "http",
    "auth",
    "cache",
    "config",
    "log",
    "io",
    "codec",
    "sdk",
    "api",
]

ECOSYSTEMS = ("PyPI", "npm", "Maven", "Go", "crates.io")


@dataclass(frozen=True)
class SynthPackage:
    """A package of the synthetic universe: ecosystem, OSV name and purl (without version)."""

    ecosystem: str
    name: str
    purl_base: str


def _package(eco: str, i: int, rng: random.Random) -> SynthPackage:
    a, b = rng.choice(_WORDS), rng.choice(_WORDS)
    s = rng.choice(_SUFFIXES)
    if eco == "PyPI":
        name = f"{a}-{b}-{s}-{i}"
        return SynthPackage(eco, name, f"pkg:pypi/{name}")
    if eco == "npm":
        if i % 4 == 0:
            name = f"@{a}/{b}-{s}-{i}"
            return SynthPackage(eco, name, f"pkg:npm/%40{a}/{b}-{s}-{i}")
        name = f"{a}-{b}-{s}-{i}"
        return SynthPackage(eco, name, f"pkg:npm/{name}")
    if eco == "Maven":
        group, artifact = f"org.{a}.{b}", f"{b}-{s}-{i}"
        return SynthPackage(eco, f"{group}:{artifact}", f"pkg:maven/{group}/{artifact}")
    if eco == "Go":
        path = f"github.com/{a}{i}/{b}-{s}"
        return SynthPackage(eco, path, f"pkg:golang/{path}")
    name = f"{a}_{b}_{s}_{i}"
    return SynthPackage(eco, name, f"pkg:cargo/{name}")


def _ver(t: tuple[int, int, int]) -> str:
    return f"{t[0]}.{t[1]}.{t[2]}"


def _id(eco: str, n: int, rng: random.Random) -> str:
    if eco == "Go":
        return f"GO-{2019 + n % 7}-{n:06d}"
    if eco == "crates.io":
        return f"RUSTSEC-{2017 + n % 9}-{n:06d}"
    if eco == "PyPI" and n % 2:
        return f"PYSEC-{2014 + n % 11}-{n:06d}"
    alphabet = "23456789cfghjmpqrvwx"
    return "GHSA-" + "-".join("".join(rng.choice(alphabet) for _ in range(4)) for _ in range(3))


@dataclass(frozen=True)
class SynthAffected:
    """One affected interval, for computing which SBOM components must hit."""

    package: SynthPackage
    introduced: tuple[int, int, int]
    fixed: tuple[int, int, int] | None


def synth_advisories(count: int, seed: int = 200_000) -> Iterator[tuple[dict[str, Any], list[SynthAffected]]]:
    """``count`` OSV records of realistic shape, each with its affected intervals."""
    rng = random.Random(seed)
    n_packages = max(1, count // 3)
    universe = [_package(ECOSYSTEMS[i % len(ECOSYSTEMS)], i, rng) for i in range(n_packages)]
    for n in range(count):
        first = universe[rng.randrange(n_packages)]
        entries = [first]
        while len(entries) < 3 and rng.random() < 0.2:  # 1–3 affected packages, same ecosystem
            other = universe[rng.randrange(n_packages)]
            if other.ecosystem == first.ecosystem and other not in entries:
                entries.append(other)
        affected_json: list[dict[str, Any]] = []
        intervals: list[SynthAffected] = []
        for pkg in entries:
            major = rng.randint(0, 6)
            intro = (major, rng.randint(0, 5), 0) if rng.random() < 0.6 else (0, 0, 0)
            fix: tuple[int, int, int] | None = (major, intro[1] + rng.randint(1, 9), rng.randint(0, 12))
            if rng.random() < 0.05:
                fix = None  # no fix yet
            events: list[dict[str, str]] = [{"introduced": "0" if intro == (0, 0, 0) else _ver(intro)}]
            if fix is not None:
                events.append({"fixed": _ver(fix)})
            else:
                events.append({"last_affected": _ver((major, intro[1] + 1, 3))})
            rtype = (
                "SEMVER"
                if pkg.ecosystem in ("Go", "crates.io", "npm") and rng.random() < 0.7
                else "ECOSYSTEM"
            )
            entry: dict[str, Any] = {
                "package": {"ecosystem": pkg.ecosystem, "name": pkg.name, "purl": pkg.purl_base},
                "ranges": [{"type": rtype, "events": events}],
            }
            if pkg.ecosystem in ("PyPI", "Maven") and fix is not None and rng.random() < 0.3:
                entry["versions"] = [
                    _ver((major, m, p)) for m in range(intro[1], fix[1]) for p in range(0, 3)
                ][:40]
            if fix is not None:
                intervals.append(SynthAffected(pkg, intro, fix))
            affected_json.append(entry)
        vid = _id(first.ecosystem, n, rng)
        year = 2015 + n % 10
        record: dict[str, Any] = {
            "schema_version": "1.6.0",
            "id": vid,
            "modified": f"{year + 1}-0{1 + n % 9}-1{n % 10}T0{n % 10}:00:00Z",
            "published": f"{year}-0{1 + n % 9}-0{1 + n % 9}T12:00:00Z",
            "aliases": [f"CVE-{year}-{10000 + n}"] if rng.random() < 0.8 else [],
            "summary": f"{rng.choice(('Denial of service', 'Prototype pollution', 'Path traversal', 'SQL injection', 'Improper certificate validation', 'Cross-site scripting'))} in {first.name}",
            "details": "Synthetic advisory generated for the mamori scan-speed benchmark. " * 3,
            "affected": affected_json,
            "references": [{"type": "ADVISORY", "url": f"https://example.org/advisories/{vid}"}],
            "database_specific": {"cwe_ids": [f"CWE-{rng.choice((20, 22, 79, 89, 400, 1321))}"]},
        }
        if rng.random() < 0.7:
            record["severity"] = [
                {
                    "type": "CVSS_V3",
                    "score": f"CVSS:3.1/AV:N/AC:{rng.choice('LH')}/PR:N/UI:N/S:U/C:H/I:{rng.choice('NLH')}/A:N",
                }
            ]
        yield record, intervals


def write_osv_zip(count: int, path: Path, seed: int = 200_000) -> list[SynthAffected]:
    """Write ``count`` synthetic advisories as one osv.dev-style zip; returns the intervals."""
    intervals: list[SynthAffected] = []
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for record, ivs in synth_advisories(count, seed):
            zf.writestr(f"{record['id']}.json", json.dumps(record, separators=(",", ":")))
            intervals.extend(ivs)
    return intervals


def _purl_version(pkg: SynthPackage, v: str) -> str:
    return f"{pkg.purl_base}@{'v' + v if pkg.ecosystem == 'Go' else v}"


def write_sbom(
    intervals: Sequence[SynthAffected],
    path: Path,
    components: int = 10_000,
    hit_share: float = 0.1,
    seed: int = 7,
) -> int:
    """A CycloneDX 1.6 JSON SBOM of ``components`` components, about ``hit_share`` of them at a
    version inside a synthetic advisory's interval. Returns how many were placed to hit."""
    rng = random.Random(seed)
    by_pkg: dict[SynthPackage, list[SynthAffected]] = {}
    for iv in intervals:
        by_pkg.setdefault(iv.package, []).append(iv)
    hittable = list(by_pkg)
    rng.shuffle(hittable)
    comps: list[dict[str, Any]] = []
    hits = 0
    used: set[str] = set()
    n_hits = int(components * hit_share)
    for pkg in hittable[:n_hits]:
        iv = by_pkg[pkg][0]
        assert iv.fixed is not None
        v = _ver(iv.introduced) if iv.introduced != (0, 0, 0) else "0.0.1"
        comps.append(_component(pkg, v))
        used.add(pkg.purl_base)
        hits += 1
    i = 0
    while len(comps) < components:
        pkg = _package(ECOSYSTEMS[i % len(ECOSYSTEMS)], 10_000_000 + i, rng)  # outside the universe
        i += 1
        if pkg.purl_base in used:
            continue
        used.add(pkg.purl_base)
        comps.append(_component(pkg, _ver((rng.randint(0, 9), rng.randint(0, 20), rng.randint(0, 30)))))
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2026-01-01T00:00:00Z",
            "component": {"type": "application", "name": "bench-app", "version": "1.0.0", "bom-ref": "root"},
        },
        "components": comps,
    }
    path.write_text(json.dumps(bom), encoding="utf-8")
    return hits


def _component(pkg: SynthPackage, version: str) -> dict[str, Any]:
    purl = _purl_version(pkg, version)
    if pkg.ecosystem == "Maven":
        group, name = pkg.name.split(":", 1)
        return {
            "type": "library",
            "group": group,
            "name": name,
            "version": version,
            "purl": purl,
            "bom-ref": purl,
        }
    return {"type": "library", "name": pkg.name, "version": version, "purl": purl, "bom-ref": purl}


def now() -> float:
    """Wall-clock seconds for timing."""
    return time.perf_counter()
