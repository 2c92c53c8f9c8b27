"""The ecosystems' own version tools, driven in batches, and the generator of pairs to judge.

Shared by ``scripts/gen-version-pairs`` (which writes the committed verdicts under
``tests/advisories/version-pairs/``) and ``test_versions_native.py`` (which checks mamori against
those verdicts and, where a tool is installed, against fresh pairs judged live). Every oracle takes
pairs of version strings and returns one :class:`Verdict` per pair, as the tool itself said it:

* Debian — ``dpkg --compare-versions`` (a version dpkg warns about is still compared; one it
  rejects with an error gets no order);
* Red Hat — rpm's Lua ``rpm.vercmp`` (rpm's ``rpmverCmp`` over parsed EVR strings; it rejects
  only the empty string);
* Packagist — Composer's own ``VersionParser::normalize`` and ``Comparator`` (Debian's
  ``php-composer-semver``); a version Composer rejects, or a branch compared with anything but
  itself, gets no order;
* Maven — ``ComparableVersion`` from the maven-artifact 3.9 jar in ``~/.m2`` (every string valid);
* Go — ``golang.org/x/mod/semver`` (Debian's ``golang-golang-x-mod-dev``) on the version with a
  ``v`` put in front when it has none (OSV writes Go versions without it); Go calls all invalid
  strings equal to each other, which is no order, so such pairs get none;
* Alpine — apk-tools' own ``src/version.c`` compiled into a small harness (apk-tools is not
  packaged for Debian: point ``APK_TOOLS_SRC`` at an apk-tools source tree).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import string
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the tool said about one pair: the order (None = it gave none) and each side's validity."""

    cmp: int | None
    valid_a: bool
    valid_b: bool


Oracle = Callable[[Sequence[Pair]], list[Verdict]]

ECOSYSTEMS = ("Debian", "Red Hat", "Packagist", "Maven", "Go", "Alpine")
"""The ecosystems with a native oracle, as OSV names them."""

FILE_NAMES = {
    "Debian": "debian",
    "Red Hat": "redhat",
    "Packagist": "packagist",
    "Maven": "maven",
    "Go": "go",
    "Alpine": "alpine",
}

_BAD_CHARS = set("\t\n\r\0")


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


# --- dpkg -------------------------------------------------------------------------------------


def _dpkg_run(a: str, op: str, b: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["dpkg", "--compare-versions", "--", a, op, b], capture_output=True, text=True, check=False
    )


def _dpkg_valid(v: str) -> bool:
    if v == "":
        return False  # dpkg reads an empty version as "no version", not as a version
    proc = _dpkg_run(v, "eq", v)
    return proc.returncode == 0 and "bad syntax" not in proc.stderr


def dpkg_oracle(pairs: Sequence[Pair]) -> list[Verdict]:
    """``dpkg --compare-versions`` on each pair (``lt`` then ``eq``)."""
    valid = {v: _dpkg_valid(v) for v in {x for p in pairs for x in p}}
    out = []
    for a, b in pairs:
        lt = _dpkg_run(a, "lt", b)
        if lt.returncode == 2:
            cmp = None
        elif lt.returncode == 0:
            cmp = -1
        else:
            cmp = 0 if _dpkg_run(a, "eq", b).returncode == 0 else 1
        out.append(Verdict(cmp, valid[a], valid[b]))
    return out


def dpkg_available() -> str | None:
    """None when the oracle can run, else how to get it."""
    return None if shutil.which("dpkg") else "dpkg not installed (Debian base system)"


# --- rpm --------------------------------------------------------------------------------------


def _lua_string(s: str) -> str:
    return '"' + "".join(f"\\{b}" for b in s.encode("utf-8", "surrogateescape")) + '"'


def rpm_oracle(pairs: Sequence[Pair]) -> list[Verdict]:
    """rpm's Lua ``rpm.vercmp`` (``rpmverCmp``), in batches; an error means no order."""
    out: list[Verdict] = []
    for start in range(0, len(pairs), 150):
        chunk = pairs[start : start + 150]
        body = (
            "local function c(a, b) local ok, r = pcall(rpm.vercmp, a, b) "
            'if ok then print(tostring(r) .. " ") else print("E ") end end '
        ) + "".join(f"c({_lua_string(a)}, {_lua_string(b)}) " for a, b in chunk)
        proc = subprocess.run(
            ["rpm", "--eval", f"%{{lua: {body}}}"], capture_output=True, text=True, check=True
        )
        words = proc.stdout.split()
        assert len(words) == len(chunk), (len(words), len(chunk), proc.stderr[:500])
        for (a, b), w in zip(chunk, words, strict=True):
            out.append(Verdict(None if w == "E" else _sign(int(w)), a != "", b != ""))
    return out


