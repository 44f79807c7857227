"""Rows for each command: which facts, in which order, under which titles.

A view picks fields from one catalogue, so `--fields` works the same on every
command and a field means the same thing everywhere. Cells hold typed values
(text, numbers, Quantity, Support, lists); turning them into characters is
the renderer's job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from fundcmp.arithmetic import (
    MEASURES,
    best,
    common_unit,
    funding_per_year,
    placed,
    price_year,
    rank_by,
    success_rate,
    total_funding,
    value_per_team,
    value_programme,
)
from fundcmp.display import beside, span, text
from fundcmp.errors import FundcmpError
from fundcmp.model import (
    DateFact,
    Evidence,
    Kind,
    Programme,
    Quantiles,
    Quantity,
    Source,
    Support,
)
from fundcmp.quantiles import METHOD

if TYPE_CHECKING:
    from fundcmp.checks import Finding
    from fundcmp.prices import PriceIndex, Prices


@dataclass(frozen=True, slots=True)
class Bound:
    """One end (or the mid) of a quantity, keeping its unit for display."""

    value: float | None
    unit: str


@dataclass(frozen=True, slots=True)
class Distribution:
    """An observed spread, drawn as a box plot on an axis from 0 to `top` (shared by its row)."""

    quantity: Quantity
    top: float | None = None


Cell = str | int | float | None | Quantity | Support | Bound | Distribution | tuple[str, ...]
Record = dict[str, Cell]


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    records: tuple[Record, ...]
    transpose: bool = False
    best: frozenset[tuple[int, str]] = frozenset()
    notes: tuple[str, ...] = ()
    stamp: tuple[tuple[str, dict[str, object]], ...] = ()
    """Facts about the whole table that every JSON object carries, such as its prices."""
    optional: tuple[str, ...] = ()
    """Columns a narrow screen may leave out, the first first (never money)."""


UNKNOWN_IF_EMPTY = frozenset({"announced", "start", "end", "price_year"})
"""Fields where nothing stated reads "unknown", as an unknown figure does."""
FIGURE_TEXT_KEYS = frozenset({"slug", "announced", "start", "end", "years", "file"})
"""Text fields that are identifiers or dates: never wrapped inside."""


class UnknownFieldError(FundcmpError):
    exit_code = 2


def _date(d: DateFact | None) -> str | None:
    return d.text if d else None


def _text(fact: object) -> str | None:
    return getattr(fact, "text", None)


Getter = Callable[[Programme], Cell]

CATALOGUE: dict[str, tuple[str, Getter]] = {
    "slug": ("Slug", lambda p: p.slug),
    "name": ("Programme", lambda p: p.name),
    "funder": ("Funder", lambda p: p.funder),
    "partners": ("Partners", lambda p: p.partners),
    "teams": ("Teams", lambda p: p.teams),
    "funding": ("Funding per team", lambda p: p.funding_per_team),
    "funding_per_year": ("Per team per year", MEASURES["funding-per-year"]),
    "duration": ("Duration", lambda p: p.duration),
    "support": ("Support per team", lambda p: p.support),
    "support_days": ("Support days", lambda p: p.support.days),
    "support_components": ("Support consists of", lambda p: p.support.components),
    "total_funding": ("Total funding", total_funding),
    "applications": ("Applications", lambda p: p.applications),
    "announced": ("Announced", lambda p: _date(p.announced)),
    "start": ("Starts", lambda p: _date(p.start)),
    "end": ("Ends", lambda p: _date(p.end)),
    "focus": ("Focus", lambda p: _text(p.focus)),
    "part_of": ("Part of", lambda p: _text(p.part_of)),
    "price_year": ("Price year", lambda p: price_year(p)[0]),
    "value": ("Value per team", value_per_team),
    "success_rate": ("Success rate", success_rate),
}
QUANTITY_FIELDS = ("teams", "funding", "funding_per_year", "duration", "support", "support_days",
                   "total_funding", "applications", "value", "success_rate")
BOUND_TITLES = {"low": "low", "mid": "mid", "high": "high"}


def _bound_getter(key: str, bound: str) -> Getter:
    getter = CATALOGUE[key][1]

    def get(p: Programme) -> Cell:
        cell = getter(p)
        q = cell.value if isinstance(cell, Support) else cell
        assert isinstance(q, Quantity)
        return Bound(q.basis(bound), q.unit)

    return get


for _key in QUANTITY_FIELDS:
    for _bound in BOUND_TITLES:
        CATALOGUE[f"{_key}_{_bound}"] = (f"{CATALOGUE[_key][0]} ({_bound})",
                                         _bound_getter(_key, _bound))

def _cut(q: Quantiles, name: str) -> float:
    """A named cut point: q1, q3, or d1 to d9."""
    if name.startswith("q"):
        return q.quartiles[int(name[1]) - 1]
    return q.deciles[int(name[1]) - 1]


CUTS = ("q1", "q3", *(f"d{i}" for i in range(1, 10)))
SPREAD_FIELDS: dict[str, Callable[[Programme], Quantity | None]] = {
    "funding": lambda p: p.funding_per_team, "duration": lambda p: p.duration,
    "funding_per_year": lambda p: p.funding_per_year,
    "published_funding": lambda p: _published(p, "funding_per_grant"),
    "published_duration": lambda p: _published(p, "duration"),
}


def _published(p: Programme, name: str) -> Quantity | None:
    if p.published is None:
        return None
    q: Quantity = getattr(p.published, name)
    return q


def _spread_getter(figure: Callable[[Programme], Quantity | None]) -> Getter:
    def get(p: Programme) -> Cell:
        q = figure(p)
        return Distribution(q) if q is not None and q.kind is Kind.OBSERVED else None

    return get


def _cut_getter(figure: Callable[[Programme], Quantity | None], cut: str) -> Getter:
    def get(p: Programme) -> Cell:
        q = figure(p)
        if q is None or q.quantiles is None:
            return Bound(None, q.unit if q is not None else "")
        return Bound(_cut(q.quantiles, cut), q.unit)

    return get


CATALOGUE.update({
    "published_as": ("Grants published as", lambda p: None if p.published is None else
                     f"{p.published.funder_id}: {p.published.programme}"),
    "published_grants": ("Published grants", lambda p: _published(p, "grants")),
    "published_funding": ("Published funding per grant",
                          lambda p: _published(p, "funding_per_grant")),
    "published_total": ("Published total", lambda p: _published(p, "total_funding")),
    "published_duration": ("Published duration", lambda p: _published(p, "duration")),
})
for _key, _spread_of in SPREAD_FIELDS.items():
    _title = CATALOGUE[_key][0]
    CATALOGUE[f"{_key}_spread"] = (f"{_title}: spread", _spread_getter(_spread_of))
    for _name in CUTS:
        CATALOGUE[f"{_key}_{_name}"] = (f"{_title} ({_name.upper()})",
                                         _cut_getter(_spread_of, _name))

LIST_FIELDS = ("slug", "name", "funder", "teams", "funding", "duration", "support")
COMPARE_FIELDS = ("name", "funding", "funding_per_year", "duration", "support",
                  "support_components", "value", "teams", "total_funding", "funder", "announced",
                  "start", "end", "applications", "success_rate")
BEST_MARKED = ("funding", "funding_per_year", "duration", "support", "total_funding", "value",
               "success_rate")


def check_fields(fields: Sequence[str], available: Sequence[str]) -> None:
    """Every command refuses an unknown field the same way: a close match, then the list."""
    for name in fields:
        if name not in available:
            import difflib

            close = difflib.get_close_matches(name, list(available), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UnknownFieldError(f"Unknown field '{name}'{hint}; available fields: "
                                    + ", ".join(available))


def fields_for(command: str) -> tuple[str, ...] | None:
    """The fields --fields may name on a command (None: a command this module does not
    know, which checks its own)."""
    tables = {"show": SHOW_COLUMNS, "explain": EXPLAIN_COLUMNS, "check": CHECK_COLUMNS,
              "indices": INDEX_COLUMNS}
    if command in ("list", "compare"):
        return tuple(CATALOGUE)
    if command == "rank":
        return (*CATALOGUE, "note")
    return tuple(c.key for c in tables[command]) if command in tables else None


def choose_fields(fields: Sequence[str] | None, default: Sequence[str]) -> tuple[str, ...]:
    """The fields asked for, in the order asked, or the view's default."""
    if not fields:
        return tuple(default)
    check_fields(fields, tuple(CATALOGUE))
    return tuple(fields)


