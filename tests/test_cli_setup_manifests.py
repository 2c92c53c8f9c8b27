"""A project declared only by ``setup.py``, ``setup.cfg`` or a lock-less ``pyproject.toml``.

Through the CLI on real files: the declared dependencies are read (``setup.py`` without running
it), their ranges listed as not checked with the command that pins them, what cannot be read
without running code listed too, and a manifest that declares nothing is said to declare
nothing, never "nothing to scan" and never "No vulnerabilities found".
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import mamori, write_osv

from mamori.inventory._py_setup import parse_setup_cfg, parse_setup_py


def _db(tmp_path: Path) -> None:
    write_osv(
        tmp_path / "osv",
        {
            "id": "GHSA-test-setup-0001",
            "modified": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "summary": "jinja2 sandbox escape",
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "jinja2"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10.1"}]}],
                }
            ],
        },
    )
    assert mamori("db", "import", tmp_path / "osv").code == 0


def _scan(root: Path) -> tuple[int, dict, str, str]:  # type: ignore[type-arg]
    doc = mamori("scan", root, "--offline", "--no-code", "-f", "json")
    text = mamori("scan", root, "--offline", "--no-code")
    assert text.code == doc.code
    return doc.code, doc.json(), text.out, text.err


def test_setup_py_is_read_without_running_it(tmp_path: Path) -> None:
    _db(tmp_path)
    root = tmp_path / "app"
    root.mkdir()
    marker = tmp_path / "setup-py-ran"
    (root / "setup.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "from setuptools import setup\n"
        "BASE = ['flask>=0.12', 'jinja2==2.10']\n"
        "setup(\n"
        "    name='app',\n"
        "    install_requires=BASE + ['requests'],\n"
        "    extras_require={'dev': ['pytest']},\n"
        "    tests_require=open('test-requirements.txt').read().splitlines(),\n"
        ")\n",
        encoding="utf-8",
    )
    code, doc, out, _err = _scan(root)
    assert not marker.exists()  # the stranger's setup.py never ran
    assert code == 1  # jinja2==2.10 is vulnerable
    (finding,) = doc["findings"]
    assert finding["package"]["name"] == "jinja2" and finding["location"] == {"path": "setup.py", "line": 3}
    reasons = {(u["name"], u["reason"]) for u in doc["coverage"]["unchecked"]}
    assert {("flask", "no-lockfile"), ("requests", "no-lockfile"), ("pytest", "no-lockfile")} <= reasons
    computed = [u for u in doc["coverage"]["unchecked"] if u["reason"] == "unreadable"]
    assert len(computed) == 1 and "tests_require" in computed[0]["detail"] and computed[0]["line"] == 8
    assert doc["coverage"]["checked"] == 1 and doc["coverage"]["total"] == 5
    assert "pip-compile setup.py" in out
    assert "No vulnerabilities found" not in out and "Nothing to scan" not in out


def test_setup_cfg_install_requires_with_their_lines(tmp_path: Path) -> None:
    _db(tmp_path)
    root = tmp_path / "lib"
    root.mkdir()
    (root / "setup.cfg").write_text(
        "[metadata]\nname = lib\n\n[options]\npackages = find:\ninstall_requires =\n"
        "    jinja2==2.10\n    click>=7 ; python_version >= '3.8'\n\n"
        "[options.extras_require]\ntest =\n    pytest\n",
        encoding="utf-8",
    )
    (root / "setup.py").write_text("from setuptools import setup\nsetup()\n", encoding="utf-8")
    code, doc, out, _err = _scan(root)
    assert code == 1
    (finding,) = doc["findings"]
    assert finding["location"] == {"path": "setup.cfg", "line": 7}
    unchecked = {u["name"]: u for u in doc["coverage"]["unchecked"]}
    assert unchecked["click"]["line"] == 8 and unchecked["click"]["reason"] == "no-lockfile"
    assert unchecked["pytest"]["line"] == 12
    assert "pip-compile setup.cfg" in out


def test_a_manifest_declaring_nothing_is_said_so_not_nothing_to_scan(tmp_path: Path) -> None:
    _db(tmp_path)
    root = tmp_path / "empty-deps"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n', encoding="utf-8")
    code, doc, out, err = _scan(root)
    assert code == 0
    assert doc["coverage"]["files"] == ["pyproject.toml"] and doc["coverage"]["total"] == 0
    assert "pyproject.toml declares no dependencies" in out
    assert "Nothing to scan" not in out and "nothing to scan" not in err
    assert "No vulnerabilities found" not in out


def test_dynamic_dependencies_with_nothing_to_read_them_from_are_listed(tmp_path: Path) -> None:
    _db(tmp_path)
    root = tmp_path / "dyn"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\ndynamic = ["dependencies"]\n', encoding="utf-8"
    )
    code, doc, out, _err = _scan(root)
    (item,) = doc["coverage"]["unchecked"]
    assert item["reason"] == "unreadable" and "dynamic" in item["detail"] and item["line"] == 4
    assert code == 2  # nothing in the inventory could be read
    assert "No vulnerabilities found" not in out and "Nothing to scan" not in out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_the_setup_parsers_never_raise_on_arbitrary_text(tmp_path: Path, text: str) -> None:
    for name, parse in (("setup.py", parse_setup_py), ("setup.cfg", parse_setup_cfg)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = parse(path, name)
        assert all(c.location.path == name for c in result.components)
        assert all(e.path == name for e in result.errors)


def test_the_same_no_lockfile_advice_is_one_row_listing_its_places(tmp_path: Path) -> None:
    _db(tmp_path)
    root = tmp_path / "mono"
    for folder in ("web", "api", "admin"):
        (root / folder).mkdir(parents=True)
        (root / folder / "package.json").write_text(
            '{"dependencies": {"lodash": "^4.17.0", "express": "^4.0.0"}}', encoding="utf-8"
        )
    (root / "requirements.txt").write_text("flask>=2\nrequests\n", encoding="utf-8")
    run = mamori("scan", root, "--offline", "--no-code", env={"COLUMNS": "200"})
    assert run.out.count("npm install --package-lock-only") == 1  # said once, not per package
    assert run.out.count("pin an exact version") == 1
    block = run.out[run.out.index("Not checked") :]
    for folder in ("web", "api", "admin"):
        assert f"{folder}/package.json:1" in block
    assert "lodash ^4.17.0, express ^4.0.0" in block and "6 items" in block
    assert "requirements.txt:1, 2" in block and "flask >=2, requests any version" in block
    # the JSON report still lists every item with its own detail
    doc = mamori("scan", root, "--offline", "--no-code", "-f", "json").json()
    assert len(doc["coverage"]["unchecked"]) == 8
    assert all(u["path"] in u["detail"] for u in doc["coverage"]["unchecked"] if u["reason"] == "no-lockfile")
