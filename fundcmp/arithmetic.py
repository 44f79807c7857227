"""The arithmetic of comparison: derived figures, bases and orderings.

Pure functions over model values. Intervals are carried through every
operation, so a range or a ceiling never comes out looking exact, and an
unknown input gives an unknown (or one-sided) result, never a zero.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from fundcmp.display import amount, span
from fundcmp.model import (
    Kind,
    Programme,
    Quantity,
    Support,
    Unit,
    derived,
    is_money,
    said_unknown,
    unknown,
)

BASES = ("low", "mid", "high")


def _words(q: Quantity) -> str:
    """A quantity inside a formula: a range is shown as [low, high], money to the penny
    where it has pence, so the working reproduces the answer."""
    if q.low is not None and q.high is not None and q.low != q.high:
        return f"[{amount(q.low, q.unit, True)}, {amount(q.high, q.unit, True)}]"
    return span(q, exact=True)


def per_year(funding: Quantity, duration: Quantity) -> Quantity:
    """Funding per 12 months: [low / longest, high / shortest] x 12.

    A ceiling on funding leaves the low end unknown; a ceiling on duration
    leaves the high end unbounded (the result is then "at least"); an unknown
    or zero-length duration makes the result unknown.
    """
    unit = funding.unit
    if funding.kind is Kind.UNKNOWN or duration.kind is Kind.UNKNOWN:
        missing = "funding" if funding.kind is Kind.UNKNOWN else "duration"
        return unknown(unit, f"{missing} unknown")
    if not duration.high:
        return unknown(unit, "duration is zero months")
    low = None if funding.low is None else _yearly(funding.low, duration.high)
    high = None
    if funding.high is not None and duration.low:
        high = _yearly(funding.high, duration.low)
    if high is None and not low:
        return unknown(unit, "the duration may be too short to bound it, and no floor "
                             "above zero is known")
    mid = None
    if high is not None and funding.mid is not None and duration.mid:
        mid = _yearly(funding.mid, duration.mid)
    return derived(low, mid, high, unit, f"{_words(funding)} / {_words(duration)} x 12")


def _yearly(amount: float, months: float) -> float:
    """x 12 before / months, the same way for every bound: dividing a tiny amount first can
    underflow to 0 (a floor lost), and one order for all keeps low <= mid <= high."""
    return amount * 12 / months


def funding_per_year(p: Programme) -> Quantity:
    """Per team per year: observed over an imported programme's own grants where the
    registry records it, else derived from funding per team and duration."""
    if p.funding_per_year.kind is not Kind.UNKNOWN:
        return p.funding_per_year
    return per_year(p.funding_per_team, p.duration)


def total_funding(p: Programme) -> Quantity:
    """The stated programme total, or teams x per-team funding when none is stated.

    A total the registry states as unknown, with its reason, stays unknown.
    """
    if p.total_funding.kind is not Kind.UNKNOWN or said_unknown(p.total_funding):
        return p.total_funding
    teams, each = p.teams, p.funding_per_team
    if not teams.known or not each.known:
        return p.total_funding
    assert teams.mid is not None and each.mid is not None and each.high is not None
    assert teams.high is not None
    low = None if each.low is None or teams.low is None else teams.low * each.low
    return derived(low, teams.mid * each.mid, teams.high * each.high, each.unit,
                   f"{_words(teams)} {p.team_noun} x {_words(each)}")


def price_year(p: Programme) -> tuple[int | None, str]:
    """The year whose prices a programme's money is in, and why that year."""
    if p.price_year is not None:
        # funding observed over grants is an imported programme's, whose import chose it
        return p.price_year, ("the median award year of its grants"
                              if p.funding_per_team.kind is Kind.OBSERVED
                              else "set in the registry")
    if p.announced is not None:
        return p.announced.year, "year announced"
    if p.start is not None:
        return p.start.year, "year started (no announcement date stated)"
    return None, "no announcement or start date stated"