def _columns(keys: Sequence[str]) -> tuple[Column, ...]:
    return tuple(Column(k, CATALOGUE[k][0]) for k in keys)


def _records(programmes: Sequence[Programme], keys: Sequence[str]) -> tuple[Record, ...]:
    getters = [(k, CATALOGUE[k][1]) for k in keys]
    return tuple({k: get(p) for k, get in getters} for p in programmes)


def _derived_note(records: Sequence[Record]) -> tuple[str, ...]:
    for record in records:
        for cell in record.values():
            q = cell.value if isinstance(cell, Support) else cell
            if isinstance(q, Quantity) and q.kind is Kind.DERIVED:
                return ("* derived from other facts; `fundcmp explain SLUG` shows how",)
    return ()


def _with_spreads(programmes: Sequence[Programme]) -> tuple[str, ...]:
    """compare's default rows, plus box plots and published grants where any programme has them."""
    keys = list(COMPARE_FIELDS)
    for key in ("duration", "funding_per_year", "funding"):
        if any(CATALOGUE[f"{key}_spread"][1](p) is not None for p in programmes):
            keys.insert(keys.index(key) + 1, f"{key}_spread")
    if any(p.published is not None for p in programmes):
        at = keys.index("funding") + (2 if "funding_spread" in keys else 1)
        keys[at:at] = ["published_as", "published_grants", "published_funding",
                       "published_funding_spread", "published_duration", "published_total"]
    return tuple(keys)


