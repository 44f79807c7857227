"""Whether an ask (an amount, a length, a yearly amount, some words) fits each programme.

Pure functions over model values: each test places the ask against one figure
in the words of that figure's evidence, and never guesses. Stated figures:
inside a range or at an exact figure fits, under a ceiling fits, below what a
programme gives fits with a caveat (it gives more than asked), above the most
it gives does not fit, and an unknown figure stays unknown. Observed grants:
the ask is placed among the imported quantiles (fundcmp.quantiles.METHOD):
between the 1st and 9th deciles fits, in an outer tenth or below every grant
fits with a caveat, above every grant does not fit.

A programme's verdict is its worst test, in the order fits, fits with a caveat,
unknown, does not fit; that is also the order in which programmes are listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from fundcmp.arithmetic import funding_per_year
from fundcmp.display import amount, span
from fundcmp.model import Kind, Programme, Quantity, Unit, is_money


class Fit(IntEnum):
    """Verdicts, best first: the order programmes are listed in."""

    FITS = 0
    CAVEAT = 1
    UNKNOWN = 2
    NO = 3

    @property
    def words(self) -> str:
        return ("fits", "fits with a caveat", "unknown", "does not fit")[self]


@dataclass(frozen=True, slots=True)
class Ask:
    """What the applicant needs; None where they did not say."""

    amount: float | None = None
    months: float | None = None
    per_year: float | None = None
    currency: str = Unit.GBP
    words: str | None = None


@dataclass(frozen=True, slots=True)
class Test:
    """One figure's verdict on the ask and the reason, in words."""

    fit: Fit
    reason: str


@dataclass(frozen=True, slots=True)
class Match:
    programme: Programme
    tests: tuple[Test, ...]

    @property
    def fit(self) -> Fit:
        return max((t.fit for t in self.tests), default=Fit.UNKNOWN)

    @property
    def reason(self) -> str:
        """Each test's reason; with several, each says its own verdict first."""
        if len(self.tests) == 1:
            return self.tests[0].reason
        return " ".join(f"{t.fit.words.capitalize()}: {t.reason}." for t in self.tests)


@dataclass(frozen=True, slots=True)
class Figure:
    """The words for one kind of figure: "an amount per team", "gives", "asks"."""

    noun: str
    verb: str
    suffix: str = ""


AMOUNT = Figure("amount per team", "gives")
MONTHS = Figure("duration", "runs")
PER_YEAR = Figure("yearly amount per team", "gives", " a year")

ORDINALS = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th")


def _shown(value: float, unit: str, figure: Figure) -> str:
    return amount(value, unit) + figure.suffix


def place_stated(ask: float, unit: str, q: Quantity, figure: Figure) -> Test:
    """An ask against a stated (or derived) figure: exact, range, ceiling, floor or unknown."""
    asks = f"asks {_shown(ask, unit, figure)}"
    if q.kind is Kind.UNKNOWN:
        why = f" ({q.note})" if q.note and q.note != "not stated in the sources" else ""
        return Test(Fit.UNKNOWN, f"no {figure.noun} is stated{why}")
    if q.unit != unit:
        return Test(Fit.UNKNOWN, f"{asks}; the programme {figure.verb} {q.unit}, and no "
                                 "exchange rate is assumed")
    how = f" (derived: {q.formula})" if q.kind is Kind.DERIVED and q.formula else ""
    gives = f"the programme {figure.verb} {span(q)}{figure.suffix}{how}"
    if q.low is None:
        assert q.high is not None
        fits = ask <= q.high
        return Test(Fit.FITS if fits else Fit.NO, f"{asks}; {gives}")
    if q.high is None:
        return Test(Fit.CAVEAT, f"{asks}; {gives}, and no upper end is known")
    if ask > q.high:
        return Test(Fit.NO, f"{asks}; {gives}")
    if ask < q.low:
        more = _shown(q.low - ask, unit, figure)
        least = "" if q.low == q.high else "at least "
        return Test(Fit.CAVEAT, f"{asks}; {gives}, {least}{more} more than asked")
    return Test(Fit.FITS, f"{asks}; {gives}")


def cut_points(q: Quantity) -> list[tuple[str, float]]:
    """The named cut points of an observed spread, smallest to largest."""
    assert q.low is not None and q.mid is not None and q.high is not None
    if q.quantiles is None:
        return [("the smallest", q.low), ("the median", q.mid), ("the largest", q.high)]
    deciles = [(f"the {ORDINALS[i]} decile", v) for i, v in enumerate(q.quantiles.deciles)]
    return [("the smallest", q.low), *deciles, ("the largest", q.high)]


def position(ask: float, cuts: Sequence[tuple[str, float]]) -> str:
    """Where the ask lies among the cut points (smallest <= ask <= largest), in words.

    Between two cuts, it names both with their values; at a cut, the ask is the value.
    """
    equal = [name for name, v in cuts if v == ask]
    if len(equal) == 1:
        return f"is {equal[0]}"
    if equal:
        return f"equals every cut from {equal[0]} to {equal[-1]}"
    below = max(i for i, (_, v) in enumerate(cuts) if v < ask)
    return f"lies between {cuts[below][0]} and {cuts[below + 1][0]}"


def _between(ask: float, cuts: Sequence[tuple[str, float]], unit: str, figure: Figure) -> str:
    """The values of the two cuts an ask lies between, or nothing when it is at a cut."""
    if any(v == ask for _, v in cuts):
        return ""
    below = max(i for i, (_, v) in enumerate(cuts) if v < ask)
    return " (" + ", ".join(f"{name.removeprefix('the ')} {_shown(v, unit, figure)}"
                            for name, v in cuts[below:below + 2]) + ")"