def rpm_available() -> str | None:
    """None when the oracle can run, else how to get it."""
    return None if shutil.which("rpm") else "rpm not installed: apt-get install -y rpm"


# --- Composer ---------------------------------------------------------------------------------

COMPOSER_AUTOLOAD = Path("/usr/share/php/Composer/Semver/autoload.php")

_PHP = r"""
require getenv('COMPOSER_SEMVER_AUTOLOAD');
use Composer\Semver\VersionParser; use Composer\Semver\Comparator;
$p = new VersionParser();
function norm($p, $v) { try { return $p->normalize($v); } catch (\Throwable $e) { return null; } }
$out = [];
foreach (json_decode(stream_get_contents(STDIN)) as $pair) {
  $a = norm($p, $pair[0]); $b = norm($p, $pair[1]); $c = null;
  if ($a !== null && $b !== null) {
    if (Comparator::lessThan($a, $b)) $c = -1;
    elseif (Comparator::equalTo($a, $b)) $c = 0;
    elseif (Comparator::greaterThan($a, $b)) $c = 1;
  }
  $out[] = [$c, $a !== null, $b !== null, $a, $b];
}
echo json_encode($out);
"""


def composer_oracle(pairs: Sequence[Pair]) -> list[Verdict]:
    """Composer's ``VersionParser::normalize`` then ``Comparator`` on the normalised versions."""
    env = {**os.environ, "COMPOSER_SEMVER_AUTOLOAD": str(COMPOSER_AUTOLOAD)}
    proc = subprocess.run(
        ["php", "-r", _PHP],
        input=json.dumps(list(pairs)),
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return [Verdict(c, bool(va), bool(vb)) for c, va, vb, _na, _nb in json.loads(proc.stdout)]


def composer_available() -> str | None:
    """None when the oracle can run, else how to get it."""
    if shutil.which("php") is None or not COMPOSER_AUTOLOAD.is_file():
        return "Composer's semver absent: apt-get install -y php-cli php-composer-semver"
    return None


# --- Maven ------------------------------------------------------------------------------------

_MAVEN_MAIN = """
import org.apache.maven.artifact.versioning.ComparableVersion;
import java.io.*;
public class Cmp { public static void main(String[] a) throws Exception {
  BufferedReader r = new BufferedReader(new InputStreamReader(System.in, "UTF-8")); String l;
  PrintStream o = new PrintStream(new BufferedOutputStream(System.out), false, "UTF-8");
  while ((l = r.readLine()) != null) { String[] p = l.split("\\t", -1);
    int c = new ComparableVersion(p[0]).compareTo(new ComparableVersion(p[1]));
    o.println(Integer.signum(c)); } o.flush(); } }
"""


def maven_jar() -> Path | None:
    """The newest maven-artifact 3.9 jar in the local Maven repository."""
    base = Path.home() / ".m2" / "repository" / "org/apache/maven/maven-artifact"
    jars = sorted(base.glob("3.9.*/maven-artifact-3.9.*.jar"))
    return jars[-1] if jars else None


_MAVEN_CLASSES: dict[str, Path] = {}


def maven_oracle(pairs: Sequence[Pair]) -> list[Verdict]:
    """``ComparableVersion.compareTo`` for each pair (one JVM for the batch)."""
    jar = maven_jar()
    assert jar is not None
    if "dir" not in _MAVEN_CLASSES:
        work = Path(tempfile.mkdtemp(prefix="mamori-maven-oracle-"))
        (work / "Cmp.java").write_text(_MAVEN_MAIN)
        subprocess.run(["javac", "-cp", str(jar), "-d", str(work), str(work / "Cmp.java")], check=True)
        _MAVEN_CLASSES["dir"] = work
    proc = subprocess.run(
        ["java", "-Dfile.encoding=UTF-8", "-cp", f"{jar}{os.pathsep}{_MAVEN_CLASSES['dir']}", "Cmp"],
        input="".join(f"{a}\t{b}\n" for a, b in pairs).encode(),
        capture_output=True,
        check=True,
    )
    return [Verdict(int(x), True, True) for x in proc.stdout.split()]


def maven_available() -> str | None:
    """None when the oracle can run, else how to get it."""
    if maven_jar() is None or shutil.which("javac") is None:
        return (
            "Maven oracle absent: needs a JDK and "
            "mvn dependency:get -Dartifact=org.apache.maven:maven-artifact:3.9.6"
        )
    return None


# --- Go ---------------------------------------------------------------------------------------

_GO_MAIN = """package main

import (
\t"bufio"
\t"fmt"
\t"os"
\t"strings"

\t"golang.org/x/mod/semver"
)

func gov(s string) string {
\tif strings.HasPrefix(s, "v") {
\t\treturn s
\t}
\treturn "v" + s
}

func main() {
\tin := bufio.NewScanner(os.Stdin)
\tin.Buffer(make([]byte, 1<<20), 1<<20)
\tout := bufio.NewWriter(os.Stdout)
\tdefer out.Flush()
\tfor in.Scan() {
\t\tp := strings.SplitN(in.Text(), "\\t", 2)
\t\ta, b := gov(p[0]), gov(p[1])
\t\tfmt.Fprintln(out, semver.Compare(a, b), semver.IsValid(a), semver.IsValid(b))
\t}
}
"""

GO_PATH = Path("/usr/share/gocode")
_GO_BINARY: dict[str, Path] = {}


def go_oracle(pairs: Sequence[Pair]) -> list[Verdict]:
    """``semver.Compare`` / ``semver.IsValid`` (golang.org/x/mod) on ``v``-prefixed versions."""
    if "bin" not in _GO_BINARY:
        work = Path(tempfile.mkdtemp(prefix="mamori-go-oracle-"))
        (work / "main.go").write_text(_GO_MAIN)
        env = {**os.environ, "GO111MODULE": "off", "GOPATH": str(GO_PATH), "GOCACHE": str(work / "cache")}
        subprocess.run(["go", "build", "-o", str(work / "cmp"), str(work / "main.go")], check=True, env=env)
        _GO_BINARY["bin"] = work / "cmp"
    proc = subprocess.run(
        [str(_GO_BINARY["bin"])],
        input="".join(f"{a}\t{b}\n" for a, b in pairs).encode(),
        capture_output=True,
        check=True,
    )
    out = []
    for line in proc.stdout.decode().splitlines():
        c, va, vb = line.split()
        valid_a, valid_b = va == "true", vb == "true"
        out.append(Verdict(None if not (valid_a or valid_b) else int(c), valid_a, valid_b))
    return out


def go_available() -> str | None:
    """None when the oracle can run, else how to get it."""
    if shutil.which("go") is None or not (GO_PATH / "src/golang.org/x/mod/semver").is_dir():
        return "Go oracle absent: apt-get install -y golang-go golang-golang-x-mod-dev"
    return None


# --- apk-tools --------------------------------------------------------------------------------

_APK_HARNESS = r"""
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "apk_blob.h"
#include "apk_version.h"
int apk_digest_alg_len(uint8_t alg) { (void)alg; return 0; }
int main(void) {
  static char line[1 << 16];
  while (fgets(line, sizeof line, stdin)) {
    size_t n = strlen(line);
    if (n && line[n - 1] == '\n') line[--n] = 0;
    char *tab = strchr(line, '\t');
    if (!tab) return 2;
    *tab = 0;
    apk_blob_t a = APK_BLOB_STR(line), b = APK_BLOB_STR(tab + 1);
    int r = apk_version_compare(a, b);
    printf("%s %d %d\n", apk_version_op_string(r), apk_version_validate(a), apk_version_validate(b));
  }
  return 0;
}
"""

_APK_BINARY: dict[str, Path] = {}


def apk_source() -> Path | None:
    """The apk-tools source tree named by ``APK_TOOLS_SRC`` (its ``src/version.c`` is the oracle)."""
    src = os.environ.get("APK_TOOLS_SRC")
    if src and (Path(src) / "src" / "version.c").is_file():
        return Path(src)
    return None


def apk_oracle(pairs: Sequence[Pair]) -> list[Verdict]:
    """apk-tools' ``apk_version_compare`` and ``apk_version_validate``, compiled from its source."""
    if "bin" not in _APK_BINARY:
        src = apk_source()
        assert src is not None
        work = Path(tempfile.mkdtemp(prefix="mamori-apk-oracle-"))
        (work / "harness.c").write_text(_APK_HARNESS)
        files = [str(src / "src" / f) for f in ("version.c", "blob.c", "ctype.c")]
        subprocess.run(
            [
                "cc",
                "-O1",
                "-D_GNU_SOURCE",
                "-w",
                f"-I{src / 'src'}",
                "-o",
                str(work / "apkcmp"),
                str(work / "harness.c"),
                *files,
            ],
            check=True,
        )
        _APK_BINARY["bin"] = work / "apkcmp"
    data = "".join(f"{a}\t{b}\n" for a, b in pairs).encode("utf-8", "surrogateescape")
    proc = subprocess.run([str(_APK_BINARY["bin"])], input=data, capture_output=True, check=True)
    ops = {"<": -1, "=": 0, ">": 1}
    out = []
    for line in proc.stdout.decode().splitlines():
        op, va, vb = line.split()
        out.append(Verdict(ops.get(op), va == "1", vb == "1"))
    return out


def apk_available() -> str | None:
    """None when the oracle can run, else how to get it."""
    if apk_source() is None or shutil.which("cc") is None:
        return "apk-tools oracle absent: set APK_TOOLS_SRC to an apk-tools source tree (and have cc)"
    return None


ORACLES: dict[str, tuple[Oracle, Callable[[], str | None]]] = {
    "Debian": (dpkg_oracle, dpkg_available),
    "Red Hat": (rpm_oracle, rpm_available),
    "Packagist": (composer_oracle, composer_available),
    "Maven": (maven_oracle, maven_available),
    "Go": (go_oracle, go_available),
    "Alpine": (apk_oracle, apk_available),
}


# --- generation -------------------------------------------------------------------------------

PIECES: dict[str, list[str]] = {
    "Debian": ["0", "1", "2", "9", "10", "01", "00", "123", ".", "~", "+", "-", ":", "a", "b", "z",
               "A", "Z", "rc", "~rc1", "dfsg", "+dfsg", "~bpo", "ubuntu", "deb", "u", "squeeze",
               "_", "é", " ", "!", "%", "+b1", "build"],
    "Red Hat": ["0", "1", "2", "10", "010", "00", ".", "~", "^", "-", ":", "_", "+", "a", "b",
                "A", "rc", "el", "el9", "fc", "git", "beta", " ", "é", "%", "#", "*"],
    "Packagist": ["0", "1", "2", "10", "00", "2020", "20201231", ".", "-", "_", "+", "v", "V",
                  "alpha", "a", "beta", "b", "RC", "rc", "p", "pl", "patch", "dev", "stable",
                  "x", "#", "@", "dev-", "master", " ", "*", "foo"],
    "Maven": ["0", "1", "2", "10", "00", "0000000000", "1234567890", "12345678901234567890",
              ".", "-", "_", "alpha", "a", "beta", "b", "milestone", "m", "rc", "cr", "snapshot",
              "SNAPSHOT", "ga", "final", "release", "sp", "foo", "x", "RELEASE", "Final", "jre",
              "sec", "noneautotype", " ", "é", "+"],
    "Go": ["v", "0", "1", "2", "10", "01", "00", ".", "-", "+", "alpha", "beta", "rc", "a", "x-y",
           "incompatible", "+incompatible", "20191109021931", "daa7c04131f5", "0.", "-0.", " ",
           "٣", "_", "V"],
    "Alpine": ["0", "1", "2", "10", "01", "00", "18446744073709551617", ".", "-r", "-r1", "-", "r",
               "_", "_alpha", "_beta", "_pre", "_rc", "_cvs", "_svn", "_git", "_hg", "_p", "_x",
               "a", "b", "z", "p", "~", "~abc", "~0f", "A", " ", "_pp", "_pr"],
}  # fmt: skip

SEEDS: dict[str, list[str]] = {
    "Debian": ["5.6.20+dfsg-0+deb8u1", "5.6.20+dfsg-1", "8.4.5-0squeeze2", "8.4.5-1~bpo50+1",
               "1.0~rc1", "1.0", "1.0-0", "1.0.", "1:0.9", "0.1", ".1", "0", "", "1-", "a1", "1:",
               ":1", "1 2", " 1", "1 ", "+1:2", "-1:2", "01:1", "2147483648:1", "1:1-1-1",
               "1.0-1ubuntu0.1", "2.30-1+deb12u1", "1.0~~", "1.0~", "1é", "1.0-a_b"],
    "Red Hat": ["1", "1-", "1.0", "1.0-1", "1.0-", "1:1", "a:1", "1-1-1", ":1", "1.0-1~", "1-", "1.",
                "0:1.0-1.el9", "1.0^git1-1", "1.0~rc1-1", "1.010-1", "1.0_1-1", " 1:2", "1:",
                "-1", "~", "^", "1.0-1.el9_2"],
    "Packagist": ["1.0.0", "1.0", "1.2.3.#", "1.2.3", "v1.2.3", "1.0.0-dev", "1.0.0-alpha1",
                  "1.0.0-RC1", "1.0.0-patch1", "1.0.0.1", "dev-main", "master", "1.0.x-dev",
                  "2020.01.01", "20201231", "1.0.0+build", "1.0-beta.2", "1.0.0-pl1", "1.0.0@dev",
                  "1.2.3.4.5", "99999", "100000", "1.0.0-stable", "1.0-b2-dev", "0.9-p1"],
    "Maven": ["1-foo-foo", "1-ga-ga-b2", "1-ga", "1-1", "1-ga-1", "1.2.67.sec10", "1.2.67_noneautotype", "1", "1.0", "1.0.0", "1-sp",
              "1-foo", "1-snapshot", "1.0alpha1", "1.0-alpha-1", "0000000000", "1.0000000000",
              "1.1234567890", "1.12345678901234567890", "1-0.1", "1.0-null", "", "-", ".",
              "1..1", "1--1", "1.-1", "2.0.0.RELEASE", "1.0.0.Final"],
    "Go": ["v1.1.3.4.5", "1.1.3.4.5", "v1.2.3", "1.2.3", "v1", "v1.2", "1.2.3+incompatible",
           "v0.0.0-20191109021931-daa7c04131f5", "v1.2.4-0.20191109021931-daa7c04131f5",
           "v01.2.3", "v1.2.3-01", "v1.2.3-", "v1.2-pre", "", "v", "1.2.3\n", "vv1", "V1.2.3"],
    "Alpine": ["1-r", "1-r0", "6.6.2p1", "6.6.2_p1", "1.0", "1.0_rc1", "1.0-r1", "1.0_p1", "1.0a",
               "1.0.1", "1.01", "1.1", "1.0~abc", "1_alpha", "1a_alpha2", "", "a", "1.0-r1-r2",
               "18446744073709551616", "0", "1.0_pre_rc1", "1.0b", "1.0_p"],
}  # fmt: skip


def _num(rng: random.Random) -> str:
    return rng.choice(["0", "1", "2", "3", "9", "10", "11", "20", "100", "01", "007", "99999"])


def _dotted(rng: random.Random, lo: int, hi: int) -> str:
    return ".".join(_num(rng) for _ in range(rng.randint(lo, hi)))


def _structured(rng: random.Random, eco: str) -> str:
    """A mostly well-formed version of ``eco``'s own shape (so valid pairs are ordered too)."""
    c = rng.choice
    if eco == "Go":
        pre = c(["", "", "-alpha", "-beta.1", "-rc.2", "-0.20191109021931-daa7c04131f5", "-1", "-x.7.z.92"])
        build = c(["", "", "+incompatible", "+build.5"])
        core = _dotted(rng, 3 if pre or build or rng.random() < 0.6 else 1, 3)
        core = ".".join(str(int(n)) if rng.random() < 0.9 else n for n in core.split("."))
        return c(["v", "v", ""]) + core + pre + build
    if eco == "Packagist":
        mod = c(["", "", "-dev", "-alpha", "-alpha2", "-a1", "-beta", "-b3", "-RC1", "-rc.2", "-patch1",
                 "-pl2", "-p3", "-beta1-dev", "-stable", ".x-dev", "@dev", "+build"])  # fmt: skip
        return c(["", "", "v"]) + _dotted(rng, 1, 4) + mod
    if eco == "Alpine":
        return (
            _dotted(rng, 1, 4)
            + c(["", "", "a", "b", "z"])
            + "".join(c(["_alpha", "_beta", "_pre", "_rc", "_cvs", "_svn", "_git", "_hg", "_p"]) + c(["", "1", "2", "10"])
                      for _ in range(rng.randint(0, 2)))
            + c(["", "", "~0abc", "~f00"])
            + c(["", "-r0", "-r1", "-r2", "-r10"])
        )  # fmt: skip
    if eco == "Debian":
        return (
            c(["", "", "1:", "2:"])
            + _dotted(rng, 1, 3)
            + c(["", "~rc1", "+dfsg", "~beta2", "a", "+git20200101"])
            + c(["", "-1", "-0", "-1ubuntu1", "-1~bpo10+1", "-2+deb12u1", "-0+deb8u1", "-1.1"])
        )
    if eco == "Red Hat":
        return (
            c(["", "", "1:", "0:"])
            + _dotted(rng, 1, 3)
            + c(["", "~rc1", "^git1", "a", "_1"])
            + c(["", "-1", "-1.el9", "-1.el9_2", "-10.fc38", "-1~beta", "-0.1"])
        )
    return _dotted(rng, 1, 3) + c(["", "-SNAPSHOT", "-alpha-1", ".RELEASE", "-rc1", "-sp1", ".Final", "-1"])


def _random_version(rng: random.Random, eco: str) -> str:
    if rng.random() < 0.5:
        return _structured(rng, eco)
    pieces = PIECES[eco]
    head = rng.choice(["0", "1", "2", "10", ""]) if rng.random() < 0.9 else rng.choice(pieces)
    return head + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))


