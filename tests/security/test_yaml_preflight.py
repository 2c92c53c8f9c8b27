"""Every YAML loader judges a text from its event stream before composing it (issue 11)."""

from __future__ import annotations

import pytest

from mamori._yamlguard import YamlRefused, preflight
from mamori.advisories.osv import load_yaml as load_advisory
from mamori.detect._yaml import UnsafeYaml, load_all
from mamori.errors import ParseError
from mamori.inventory._safe import loads_yaml

DENSE = "packages:\n" + "  - {}\n" * 200_000
MANY = "packages:\n" + "".join(f"  - name-{i:012d}-padding\n" for i in range(300_000))


def test_dense_text_is_refused_with_its_line() -> None:
    with pytest.raises(YamlRefused) as refused:
        preflight(DENSE, max_nodes=5_000_000, max_depth=64)
    assert "denser than one per" in str(refused.value) and refused.value.line > 100_000


def test_too_many_nodes_and_too_deep_are_refused_and_a_real_shape_passes() -> None:
    with pytest.raises(YamlRefused, match="more than 200,000 YAML nodes"):
        preflight(MANY, max_nodes=200_000, max_depth=64)
    with pytest.raises(YamlRefused, match="nested over 64 deep"):
        preflight("a: " + "[" * 100 + "]" * 100, max_nodes=1000, max_depth=64)
    assert (
        preflight(MANY, max_nodes=1_000_000, max_depth=64) == 3 + 300_000
    )  # the root mapping, its key, the list and its items


def test_each_loader_refuses_before_composing() -> None:
    with pytest.raises(ParseError, match="refused before building"):
        loads_yaml(DENSE, "pnpm-lock.yaml")
    with pytest.raises(UnsafeYaml, match="refused before building"):
        load_all(DENSE)
    with pytest.raises(ParseError, match="refused before building"):
        load_advisory(DENSE, "GHSA-x.yaml")
