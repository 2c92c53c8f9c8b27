"""Differential tests: mamori's orderings against the ecosystems' own tools.

Each test batches many generated pairs (hypothesis, bounded) and the hard-case tables into one
call of the real implementation and skips with the install command when the tool is absent:

* dpkg — ``dpkg --compare-versions`` (Debian/Ubuntu base system)
* rpm — ``apt-get install -y rpm`` (``rpm --eval`` with the Lua ``rpm.vercmp``)
* npm semver — ``npm install semver`` in a folder named by ``MAMORI_NODE_MODULES`` or in
  ``/tmp/mamori-semver`` (``cd /tmp/mamori-semver && npm install semver``)
* Maven ComparableVersion — ``java``/``javac`` plus ``maven-artifact-*.jar`` in ``~/.m2`` (``mvn
  dependency:get -Dartifact=org.apache.maven:maven-artifact:3.9.6``)
* RubyGems — ``apt-get install -y ruby``
* PHP ``version_compare`` (Composer's comparison after normalisation) — ``apt-get install -y php-cli``
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.advisories.versions import compare, is_valid
from mamori.advisories.versions._packagist import normalize_composer, php_key

Pair = tuple[str, str]
BATCH = 200
_SETTINGS = settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _pairs(version: st.SearchStrategy[str]) -> st.SearchStrategy[list[Pair]]:
    return st.lists(st.tuples(version, version), min_size=BATCH, max_size=BATCH)


def _check(ecosystem: str, pairs: Sequence[Pair], oracle: Callable[[Sequence[Pair]], list[int]]) -> None:
    expected = oracle(pairs)
    mismatches = [
        (a, b, exp, compare(ecosystem, a, b))
        for (a, b), exp in zip(pairs, expected, strict=True)
        if compare(ecosystem, a, b) != exp
    ]
    assert not mismatches, mismatches[:10]


def _pieces(alphabet: Sequence[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(alphabet), min_size=1, max_size=6).map("".join)


# --- dpkg -------------------------------------------------------------------------------------

_DEB_PART = _pieces(["0", "1", "2", "10", "01", ".", "~", "+", "a", "b", "z", "rc", "~rc1", "-1"])
DEB_VERSION = st.builds(
    lambda epoch, up, rev: f"{epoch}1{up}{rev}",
    st.sampled_from(["", "0:", "1:", "2:"]),
    _DEB_PART.map(lambda s: s.replace("-", "")),
    st.sampled_from(["", "-1", "-0", "-1ubuntu1", "-1~bpo1", "-2+deb12u1", "-a"]),
)

DEB_TABLE: list[Pair] = [
    ("1.0~rc1", "1.0"),
    ("1.0~~", "1.0~"),
    ("1.0", "1.0-0"),
    ("1.0", "1.0."),
    ("1.0", "1.0.0"),
    ("1:0.9", "2.0"),
    ("1.0a", "1.0+"),
    ("1.0-1~bpo1", "1.0-1"),
    ("2.30-1+deb12u1", "2.30-1"),
    ("1.0", "1.00"),
]


def _dpkg(pairs: Sequence[Pair]) -> list[int]:
    out = []
    for a, b in pairs:
        if subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0:
            out.append(-1)
        elif subprocess.run(["dpkg", "--compare-versions", a, "eq", b], check=False).returncode == 0:
            out.append(0)
        else:
            out.append(1)
    return out


needs_dpkg = pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg not installed (Debian base)")


@needs_dpkg
@_SETTINGS
@given(_pairs(DEB_VERSION))
def test_dpkg_agrees_on_generated_pairs(pairs: list[Pair]) -> None:
    _check("Debian", pairs, _dpkg)


@needs_dpkg
def test_dpkg_agrees_on_hard_cases() -> None:
    _check("Debian", DEB_TABLE + [(b, a) for a, b in DEB_TABLE], _dpkg)


# --- rpm --------------------------------------------------------------------------------------

RPM_VERSION = st.builds(
    lambda epoch, ver, rel: f"{epoch}{ver}{rel}",
    st.sampled_from(["", "0:", "1:", "3:"]),
    _pieces(["1", "2", "10", "010", ".", "~", "^", "a", "b", "rc", "_", "+", "git1"]).map(lambda s: "1" + s),
    st.sampled_from(["-1", "-2", "-1.el9", "-1.el9_2", "-10.fc38", "-1~beta", "-1^post"]),
)

RPM_TABLE: list[Pair] = [
    ("1.0~rc1-1", "1.0-1"),
    ("1.0-1", "1.0^git1-1"),
    ("1.0^git1-1", "1.0.1-1"),
    ("1.0a-1", "1.0.1-1"),
    ("1.0-1", "1:0.1-1"),
    ("1.0-1.el9", "1.0-1.el9_2"),
    ("1.010-1", "1.10-1"),
    ("1.0_1-1", "1.0.1-1"),
    ("2.a-1", "2.1-1"),
    ("1.0", "1.0-1"),
]


def _rpm(pairs: Sequence[Pair]) -> list[int]:
    lua = "".join(f"print(rpm.vercmp({json.dumps(a)}, {json.dumps(b)}) .. ' ') " for a, b in pairs)
    proc = subprocess.run(["rpm", "--eval", f"%{{lua: {lua}}}"], capture_output=True, text=True, check=True)
    return [_sign(int(x)) for x in proc.stdout.split()]


needs_rpm = pytest.mark.skipif(
    shutil.which("rpm") is None, reason="rpm not installed: apt-get install -y rpm"
)


@needs_rpm
@_SETTINGS
@given(_pairs(RPM_VERSION))
def test_rpm_agrees_on_generated_pairs(pairs: list[Pair]) -> None:
    _check("Red Hat", pairs, _rpm)


@needs_rpm
def test_rpm_agrees_on_hard_cases() -> None:
    _check("Rocky Linux", RPM_TABLE + [(b, a) for a, b in RPM_TABLE], _rpm)


# --- npm semver -------------------------------------------------------------------------------

_IDENT = st.sampled_from(["alpha", "beta", "rc", "0", "1", "2", "10", "x-y", "a1", "1a"])
SEMVER_VERSION = st.builds(
    lambda core, pre, build: core + (("-" + ".".join(pre)) if pre else "") + build,
    st.tuples(*[st.sampled_from(["0", "1", "2", "10"])] * 3).map(".".join),
    st.lists(_IDENT, max_size=3),
    st.sampled_from(["", "+build.1", "+001", "+sha.abc"]),
)

SEMVER_TABLE: list[Pair] = [
    ("1.0.0-alpha", "1.0.0-alpha.1"),
    ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
    ("1.0.0-alpha.beta", "1.0.0-beta"),
    ("1.0.0-beta.2", "1.0.0-beta.11"),
    ("1.0.0-rc.1", "1.0.0"),
    ("1.0.0+build.1", "1.0.0+build.2"),
    ("1.0.0-2", "1.0.0-10"),
    ("1.0.0-10", "1.0.0-1a"),
]


def _node_modules() -> Path | None:
    for base in (os.environ.get("MAMORI_NODE_MODULES"), "/tmp/mamori-semver/node_modules"):
        if base and (Path(base) / "semver" / "package.json").is_file():
            return Path(base)
    return None


def _npm_semver(pairs: Sequence[Pair]) -> list[int]:
    modules = _node_modules()
    assert modules is not None
    script = (
        "const s=require('semver');let d='';process.stdin.on('data',c=>d+=c).on('end',()=>"
        "{console.log(JSON.stringify(JSON.parse(d).map(([a,b])=>s.compare(a,b))))})"
    )
    env = {**os.environ, "NODE_PATH": str(modules)}
    proc = subprocess.run(
        ["node", "-e", script], input=json.dumps(pairs), capture_output=True, text=True, check=True, env=env
    )
    return [int(x) for x in json.loads(proc.stdout)]


needs_node_semver = pytest.mark.skipif(
    shutil.which("node") is None or _node_modules() is None,
    reason="node semver absent: mkdir -p /tmp/mamori-semver && cd /tmp/mamori-semver && npm install semver",
)


@needs_node_semver
@_SETTINGS
@given(_pairs(SEMVER_VERSION))
def test_npm_semver_agrees_on_generated_pairs(pairs: list[Pair]) -> None:
    _check("npm", pairs, _npm_semver)


@needs_node_semver
def test_npm_semver_agrees_on_hard_cases() -> None:
    _check("npm", SEMVER_TABLE + [(b, a) for a, b in SEMVER_TABLE], _npm_semver)


# --- Maven ------------------------------------------------------------------------------------

MAVEN_VERSION = _pieces(
    ["1", "0", "2", "10", ".", "-", "alpha", "a1", "b2", "m1", "rc", "cr", "snapshot", "ga", "final",
     "release", "sp", "foo", "x", "SNAPSHOT", "RC1"]
)  # fmt: skip

MAVEN_TABLE: list[Pair] = [
    ("1-alpha", "1-beta"),
    ("1-beta", "1-milestone"),
    ("1-milestone", "1-rc"),
    ("1-rc", "1-cr"),
    ("1-rc", "1-snapshot"),
    ("1-snapshot", "1"),
    ("1", "1-ga"),
    ("1-final", "1-release"),
    ("1", "1-sp"),
    ("1-sp", "1-foo"),
    ("1-foo", "1-1"),
    ("1-1", "1.1"),
    ("1.0.0", "1"),
    ("1.0alpha1", "1.0-alpha-1"),
    ("1.0a1", "1.0-b1"),
    ("1.0-SNAPSHOT", "1.0"),
    ("2.0.0.RELEASE", "2.0.0"),
    ("1.0.0.Final", "1.0.1"),
    ("1-0.1", "1.0.1"),
    ("1.0-null", "1.0"),
]


def _maven_jar() -> Path | None:
    jars = sorted(
        (Path.home() / ".m2" / "repository" / "org/apache/maven/maven-artifact").glob("3.9.*/*.jar")
    )
    return jars[-1] if jars else None


_MAVEN_MAIN = """
import org.apache.maven.artifact.versioning.ComparableVersion;
import java.io.*;
public class Cmp { public static void main(String[] a) throws Exception {
  BufferedReader r = new BufferedReader(new InputStreamReader(System.in, "UTF-8")); String l;
  while ((l = r.readLine()) != null) { String[] p = l.split("\\t", -1);
    int c = new ComparableVersion(p[0]).compareTo(new ComparableVersion(p[1]));
    System.out.println(Integer.signum(c)); } } }
