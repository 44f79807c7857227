"""The arithmetic of comparison: derived figures, bases and orderings.

Pure functions over model values. Intervals are carried through every
operation, so a range or a ceiling never comes out looking exact, and an
unknown input gives an unknown (or one-sided) result, never a zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fundcmp.display import amount, span
from fundcmp.model import Kind, Programme, Quantity, derived, unknown

BASES = ("low", "mid", "high")


def _words(q: Quantity) -> str:
    """A quantity inside a formula: a range is shown as [low, high]."""
    if q.low is not None and q.high is not None and q.low != q.high:
        return f"[{amount(q.low, q.unit)}, {amount(q.high, q.unit)}]"
    return span(q)


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
    low = None if funding.low is None else funding.low / duration.high * 12
    high = None
    if funding.high is not None and duration.low:
        high = funding.high / duration.low * 12
    mid = None
    if high is not None and funding.mid is not None and duration.mid:
        mid = funding.mid / duration.mid * 12
    return derived(low, mid, high, unit, f"{_words(funding)} / {_words(duration)} x 12")


def total_funding(p: Programme) -> Quantity:
    """The stated programme total, or teams x per-team funding when none is stated."""
    if p.total_funding.kind is not Kind.UNKNOWN:
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
        return p.price_year, "set in the registry"
    if p.announced is not None:
        return p.announced.year, "year announced"
    if p.start is not None:
        return p.start.year, "year started (no announcement date stated)"
    return None, "no announcement or start date stated"


@dataclass(frozen=True, slots=True)
class Ranked:
    programme: Programme
    quantity: Quantity
    value: float | None


def rank(programmes: Sequence[Programme], measure: Callable[[Programme], Quantity],
         basis: str = "mid", reverse: bool = False) -> list[Ranked]:
    """Largest first (smallest with reverse); unknowns always last, in registry order."""
    scored = [Ranked(p, q, q.basis(basis)) for p in programmes for q in (measure(p),)]
    known = [r for r in scored if r.value is not None]
    known.sort(key=lambda r: (r.value, r.programme.slug) if reverse else
               (-(r.value or 0.0), r.programme.slug))
    return known + [r for r in scored if r.value is None]


def best(quantities: Sequence[Quantity], basis: str = "mid") -> set[int]:
    """Positions of the largest value on the basis; none when fewer than two are known."""
    values = [q.basis(basis) for q in quantities]
    known = [v for v in values if v is not None]
    if len(known) < 2 or max(known) == min(known):
        return set()
    top = max(known)
    return {i for i, v in enumerate(values) if v == top}


def months_between(start: str, end: str) -> tuple[int, int]:
    """The fewest and most whole months a span of month-precise dates can cover."""
    sy, sm = int(start[:4]), int(start[5:7]) if len(start) >= 7 else None
    ey, em = int(end[:4]), int(end[5:7]) if len(end) >= 7 else None
    first_start, last_start = (sm, sm) if sm else (1, 12)
    first_end, last_end = (em, em) if em else (1, 12)
    shortest = (ey * 12 + first_end) - (sy * 12 + last_start) - 1
    longest = (ey * 12 + last_end) - (sy * 12 + first_start) + 1
    return max(shortest, 0), longest


MEASURES: dict[str, Callable[[Programme], Quantity]] = {
    "funding": lambda p: p.funding_per_team,
    "funding-per-year": lambda p: per_year(p.funding_per_team, p.duration),
    "duration": lambda p: p.duration,
    "support": lambda p: p.support.value,
    "teams": lambda p: p.teams,
    "total": total_funding,
}

