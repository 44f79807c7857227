"""Words for figures: how a quantity reads to a person, and how it reads to a script."""

from __future__ import annotations

from fundcmp.model import Kind, Quantity, Unit, is_money


def plural(count: int, word: str, words: str = "") -> str:
    """"1 grant", "2 grants": a count with its noun agreeing ("1 entry", "2 entries")."""
    return f"{count} {word if count == 1 else words or word + 's'}"


def number(value: float) -> int | float:
    """A raw number as a script wants it: 420000, not 420000.0; pennies at most."""
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded


def amount(value: float, unit: str, exact: bool = False) -> str:
    """One figure in its unit, for people: £420,000, 42 months, 20 days.

    Money is shown to the pound: a restated or divided figure in pence would
    claim a precision no grant programme's figures have (scripts get the pence).
    `exact` keeps the pence, for the inputs of a formula, so its working
    reproduces its answer.
    """
    if is_money(unit):
        shown = f"{value:,.2f}" if exact and round(value, 2) != round(value) else \
            f"{value:,.0f}"
        return f"£{shown}" if unit == Unit.GBP else f"{unit} {shown}"
    shown = f"{value:g}" if value == int(value) else f"{value:.1f}"
    if unit == Unit.MONTHS:
        return f"{shown} months"
    if unit == Unit.DAYS:
        return f"{shown} days"
    if unit == "%":
        return f"{shown}%"
    return shown


def span(q: Quantity, exact: bool = False) -> str:
    """The bounds of a known quantity, for people, without any marker."""
    if q.high is None:
        assert q.low is not None
        return f"at least {amount(q.low, q.unit, exact)}"
    if q.low is None:
        return f"up to {amount(q.high, q.unit, exact)}"
    if q.low == q.high:
        return amount(q.low, q.unit, exact)
    if is_money(q.unit) or q.unit == Unit.COUNT:
        return f"{amount(q.low, q.unit, exact)}-{amount(q.high, q.unit, exact)}"
    return f"{number(q.low)}-{amount(q.high, q.unit, exact)}"


def text(q: Quantity) -> str:
    """A quantity as a person reads it: ranges stay ranges, ceilings say "up to"."""
    if q.kind is Kind.UNKNOWN:
        return "unknown"
    shown = span(q)
    if q.kind is Kind.OBSERVED and q.mid is not None:
        return f"{shown} (median {amount(q.mid, q.unit)}, n={q.n})"
    return shown


def raw(q: Quantity) -> str:
    """A quantity as one tab-separated cell: 420000, 300000-500000, <=100000, unknown.

    Pounds are bare numbers; another currency is named (900000 EUR), so a
    script summing a column cannot mix currencies without noticing.
    """
    if q.kind is Kind.UNKNOWN:
        return "unknown"
    if q.high is None:
        assert q.low is not None
        shown = f">={number(q.low)}"
    elif q.low is None:
        shown = f"<={number(q.high)}"
    elif q.low == q.high:
        shown = str(number(q.high))
    else:
        shown = f"{number(q.low)}-{number(q.high)}"
    return f"{shown} {q.unit}" if is_money(q.unit) and q.unit != Unit.GBP else shown


def as_json(q: Quantity) -> dict[str, object]:
    """A quantity as a JSON object with stable keys; null where unknown."""
    return {
        "kind": str(q.kind),
        "low": None if q.low is None else number(q.low),
        "mid": None if q.mid is None else number(q.mid),
        "high": None if q.high is None else number(q.high),
        "unit": str(q.unit),
        "text": text(q),
        "formula": q.formula or None,
        "note": q.note or None,
        "n": q.n,
    }
