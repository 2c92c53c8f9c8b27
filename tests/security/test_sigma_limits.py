"""A hostile Sigma rule (huge condition, too many values) is refused before pySigma (issue 11).

A condition of thousands of nested parentheses or of hundreds of thousands of terms cost pySigma
hundreds of MB and tens of seconds; it is now refused with the file and line, and every other
rule — in other files and in the same file — still loads and alerts.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.helpers import mamori

from mamori.detect._cache import RuleCache
from mamori.detect._rules import RuleSet, load_rules, load_rules_from_text

HEAD = "logsource: {category: webserver}\ndetection:\n  sel:\n    cs-uri-query|contains: union\n"
ATTACK = (
    '1.2.3.4 - - [10/Feb/2024:10:00:00 +0000] "GET /search?q=1%27%20UNION%20SELECT%20password'
    '%20FROM%20users-- HTTP/1.1" 200 5 "-" "curl"\n'
)


def _rule(n: int, title: str, condition: str) -> str:
    return f"title: {title}\nid: 00000000-0000-4000-8000-{n:012d}\n{HEAD}  condition: {condition}\n"


def _hostile_rules(folder: Path) -> None:
    folder.mkdir()
    (folder / "parens.yml").write_text(_rule(1, "parens", "(" * 3000 + "sel" + ")" * 3000))
    (folder / "terms.yml").write_text(_rule(2, "terms", " or ".join(["sel"] * 700)))
    values = "".join(f"    - v{i}\n" for i in range(60_000))
    (folder / "values.yml").write_text(
        "title: values\nid: 00000000-0000-4000-8000-000000000003\nlogsource: {category: webserver}\n"
        f"detection:\n  sel:\n    cs-uri-query|contains:\n{values}  condition: sel\n"
    )
    # a file of two rules: the oversized one is refused, its neighbour still loads
    (folder / "pair.yml").write_text(
        _rule(4, "big", "(" * 40 + "sel" + ")" * 40) + "---\n" + _rule(5, "ok", "sel")
    )


def test_oversized_rules_are_refused_with_file_and_line_and_the_rest_alert(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    _hostile_rules(rules)
    log = tmp_path / "access.log"
    log.write_text(ATTACK)
    run = mamori("detect", log, "--rules", rules, "--no-record", "--format", "json")
    assert run.code == 1, run.err  # alerts raised
    doc = run.json()
    reasons = {Path(u["path"]).name: u["reason"] for u in doc["rules"]["unsupported"]}
    assert set(reasons) == {"parens.yml", "terms.yml", "values.yml", "pair.yml"}, reasons
    assert "line 7: condition nested 3,000 parentheses deep (over 32)" in reasons["parens.yml"]
    assert "line 7: condition of 1,399 terms (over 1,000)" in reasons["terms.yml"]
    assert "over 50,000 values" in reasons["values.yml"] and "line 4" in reasons["values.yml"]
    assert "line 7: condition nested 40 parentheses deep" in reasons["pair.yml"]
    assert doc["rules"]["loaded"] == 1
    assert [a["title"] for a in doc["alerts"]] == ["ok"]
    # the text report names them too, without a traceback
    text = mamori("detect", log, "--rules", rules, "--no-record")
    assert "parens.yml: rule too large: line 7" in text.err and "Traceback" not in text.err


def test_refusal_survives_the_rule_cache(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    _hostile_rules(rules)
    cache = RuleCache(tmp_path / "cache")
    first = load_rules([rules], cache=cache)
    second = load_rules([rules], cache=cache)
    assert [u.reason for u in first.unsupported] == [u.reason for u in second.unsupported]
    assert len(first.unsupported) == 4 and [r.title for r in second.rules] == ["ok"]


TERMS = st.sampled_from(
    ["(", ")", "sel", "sel*", "and", "or", "not", "1 of", "all of", "them", "|", "count() > 5", "x"]
)
CONDITIONS = st.one_of(
    st.text(max_size=200),
    st.lists(TERMS, max_size=60).map(" ".join),
    st.integers(0, 3000).map(lambda d: "(" * d + "sel" + ")" * d),
    st.integers(0, 3000).map(lambda n: " and ".join(["sel"] * n)),
)


@settings(max_examples=150, deadline=None)
@given(CONDITIONS)
def test_any_condition_loads_or_is_listed_cleanly(condition: str) -> None:
    doc = {
        "title": "h",
        "id": "00000000-0000-4000-8000-000000000001",
        "logsource": {"category": "webserver"},
        "detection": {"sel": {"cs-uri-query|contains": "union"}, "condition": condition},
    }
    ruleset = load_rules_from_text(yaml.safe_dump(doc), "h.yml")
    assert isinstance(ruleset, RuleSet)
    assert len(ruleset.rules) + len(ruleset.unsupported) >= 1
    for entry in ruleset.unsupported:
        assert entry.path == "h.yml" and entry.reason and "Traceback" not in entry.reason