@dataclass(frozen=True, slots=True)
class Ranked:
    """A programme in ranked order: its figure on every key (the first is `quantity`),
    and the value it was ordered by (None when unknown or in another currency)."""

    programme: Programme
    figures: tuple[Quantity, ...]
    value: float | None

    @property
    def quantity(self) -> Quantity:
        return self.figures[0]


def rank(programmes: Sequence[Programme], measure: Callable[[Programme], Quantity],
         basis: str = "mid", reverse: bool = False) -> list[Ranked]:
    """Largest first (smallest with reverse); unknowns always last, in registry order."""
    return rank_by(programmes, (measure,), basis, reverse)


@dataclass(frozen=True, slots=True)
class Best:
    """Which figures in a row are best, and, when none is, why not (for the legend)."""

    positions: frozenset[int]
    why_none: str = ""


def standing(q: Quantity, basis: str, unit: str | None) -> float | None:
    """The one value a figure is ordered by: THE rule behind both `rank` and compare's star.

    - its value on the basis (low, mid or high) when it has one: a range's
      midpoint on mid, a ceiling ("up to") at its cap on mid and high;
    - a floor ("at least", no upper end) at its floor on every basis: the
      only bound known, and the true figure is no smaller;
    - nothing (it takes no part, listed after every known figure) when it is
      unknown, in another currency than `unit`, or a ceiling on the low basis
      (a ceiling promises nothing above zero).
    """
    if q.kind is Kind.UNKNOWN or q.unit != unit:
        return None
    return standing_of(q.low, q.mid, q.high, basis)


def standing_of(low: float | None, mid: float | None, high: float | None,
                basis: str) -> float | None:
    """`standing` on bare bounds (as a store of figures keeps them): the basis's bound,
    else a floor's low end."""
    value = low if basis == "low" else high if basis == "high" else mid
    if value is None and high is None:
        return low
    return value


def best(quantities: Sequence[Quantity], basis: str = "mid") -> Best:
    """The figures `rank` would put first among these, by `standing`, when that means
    something: at least two figures take part and not all of them are equal."""
    unit = common_unit(quantities)
    values = [standing(q, basis, unit) for q in quantities]
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return Best(frozenset(), f"fewer than two figures are known on the {basis} basis")
    if max(known) == min(known):
        return Best(frozenset(), "all figures are equal")
    top = max(known)
    return Best(frozenset(i for i, v in enumerate(values) if v == top))


def months_between(start: str, end: str) -> tuple[int, int]:
    """The fewest and most whole months a span of month-precise dates can cover."""
    sy, sm = int(start[:4]), int(start[5:7]) if len(start) >= 7 else None
    ey, em = int(end[:4]), int(end[5:7]) if len(end) >= 7 else None
    first_start, last_start = (sm, sm) if sm else (1, 12)
    first_end, last_end = (em, em) if em else (1, 12)
    shortest = (ey * 12 + first_end) - (sy * 12 + last_start) - 1
    longest = (ey * 12 + last_end) - (sy * 12 + first_start) + 1
    return max(shortest, 0), longest


def restate(q: Quantity, factor: float, words: str) -> Quantity:
    """Money in other prices: every bound scaled, the kind kept, the note saying how."""
    if not is_money(q.unit) or q.kind is Kind.UNKNOWN:
        return q
    if q.unit != Unit.GBP:
        note = f"not restated: UK price indices do not apply to {q.unit}"
        return replace(q, note="; ".join(part for part in (q.note, note) if part))
    note = "; ".join(part for part in (q.note, f"restated {words}") if part)
    cuts = q.quantiles
    if cuts is not None:  # an observed spread's cuts move with its ends
        q1, q2, q3 = cuts.quartiles
        cuts = replace(cuts, quartiles=(q1 * factor, q2 * factor, q3 * factor),
                       deciles=tuple(x * factor for x in cuts.deciles))
    return replace(q, low=None if q.low is None else q.low * factor,
                   mid=None if q.mid is None else q.mid * factor,
                   high=None if q.high is None else q.high * factor, note=note,
                   quantiles=cuts)


