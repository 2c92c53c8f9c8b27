"""The table report: grouping, the version to upgrade to, summary, errors, plain vs colour."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from mamori.model import Coverage, Report, ScanError, Unchecked
from mamori.output.table import render_table, summary_line, upgrade_for

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_golden_table(full_report: Report, golden: Callable[[str, str], None]) -> None:
    golden("report.table.txt", render_table(full_report, width=120))


def test_plain_output_has_no_escape_codes_and_no_trailing_blanks(full_report: Report) -> None:
    out = render_table(full_report, width=100)
    assert "\x1b[" not in out
    assert all(line == line.rstrip() for line in out.splitlines())


def test_colour_output_styles_severities(full_report: Report) -> None:
    out = render_table(full_report, width=120, color=True)
    assert ANSI.search(out)
    assert ANSI.sub("", out).split() == render_table(full_report, width=120).split()


def test_brackets_in_titles_are_not_markup(full_report: Report) -> None:
    assert "ReDoS in [urlize] filter" in render_table(full_report, width=160)


def test_upgrade_is_lowest_fix_above_installed_on_its_branch(osv: Any, make_dep: Any) -> None:
    adv = osv("django", "PYSEC-2021-98")  # fixed 2.2.24, 3.1.12, 3.2.4
    for installed, expected in [("2.2.1", "2.2.24"), ("3.1.5", "3.1.12"), ("3.2.0", "3.2.4")]:
        f = make_dep("PyPI", "django", installed, adv, "high", "requirements.txt", 1)
        assert upgrade_for([f]) == (expected, True)


def test_package_upgrade_clears_every_advisory(osv: Any, make_dep: Any) -> None:
    sandbox = osv("jinja2", "PYSEC-2019-217")  # fixed 2.10.1
    redos = osv("jinja2", "PYSEC-2021-66")  # fixed 2.11.3
    findings = [make_dep("PyPI", "jinja2", "2.10", a, "high", "r.txt", 1) for a in (sandbox, redos)]
    assert upgrade_for(findings) == ("2.11.3", True)
    unfixed = replace(sandbox, fixed=())
    partial = [*findings, make_dep("PyPI", "jinja2", "2.10", unfixed, "low", "r.txt", 1)]
    assert upgrade_for(partial) == ("2.11.3", False)


def test_dependency_rows_are_grouped_by_package(full_report: Report) -> None:
    out = render_table(full_report, width=160)
    # jinja2 has two advisories but is named once, with the one upgrade that clears both.
    assert len(re.findall(r"^\s+jinja2\s", out, flags=re.M)) == 1
    jinja_line = next(line for line in out.splitlines() if re.match(r"^\s+jinja2\s", line))
    assert "2.11.3" in jinja_line
    assert "PYSEC-2021-66" in out and "PYSEC-2019-217" in out


def test_code_findings_grouped_by_file_with_trace(full_report: Report) -> None:
    out = render_table(full_report, width=160)
    assert out.count("app/views.py ") >= 1
    assert "app/views.py:30 request.args['q'] (source)" in out
    assert out.index("Code findings") > out.index("Vulnerable dependencies")


def test_summary_counts_open_findings_by_severity(full_report: Report) -> None:
    line = summary_line(full_report).plain
    assert line.startswith("4 open findings: 1 critical, 1 high, 1 medium, 1 low")
    assert "1 not affected" in line and "2 errors" in line


def test_errors_are_listed_with_path_and_line(full_report: Report) -> None:
    out = render_table(full_report)
    assert "poetry.lock:17: invalid TOML" in out
    assert "vendor/broken.py: cannot decode as UTF-8" in out


def test_empty_report_is_clean_only_when_everything_was_checked() -> None:
    clean = render_table(Report(coverage=Coverage(checked=3, total=3)))
    assert "No vulnerabilities found." in clean
    broken = Report(
        errors=(ScanError("a.lock", "bad", 2),),
        coverage=Coverage(checked=3, total=4, unchecked=(Unchecked("a.lock", 2, "", "unreadable", "bad"),)),
    )
    out = render_table(broken)
    assert "No vulnerabilities found." not in out
    assert "0 found in 3 of 4 inventory items checked" in out
    assert "0 open findings" in out and "a.lock:2: bad" in out


def test_report_with_only_errors_never_says_clean() -> None:
    out = render_table(Report(errors=(ScanError("a.lock", "bad", 2),)))
    assert "No vulnerabilities found." not in out and "a.lock:2: bad" in out