def _shared_axes(records: tuple[Record, ...]) -> tuple[Record, ...]:
    """Box plots in one row drawn on one axis, so their spreads can be compared by eye."""
    for key in {k for r in records for k, c in r.items() if isinstance(c, Distribution)}:
        tops = [c.quantity.high for r in records if isinstance(c := r[key], Distribution)
                and c.quantity.high is not None]
        for record in records:
            cell = record[key]
            if isinstance(cell, Distribution) and tops:
                record[key] = replace(cell, top=max(tops))
    return records


def list_table(programmes: Sequence[Programme], fields: Sequence[str] | None = None) -> Table:
    keys = choose_fields(fields, LIST_FIELDS)
    records = _records(programmes, keys)
    return Table("Programmes", _columns(keys), records, notes=_derived_note(records),
                 optional=() if fields else ("funder", "teams", "name"))


def compare_table(programmes: Sequence[Programme], fields: Sequence[str] | None = None,
                  basis: str = "mid") -> Table:
    keys = choose_fields(fields, COMPARE_FIELDS if fields else _with_spreads(programmes))
    if "slug" not in keys:
        keys = ("slug", *keys)
    records = _shared_axes(_records(programmes, (*keys, "name") if "name" not in keys
                                    else keys))
    marked: set[tuple[int, str]] = set()
    unstarred = []
    for key in keys:
        if key in BEST_MARKED:
            quantities = [_figure(r[key]) for r in records]
            judged = best(quantities, basis)
            marked |= {(i, key) for i in judged.positions}
            if judged.why_none:
                unstarred.append(f"{CATALOGUE[key][0]}: {judged.why_none}")
    cap = "not at all" if basis == "low" else "at their cap"
    notes = (f"★ best in its row: what `rank --basis {basis}` would put first (ceilings "
             f"count {cap}, floors at their floor, unknowns not at all); teams and "
             "applications are counts, not merits, so never starred",
             *(f"no ★ for {row}" for row in unstarred),
             *_derived_note(records))
    names = " vs ".join(p.name for p in programmes)
    return Table(f"Comparing {names}", _columns(keys), records, transpose=True,
                 best=frozenset(marked), notes=notes)


