"""The programme facts fundcmp compares, as frozen values.

A figure is never a bare number: it is a Quantity whose kind says how much is
known (exact, a range, a ceiling, derived from other facts, observed over many
grants, or unknown), so nothing downstream can mistake "up to" for "exactly"
or an unknown for zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    EXACT = "exact"
    RANGE = "range"
    CEILING = "ceiling"
    DERIVED = "derived"
    OBSERVED = "observed"
    UNKNOWN = "unknown"


class Unit(StrEnum):
    """Units of a quantity. Money is in GBP unless an imported grant says otherwise."""

    GBP = "GBP"
    MONTHS = "months"
    DAYS = "days"
    COUNT = "count"


def is_money(unit: str) -> bool:
    """Money units are ISO 4217 codes (GBP, EUR, USD): three capital letters."""
    return len(unit) == 3 and unit.isupper()


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a stated figure comes from: a source id and its verbatim words."""

    source: str
    quote: str


@dataclass(frozen=True, slots=True)
class Quantiles:
    """Exact cut points of observed values, so a spread is more than its ends.

    `quartiles` are Q1, median, Q3; `deciles` are D1 to D9 (D5 is the median).
    Both follow fundcmp.quantiles.METHOD (statistics.quantiles, method="inclusive").
    """

    quartiles: tuple[float, float, float]
    deciles: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Quantity:
    """A figure with honest bounds.

    `low`/`high` bound the value (None where that side is unknown, as the
    low side of a ceiling); `mid` is the single value used when one number
    must stand for the whole. `formula` says how a derived figure was reached.
    """

    kind: Kind
    unit: str
    low: float | None = None
    mid: float | None = None
    high: float | None = None
    formula: str = ""
    n: int | None = None
    evidence: Evidence | None = None
    note: str = ""
    quantiles: Quantiles | None = None

    @property
    def known(self) -> bool:
        """True when there is a single value to stand for it (the mid)."""
        return self.kind is not Kind.UNKNOWN and self.mid is not None

    @property
    def is_point(self) -> bool:
        return self.low is not None and self.low == self.high

    def basis(self, name: str) -> float | None:
        """The value standing for this quantity under a ranking basis."""
        if name == "low":
            return self.low
        if name == "high":
            return self.high
        return self.mid


def exact(amount: float, unit: str, evidence: Evidence | None = None, note: str = "") -> Quantity:
    return Quantity(Kind.EXACT, unit, amount, amount, amount, evidence=evidence, note=note)


def between(low: float, high: float, unit: str, evidence: Evidence | None = None,
            note: str = "") -> Quantity:
    return Quantity(Kind.RANGE, unit, low, (low + high) / 2, high, evidence=evidence, note=note)


def ceiling(high: float, unit: str, evidence: Evidence | None = None, note: str = "") -> Quantity:
    return Quantity(Kind.CEILING, unit, None, high, high, evidence=evidence, note=note)


NOT_STATED = "not stated in the sources"


def unknown(unit: str, note: str = NOT_STATED) -> Quantity:
    return Quantity(Kind.UNKNOWN, unit, note=note)


def said_unknown(q: Quantity) -> bool:
    """True for a figure the registry states as `unknown: "why"`, rather than one it leaves out:
    what the registry states wins over anything fundcmp could derive."""
    return q.kind is Kind.UNKNOWN and not q.formula and q.note not in ("", NOT_STATED)


def derived(low: float | None, mid: float | None, high: float | None, unit: str,
            formula: str, note: str = "") -> Quantity:
    if low is None and mid is None and high is None:
        return Quantity(Kind.UNKNOWN, unit, formula=formula, note=note or formula)
    return Quantity(Kind.DERIVED, unit, low, mid, high, formula=formula, note=note)


# Defaults shared by every value that states nothing: they are immutable, and building
# fresh ones for each programme was a measurable share of loading a large registry.
_UNKNOWN_GBP = unknown(Unit.GBP)
_UNKNOWN_MONTHS = unknown(Unit.MONTHS)
_UNKNOWN_DAYS = unknown(Unit.DAYS)
_UNKNOWN_COUNT = unknown(Unit.COUNT)


@dataclass(frozen=True, slots=True)
class DateFact:
    """A calendar date as precise as its source: YYYY, YYYY-MM or YYYY-MM-DD."""

    text: str
    evidence: Evidence | None = None

    @property
    def year(self) -> int:
        return int(self.text[:4])

    @property
    def month(self) -> int | None:
        return int(self.text[5:7]) if len(self.text) >= 7 else None


@dataclass(frozen=True, slots=True)
class Support:
    """Non-financial support per team: money value, days, and what it consists of."""

    value: Quantity = _UNKNOWN_GBP
    days: Quantity = _UNKNOWN_DAYS
    description: str = ""
    components: tuple[str, ...] = ()
    evidence: Evidence | None = None


_NO_SUPPORT = Support()


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    publisher: str
    title: str
    date: str
    document: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class TextFact:
    text: str
    evidence: Evidence | None = None


@dataclass(frozen=True, slots=True)
class Published:
    """The 360Giving programme a hand-written entry's grants are published under.

    `entry` is the slug of the imported entry holding those grants; the loader
    copies its observed figures here, so stated and observed sit side by side.
    """

    funder_id: str
    programme: str
    entry: str
    grants: Quantity = _UNKNOWN_COUNT
    funding_per_grant: Quantity = _UNKNOWN_GBP
    total_funding: Quantity = _UNKNOWN_GBP
    duration: Quantity = _UNKNOWN_MONTHS
    line: int = 0


@dataclass(frozen=True, slots=True)
class Programme:
    slug: str
    name: str
    funders: tuple[str, ...]
    sources: tuple[Source, ...]
    partners: tuple[str, ...] = ()
    focus: TextFact | None = None
    part_of: TextFact | None = None
    announced: DateFact | None = None
    start: DateFact | None = None
    end: DateFact | None = None
    teams: Quantity = _UNKNOWN_COUNT
    team_noun: str = "teams"
    funding_per_team: Quantity = _UNKNOWN_GBP
    total_funding: Quantity = _UNKNOWN_GBP
    # Observed over imported grants (each grant's amount / its duration x 12); else unknown,
    # and per year is derived from funding_per_team and duration.
    funding_per_year: Quantity = _UNKNOWN_GBP
    duration: Quantity = _UNKNOWN_MONTHS
    support: Support = _NO_SUPPORT
    applications: Quantity = _UNKNOWN_COUNT
    price_year: int | None = None
    published: Published | None = None
    line: int = 0

    @property
    def funder(self) -> str:
        return ", ".join(self.funders)

    def source(self, source_id: str) -> Source | None:
        for src in self.sources:
            if src.id == source_id:
                return src
        return None


def observed(minimum: float, median: float, maximum: float, n: int, unit: str,
             formula: str = "", quantiles: Quantiles | None = None) -> Quantity:
    """A spread seen over n observations (imported grants): median as mid."""
    return Quantity(Kind.OBSERVED, unit, minimum, median, maximum, formula=formula, n=n,
                    quantiles=quantiles)