def _money_fields(p: Programme, change: Callable[[Quantity], Quantity]) -> Programme:
    support = replace(p.support, value=change(p.support.value))
    return replace(p, funding_per_team=change(p.funding_per_team),
                   total_funding=change(p.total_funding),
                   funding_per_year=change(p.funding_per_year), support=support)


def restate_programme(p: Programme, factor: float, words: str) -> Programme:
    """A programme whose money figures are all restated by one price factor."""
    return _money_fields(p, lambda q: restate(q, factor, words))


def unpriced_programme(p: Programme, target: str) -> Programme:
    """A programme with no price year: its money cannot be put in other prices, so is unknown."""
    def drop(q: Quantity) -> Quantity:
        if q.kind is Kind.UNKNOWN:
            return q
        return unknown(q.unit, f"{span(q)} in unstated prices (no announcement, start or "
                               f"price_year), so not restated in {target}")

    return _money_fields(p, drop)


def value_support(support: Support, day_rate_gbp: float | None) -> Quantity:
    """Support in money: as stated, else its days x the user's day rate, else unknown.

    There is no default day rate: days are only turned into money when asked.
    """
    if support.value.kind is not Kind.UNKNOWN:
        return support.value
    days = support.days
    if not days.known:
        return support.value
    if day_rate_gbp is None:
        return unknown(Unit.GBP, f"stated as {span(days)}, not money; --day-rate GBP values it")
    assert days.mid is not None and days.high is not None
    rate = f"£{day_rate_gbp:,.0f}" if day_rate_gbp == int(day_rate_gbp) \
        else f"£{day_rate_gbp:,.2f}"
    return derived(None if days.low is None else days.low * day_rate_gbp,
                   days.mid * day_rate_gbp, days.high * day_rate_gbp, Unit.GBP,
                   f"{span(days)} x {rate}/day")


def value_programme(p: Programme, day_rate_gbp: float | None) -> Programme:
    """A programme whose support is valued (or explained as unvalued) at a day rate; the
    programme itself when that changes nothing (most do not state support in days)."""
    value = value_support(p.support, day_rate_gbp)
    if value is p.support.value:
        return p
    return replace(p, support=replace(p.support, value=value))


def _part(q: Quantity, name: str) -> str:
    if q.low is None and q.high is None:
        return f"{name} (unknown)"
    return _words(q) if q.high is not None else f"at least {amount(q.low or 0, q.unit, True)}"


def add(parts: Sequence[tuple[str, Quantity]]) -> Quantity:
    """The sum of non-negative amounts, as an interval.

    An unknown part is at least zero and has no upper end: it leaves the sum's
    upper end unknown, so the sum is a lower bound (when the known parts give a
    floor above zero) or unknown. It is never read as zero.
    """
    unit = parts[0][1].unit
    missing = " and ".join(name for name, q in parts if q.high is None)
    floor = sum(q.low for _, q in parts if q.low is not None) or None
    formula = " + ".join(_part(q, name) for name, q in parts)
    if not missing:
        return derived(floor, sum(q.mid or 0.0 for _, q in parts),
                       sum(q.high or 0.0 for _, q in parts), unit, formula)
    if floor is None:
        return Quantity(Kind.UNKNOWN, unit, formula=formula,
                        note=f"{missing} unknown, and the rest gives no floor above zero")
    return Quantity(Kind.DERIVED, unit, floor, None, None, formula=formula,
                    note=f"a lower bound: {missing} unknown, so the whole is at least "
                         f"{amount(floor, unit)}")


def value_per_team(p: Programme) -> Quantity:
    """Cash per team plus support per team: what one team receives in all."""
    return add((("funding per team", p.funding_per_team), ("support", p.support.value)))


def success_rate(p: Programme) -> Quantity:
    """Awards / applications, in per cent, only where a source states both."""
    awards, applications = p.teams, p.applications
    if not applications.known or applications.evidence is None:
        return unknown("%", "applications not stated")
    if not awards.known or awards.evidence is None:
        return unknown("%", "awards not stated")
    if applications.low is None:
        return unknown("%", "applications stated only as a ceiling")
    assert applications.high is not None
    assert awards.high is not None and awards.mid is not None and applications.mid is not None
    if applications.low <= 0:
        return unknown("%", "no applications stated")
    low = None if awards.low is None else awards.low / applications.high * 100
    return derived(low, awards.mid / applications.mid * 100,
                   awards.high / applications.low * 100, "%",
                   f"{_words(awards)} {p.team_noun} / {_words(applications)} applications x 100")