def place_observed(ask: float, unit: str, q: Quantity, figure: Figure) -> Test:
    """An ask among observed grants: its place in their quantiles, in words."""
    assert q.low is not None and q.high is not None and q.mid is not None and q.n is not None
    if q.unit != unit:
        return Test(Fit.UNKNOWN, f"its grants are in {q.unit}; the ask is in {unit}, and no "
                                 "exchange rate is assumed")
    shown = _shown(ask, unit, figure)
    count = f"{q.n:,} grants" if q.n != 1 else "one grant"
    if q.n == 1 and ask != q.high:
        side, fit = ("above", Fit.NO) if ask > q.high else ("below", Fit.CAVEAT)
        return Test(fit, f"{shown} is {side} its one grant ({_shown(q.high, unit, figure)})")
    if ask > q.high:
        return Test(Fit.NO, f"{shown} is above all {count} (the largest was "
                            f"{_shown(q.high, unit, figure)})")
    if ask < q.low:
        return Test(Fit.CAVEAT, f"{shown} is below all {count} (the smallest was "
                                f"{_shown(q.low, unit, figure)})")
    cuts = cut_points(q)
    words = f"{shown} {position(ask, cuts)} of its {count}{_between(ask, cuts, unit, figure)}"
    if q.quantiles is not None:
        d1, d9 = q.quantiles.deciles[0], q.quantiles.deciles[-1]
        if ask > d9:
            return Test(Fit.CAVEAT, f"{words}: in the top tenth")
        if ask < d1:
            return Test(Fit.CAVEAT, f"{words}: in the bottom tenth")
    return Test(Fit.FITS, words)


def place(ask: float, unit: str, q: Quantity, figure: Figure) -> Test:
    """An ask against any figure: observed grants by their quantiles, else as stated."""
    if q.kind is Kind.OBSERVED and q.n:
        return place_observed(ask, unit, q, figure)
    return place_stated(ask, unit, q, figure)


def _with_published(stated: Test, observed: Test | None) -> list[Test]:
    """A stated figure rules; the published grants add their evidence beside it.

    Where nothing is stated, the published grants decide instead.
    """
    if observed is None:
        return [stated]
    published = Test(observed.fit, f"published grants: {observed.reason}")
    if stated.fit is Fit.UNKNOWN:
        return [published]
    return [stated, Test(min(observed.fit, stated.fit), published.reason)]


def words_test(p: Programme, words: str) -> Test:
    """The words, as one phrase, in the programme's name or focus (any case)."""
    phrase = " ".join(words.split()).casefold()
    quoted = f"\u201c{' '.join(words.split())}\u201d"
    if phrase in p.name.casefold():
        return Test(Fit.FITS, f"its name mentions {quoted}")
    if p.focus is None:
        return Test(Fit.UNKNOWN, f"no focus is stated, and its name does not mention {quoted}")
    if phrase in " ".join(p.focus.text.split()).casefold():
        return Test(Fit.FITS, f"its focus mentions {quoted}")
    return Test(Fit.NO, f"neither its name nor its focus mentions {quoted}")


def match(p: Programme, ask: Ask) -> Match:
    """Every test the ask calls for, on one programme."""
    tests: list[Test] = []
    link = p.published
    money = ask.currency
    if ask.amount is not None:
        observed = place(ask.amount, money, link.funding_per_grant, AMOUNT) \
            if link is not None and link.funding_per_grant.kind is Kind.OBSERVED else None
        tests += _with_published(place(ask.amount, money, p.funding_per_team, AMOUNT),
                                 observed)
    if ask.months is not None:
        observed = place(ask.months, Unit.MONTHS, link.duration, MONTHS) \
            if link is not None and link.duration.kind is Kind.OBSERVED else None
        tests += _with_published(place(ask.months, Unit.MONTHS, p.duration, MONTHS),
                                 observed)
    if ask.per_year is not None:
        tests.append(place(ask.per_year, money, funding_per_year(p), PER_YEAR))
    if ask.words is not None:
        tests.append(words_test(p, ask.words))
    return Match(p, tuple(tests))


def funder_matches(p: Programme, funder: str) -> bool:
    """A funder's name (any part, any case) or the 360Giving identifier its grants name."""
    wanted = funder.casefold()
    if any(wanted in name.casefold() for name in p.funders):
        return True
    return p.published is not None and p.published.funder_id.casefold() == wanted


def match_all(programmes: Sequence[Programme], ask: Ask,
              funder: str | None = None) -> list[Match]:
    """Every programme (of the funder, if one is named), best fit first, registry order within."""
    chosen = [p for p in programmes if funder is None or funder_matches(p, funder)]
    matches = [match(p, ask) for p in chosen]
    return sorted(matches, key=lambda m: m.fit)


def ask_words(ask: Ask) -> str:
    """The ask as a person would say it: £250,000 over 24 months."""
    parts = []
    if ask.amount is not None:
        parts.append(amount(ask.amount, ask.currency))
    if ask.per_year is not None:
        parts.append(f"{amount(ask.per_year, ask.currency)} a year")
    if ask.months is not None:
        parts.append(f"over {amount(ask.months, Unit.MONTHS)}")
    if ask.words is not None:
        parts.append(f"for \u201c{' '.join(ask.words.split())}\u201d")
    return " ".join(parts)


def is_currency(code: str) -> bool:
    return is_money(code) and code.isalpha() and code.isascii()
