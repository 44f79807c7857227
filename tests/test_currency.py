"""Figures in other currencies are never ordered against pounds, nor restated by UK indices."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from fundcmp.arithmetic import best, common_unit, restate
from fundcmp.cli import cli
from fundcmp.model import Kind, Unit, between, exact

from .conftest import MINIMAL

MIXED = MINIMAL + """\
  - slug: euro
    name: Euro
    funders: [Funder B]
    funding_per_team: {amount: 900000, currency: EUR, source: src, quote: "€900,000"}
  - slug: beta
    name: Beta
    funders: [Funder C]
    funding_per_team: {amount: 50000, source: src, quote: "£50,000"}
"""


def test_common_unit_is_the_most_frequent_with_pounds_on_a_tie() -> None:
    assert common_unit([exact(1, "EUR"), exact(2, Unit.GBP)]) == Unit.GBP
    assert common_unit([exact(1, "EUR"), exact(2, "EUR"), exact(3, Unit.GBP)]) == "EUR"
    assert common_unit([]) is None


def test_best_ignores_another_currency() -> None:
    assert best([exact(10, Unit.GBP), exact(99, "EUR"), exact(20, Unit.GBP)]) .positions == {2}


def test_euros_are_not_restated_by_a_uk_index_and_say_so() -> None:
    q = restate(between(1, 2, "EUR"), 1.5, "from 2011 to 2024 prices")
    assert (q.kind, q.low, q.high) == (Kind.RANGE, 1, 2)
    assert q.note == "not restated: UK price indices do not apply to EUR"
    assert restate(exact(100, Unit.GBP), 1.5, "x").mid == 150


def test_rank_lists_euros_after_pounds_and_says_why(
        write_registry: Callable[[str], Path]) -> None:
    path = write_registry(MIXED)
    result = CliRunner().invoke(cli, ["--registry", str(path), "rank", "--by", "funding",
                                      "--format", "tsv", "--no-header"])
    assert result.exit_code == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [r[0] for r in rows] == ["alpha", "beta", "euro"]
    assert rows[2][2:] == ["900000 EUR", "900000", "in EUR, so not ranked against figures in GBP"]