def _figure(cell: Cell) -> Quantity:
    """The figure a cell is judged on: support on its money value."""
    q = cell.value if isinstance(cell, Support) else cell
    assert isinstance(q, Quantity)
    return q


RANK_TITLES = {
    "funding": "funding per team",
    "funding-per-year": "funding per team per year",
    "duration": "duration",
    "support": "support value per team",
    "teams": "number of teams",
    "total": "total funding",
    "value": "value per team (funding + support)",
    "odds": "success rate (awards / applications)",
}
RANK_FIELD = {"funding": "funding", "funding-per-year": "funding_per_year",
              "duration": "duration", "support": "support", "teams": "teams",
              "total": "total_funding", "value": "value", "odds": "success_rate"}


def rank_fields(keys_by: Sequence[str], basis: str) -> tuple[str, ...]:
    """rank's default fields: slug, name, each key's figure and its value on the basis, note."""
    return ("slug", "name", *(f for k in keys_by
                              for f in (RANK_FIELD[k], f"{RANK_FIELD[k]}_{basis}")), "note")


def rank_table(programmes: Sequence[Programme], by: str | Sequence[str], basis: str = "mid",
               reverse: bool = False, fields: Sequence[str] | None = None,
               limit: int | None = None, units: Sequence[str | None] | None = None) -> Table:
    """Ranked by one measure or several (`duration,funding`: the next key breaks ties).

    With `units` (each key's common unit over the whole registry), the programmes
    are taken as already ranked, as the cache's index returns them. `limit` keeps
    the first rows.
    """
    keys_by = (by,) if isinstance(by, str) else tuple(by)
    measures = [MEASURES[k] for k in keys_by]
    if units is None:
        ranked = rank_by(programmes, measures, basis, reverse)
        units = [common_unit([r.figures[i] for r in ranked]) for i in range(len(keys_by))]
    else:
        ranked = placed(programmes, measures, basis, units[0])
    ranked = ranked[:limit] if limit else ranked
    keys = tuple(fields) if fields else rank_fields(keys_by, basis)
    catalogue_keys = choose_fields([k for k in keys if k != "note"], ["slug"])
    records = []
    for r, record in zip(ranked, _records([r.programme for r in ranked], catalogue_keys),
                         strict=True):
        notes = [rank_note(q, basis, unit) for q, unit in zip(r.figures, units, strict=True)]
        record["note"] = joined_notes(keys_by, notes)
        records.append(record)
    columns = tuple(Column(k, "Note") if k == "note" else Column(k, CATALOGUE[k][0])
                    for k in keys)
    order = "smallest first" if reverse else "largest first"
    title = f"Programmes by {', then '.join(RANK_TITLES[k] for k in keys_by)}, {order} " \
            f"(basis: {basis})"
    optional = () if fields else (*(f"{RANK_FIELD[k]}_{basis}" for k in keys_by), "name")
    return Table(title, columns, tuple(records), notes=(
        "unknown figures are listed last, never read as zero",
        *_derived_note(records)), optional=optional)


def joined_notes(keys_by: Sequence[str], notes: Sequence[str]) -> str:
    """One note cell for a row: each key's note, named when ranking by several."""
    return "; ".join(f"{k}: {n}" if len(keys_by) > 1 else n
                     for k, n in zip(keys_by, notes, strict=True) if n)


