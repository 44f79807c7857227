"""Interval arithmetic, bases and ordering: ranges stay ranges, unknowns are never zero."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundcmp.arithmetic import best, months_between, per_year, price_year, rank, total_funding
from fundcmp.model import (
    DateFact,
    Kind,
    Programme,
    Quantity,
    Unit,
    between,
    ceiling,
    exact,
    unknown,
)
from fundcmp.registry import load

from .conftest import SHIPPED

SHIPPED_BY_SLUG = load(SHIPPED).by_slug()

money = st.floats(min_value=0, max_value=1e9, allow_nan=False)
months = st.floats(min_value=1, max_value=240, allow_nan=False)


@st.composite
def quantities(draw: st.DrawFn, unit: str, values: st.SearchStrategy[float]) -> Quantity:
    kind = draw(st.sampled_from([Kind.EXACT, Kind.RANGE, Kind.CEILING, Kind.UNKNOWN]))
    a, b = sorted((draw(values), draw(values)))
    if kind is Kind.EXACT:
        return exact(a, unit)
    if kind is Kind.RANGE:
        return between(a, b, unit)
    if kind is Kind.CEILING:
        return ceiling(b, unit)
    return unknown(unit)


def test_per_year_of_exact_figures_is_exact_and_says_how() -> None:
    q = per_year(exact(420000, Unit.GBP), exact(42, Unit.MONTHS))
    assert (q.kind, q.low, q.mid, q.high) == (Kind.DERIVED, 120000, 120000, 120000)
    assert q.formula == "£420,000 / 42 months x 12"


def test_per_year_of_ranges_uses_the_opposite_ends() -> None:
    q = per_year(between(300000, 500000, Unit.GBP), between(24, 36, Unit.MONTHS))
    assert (q.low, q.high) == (300000 / 36 * 12, 500000 / 24 * 12)
    assert q.mid == pytest.approx(400000 / 30 * 12)
    assert q.formula == "[£300,000, £500,000] / [24 months, 36 months] x 12"


def test_per_year_of_a_ceiling_keeps_the_low_end_unknown() -> None:
    q = per_year(ceiling(100000, Unit.GBP), exact(15, Unit.MONTHS))
    assert (q.low, q.mid, q.high) == (None, 80000, 80000)


@pytest.mark.parametrize(("funding", "duration"), [
    (unknown(Unit.GBP), exact(12, Unit.MONTHS)),
    (exact(1000, Unit.GBP), unknown(Unit.MONTHS)),
    (exact(1000, Unit.GBP), exact(0, Unit.MONTHS)),
])
def test_per_year_with_an_unknown_or_zero_input_is_unknown(funding: Quantity,
                                                            duration: Quantity) -> None:
    q = per_year(funding, duration)
    assert q.kind is Kind.UNKNOWN and q.mid is None and q.low is None and q.high is None


@given(quantities(Unit.GBP, money), quantities(Unit.MONTHS, months))
def test_bases_are_ordered(funding: Quantity, duration: Quantity) -> None:
    for q in (funding, duration, per_year(funding, duration)):
        if q.kind is Kind.UNKNOWN:
            assert (q.low, q.mid, q.high) == (None, None, None)
            continue
        if q.high is None:  # a floor ("at least"): only the low end is known
            assert q.low is not None and q.mid is None
            continue
        assert q.mid is not None
        assert q.mid <= q.high * (1 + 1e-12)
        if q.low is not None:
            assert q.low <= q.mid * (1 + 1e-12)


@given(quantities(Unit.GBP, money), quantities(Unit.MONTHS, months), st.data())
def test_per_year_contains_every_consistent_exact_case(funding: Quantity, duration: Quantity,
                                                       data: st.DataObject) -> None:
    q = per_year(funding, duration)
    if q.kind is Kind.UNKNOWN:  # no bound survives: an unknown input, or no floor above zero
        assert Kind.UNKNOWN in (funding.kind, duration.kind) or not duration.high or (
            not duration.low
            and (not funding.low or funding.low * 12 / duration.high == 0))  # or too small
        return
    assert funding.high is not None and duration.high is not None
    amount = data.draw(st.floats(min_value=funding.low or 0.0, max_value=funding.high))
    shortest = duration.low if duration.low is not None else min(0.01, duration.high)
    length = data.draw(st.floats(min_value=shortest, max_value=duration.high))
    point = amount / length * 12
    if q.high is None:
        assert duration.low is None
    else:
        assert point <= q.high * (1 + 1e-9)
    if q.low is not None:
        assert q.low <= point * (1 + 1e-9) + 1e-9


def test_a_tiny_floor_does_not_underflow_to_unknown() -> None:
    """Found by the property above: 5e-324 / 2 months is 0 in floats, so the floor was lost."""
    q = per_year(exact(5e-324, Unit.GBP), ceiling(2, Unit.MONTHS))
    assert q.kind is Kind.DERIVED and q.low is not None and q.low > 0 and q.high is None


def test_total_is_stated_or_derived_from_teams() -> None:
    sp = SHIPPED_BY_SLUG["shared-purpose"]
    q = total_funding(sp)
    assert (q.kind, q.mid) == (Kind.DERIVED, 9 * 420000)
    assert q.formula == "9 award-holder teams x £420,000"
    assert total_funding(SHIPPED_BY_SLUG["common-ambition"]).kind is Kind.EXACT
    pph = total_funding(SHIPPED_BY_SLUG["people-powered-health"])
    assert (pph.low, pph.high) == (None, 600000)


def test_rank_puts_unknowns_last_in_either_direction() -> None:
    programmes = list(SHIPPED_BY_SLUG.values())
    def funding(p: Programme) -> Quantity:
        return p.funding_per_team
    down = [r.programme.slug for r in rank(programmes, funding)]
    up = [r.programme.slug for r in rank(programmes, funding, reverse=True)]
    assert down == ["shared-purpose", "common-ambition", "people-powered-health",
                    "building-health-partnerships"]
    assert up == ["people-powered-health", "common-ambition", "shared-purpose",
                  "building-health-partnerships"]
    low = [r.programme.slug for r in rank(programmes, funding, basis="low")]
    assert low[:2] == ["shared-purpose", "common-ambition"]
    assert set(low[2:]) == {"people-powered-health", "building-health-partnerships"}


@given(st.lists(quantities(Unit.GBP, money), min_size=1, max_size=8),
       st.sampled_from(["low", "mid", "high"]), st.booleans())
def test_rank_is_sorted_with_unknowns_after_knowns(qs: list[Quantity], basis: str,
                                                   reverse: bool) -> None:
    base = SHIPPED_BY_SLUG["shared-purpose"]
    programmes = [replace(base, slug=f"p{i}", funding_per_team=q) for i, q in enumerate(qs)]
    values = [r.value for r in rank(programmes, lambda p: p.funding_per_team, basis, reverse)]
    known = [v for v in values if v is not None]
    assert values[:len(known)] == known
    assert known == sorted(known, reverse=not reverse)


def test_best_needs_two_known_and_different_values() -> None:
    assert best([exact(1, Unit.GBP), unknown(Unit.GBP)]).positions == set()
    assert "fewer than two" in best([exact(1, Unit.GBP), unknown(Unit.GBP)]).why_none
    assert best([exact(1, Unit.GBP), exact(1, Unit.GBP)]).why_none == "all figures are equal"
    assert best([exact(1, Unit.GBP), between(0, 4, Unit.GBP), unknown(Unit.GBP)]).positions \
        == {1}
    assert best([exact(3, Unit.GBP), between(0, 4, Unit.GBP)], basis="low").positions == {0}


@pytest.mark.parametrize(("start", "end", "span"), [
    ("2012-06", "2015-12", (41, 43)),
    ("2012-06", "2012-06", (0, 1)),
    ("2012", "2013", (0, 24)),
    ("2012-06-30", "2015-12-01", (41, 43)),
])
def test_months_between_month_precise_dates(start: str, end: str, span: tuple[int, int]) -> None:
    assert months_between(start, end) == span


def test_price_year_prefers_announcement_then_start() -> None:
    assert price_year(SHIPPED_BY_SLUG["people-powered-health"]) == (2011, "year announced")
    assert price_year(SHIPPED_BY_SLUG["shared-purpose"])[0] == 2012
    sp = replace(SHIPPED_BY_SLUG["shared-purpose"], start=None,
                 announced=DateFact("2013-02"))
    assert price_year(sp) == (2013, "year announced")
    assert price_year(replace(sp, announced=None))[0] is None


def test_a_ceiling_counts_at_its_cap_except_on_the_low_basis_as_rank_orders_it() -> None:
    capped, firm = ceiling(45000, Unit.GBP), between(30000, 50000, Unit.GBP)
    assert best([capped, firm, exact(10000, Unit.GBP)]).positions == {0}
    assert best([capped, firm, exact(10000, Unit.GBP)], basis="low").positions == {1}
    assert best([capped, firm], basis="high").positions == {1}
    assert best([ceiling(60000, Unit.GBP), firm], basis="high").positions == {0}


def test_per_year_over_a_duration_that_may_be_zero_is_unknown_not_at_least_zero() -> None:
    q = per_year(between(0, 50000, Unit.GBP), between(0, 24, Unit.MONTHS))
    assert q.kind is Kind.UNKNOWN and "no floor above zero" in q.note
    floor = per_year(between(12000, 50000, Unit.GBP), between(0, 24, Unit.MONTHS))
    assert (floor.low, floor.mid, floor.high) == (6000, None, None)