"""


@pytest.fixture(scope="module")
def maven_oracle(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Sequence[Pair]], list[int]]:
    jar = _maven_jar()
    if jar is None or shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip(
            "Maven oracle absent: needs a JDK and "
            "mvn dependency:get -Dartifact=org.apache.maven:maven-artifact:3.9.6"
        )
    work = tmp_path_factory.mktemp("maven-oracle")
    (work / "Cmp.java").write_text(_MAVEN_MAIN)
    subprocess.run(["javac", "-cp", str(jar), "-d", str(work), str(work / "Cmp.java")], check=True)

    def run(pairs: Sequence[Pair]) -> list[int]:
        text = "".join(f"{a}\t{b}\n" for a, b in pairs)
        proc = subprocess.run(
            ["java", "-cp", f"{jar}{os.pathsep}{work}", "Cmp"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
        )
        return [int(x) for x in proc.stdout.split()]

    return run


@_SETTINGS
@given(pairs=_pairs(MAVEN_VERSION))
def test_maven_agrees_on_generated_pairs(
    maven_oracle: Callable[[Sequence[Pair]], list[int]], pairs: list[Pair]
) -> None:
    _check("Maven", pairs, maven_oracle)


def test_maven_agrees_on_hard_cases(maven_oracle: Callable[[Sequence[Pair]], list[int]]) -> None:
    _check("Maven", MAVEN_TABLE + [(b, a) for a, b in MAVEN_TABLE], maven_oracle)


# --- RubyGems ---------------------------------------------------------------------------------

GEM_VERSION = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from(["0", "1", "2", "10"]),
    _pieces([".0", ".1", ".2", ".a", ".b", ".pre", ".rc1", "a", "b1", ".10", "-1", "-beta"]),
).filter(lambda v: is_valid("RubyGems", v))

GEM_TABLE: list[Pair] = [
    ("1.0.a", "1.0"),
    ("1.0.a", "1.0.b"),
    ("1.0.b1", "1.0.b2"),
    ("1.0.b2", "1.0.b10"),
    ("1.0.rc1", "1.0"),
    ("1.0", "1.0.0.1"),
    ("1.a", "1.0.0.a"),
    ("1-1", "1"),
    ("1.9.3.pre", "1.9.3"),
    ("0.9", "1.0.a"),
]


def _ruby(pairs: Sequence[Pair]) -> list[int]:
    script = (
        "require 'json'; JSON.parse(STDIN.read).each { |a, b| "
        "puts(Gem::Version.new(a) <=> Gem::Version.new(b)) }"
    )
    proc = subprocess.run(
        ["ruby", "-e", script], input=json.dumps(pairs), capture_output=True, text=True, check=True
    )
    return [int(x) for x in proc.stdout.split()]


needs_ruby = pytest.mark.skipif(shutil.which("ruby") is None, reason="ruby absent: apt-get install -y ruby")


@needs_ruby
@_SETTINGS
@given(_pairs(GEM_VERSION))
def test_rubygems_agrees_on_generated_pairs(pairs: list[Pair]) -> None:
    _check("RubyGems", pairs, _ruby)


@needs_ruby
def test_rubygems_agrees_on_hard_cases() -> None:
    _check("RubyGems", GEM_TABLE + [(b, a) for a, b in GEM_TABLE], _ruby)


# --- PHP version_compare (Composer after normalisation) ---------------------------------------

COMPOSER_VERSION = st.builds(
    lambda core, mod: core + mod,
    st.lists(st.sampled_from(["0", "1", "2", "10"]), min_size=1, max_size=4).map(".".join),
    st.sampled_from(
        ["", "-dev", "-alpha", "-alpha2", "-a1", "-beta", "-b3", "-RC1", "-rc2", "-patch1", "-pl2",
         "-p3", "-beta1-dev", "-stable"]
    ),
)  # fmt: skip


def _php(pairs: Sequence[Pair]) -> list[int]:
    script = (
        "foreach (json_decode(stream_get_contents(STDIN)) as $p) "
        '{ echo version_compare($p[0], $p[1]), "\\n"; }'
    )
    proc = subprocess.run(
        ["php", "-r", script], input=json.dumps(pairs), capture_output=True, text=True, check=True
    )
    return [int(x) for x in proc.stdout.split()]


@pytest.mark.skipif(shutil.which("php") is None, reason="php absent: apt-get install -y php-cli")
@_SETTINGS
@given(_pairs(COMPOSER_VERSION))
def test_packagist_agrees_with_php_version_compare(pairs: list[Pair]) -> None:
    normalised = []
    for a, b in pairs:
        na, nb = normalize_composer(a), normalize_composer(b)
        assert na is not None and nb is not None, (a, b)
        normalised.append((na, nb))
    expected = _php(normalised)
    for (na, nb), exp in zip(normalised, expected, strict=True):
        ka, kb = php_key(na), php_key(nb)
        assert (ka > kb) - (ka < kb) == exp, (na, nb)