def rank_note(q: Quantity, basis: str, unit: str | None) -> str:
    """Why a figure ranks where it does (unknown, another currency, a ceiling, derived)."""
    if q.kind is Kind.UNKNOWN:
        return f"unknown: {q.note}" if q.note else "unknown"
    if q.unit != unit:
        return other_unit_note(q.unit, unit)
    if q.high is None:
        if q.note:
            return f"ranked by its floor; {q.note}"
        how = f"derived: {q.formula}; " if q.formula else ""
        return f"{how}ranked by its floor: {span(q)}"
    if q.basis(basis) is None:
        return f"unknown on the {basis} basis: only a ceiling is stated"
    words = ""
    if q.kind is Kind.CEILING:
        words = "a ceiling (up to)"
    elif q.kind is Kind.DERIVED:
        words = f"derived: {q.formula}"
    return "; ".join(part for part in (words, q.note) if part)


def rank_notes(q: Quantity) -> tuple[str, str, str]:
    """rank_note on the low, mid and high bases, for a figure in the common unit (as the cache
    stores them): the basis changes the note only where it makes the figure's value unknown,
    and elsewhere the mid's own note is given (the same object)."""
    mid = rank_note(q, "mid", q.unit)
    known = q.mid is None
    return (mid if (q.low is None) == known else rank_note(q, "low", q.unit), mid,
            mid if (q.high is None) == known else rank_note(q, "high", q.unit))


def other_unit_note(unit: str, common: str | None) -> str:
    return f"in {unit}, so not ranked against figures in {common}"


SHOW_COLUMNS = (Column("fact", "Fact"), Column("value", "Value"), Column("how", "How known"),
                Column("quote", "Quote"), Column("source", "Source"))


def _teams_label(p: Programme) -> str:
    """"Teams", or "Teams (award-holder teams)" where the registry names them otherwise."""
    return "Teams" if p.team_noun == "teams" else f"Teams ({p.team_noun})"


def _source_words(src: Source | None) -> str:
    if src is None:
        return ""
    words = f"{src.publisher}, \u201c{src.title}\u201d, {src.date}"
    return f"{words}, {src.url}" if src.url else words


def show_table(p: Programme) -> Table:
    """Every fact of one programme beside the quote and source that state it."""
    facts: list[tuple[str, Cell, Evidence | None, str]] = []

    def add(label: str, cell: Cell, evidence: Evidence | None, how: str = "") -> None:
        facts.append((label, cell, evidence, how))

    add("Name", p.name, None)
    add("Funders", p.funders, None)
    if p.partners:
        add("Partners", p.partners, None)
    for label, fact in (("Focus", p.focus), ("Part of", p.part_of)):
        if fact:
            add(label, fact.text, fact.evidence)
    for label, date in (("Announced", p.announced), ("Starts", p.start), ("Ends", p.end)):
        if date:
            add(label, date.text, date.evidence)
    add(_teams_label(p), p.teams, p.teams.evidence)
    add("Funding per team", p.funding_per_team, p.funding_per_team.evidence)
    _spread_row(add, "Funding per team", p.funding_per_team)
    add("Duration", p.duration, p.duration.evidence)
    _spread_row(add, "Duration", p.duration)
    if p.published is not None:
        _published_rows(add, p)
    add("Funding per team per year", funding_per_year(p), None)
    _spread_row(add, "Funding per team per year", p.funding_per_year)
    add("Total funding", total_funding(p), p.total_funding.evidence)
    s = p.support
    if s.description:
        add("Support", s.description, s.evidence)
    add("Support value per team", s.value, s.value.evidence)
    if s.days.kind is not Kind.UNKNOWN:
        add("Support days per team", s.days, s.days.evidence)
    if s.components:
        add("Support consists of", s.components, s.evidence)
    if p.applications.kind is not Kind.UNKNOWN:
        add("Applications", p.applications, p.applications.evidence)
    year, why = price_year(p)
    add("Price year", year, None, why)
    records = []
    for label, cell, evidence, how in facts:
        q = cell if isinstance(cell, Quantity) else None
        if q is not None and not how:
            how = (f"observed: {q.formula.removeprefix('observed: ')}"
                   if q.kind is Kind.OBSERVED else f"derived: {q.formula}") if q.formula \
                else q.note
            if q.kind is not Kind.UNKNOWN and not q.formula and evidence is not None:
                how = "; ".join(part for part in ("stated", q.note) if part)
            elif q.kind is Kind.UNKNOWN:
                how = f"unknown: {q.note}" if q.note else "unknown"
        elif evidence is not None and not how:
            how = "stated"
        records.append({
            "fact": label,
            "value": cell,
            "how": how,
            "quote": evidence.quote if evidence else None,
            "source": _source_words(p.source(evidence.source)) if evidence else None,
        })
    return Table(f"{p.name} ({p.slug})", SHOW_COLUMNS, tuple(records),
                 notes=_derived_note(records))



