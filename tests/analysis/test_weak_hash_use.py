"""PY-WEAKHASH judged by where the digest goes: in a URL (Gravatar's ``md5(email)``) it names a
resource anyone can compute, so it is shown only with ``--confidence low``; elsewhere (stored,
compared, signed) it stays a finding. Through the command users type."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

APP = """import hashlib
from hashlib import md5


def avatar(email, size):
    digest = md5(email.lower().encode("utf-8")).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=identicon&s={size}"


def avatar2(email):
    return "https://www.gravatar.com/avatar/{}?s=80".format(hashlib.md5(email.encode()).hexdigest())


def avatar3(email):
    return "//www.gravatar.com/avatar/%s" % hashlib.md5(email.strip().encode()).hexdigest()


class User:
    email = ""

    def gravatar_hash(self):
        return hashlib.md5(self.email.lower().encode("utf-8")).hexdigest()


def store(password):
    h = hashlib.md5(password.encode()).hexdigest()
    save(h)
    return "http://x/" + h


def sig(data):
    return hashlib.sha1(data).hexdigest()


def save(value):
    return value
"""


def _lines(root: Path, home: Path, *args: str) -> dict[int, str]:
    env = {**os.environ, "MAMORI_HOME": str(home), "MAMORI_OFFLINE": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mamori",
            "scan",
            str(root),
            "--no-deps",
            "--offline",
            "--format",
            "json",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    return {
        f["location"]["line"]: f["confidence"]
        for f in report["findings"]
        if f.get("rule_id") == "PY-WEAKHASH"
    }


def _line(text: str) -> int:
    return next(i for i, line in enumerate(APP.splitlines(), 1) if text in line)


def test_digest_in_url_is_low_confidence(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(APP)
    # a digest also used outside a URL (stored) and a signature stay findings by default
    stored, signed = _line("md5(password"), _line("sha1(data")
    assert _lines(root, tmp_path / "h1") == {stored: "high", signed: "high"}
    low = _lines(root, tmp_path / "h2", "--confidence", "low")
    urls = {
        _line("md5(email.lower"),
        _line('{}?s=80".format'),
        _line("//www.gravatar.com/avatar/%s"),
        _line("md5(self.email"),
    }
    assert low == {**dict.fromkeys(urls, "low"), stored: "high", signed: "high"}
