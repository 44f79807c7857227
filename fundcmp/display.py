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
    if q.kind is Kind.OBSERVED and q.mid is not None and q.low != q.high:
        return f"{shown} (median {amount(q.mid, q.unit)}, n={q.n})"
    if q.kind is Kind.OBSERVED:
        return f"{shown} (n={q.n})"
    return shown


def raw(q: Quantity) -> str:
    """A quantity as one tab-separated cell: 420000, 300000-500000, <=100000, unknown.

    Pounds are bare numbers; another currency is named (900000 EUR), so a
    script summing a column cannot mix currencies without noticing.
    """
    if q.kind is Kind.UNKNOWN:
        return "unknown"
    return raw_of_cells(q, bound_cell(q.low), bound_cell(q.high))


def bound_cell(value: float | None) -> str:
    """A bound as a raw cell (`number`'s), empty for none."""
    return "" if value is None else str(number(value))


def raw_of_cells(q: Quantity, low: str, high: str) -> str:
    """`raw` of a known quantity whose bounds are already written as cells (`bound_cell`'s):
    the cache's index writes them anyway, for every figure of a registry."""
    assert q.low is not None or q.high is not None
    if q.high is None:
        shown = f">={low}"
    elif q.low is None:
        shown = f"<={high}"
    elif q.low == q.high:
        shown = high
    else:
        shown = f"{low}-{high}"
    return f"{shown} {q.unit}" if is_money(q.unit) and q.unit != Unit.GBP else shown


def cut_values(q: Quantity) -> list[tuple[str, float]]:
    """An observed spread's numbers by name: min, q1, median, q3, max, then d1 to d9."""
    assert q.low is not None and q.mid is not None and q.high is not None
    if q.quantiles is None:
        return [("min", q.low), ("median", q.mid), ("max", q.high)]
    q1, _, q3 = q.quantiles.quartiles
    return [("min", q.low), ("q1", q1), ("median", q.mid), ("q3", q3), ("max", q.high),
            *((f"d{i + 1}", v) for i, v in enumerate(q.quantiles.deciles))]


def as_json(q: Quantity) -> dict[str, object]:
    """A quantity as a JSON object with stable keys; null where unknown.

    An observed quantity adds its quartiles and deciles (null when not recorded).
    """
    if q.kind is Kind.OBSERVED:
        cuts = q.quantiles
        return {**_json(q),
                "quartiles": None if cuts is None else [number(v) for v in cuts.quartiles],
                "deciles": None if cuts is None else [number(v) for v in cuts.deciles]}
    return _json(q)


def _json(q: Quantity) -> dict[str, object]:
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


def beside(stated: Quantity, observed: Quantity) -> str:
    """A stated figure and what the published grants show, in one line."""
    said = "nothing stated" if stated.kind is Kind.UNKNOWN else f"stated {span(stated)}"
    if observed.kind is not Kind.OBSERVED or observed.mid is None:
        return f"{said}; no grants observed"
    grants = f"{observed.n:,} grant{'s' if observed.n != 1 else ''}"
    median = amount(observed.mid, observed.unit)
    return f"{said}; observed {grants}, {span(observed)}, median {median}"
