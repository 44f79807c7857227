"""Facts that disagree with each other, found without refusing the registry.

A registry can be valid and still say two things that cannot both be true: a
stated duration the stated dates do not give, or a programme total that its
teams x per-team funding cannot produce. Each finding names the programme and
both facts with their quotes, so a reader can go back to the sources. Whether a
side is stated or derived (a registry `derived:` figure) is said, so a derived
figure that contradicts a stated one is reported in the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from fundcmp.arithmetic import months_between, total_funding
from fundcmp.display import amount, span
from fundcmp.model import (
    DateFact,
    Evidence,
    Kind,
    Programme,
    Quantity,
    Unit,
    said_unknown,
    unknown,
)


@dataclass(frozen=True, slots=True)
class Fact:
    """One side of a disagreement: what it says, how it is known, and its quote."""

    label: str
    shown: str
    how: str
    quotes: tuple[str, ...]

    def words(self) -> str:
        quoted = "; ".join(f"\u201c{q}\u201d" for q in self.quotes)
        return f"{self.how} {self.label} {self.shown}" + (f" ({quoted})" if quoted else "")


@dataclass(frozen=True, slots=True)
class Finding:
    slug: str
    check: str
    first: Fact
    second: Fact

    def line(self) -> str:
        return f"{self.slug}: {self.check}: {self.first.words()} vs {self.second.words()}"


def _how(q: Quantity) -> str:
    return f"derived ({q.formula})" if q.formula else "stated"


def _quotes(*evidence: Evidence | None) -> tuple[str, ...]:
    quotes: list[str] = []
    for e in evidence:
        if e is not None and e.quote not in quotes:
            quotes.append(e.quote)
    return tuple(quotes)


def _overlap(low: float, high: float, q: Quantity) -> bool:
    """Whether a quantity can take some value in [low, high]; a ceiling's floor is zero."""
    assert q.high is not None
    return (q.low or 0.0) <= high and q.high >= low


def _fact(label: str, q: Quantity) -> Fact:
    return Fact(label, span(q), _how(q), _quotes(q.evidence))


def _earliest(date: str) -> str:
    """The first day a YYYY, YYYY-MM or YYYY-MM-DD date can mean, as comparable text."""
    return date + "-01-01"[len(date) - 4:]


def _latest(date: str) -> str:
    """The last day it can mean (day 31 of any month: only the order matters here)."""
    return date + "-12-31"[len(date) - 4:]


def ends_before_it_starts(p: Programme) -> Finding | None:
    """An end date must be able to fall on or after the start date."""
    start, end = p.start, p.end
    if start is None or end is None or _latest(end.text) >= _earliest(start.text):
        return None
    return Finding(p.slug, "ends before it starts",
                   Fact("end", end.text, "stated", _quotes(end.evidence)),
                   Fact("start", start.text, "stated", _quotes(start.evidence)))


def duration_vs_dates(p: Programme) -> Finding | None:
    """A stated duration must fall within the months the stated start and end allow."""
    start, end, duration = p.start, p.end, p.duration
    if start is None or end is None or duration.high is None:
        return None
    if ends_before_it_starts(p) is not None:
        return None  # reported as such: dates out of order give no months to compare
    shortest, longest = months_between(start.text, end.text)
    if _overlap(shortest, longest, duration):
        return None
    return Finding(p.slug, "duration disagrees with the dates", _fact("duration", duration),
                   _dates_fact(start, end, shortest, longest))


def _dates_fact(start: DateFact, end: DateFact, shortest: int, longest: int) -> Fact:
    months = amount(shortest, Unit.MONTHS) if shortest == longest else \
        f"{shortest} to {amount(longest, Unit.MONTHS)}"
    return Fact("dates", f"{start.text} to {end.text}, which give {months}", "stated",
                _quotes(start.evidence, end.evidence))


def total_vs_teams(p: Programme) -> Finding | None:
    """A total must be reachable from teams x per-team funding.

    The low end is teams x the least per-team grant; the high end adds each
    team's support where its value is known, as totals often include it.
    """
    total, teams, each = p.total_funding, p.teams, p.funding_per_team
    if total.kind is Kind.UNKNOWN or total.high is None or not teams.known or not each.known:
        return None
    assert teams.high is not None and each.high is not None
    least = (teams.low or 0.0) * (each.low or 0.0)
    support = p.support.value.high if p.support.value.known else None
    most = teams.high * (each.high + (support or 0.0))
    if _overlap(least, most, total):
        return None
    product = f"{span(teams)} x {span(each)}"
    if support is not None:
        product += f" (plus support of up to {amount(support, each.unit)} each)"
    reach = f"{amount(least, each.unit)}" if least == most else \
        f"{amount(least, each.unit)} to {amount(most, each.unit)}"
    return Finding(p.slug, "total disagrees with teams x per-team funding",
                   _fact("total", total),
                   Fact("teams x per-team funding", f"{product}, which gives {reach}",
                        "stated" if not (teams.formula or each.formula) else "derived",
                        _quotes(teams.evidence, each.evidence)))


def awards_vs_applications(p: Programme) -> Finding | None:
    """A programme cannot make more awards than it received applications."""
    teams, applications = p.teams, p.applications
    if teams.low is None or applications.high is None or applications.kind is Kind.UNKNOWN:
        return None
    if teams.low <= applications.high:
        return None
    return Finding(p.slug, "more awards than applications", _fact(p.team_noun, teams),
                   _fact("applications", applications))


CHECKS = (ends_before_it_starts, duration_vs_dates, total_vs_teams, awards_vs_applications)


def check(programmes: Sequence[Programme]) -> list[Finding]:
    """Every disagreement found, in registry order."""
    return [f for p in programmes for run in CHECKS if (f := run(p)) is not None]


def derivable(programmes: Sequence[Programme]) -> list[str]:
    """Totals the registry states as unknown that teams x per-team funding could give.

    Not a disagreement (what the registry states wins, and the reason may be
    good): `check` only points them out, so a maintainer can decide.
    """
    notes = []
    for p in programmes:
        if not said_unknown(p.total_funding):
            continue
        could = total_funding(replace(p, total_funding=unknown(p.total_funding.unit)))
        if could.kind is not Kind.UNKNOWN:
            notes.append(f"{p.slug}: total funding is stated unknown "
                         f"(\u201c{p.total_funding.note}\u201d), though {could.formula} "
                         f"would give {span(could)}")
    return notes