def _spread_row(add: Callable[[str, Cell, Evidence | None, str], None], label: str,
                q: Quantity) -> None:
    if q.kind is Kind.OBSERVED:
        add(f"{label}: spread", Distribution(q), None,
            f"observed quantiles ({METHOD})" if q.quantiles else "observed: min, median, max")


def _published_rows(add: Callable[[str, Cell, Evidence | None, str], None],
                    p: Programme) -> None:
    """Stated beside observed: the 360Giving programme's grants next to the stated figures."""
    link = p.published
    assert link is not None
    add("Grants published as", f"{link.funder_id}: {link.programme}", None,
        f"published_as; imported as {link.entry}")
    for label, stated, seen in (("Funding per team", p.funding_per_team, link.funding_per_grant),
                                ("Duration", p.duration, link.duration)):
        if seen.kind is Kind.OBSERVED:
            add(f"{label}: stated vs observed", beside(stated, seen), None,
                f"stated in the sources; observed in the grants of {link.entry}")
    add("Published grants", link.grants, None, f"observed in {link.entry}")
    add("Published funding per grant", link.funding_per_grant, None,
        f"observed in {link.entry}")
    _spread_row(add, "Published funding per grant", link.funding_per_grant)
    add("Published duration", link.duration, None, f"observed in {link.entry}")
    _spread_row(add, "Published duration", link.duration)
    add("Published total", link.total_funding, None, f"observed in {link.entry}")


def priced(table: Table, prices: Prices | None) -> Table:
    """A table whose money was restated: its title says in which prices, and JSON says too."""
    if prices is None:
        return table
    stamp = ("prices", {"year": prices.year, "index": prices.index.name})
    index = "" if prices.index.name == "cpi" else f" --index {prices.index.name}"
    note = (f"money restated from each programme's price year to {prices.year} prices by the "
            f"{prices.index.label}; `fundcmp explain SLUG --prices {prices.year}{index}` "
            "shows the factor")
    return replace(table, title=f"{table.title}; {prices.title()}",
                   stamp=(*table.stamp, stamp), notes=(*table.notes, note))


EXPLAIN_COLUMNS = (Column("fact", "Figure"), Column("value", "Value"), Column("step", "Step"),
                   Column("working", "Working"), Column("quote", "Quote"),
                   Column("source", "Source"))


