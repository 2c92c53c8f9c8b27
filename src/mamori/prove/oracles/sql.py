"""SQL injection (CWE-89): the canary must change the structure of the executed query.

The executed SQL text is tokenised with ``sqlparse`` and compared with the same text in which
the payload is replaced by a plain word: if the token types differ, the input broke out of the
literal it was meant to stay in. ``sqlparse`` is a non-validating lexer: it tokenises any text,
including the broken SQL an injection often produces, and needs no dialect — a validating
parser (sqlglot) raises on exactly the queries that matter here. A parameterised query never
carries the payload in its text, and an escaped one does not carry it verbatim: neither is
proven.
"""

from __future__ import annotations

from mamori.prove.oracles import Canary, Family, Observation, Verdict, events, verdict_at


def payloads(c: Canary) -> list[str]:
    k = c.token  # lower case throughout: apps that lower-case the input (user names) keep it
    return [f"{k}' or '{k}'='{k}", f'{k}" or "{k}"="{k}', f"1 or {k}=1"]


def shape(sql: str) -> list[str]:
    """The query's structure: the sequence of token types, whitespace and comments left out."""
    import sqlparse
    from sqlparse import tokens as T

    out: list[str] = []
    for statement in sqlparse.parse(sql):
        for tok in statement.flatten():
            if tok.ttype in T.Whitespace or tok.ttype in T.Newline or tok.ttype in T.Comment:
                continue
            kind = str(tok.ttype)
            if tok.ttype in T.Keyword or tok.ttype in T.Operator or tok.ttype in T.Punctuation:
                kind += ":" + tok.value.upper()
            out.append(kind)
        out.append(";")
    return out


def changes_structure(sql: str, payload: str, plain: str) -> bool:
    """True when ``payload`` appears verbatim in ``sql`` and alters its token structure."""
    if payload not in sql:
        return False
    return shape(sql) != shape(sql.replace(payload, plain))


def judge(obs: Observation, c: Canary, payload: str) -> Verdict | None:
    seen = events(obs, "sqlite3.execute", "sqlite3.executemany", "sqlite3.executescript", "dbapi.execute")
    for e in seen:
        sql = str(e.get("sql") or e.get("query") or "")
        if changes_structure(sql, payload, c.token):
            return verdict_at(e, True, f"the input changed the structure of the SQL query: {sql[:200]}", sql)
    if seen:
        sql = str(seen[0].get("sql") or seen[0].get("query") or "")
        return verdict_at(
            seen[0], False, f"the canary reached the query but stayed a literal: {sql[:200]}", sql
        )
    return None


FAMILY = Family("sql", ("PY-SQLI",), ("CWE-89",), payloads, judge)
