"""The app's environment: --python / MAMORI_FIX_PYTHON, else a cached scratch virtualenv of its pins.

Offline without an interpreter there is none, and the proofs say so; online, mamori installs
the project's pinned packages as wheels (a pin with no wheel is left out and named) and the
app is proven with them. The online test skips, saying why, when the index is unreachable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from tests.helpers import need_url

from mamori import sandbox
from mamori.fix._environ import NO_ENVIRONMENT

APPS = Path(__file__).parent / "apps"
UNSAFE = sandbox.unavailable_reason() is not None


def _prove(root: Path, home: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict, str]:
    run_env = {k: v for k, v in os.environ.items() if k != "MAMORI_FIX_PYTHON"}
    run_env.update({"MAMORI_HOME": str(home), **(env or {})})
    proc = subprocess.run(
        [sys.executable, "-m", "mamori", "prove", str(root), "-f", "json", *args]
        + (["--unsafe-run"] if UNSAFE else []),
        capture_output=True,
        text=True,
        env=run_env,
    )
    return proc.returncode, json.loads(proc.stdout or "{}"), proc.stderr


def _proofs(data: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in data.get("findings", []):
        if "proof" in f:
            out.setdefault(f["rule_id"], []).append(f["proof"])
    return out


def test_offline_without_python_is_not_attempted_with_the_reason(tmp_path: Path) -> None:
    root = tmp_path / "app"
    shutil.copytree(APPS / "flask_app", root)
    code, data, err = _prove(root, tmp_path / "home", "--offline")
    assert code == 1, err
    proofs = [p for ps in _proofs(data).values() for p in ps]
    web = [p for p in proofs if p["reason"] not in ("no proof for this class",)]
    assert web and all(p["status"] == "not_attempted" for p in web), web
    assert {p["reason"] for p in web} == {NO_ENVIRONMENT}
    assert not (tmp_path / "home" / "cache" / "venvs").exists() or not any(
        (tmp_path / "home" / "cache" / "venvs").glob("*/bin/python")
    )


def test_mamori_fix_python_is_the_apps_interpreter_even_offline(tmp_path: Path) -> None:
    pytest.importorskip("flask")
    root = tmp_path / "app"
    shutil.copytree(APPS / "flask_app", root)
    code, data, err = _prove(root, tmp_path / "home", "--offline", env={"MAMORI_FIX_PYTHON": sys.executable})
    assert code == 1, err
    assert any(p["status"] == "proven" for p in _proofs(data)["PY-SQLI"]), data


def _need_index() -> None:
    need_url("https://pypi.org/simple/flask/")


@pytest.mark.slow
def test_pinned_packages_are_installed_into_a_cached_venv(tmp_path: Path) -> None:
    """No --python: the app runs in a scratch venv of its pins; a pin with no wheel is left out."""
    _need_index()
    root = tmp_path / "app"
    shutil.copytree(APPS / "flask_app", root)
    # trafaret-config has no wheel at all (sdist only): mamori never builds it
    (root / "requirements.txt").write_text(f"flask=={version('flask')}\ntrafaret-config==2.0.2\n")
    home = tmp_path / "home"
    code, data, err = _prove(root, home)
    assert code == 1, err
    assert any(p["status"] == "proven" for p in _proofs(data)["PY-SQLI"]), (data, err)
    assert "left out" in err and "trafaret-config==2.0.2" in " ".join(err.lower().split()), err
    venvs = list((home / "cache" / "venvs").glob("*/bin/python"))
    assert len(venvs) == 1
    # the app's own interpreter is that venv's, not mamori's: flask is there, mamori is not
    probe = subprocess.run(
        [
            str(venvs[0]),
            "-I",
            "-c",
            "import flask, importlib.util as u; print(u.find_spec('mamori') is None)",
        ],
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip() == "True", probe.stderr
    # a second run reuses it (offline is fine now: nothing to download)
    code, again, err = _prove(root, home, "--offline")
    assert any(p["status"] == "proven" for p in _proofs(again)["PY-SQLI"]), err


@pytest.mark.slow
def test_pins_too_old_for_this_python_fall_back_to_the_newest_releases(tmp_path: Path) -> None:
    """Werkzeug 0.14 does not import on Python 3.10+: the app is proven with the newest releases,
    and the proof says it was."""
    _need_index()
    root = tmp_path / "app"
    shutil.copytree(APPS / "flask_app", root)
    (root / "requirements.txt").write_text("Flask==1.0.2\nWerkzeug==0.14.1\n")
    code, data, err = _prove(root, tmp_path / "home")
    assert code == 1, err
    proven = [p for p in _proofs(data)["PY-SQLI"] if p["status"] == "proven"]
    assert proven, (data, err)
    note = proven[0]["observed"]["environment"]
    assert "newest releases" in note and "would not start" in note, note
    assert "/home/cache/venvs/" not in json.dumps(data)


def _wheel(folder: Path, name: str, version_: str, source: str) -> None:
    """A pure-Python wheel of one module, written by hand (no build tool, no index)."""
    import base64
    import hashlib
    import zipfile

    dist = f"{name}-{version_}.dist-info"
    files = {
        f"{name}.py": source,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version_}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: mamori-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    with zipfile.ZipFile(folder / f"{name}-{version_}-py3-none-any.whl", "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
        zf.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")


def test_an_exact_pin_with_no_wheel_gets_the_nearest_release_that_has_one(tmp_path: Path) -> None:
    """``mamorilab==1.0`` exists only as an sdist; 1.2 and 2.0 have wheels and the app needs the
    1.x API: the nearest release of the same major version is installed (the newest, 2.0, would
    not start), the app is proven, and the proof says which pin was replaced by what."""
    links = tmp_path / "wheels"
    links.mkdir()
    (links / "mamorilab-1.0.tar.gz").write_bytes(b"not a wheel")
    _wheel(links, "mamorilab", "1.2", "def quote(s):\n    return s\n")
    _wheel(links, "mamorilab", "2.0", "def quote_v2(s):\n    return s\n")
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text("mamorilab==1.0\n")
    (root / "app.py").write_text(
        "import sqlite3\n"
        "from urllib.parse import parse_qs\n"
        "from mamorilab import quote  # the 1.x API\n\n\n"
        "def application(environ, start_response):\n"
        "    name = parse_qs(environ.get('QUERY_STRING', '')).get('name', [''])[0]\n"
        "    db = sqlite3.connect(':memory:')\n"
        '    rows = db.execute("SELECT \'" + quote(name) + "\'").fetchall()\n'
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [str(rows).encode()]\n"
    )
    env = {"PIP_FIND_LINKS": str(links), "PIP_INDEX_URL": (tmp_path / "no-index").as_uri()}
    code, data, err = _prove(root, tmp_path / "home", env=env)
    assert code == 1, err
    proven = [p for p in _proofs(data)["PY-SQLI"] if p["status"] == "proven"]
    assert proven, (data, err)
    note = proven[0]["observed"]["environment"]
    assert "mamorilab==1.0 as mamorilab>1.0,<2" in note, note


def test_a_module_missing_because_its_pin_has_no_wheel_says_so(tmp_path: Path) -> None:
    """dvpwa's trafaret-config: the project pins a package that exists only as an sdist; the app
    cannot import it, and the proof's reason names that package and why it is not there."""
    links = tmp_path / "wheels"
    links.mkdir()
    (links / "mamori_sdist_only-1.0.tar.gz").write_bytes(b"not a wheel")
    _wheel(links, "mamorilab", "1.2", "def quote(s):\n    return s\n")
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text("mamorilab==1.2\nmamori-sdist-only==1.0\n")
    (root / "app.py").write_text(
        "import sqlite3\n"
        "from urllib.parse import parse_qs\n"
        "import mamori_sdist_only\n\n\n"
        "def application(environ, start_response):\n"
        "    name = parse_qs(environ.get('QUERY_STRING', '')).get('name', [''])[0]\n"
        "    db = sqlite3.connect(':memory:')\n"
        '    rows = db.execute("SELECT \'" + name + "\'").fetchall()\n'
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [str(rows).encode()]\n"
    )
    env = {"PIP_FIND_LINKS": str(links), "PIP_INDEX_URL": (tmp_path / "no-index").as_uri()}
    code, data, err = _prove(root, tmp_path / "home", env=env)
    assert code == 1, err
    proof = _proofs(data)["PY-SQLI"][0]
    assert proof["status"] == "not_proven", proof
    assert "No module named 'mamori_sdist_only'" in proof["reason"], proof
    assert "mamori-sdist-only==1.0: no wheel for this Python" in proof["reason"], proof["reason"]
