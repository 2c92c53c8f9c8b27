"""TAP output read into per-test outcomes: real node output, tape's flat form, hostile text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.fix._tap import tap_outcomes


def test_node_runner_output_counts_leaf_tests(tmp_path: Path) -> None:
    """node's own TAP: subtests are named by their path, a parent's line is not a test."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (apt-get install nodejs)")
    (tmp_path / "a.test.js").write_text(
        "const test = require('node:test'); const assert = require('assert');\n"
        "test('adds', () => assert.equal(1 + 1, 2));\n"
        "test('group', async (t) => {\n"
        "  await t.test('inner ok', () => {});\n"
        "  await t.test('inner bad', () => assert.equal(1, 2));\n"
        "});\n"
        "test('skipped', { skip: true }, () => {});\n"
        "test('later', { todo: true }, () => assert.equal(1, 2));\n"
    )
    out = subprocess.run(
        [node, "--test", "--test-reporter=tap", "a.test.js"], cwd=tmp_path, capture_output=True, text=True
    ).stdout
    assert tap_outcomes(out) == (frozenset({"adds", "group/inner ok"}), 1)


def test_tape_assertions_are_grouped_by_their_test_and_repeats_kept_apart() -> None:
    out = (
        "TAP version 13\n# adds\nok 1 should be equal\nok 2 should be equal\n"
        "# subtracts\nnot ok 3 should be equal\n  ---\n  ok: false\n  ...\n"
        "ok 4 flaky # SKIP network\n\n1..4\n# tests 4\n# pass  2\n# fail  1\n"
    )
    assert tap_outcomes(out) == (frozenset({"adds/should be equal", "adds/should be equal#2"}), 1)


def test_output_without_tap_gives_no_outcomes() -> None:
    assert tap_outcomes("> app@1.0.0 test\n> jest\n\nPASS  ./a.test.js\n  ✓ works (3 ms)\n") is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=80),
            st.builds(
                lambda i, n, r: f"{' ' * i}{n}ok {r}",
                st.integers(0, 12),
                st.sampled_from(["", "not "]),
                st.text(max_size=40),
            ),
            st.builds(lambda i, r: f"{' ' * i}# Subtest: {r}", st.integers(0, 12), st.text(max_size=40)),
        ),
        max_size=60,
    )
)
def test_any_output_is_read_without_an_exception(lines: list[str]) -> None:
    """The output is the project's own text: whatever it prints, the reader returns counts."""
    got = tap_outcomes("\n".join(lines))
    if got is not None:
        passed, failed = got
        assert failed >= 0 and all(len(name) <= 310 for name in passed)
