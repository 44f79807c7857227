"""One rule for "best": compare's star is what rank puts first (issue 11, items 2 and 3)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from fundcmp.arithmetic import (
    BASES,
    MEASURES,
    best,
    common_unit,
    rank_by,
    standing,
    standing_of,
)
from fundcmp.cli import cli
from fundcmp.model import Kind, Quantity, Unit, between, ceiling, exact, unknown
from fundcmp.registry import SHIPPED, load
from fundcmp.views import BEST_MARKED, RANK_FIELD, compare_table, rank_table

PROGRAMMES = load(SHIPPED).programmes
PAIRS = list(itertools.combinations(PROGRAMMES, 2))


@pytest.mark.parametrize("basis", BASES)
@pytest.mark.parametrize("key", list(MEASURES))
def test_compare_star_and_rank_first_place_agree_for_every_pair(key: str, basis: str) -> None:
    field = RANK_FIELD[key]
    for pair in PAIRS:
        for ordered in (pair, pair[::-1]):
            compared = compare_table(list(ordered), None, basis)
            stars = {ordered[i].slug for i, k in compared.best if k == field}
            ranked = [r["slug"] for r in rank_table(list(ordered), key, basis).records]
            figures = [MEASURES[key](p) for p in ordered]
            unit = common_unit(figures)
            values = {p.slug: standing(q, basis, unit) for p, q in zip(ordered, figures,
                                                                      strict=True)}
            if field not in BEST_MARKED:
                assert not stars, f"{field} is documented as never starred"
                continue
            if stars:
                assert ranked[0] in stars, (key, basis, ranked, stars)
                assert {values[s] for s in stars} == {values[ranked[0]]}
            else:
                first, second = values[ranked[0]], values[ranked[1]]
                assert second is None or first == second, (key, basis, ranked, values)
                assert any(note.startswith("no ★ for") for note in compared.notes)


def test_the_issue_pair_stars_the_one_rank_puts_first(runner: CliRunner) -> None:
    out = runner.invoke(cli, ["compare", "people-powered-health", "shared-purpose",
                              "--format", "json"]).stdout
    pph, sp = json.loads(out)
    assert "funding" in sp["best"] and "funding" not in pph["best"]
    ranked = runner.invoke(cli, ["rank", "--by", "support", "--format", "tsv"]).stdout
    first = ranked.splitlines()[1].split("\t")[0]
    out = runner.invoke(cli, ["compare", first, "common-ambition", "--format", "json"]).stdout
    assert "support" in json.loads(out)[0]["best"]


def test_the_legend_says_why_a_row_has_no_star(runner: CliRunner) -> None:
    out = runner.invoke(cli, ["compare", "people-powered-health", "shared-purpose",
                              "--format", "github"]).stdout
    assert "no ★ for Success rate: fewer than two figures are known on the mid basis" in out
    assert "teams and applications are counts, not merits, so never starred" in out


FLOOR = """\
sources:
  - id: s
    publisher: P
    title: T
    date: "2020"
programmes:
  - slug: unknown-one
    name: Unknown One
    funders: [F]
  - slug: floored
    name: Floored
    funders: [F]
    funding_per_team: {amount: 100000, source: s, quote: "£100,000"}
    duration: {up_to: 48, source: s, quote: "up to 48 months"}
"""


def test_a_floor_is_ranked_by_its_bound_above_the_unknowns_and_labelled(
        runner: CliRunner, write_registry: Callable[[str], Path]) -> None:
    path = write_registry(FLOOR)
    out = runner.invoke(cli, ["--registry", str(path), "rank", "--by", "funding-per-year",
                              "--format", "tsv", "--no-header"]).stdout
    first, second = (line.split("\t") for line in out.splitlines())
    assert first[:3] == ["floored", "Floored", ">=25000"]
    assert "ranked by its floor" in first[4] and "at least £25,000" in first[4]
    assert second[0] == "unknown-one"


def _figures() -> st.SearchStrategy[Quantity]:
    money = st.integers(0, 1000).map(float)
    return st.one_of(
        money.map(lambda v: exact(v, Unit.GBP)),
        st.tuples(money, money).map(lambda t: between(min(t), max(t), Unit.GBP)),
        money.map(lambda v: ceiling(v, Unit.GBP)),
        money.map(lambda v: Quantity(Kind.DERIVED, Unit.GBP, v, None, None)),
        st.just(unknown(Unit.GBP)),
        money.map(lambda v: exact(v, "EUR")),
    )


@given(st.lists(_figures(), min_size=2, max_size=6), st.sampled_from(BASES))
@example([ceiling(45000, Unit.GBP), between(30000, 50000, Unit.GBP)], "mid")
@example([Quantity(Kind.DERIVED, Unit.GBP, 25000, None, None), unknown(Unit.GBP)], "mid")
def test_best_is_what_rank_puts_first(figures: list[Quantity], basis: str) -> None:
    base = PROGRAMMES[0]
    programmes = [replace(base, slug=f"p{i}", funding_per_team=q) for i, q in enumerate(figures)]
    ranked = rank_by(programmes, [MEASURES["funding"]], basis)
    judged = best(figures, basis)
    unit = common_unit(figures)
    values = [standing(q, basis, unit) for q in figures]
    first = int(ranked[0].programme.slug[1:])
    if judged.positions:
        assert first in judged.positions
        assert {values[i] for i in judged.positions} == {max(v for v in values if v is not None)}
    else:
        known = [v for v in values if v is not None]
        assert len(known) < 2 or len(set(known)) == 1
        assert judged.why_none


@given(_figures(), st.sampled_from(BASES))
def test_standing_of_bare_bounds_is_standing(q: Quantity, basis: str) -> None:
    if q.kind is not Kind.UNKNOWN:
        assert standing(q, basis, q.unit) == standing_of(q.low, q.mid, q.high, basis)
    assert standing(q, basis, "XYZ") is None