def common_unit(quantities: Sequence[Quantity]) -> str | None:
    """The unit most known figures are in, pounds on a tie: the one they are ordered in.

    Imported programmes may pay in euros or dollars; those are never ranked
    against pounds, since no exchange rate is assumed.
    """
    return most_common_unit(Counter(u for q in quantities if (u := counted_unit(q))))


def counted_unit(q: Quantity) -> str | None:
    """The unit a figure counts for when choosing the common unit: none if it is unknown."""
    return None if q.kind is Kind.UNKNOWN else q.unit


def most_common_unit(counts: Counter[str]) -> str | None:
    """The unit counted most often, pounds on a tie; None when nothing is counted."""
    if not counts:
        return None
    return max(counts, key=lambda unit: (counts[unit], unit == Unit.GBP))


def rank_by(programmes: Sequence[Programme],
            measures: Sequence[Callable[[Programme], Quantity]], basis: str = "mid",
            reverse: bool = False) -> list[Ranked]:
    """Order by the first measure, ties broken by the next, like `sort -k1 -k2`.

    Within each key the largest comes first (smallest with reverse) and an
    unknown, or a figure in another currency, comes after every known value;
    programmes unknown on the first key keep registry order once the keys are
    used up. Each figure is ordered by `standing`, the rule compare's star uses.
    """
    figures = [[measure(p) for measure in measures] for p in programmes]
    units = [common_unit([row[i] for row in figures]) for i in range(len(measures))]
    values = [[standing(q, basis, unit) for q, unit in zip(row, units, strict=True)]
              for row in figures]
    order = rank_order(values, [p.slug for p in programmes], reverse)
    return [_ranked(programmes[i], figures[i], basis, units[0]) for i in order]


def rank_order(values: Sequence[Sequence[float | None]], slugs: Sequence[str],
               reverse: bool) -> list[int]:
    """Positions in rank order, from each programme's `standing` on each key (None when it
    takes no part): largest first (smallest with reverse), unknowns last; ties on a known
    first value by slug, then by registry position. The cache's index sorts its stored
    values with this same function, or, for one key, with its SQL spelling (cache._rank_sql,
    held equal to this by a property test)."""
    sign = 1.0 if reverse else -1.0
    keys: list[tuple[object, ...]]
    if all(len(row) == 1 for row in values[:1]):  # one key: the same order, built faster
        keys = [(1, 0.0, "", position) if v is None else (0, sign * v, slug, position)
                for position, ((v,), slug) in enumerate(zip(values, slugs, strict=True))]
    else:
        keys = [(*[part for v in row for part in ((1, 0.0) if v is None else (0, sign * v))],
                 slug if row[0] is not None else "", position)
                for position, (row, slug) in enumerate(zip(values, slugs, strict=True))]
    return sorted(range(len(keys)), key=keys.__getitem__)


def _ranked(p: Programme, figures: Sequence[Quantity], basis: str, unit: str | None) -> Ranked:
    return Ranked(p, tuple(figures), standing(figures[0], basis, unit))


def placed(programmes: Sequence[Programme],
           measures: Sequence[Callable[[Programme], Quantity]], basis: str,
           unit: str | None) -> list[Ranked]:
    """Programmes already in ranked order (as the cache's index gives them), with their figures;
    `unit` is the first key's common unit over the whole registry."""
    return [_ranked(p, [measure(p) for measure in measures], basis, unit) for p in programmes]


MEASURES: dict[str, Callable[[Programme], Quantity]] = {
    "funding": lambda p: p.funding_per_team,
    "funding-per-year": funding_per_year,
    "duration": lambda p: p.duration,
    "support": lambda p: p.support.value,
    "teams": lambda p: p.teams,
    "total": total_funding,
    "value": value_per_team,
    "odds": success_rate,
}