class _Chain:
    """The rows of `explain`: each figure's steps, from what is stated to what is shown."""

    def __init__(self, p: Programme, prices: Prices | None) -> None:
        self.p = p
        self.prices = prices
        self.rows: list[Record] = []

    def row(self, fact: str, value: Cell, step: str, working: str = "",
            evidence: Evidence | None = None) -> None:
        self.rows.append({
            "fact": fact, "value": value, "step": step, "working": working,
            "quote": evidence.quote if evidence else None,
            "source": _source_words(self.p.source(evidence.source)) if evidence else None,
        })

    def known(self, fact: str, q: Quantity,
              inputs: Sequence[tuple[str, Quantity]] = ()) -> None:
        """How a figure is known: stated, derived (with its inputs), or unknown and why."""
        if q.kind is Kind.UNKNOWN and not q.formula:
            self.row(fact, q, "unknown", q.note)
        elif q.kind is Kind.UNKNOWN or (q.formula and q.evidence is None):
            result = "unknown" if q.kind is Kind.UNKNOWN else text(q)
            working = f"{q.formula} = {result}" + (f" ({q.note})" if q.note else "")
            self.row(fact, q, "unknown" if q.kind is Kind.UNKNOWN else "derived", working)
            for name, part in inputs:
                how = f"unknown: {part.note}" if part.kind is Kind.UNKNOWN else \
                    f"derived: {part.formula}" if part.formula else "stated"
                if part.kind is not Kind.UNKNOWN and "restated" in part.note:
                    how += f"; {part.note}"
                self.row(f"input: {name}", part, f"input to {fact.lower()}", how,
                         part.evidence)
        elif q.formula:
            working = q.formula + (f" ({q.note})" if q.note else "")
            step = "observed" if q.kind is Kind.OBSERVED else "derived"
            self.row(fact, q, step, working, q.evidence)
        else:
            self.row(fact, q, "stated", q.note, q.evidence)

    def observed(self, fact: str, stated: Quantity, seen: Quantity) -> None:
        """What the programme's published grants show, beside the stated figure."""
        link = self.p.published
        assert link is not None
        source = f"{link.funder_id}: {link.programme}, imported as {link.entry}"
        self.row(fact, seen, "observed",
                 f"{beside(stated, seen)} ({seen.formula or 'no grants observed'}; {source})")

    def restated(self, fact: str, before: Quantity, after: Quantity) -> None:
        """The price step, when money was restated (or could not be)."""
        if self.prices is None or before.kind is Kind.UNKNOWN:
            return
        year, _why = price_year(self.p)
        if year is None:
            self.row(fact, after, "prices", after.note)
            return
        step = self.prices.restatement(year, self.p.slug)
        self.row(fact, after, "prices", f"{step.words()}: {span(before)} becomes {span(after)}")


def explain_table(p: Programme, prices: Prices | None = None,
                  day_rate_gbp: float | None = None) -> Table:
    """Every figure's chain: stated (quote, source) or derived (formula, numbers), then prices."""
    from fundcmp.prices import at_prices

    after = at_prices([p], prices)[0] if prices else p
    shown = value_programme(after, day_rate_gbp)
    chain = _Chain(p, prices)
    chain.known(_teams_label(p), p.teams)
    if p.applications.kind is not Kind.UNKNOWN:
        chain.known("Applications", p.applications)
        chain.known("Success rate", success_rate(p),
                    (("teams", p.teams), ("applications", p.applications)))
    chain.known("Funding per team", p.funding_per_team)
    chain.restated("Funding per team", p.funding_per_team, after.funding_per_team)
    if p.published is not None and p.published.funding_per_grant.kind is Kind.OBSERVED:
        chain.observed("Funding per team", p.funding_per_team, p.published.funding_per_grant)
    chain.known("Duration", p.duration)
    if p.published is not None and p.published.duration.kind is Kind.OBSERVED:
        chain.observed("Duration", p.duration, p.published.duration)
    for label, date in (("Starts", p.start), ("Ends", p.end)):
        if date:
            chain.row(label, date.text, "stated", "", date.evidence)
    yearly = funding_per_year(p)
    chain.known("Funding per team per year", yearly,
                () if yearly is p.funding_per_year else
                (("funding per team", p.funding_per_team), ("duration", p.duration)))
    chain.restated("Funding per team per year", yearly, funding_per_year(after))
    total = total_funding(p)
    chain.known("Total funding", total,
                () if total is p.total_funding else
                (("teams", p.teams), ("funding per team", p.funding_per_team)))
    chain.restated("Total funding", total, total_funding(after))
    _support_chain(chain, p, after, shown, day_rate_gbp)
    in_prices = f" (in {prices.year} prices)" if prices else ""
    chain.known("Value per team", value_per_team(shown),
                ((f"funding per team{in_prices}", shown.funding_per_team),
                 (f"support{in_prices}", shown.support.value)))
    year, why = price_year(p)
    chain.row("Price year", year, "chosen", why)
    if prices is not None:
        chain.row("Prices", prices.year, "index",
                  f"{prices.index.label} ({prices.index.period}), {prices.index.source}")
    title = f"How each figure of {p.name} ({p.slug}) is known"
    table = Table(title, EXPLAIN_COLUMNS, tuple(chain.rows),
                  notes=("stated figures quote their source; derived ones show the formula "
                         "with the numbers put in",))
    return priced(table, prices)


