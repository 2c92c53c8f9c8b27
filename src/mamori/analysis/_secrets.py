"""Hard-coded secrets (CWE-798) in the forms real code writes them, named but never quoted.

Forms found, each when the name says "secret" and the value is a string literal:

- assignments at any level: ``API_TOKEN = "…"``, ``DB_PASSWORD = "…"`` (module and class
  constants), ``self.secret_key = "…"``, ``app.config['SECRET_KEY'] = "…"``;
- keyword arguments: ``connect(password="…")``, ``app.config.update(SECRET_KEY="…")`` and
  ``auth=("user", "…")``;
- settings dicts: ``{'PASSWORD': '…'}``;
- comparisons: ``password == 'admin'``, ``request.form['token'] != '…'``;
- default arguments: ``def login(password='admin')``;
- environment fallbacks: ``os.environ.get('SECRET_KEY', '…')`` (the lookup itself is not a
  literal; its default is).

A name is secret when its last word is ``password``/``passwd``/``pwd``/``pass``/``passphrase``/
``secret``/``salt``/``apikey``, or ``key`` qualified as secret (``secret_key``, ``api_key``,
``private_key`` …); for those any real-looking value counts. Names ending in ``token`` or a bare
``key`` (``CACHE_KEY``, ``SESSION_KEY``) are also used for identifiers, so their value must look
like key material (8+ characters with a digit, or 16+ in mixed case, and not a dotted path of
words such as ``'Message.sender_id'``, which is code naming code). Keys qualified as data keys
(``foreign_keys``, ``sort_key``, ``cache_key``, ``partition_key`` …) are not secret names.

Values that cannot be a working secret are not reported: empty or shorter than 3 characters,
prose or labels (any whitespace), templates and references (``<…>``, ``${…}``, ``{…}``,
``%(…)s``, ``$VAR``), masks (``****``, ``xxxx``), values that say they are placeholders
(``placeholder``, ``example``, ``your_…``, ``replace…``, ``redacted``, ``dummy``), file paths
and URLs, ``none``/``null``/``true``/``false``, and the name itself (``PASSWORD = "password"`` is
a field name). A shipped default such as ``changeme`` or ``admin`` *is* reported: a default
credential that reaches production is exactly this weakness.

Findings in test folders (a path component ``test``, ``tests``, ``testing``, ``fixtures``,
``__tests__``, or a file ``test_*.py``, ``*_test.py``, ``conftest.py``) have low confidence.

The text of every hit names the variable or key and shows the value as ``'…'``: the value is
never copied into a finding, its fingerprint, the code cache or any output.
:func:`mamori.model.redact_secrets` applies the same rule again to every code finding built.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

from mamori.analysis._checks import CheckHit

_HUMPS = re.compile(r"([a-z0-9])([A-Z])")
_STRONG_LAST = frozenset(
    {"password", "passwd", "pwd", "pass", "passphrase", "secret", "salt", "apikey", "passcode"}
)
_KEY_QUALIFIERS = frozenset(
    {
        "api", "secret", "private", "signing", "sign", "encryption", "encrypt", "crypt", "crypto",
        "auth", "access", "hmac", "aes", "master", "jwt", "client", "consumer", "app", "license",
        "stripe", "aws", "fernet", "django",
    }
)  # fmt: skip
_DATA_KEY_QUALIFIERS = frozenset(
    {
        "foreign", "primary", "sort", "partition", "cache", "lookup", "dict", "column", "index",
        "unique", "composite", "natural", "surrogate", "row", "group", "order", "shortcut", "hot",
        "keyboard", "translation", "i18n", "idempotency", "dedup", "redis", "storage", "object",
        "map", "join", "range", "hash", "search", "field", "attribute", "attr", "json", "query",
    }
)  # fmt: skip
"""Words before ``key``/``keys`` that name a data or index key, not a credential
(``foreign_keys``, ``SORT_KEY``, ``cache_key``): such a name is never a secret's."""
_CODE_REFERENCE = re.compile(
    r"[A-Za-z][a-z]*(?:[A-Z][a-z]+)*(?:_[a-z]+)*(?:\.[A-Za-z][a-z]*(?:[A-Z][a-z]+)*(?:_[a-z]+)*)+"
)
"""A dotted path of words (``Message.sender_id``, ``settings.AUTH_USER_MODEL`` is not: upper
words): code naming code, which key material (random, digits, mixed case) never is."""
_PLACEHOLDER_WORDS = ("placeholder", "example", "your_", "your-", "yourpass", "replace", "redacted", "dummy")
_NOT_VALUES = frozenset({"none", "null", "nil", "undefined", "true", "false", "default"})
_TEST_DIRS = frozenset({"test", "tests", "testing", "fixtures", "__tests__"})
_ENV_GETTERS = ("os.environ.get", "os.getenv", "environ.get", "getenv", "os.environ.setdefault")
_MASKED = "'…'"


def is_test_path(relpath: str) -> bool:
    """True for a file in a test folder or named like a test module."""
    parts = relpath.replace("\\", "/").split("/")
    name = parts[-1]
    if any(p in _TEST_DIRS for p in parts[:-1]):
        return True
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", _HUMPS.sub(r"\1_\2", name).lower()) if w]


def secret_strength(name: str) -> str:
    """``strong`` (any real value counts), ``material`` (the value must look like a key), or ``""``."""
    words = _words(name)
    while words and words[-1].isdigit():
        words.pop()
    if not words:
        return ""
    last = words[-1]
    if last in _STRONG_LAST or last.endswith(("password", "passwd", "secret")):
        return "strong"
    if last in ("key", "keys"):
        if _DATA_KEY_QUALIFIERS.intersection(words[:-1]) and not _KEY_QUALIFIERS.intersection(words[:-1]):
            return ""
        return "strong" if _KEY_QUALIFIERS.intersection(words[:-1]) else "material"
    if last.endswith("apikey") or last.endswith("secretkey"):
        return "strong"
    if last in ("token", "tokens") or last.endswith("token"):
        return "material"
    return ""


