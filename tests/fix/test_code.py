"""Rule-based code rewrites on real snippet files: the safe form appears and the code still works."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path
from types import ModuleType

from mamori.fix.fixers import CodeTarget, rewrite_code

from .conftest import FIXTURES

CODE = FIXTURES / "code"


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _fix(name: str, cwe: str, needle: str) -> tuple[str, str, object]:
    text = (CODE / name).read_text()
    new, outcomes = rewrite_code(text, [CodeTarget("f", (cwe,), _line(text, needle))])
    compile(new, name, "exec")
    return text, new, outcomes["f"]


def _load(tmp_path: Path, source: str) -> ModuleType:
    path = tmp_path / "fixed_module.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("fixed_module", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sql_becomes_a_parameterised_query_that_resists_injection(tmp_path: Path) -> None:
    _text, new, outcome = _fix("sqli_fstring_sqlite.py", "CWE-89", "cur.execute")
    assert outcome.fixed  # type: ignore[attr-defined]
    assert "WHERE name = ? LIMIT ?" in new and "cur.execute(sql, (str(name), limit))" in new
    module = _load(tmp_path, new)
    conn = sqlite3.connect(":memory:")
    conn.executescript("CREATE TABLE users(name TEXT); INSERT INTO users VALUES ('sato'), ('ito');")
    assert module.search(conn, "sato", 5) == [("sato",)]
    assert module.search(conn, "x' OR '1'='1", 5) == []


def test_shell_command_becomes_an_argument_list() -> None:
    _text, new, outcome = _fix("cmdi_shell_true.py", "CWE-78", "df -P")
    assert outcome.fixed  # type: ignore[attr-defined]
    assert 'subprocess.run(["df", "-P", "-k", path], capture_output=True, text=True)' in new
    _text, new2, _ = _fix("cmdi_shell_true.py", "CWE-78", "os.system")
    assert 'subprocess.call(["echo", text])' in new2


def test_a_command_that_needs_the_shell_gets_its_values_quoted(tmp_path: Path) -> None:
    _text, new, outcome = _fix("cmdi_shell_true.py", "CWE-78", "check_output(cmd")
    assert outcome.fixed  # type: ignore[attr-defined]
    assert 'f"grep {shlex.quote(str(pattern))} /etc/hosts | wc -l"' in new and "import shlex" in new


def test_yaml_load_becomes_safe_load_and_pickle_is_refused_with_reasons() -> None:
    text = (CODE / "deser_yaml_pickle.py").read_text()
    targets = [
        CodeTarget("y", ("CWE-502",), _line(text, "yaml.load")),
        CodeTarget("p", ("CWE-502",), _line(text, "pickle.loads")),
    ]
    new, outcomes = rewrite_code(text, targets)
    assert "return yaml.safe_load(body)" in new and "pickle.loads(blob)" in new
    assert outcomes["y"].fixed and not outcomes["p"].fixed
    assert "pickle" in outcomes["p"].summary and outcomes["p"].options


def test_weak_hashes_and_randomness(tmp_path: Path) -> None:
    text = (CODE / "weak_crypto_random.py").read_text()
    targets = [
        CodeTarget("md5", ("CWE-328",), _line(text, "password.encode")),
        CodeTarget("new", ("CWE-328",), _line(text, 'hashlib.new("sha1")')),
        CodeTarget("etag", ("CWE-328",), _line(text, "hashlib.md5(body)")),
        CodeTarget("rand", ("CWE-330",), _line(text, "getrandbits")),
    ]
    new, outcomes = rewrite_code(text, targets)
    # a password hash without a check to migrate is refused, never swapped for a fast digest
    assert not outcomes["md5"].fixed and "scrypt" in outcomes["md5"].options[0]
    assert "hashlib.md5(password.encode())" in new
    assert all(outcomes[k].fixed for k in ("new", "etag", "rand"))
    assert 'hashlib.new("sha256")' in new and outcomes["new"].consequences
    assert "hashlib.md5(body, usedforsecurity=False)" in new
    assert "secrets.SystemRandom().getrandbits(64)" in new and "import secrets" in new
    module = _load(tmp_path, new)
    assert module.session_token().isdigit()


def test_web_weaknesses_in_one_pass() -> None:
    text = (CODE / "web_flask.py").read_text()
    wanted = {
        "xss": ("CWE-79", "return body"),
        "redirect": ("CWE-601", "return redirect"),
        "cookie": ("CWE-614", "set_cookie"),
        "eval": ("CWE-94", "eval(expr)"),
        "exec": ("CWE-94", "exec(code)"),
        "xpath": ("CWE-643", "root.xpath"),
        "ldap": ("CWE-90", "conn.search"),
        "path": ("CWE-22", 'open(path, "rb")'),
        "trust": ("CWE-501", 'flask.session["user"]'),
        "ssti": ("CWE-1336", "render_template_string"),
    }
    targets = [CodeTarget(k, (cwe,), _line(text, needle)) for k, (cwe, needle) in wanted.items()]
    new, outcomes = rewrite_code(text, targets)
    compile(new, "web_flask.py", "exec")
    assert {k for k, o in outcomes.items() if not o.fixed} == {"exec"}
    assert outcomes["exec"].options and "no safe subset" in outcomes["exec"].summary
    assert 'if not re.fullmatch(r"[\\w .,@:+=/\\-]{0,256}", str(value)):' in new and "import re" in new
    assert 'f"<p>Hello {html.escape(str(name))}</p>"' in new
    assert 'redirect(_local_redirect_target(request.args.get("next", "/")))' in new
    assert 'secure=True, httponly=True, samesite="Lax"' in new
    assert "ast.literal_eval(expr)" in new
    assert "query = '/Employees/Employee[@emplid=$p0]'" in new and "root.xpath(query, p0=str(emplid))" in new
    assert "ldap3.utils.conv.escape_filter_chars(str(uid))" in new
    assert 'path = _confined_path(f"{base}/", f"{base}/{name}")' in new
    assert 'render_template_string("<h1>{{ v0 }}</h1>", v0=tpl_value)' in new
    assert "import urllib.parse" in new and "import ldap3.utils.conv" in new


def test_a_finding_with_no_matching_sink_is_left_alone() -> None:
    text = (CODE / "web_flask.py").read_text()
    new, outcomes = rewrite_code(text, [CodeTarget("x", ("CWE-89",), 1), CodeTarget("y", ("CWE-9999",), 3)])
    assert new == text
    assert not outcomes["x"].fixed and "no execute() call" in outcomes["x"].summary
    assert not outcomes["y"].fixed
