"""Rows for each command: which facts, in which order, under which titles.

A view picks fields from one catalogue, so `--fields` works the same on every
command and a field means the same thing everywhere. Cells hold typed values
(text, numbers, Quantity, Support, lists); turning them into characters is
the renderer's job.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fundcmp.arithmetic import MEASURES, best, per_year, price_year, rank, total_funding
from fundcmp.errors import FundcmpError
from fundcmp.model import DateFact, Evidence, Kind, Programme, Quantity, Source, Support


@dataclass(frozen=True, slots=True)
class Bound:
    """One end (or the mid) of a quantity, keeping its unit for display."""

    value: float | None
    unit: str


Cell = str | int | float | None | Quantity | Support | Bound | tuple[str, ...]
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
}
QUANTITY_FIELDS = ("teams", "funding", "funding_per_year", "duration", "support", "support_days",
                   "total_funding", "applications")
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

LIST_FIELDS = ("slug", "name", "funder", "teams", "funding", "duration", "support")
COMPARE_FIELDS = ("name", "funding", "funding_per_year", "duration", "support",
                  "support_components", "teams", "total_funding", "funder", "announced", "start",
                  "end", "applications")
BEST_MARKED = ("funding", "funding_per_year", "duration", "support", "total_funding")


def choose_fields(fields: Sequence[str] | None, default: Sequence[str]) -> tuple[str, ...]:
    """The fields asked for, in the order asked, or the view's default."""
    if not fields:
        return tuple(default)
    for name in fields:
        if name not in CATALOGUE:
            close = difflib.get_close_matches(name, list(CATALOGUE), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UnknownFieldError(f"Unknown field '{name}'{hint}; available fields: "
                                    + ", ".join(CATALOGUE))
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


def list_table(programmes: Sequence[Programme], fields: Sequence[str] | None = None) -> Table:
    keys = choose_fields(fields, LIST_FIELDS)
    records = _records(programmes, keys)
    return Table("Programmes", _columns(keys), records, notes=_derived_note(records))


def compare_table(programmes: Sequence[Programme], fields: Sequence[str] | None = None,
                  basis: str = "mid") -> Table:
    keys = choose_fields(fields, COMPARE_FIELDS)
    if "slug" not in keys:
        keys = ("slug", *keys)
    records = _records(programmes, keys)
    marked = set()
    for key in keys:
        if key in BEST_MARKED:
            cells = [r[key] for r in records]
            quantities = [c.value if isinstance(c, Support) else c for c in cells]
            if all(isinstance(q, Quantity) for q in quantities):
                marked |= {(i, key) for i in best(quantities, basis)}  # type: ignore[arg-type]
    notes = (f"★ best in its row, judged on the {basis} of each figure",
             *_derived_note(records))
    names = " vs ".join(p.name for p in programmes)
    return Table(f"Comparing {names}", _columns(keys), records, transpose=True,
                 best=frozenset(marked), notes=notes)


RANK_TITLES = {
    "funding": "funding per team",
    "funding-per-year": "funding per team per year",
    "duration": "duration",
    "support": "support value per team",
    "teams": "number of teams",
    "total": "total funding",
}
RANK_FIELD = {"funding": "funding", "funding-per-year": "funding_per_year",
              "duration": "duration", "support": "support", "teams": "teams",
              "total": "total_funding"}


def rank_table(programmes: Sequence[Programme], by: str, basis: str = "mid",
               reverse: bool = False, fields: Sequence[str] | None = None) -> Table:
    key = RANK_FIELD[by]
    ranked = rank(programmes, MEASURES[by], basis, reverse)
    keys = tuple(fields) if fields else ("slug", "name", key, f"{key}_{basis}", "note")
    catalogue_keys = choose_fields([k for k in keys if k != "note"], ["slug"])
    records = []
    for r in ranked:
        record = _records([r.programme], catalogue_keys)[0]
        record["note"] = _rank_note(r.quantity, basis)
        records.append(record)
    columns = tuple(Column(k, "Note") if k == "note" else Column(k, CATALOGUE[k][0])
                    for k in keys)
    order = "smallest first" if reverse else "largest first"
    title = f"Programmes by {RANK_TITLES[by]}, {order} (basis: {basis})"
    return Table(title, columns, tuple(records), notes=(
        "unknown figures are listed last, never read as zero",
        *_derived_note(records)))


def _rank_note(q: Quantity, basis: str) -> str:
    if q.kind is Kind.UNKNOWN:
        return f"unknown: {q.note}" if q.note else "unknown"
    if q.basis(basis) is None:
        return f"unknown on the {basis} basis: only a ceiling is stated"
    if q.kind is Kind.CEILING:
        return "a ceiling (up to)"
    if q.kind is Kind.DERIVED:
        return f"derived: {q.formula}"
    return ""


def _source_words(src: Source | None) -> str:
    if src is None:
        return ""
    return f"{src.publisher}, \u201c{src.title}\u201d, {src.date}"


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
    add(f"Teams ({p.team_noun})", p.teams, p.teams.evidence)
    add("Funding per team", p.funding_per_team, p.funding_per_team.evidence)
    add("Duration", p.duration, p.duration.evidence)
    add("Funding per team per year", per_year(p.funding_per_team, p.duration), None)
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
            how = f"derived: {q.formula}" if q.formula else q.note
        records.append({
            "fact": label,
            "value": cell,
            "how": how,
            "quote": evidence.quote if evidence else None,
            "source": _source_words(p.source(evidence.source)) if evidence else None,
        })
    columns = (Column("fact", "Fact"), Column("value", "Value"), Column("how", "How known"),
               Column("quote", "Quote"), Column("source", "Source"))
    return Table(f"{p.name} ({p.slug})", columns, tuple(records),
                 notes=_derived_note(records))