def _looks_like_material(value: str) -> bool:
    if _CODE_REFERENCE.fullmatch(value):
        return False
    if any(c.isdigit() for c in value) and len(value) >= 8:
        return True
    return len(value) >= 16 and any(c.islower() for c in value) and any(c.isupper() for c in value)


def _placeholder(value: str, name: str) -> bool:
    v = value.strip()
    low = v.lower()
    if len(v) < 3 or v != value or any(c.isspace() for c in v):
        return True
    if len(set(v)) == 1 or low in _NOT_VALUES:
        return True
    if (v[0] == "<" and v[-1] == ">") or "${" in v or "{{" in v or "%(" in v or v[0] == "$":
        return True
    if re.fullmatch(r"\{[^{}]*\}", v) or re.fullmatch(r"x{3,}.*|.*x{4,}", low):
        return True
    if any(w in low for w in _PLACEHOLDER_WORDS):
        return True
    if v.startswith(("/", "~/", "./", "../")) or "://" in v or low.endswith((".pem", ".key", ".crt", ".txt")):
        return True
    squashed = re.sub(r"[^a-z0-9]", "", low)
    name_words = _words(name)
    return squashed in ("".join(name_words), name_words[-1] if name_words else "")


def _str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_secret(name: str, value: str) -> bool:
    strength = secret_strength(name)
    if not strength or _placeholder(value, name):
        return False
    return strength == "strong" or _looks_like_material(value)


def _dotted(node: ast.AST) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _target(node: ast.AST) -> tuple[str, str]:
    """(secret name, display text without any value) of a store or load target."""
    if isinstance(node, ast.Name):
        return node.id, node.id
    if isinstance(node, ast.Attribute):
        return node.attr, _dotted(node) or node.attr
    if isinstance(node, ast.Subscript):
        key = _str(node.slice)
        if key is not None and len(key) <= 80:
            base = _dotted(node.value)
            return key, f"{base}[{key!r}]" if base else f"[{key!r}]"
    return "", ""


def hardcoded_secrets(nodes: Sequence[ast.AST], relpath: str) -> Iterator[CheckHit]:
    """Every hard-coded secret of one module, given all the nodes of its tree."""
    confidence = "low" if is_test_path(relpath) else "medium"
    seen: Counter[str] = Counter()

    def hit(node: ast.AST, text: str, note: str) -> CheckHit:
        seen[text] += 1
        basis = text if seen[text] == 1 else f"{text} #{seen[text]}"
        return CheckHit(
            "PY-SECRET",
            getattr(node, "lineno", 0),
            getattr(node, "col_offset", 0),
            basis,
            note,
            confidence,
        )

    for node in nodes:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            value = _str(node.value)
            if value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                name, shown = _target(t)
                if name and _is_secret(name, value):
                    yield hit(node, f"{shown} = {_MASKED}", f"{name} is assigned a string literal")
        elif isinstance(node, ast.Call):
            yield from _call(node, hit)
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                key, value = _str(k), _str(v)
                if key is not None and value is not None and len(key) <= 80 and _is_secret(key, value):
                    yield hit(
                        k or node, f"{{{key!r}: {_MASKED}}}", f"settings key {key} holds a string literal"
                    )
        elif (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], (ast.Eq, ast.NotEq))
        ):
            left, right = node.left, node.comparators[0]
            lit, other = (_str(right), left) if _str(right) is not None else (_str(left), right)
            if lit is None:
                continue
            name, shown = _target(other)
            if name and secret_strength(name) and not _placeholder(lit, name):
                op = "==" if isinstance(node.ops[0], ast.Eq) else "!="
                yield hit(node, f"{shown} {op} {_MASKED}", f"{name} is compared with a string literal")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
            fname = node.name if not isinstance(node, ast.Lambda) else "lambda"
            for arg, default in pairs:
                value = _str(default)
                if value is not None and _is_secret(arg.arg, value):
                    yield hit(
                        default,
                        f"def {fname}({arg.arg}={_MASKED})",
                        f"parameter {arg.arg} defaults to a string literal",
                    )


_Hit = Callable[[ast.AST, str, str], CheckHit]


def _call(node: ast.Call, make: _Hit) -> Iterator[CheckHit]:
    func = _dotted(node.func)
    shown_func = func or "…"
    for k in node.keywords:
        if not k.arg:
            continue
        value = _str(k.value)
        if value is not None and _is_secret(k.arg, value):
            yield make(k.value, f"{shown_func}({k.arg}={_MASKED})", f"{k.arg}= is passed a string literal")
        elif (
            k.arg == "auth"
            and isinstance(k.value, ast.Tuple)
            and len(k.value.elts) == 2
            and (pw := _str(k.value.elts[1])) is not None
            and not _placeholder(pw, "password")
        ):
            yield make(k.value, f"{shown_func}(auth=(…, {_MASKED}))", "auth= is passed a literal password")
    if func.endswith(_ENV_GETTERS) and len(node.args) >= 2:
        var, default = _str(node.args[0]), _str(node.args[1])
        if var is not None and default is not None and len(var) <= 80 and _is_secret(var, default):
            yield make(
                node.args[1],
                f"environment variable {var} falls back to {_MASKED}",
                f"the fallback of {var} is a string literal",
            )
