"""Hard-coded secrets are found by name and never echoed: not in any output format, not in the
results database or caches under MAMORI_HOME, not in a fingerprint (issue 11, issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers import mamori

from mamori.analysis import scan_code
from mamori.model import Finding, Location, TraceStep

MARK = "zq9Unique"  # every secret value below contains it; nothing mamori writes may

APP = f'''
import os
import psycopg2
import requests
from flask import Flask

app = Flask(__name__)
app.config["SECRET_KEY"] = "{MARK}Cfg1"
API_TOKEN = "{MARK}Tok2"
SIGNING_SALT = "{MARK}Salt3"
DATABASES = {{"default": {{"ENGINE": "x", "PASSWORD": "{MARK}Dict4"}}}}
FALLBACK_SECRET = os.environ.get("APP_SECRET", "{MARK}Env5")


class Settings:
    DB_PASSWORD = "{MARK}Cls6"
    STRIPE_KEY = "sk_live_{MARK}7"


def connect():
    return psycopg2.connect(host="db", password="{MARK}Kw8")


def login(user, password="{MARK}Def9"):
    if password == "{MARK}Cmp10":
        return True
    return requests.get("https://api", auth=("svc", "{MARK}Auth11"))
'''

EXPECTED_LINES = {8, 9, 10, 11, 12, 16, 17, 21, 24, 25, 27}

FORMATS = ("table", "json", "sarif", "stix", "csaf", "csaf-advisory", "openvex", "cyclonedx")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(APP, encoding="utf-8")
    (root / "tests").mkdir()
    (root / "tests" / "test_login.py").write_text(f'ADMIN_PASSWORD = "{MARK}Test12"\n', encoding="utf-8")
    return root


def test_every_form_is_found_by_name(project: Path) -> None:
    res = scan_code(project)
    secrets = [f for f in res.findings if f.rule_id == "PY-SECRET"]
    app_lines = {f.location.line for f in secrets if f.location.path == "app.py"}
    assert app_lines == EXPECTED_LINES
    titles = " ".join(f.title for f in secrets)
    for name in ("SECRET_KEY", "API_TOKEN", "SIGNING_SALT", "PASSWORD", "APP_SECRET", "DB_PASSWORD"):
        assert name in titles
    assert "password" in titles and "auth=" in titles
    for f in secrets:
        assert f.cwe == ("CWE-798",)
        assert MARK not in f.title + f.fingerprint_basis + " ".join(t.note for t in f.trace)


def test_secrets_in_test_folders_are_low_confidence(project: Path) -> None:
    res = scan_code(project)
    (test_hit,) = [f for f in res.findings if f.location.path == "tests/test_login.py"]
    assert test_hit.confidence == "low"
    assert {f.confidence for f in res.findings if f.location.path == "app.py"} == {"medium"}


@pytest.mark.parametrize(
    "line",
    [
        'PASSWORD = ""',
        'API_TOKEN = os.environ["API_TOKEN"]',
        'API_KEY = os.getenv("API_KEY")',
        'CACHE_KEY = "users"',
        'SESSION_KEY = "_auth_user_id"',
        'STRING_TOKEN = "STRING"',
        'PASSWORD = "password"',
        'PASSWORD_RESET_TIMEOUT = "3600"',
        'TOKEN_URL = "https://example.org/token"',
        'SECRET_KEY = "<your secret key>"',
        'DB_PASSWORD = "${DB_PASSWORD}"',
        'password = "********"',
        'private_key = "/etc/ssl/private/key.pem"',
        'label = {"password": "Enter your password"}',
        'if password == "":\n    pass',
        # SQLAlchemy relationships (seen in miguelgrinberg/microblog): data keys, code references
        "rel = relationship(foreign_keys='Message.sender_id', back_populates='author')",
        "author_key = 'Message.recipientId'",
        'SORT_KEY = "created_at_2024_desc"',
        'cache_key = "user-profile-v2-by-id"',
    ],
)
def test_obvious_non_secrets_are_quiet(tmp_path: Path, line: str) -> None:
    (tmp_path / "m.py").write_text("import os\n" + line + "\n", encoding="utf-8")
    assert [f.title for f in scan_code(tmp_path).findings if f.rule_id == "PY-SECRET"] == []


def test_a_shipped_default_credential_is_reported(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text('ADMIN_PASSWORD = "changeme"\n', encoding="utf-8")
    assert [f.rule_id for f in scan_code(tmp_path).findings] == ["PY-SECRET"]


def test_fingerprint_does_not_depend_on_the_value(tmp_path: Path) -> None:
    ids = []
    for value in ("first-secret-1", "other-secret-2"):
        root = tmp_path / value
        root.mkdir()
        (root / "m.py").write_text(
            f'DB_PASSWORD = "{value}"\nconnect(password="{value}")\n', encoding="utf-8"
        )
        ids.append(sorted(f.id for f in scan_code(root).findings))
    assert len(ids[0]) == 2 and ids[0] == ids[1]


def test_the_model_redacts_whatever_built_the_finding() -> None:
    f = Finding(
        kind="code",
        rule_id="PY-SECRET",
        title=f"Hard-coded secret: connect(password='{MARK}')",
        severity="high",
        location=Location("a.py", 1),
        cwe=("CWE-798",),
        trace=(TraceStep("a.py", 1, f"secret = '{MARK}"),),
        fingerprint_basis=f'connect(password="{MARK}")',
    )
    assert MARK not in f.title + f.fingerprint_basis + f.trace[0].note
    assert "password=" in f.title
    # any code finding: a secret-named literal in its code text loses its value too
    g = Finding(
        kind="code",
        rule_id="PY-SQLI",
        title=f"SQL injection: q reaches db.execute(q, token='{MARK}')",
        severity="high",
        location=Location("a.py", 1),
        cwe=("CWE-89",),
    )
    assert MARK not in g.title and "db.execute(q, token='…')" in g.title


def test_nothing_secret_in_any_output_or_under_mamori_home(project: Path, mamori_home: Path) -> None:
    for fmt in FORMATS:
        run = mamori("scan", project, "--offline", "--confidence", "low", "-f", fmt)
        assert run.code in (0, 1), run.err
        assert MARK not in run.out + run.err, fmt
        if fmt == "json":
            titles = [f["title"] for f in run.json()["findings"]]
            assert any("API_TOKEN" in t for t in titles)
    out = project.parent / "report.sarif"
    assert mamori("scan", project, "--offline", "-f", "sarif", "-o", out).code in (0, 1)
    assert MARK not in out.read_text(encoding="utf-8")
    leaked = [p for p in mamori_home.rglob("*") if p.is_file() and MARK.encode() in p.read_bytes()]
    assert leaked == []
    assert (mamori_home / "results.sqlite").is_file()
    assert any((mamori_home / "cache").rglob("*"))


def test_ssvc_reasons_of_a_constant_make_sense(project: Path) -> None:
    run = mamori("scan", project, "--offline", "-f", "json")
    findings = [f for f in run.json()["findings"] if f["rule_id"] == "PY-SECRET"]
    assert findings
    for f in findings:
        reasons = " ".join(f["priority"]["reasons"])
        assert "remote input" not in reasons
        assert "automatable no: a credential written in the code" in reasons
    weak = json.dumps(run.json())
    assert "remote input reaches the sink (password" not in weak