def _mutate(rng: random.Random, eco: str, v: str) -> str:
    pieces = PIECES[eco]
    op = rng.randrange(7)
    if op == 0 or not v:
        return v + rng.choice(pieces)
    i = rng.randrange(len(v) + 1)
    if op == 1:
        return v[:i] + rng.choice(pieces) + v[i:]
    if op == 2:
        return v[:i] + v[i + 1 :]
    if op == 3:
        return v.upper() if rng.random() < 0.5 else v.lower()
    if op == 4:
        return v + rng.choice([".0", "0", ".", "-", "-0", "_", "~", "^", "-r0", "a", ".a"])
    if op == 5:
        return v[:i] + rng.choice("0123456789") + v[i:]
    return v[:i] + rng.choice(pieces) + v[i + 1 :]


def clean(v: str) -> str:
    """The version without characters the tools' line-based interfaces cannot carry."""
    return "".join(c for c in v if c not in _BAD_CHARS)


_NOISE = string.ascii_letters + string.digits + "._-+~^:#@*!/ " + "éß٣İ"


def _noise(rng: random.Random) -> str:
    return "".join(rng.choice(_NOISE) for _ in range(rng.randint(0, 10)))


def generate_pairs(eco: str, count: int, seed: int = 12) -> list[Pair]:
    """``count`` distinct pairs: seeds against seeds, random strings, and near-copies of them."""
    rng = random.Random(f"{seed}:{eco}")
    seeds = [clean(s) for s in SEEDS[eco]]
    pairs: list[Pair] = []
    seen: set[Pair] = set()

    def add(a: str, b: str) -> None:
        a, b = clean(a), clean(b)
        if (a, b) not in seen:
            seen.add((a, b))
            pairs.append((a, b))

    for a in seeds:
        for b in seeds:
            add(a, b)
    while len(pairs) < count:
        r = rng.random()
        a = rng.choice(seeds) if r < 0.15 else _random_version(rng, eco)
        if rng.random() < 0.08:
            a = _noise(rng) if rng.random() < 0.5 else a[: rng.randint(0, len(a))] + _noise(rng)[:3]
        if r < 0.45:
            b = _mutate(rng, eco, a)
            if rng.random() < 0.3:
                b = _mutate(rng, eco, b)
        elif r < 0.55:
            b = rng.choice(seeds)
        else:
            b = _random_version(rng, eco)
        add(a, b) if rng.random() < 0.5 else add(b, a)
    return pairs[:count]