def _support_chain(chain: _Chain, p: Programme, after: Programme, shown: Programme,
                   day_rate_gbp: float | None) -> None:
    s = p.support
    if s.description:
        chain.row("Support", s.description, "stated", "", s.evidence)
    if s.components:
        chain.row("Support consists of", s.components, "stated", "", s.evidence)
    if s.days.kind is not Kind.UNKNOWN:
        chain.known("Support days per team", s.days)
    if s.value.kind is not Kind.UNKNOWN:
        chain.known("Support value per team", s.value)
        chain.restated("Support value per team", s.value, after.support.value)
        return
    valued = shown.support.value
    if valued.kind is Kind.UNKNOWN:
        chain.row("Support value per team", valued, "unknown", valued.note or s.value.note)
        return
    prices = f", taken as in {chain.prices.year} prices" if chain.prices else ""
    chain.row("Support value per team", valued, "derived",
              f"{valued.formula} = {text(valued)} (day rate from --day-rate "
              f"{day_rate_gbp:g}{prices})")
    chain.row("input: support days per team", s.days, "input to support value per team",
              "stated", s.days.evidence)


CHECK_COLUMNS = (Column("slug", "Programme"), Column("check", "Disagreement"),
                 Column("first", "One fact"), Column("first_quote", "Its quote"),
                 Column("second", "Other fact"), Column("second_quote", "Its quote"))


def check_table(findings: Sequence[Finding], path: str) -> Table:
    """Facts that disagree, both sides quoted."""
    records: list[Record] = [{
        "slug": f.slug, "check": f.check,
        "first": f"{f.first.how} {f.first.label} {f.first.shown}",
        "first_quote": f.first.quotes,
        "second": f"{f.second.how} {f.second.label} {f.second.shown}",
        "second_quote": f.second.quotes,
    } for f in findings]
    return Table(f"Facts that disagree in {path}", CHECK_COLUMNS, tuple(records))


INDEX_COLUMNS = (Column("name", "Index"), Column("title", "Series"), Column("period", "Period"),
                 Column("years", "Years"), Column("base", "Base"), Column("source", "Source"),
                 Column("licence", "Licence"), Column("file", "File"))


def indices_table(indices: Sequence[PriceIndex]) -> Table:
    """The price indices shipped with fundcmp, and where their numbers come from."""
    records: list[Record] = [{
        "name": i.name, "title": i.title, "period": i.period, "years": i.covers(),
        "base": i.base, "source": i.source, "licence": i.licence, "file": i.file,
    } for i in indices]
    return Table("Price indices for --prices YEAR --index NAME (default cpi)", INDEX_COLUMNS,
                 tuple(records))


def select(table: Table, fields: Sequence[str] | None) -> Table:
    """A table of its own columns (not the catalogue's) cut to the fields asked for."""
    if not fields:
        return table
    by_key = {c.key: c for c in table.columns}
    for name in fields:
        if name not in by_key:
            raise UnknownFieldError(f"Unknown field '{name}'; available fields: "
                                    + ", ".join(by_key))
    return replace(table, columns=tuple(by_key[name] for name in fields))
