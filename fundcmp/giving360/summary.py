"""What an import found, summed up: one line per kind of problem, and the report's rows.

Problems are tallied as they are found (count, money, first three grant ids per
kind), so the summary stays a few lines however many grants a file holds; the
full list is kept in the store for `--report`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from fundcmp.errors import one_line
from fundcmp.escaping import csv_cell
from fundcmp.giving360.check import LEFT_OUT, NOT_DISCLOSED, Problem
from fundcmp.giving360.fields import capped
from fundcmp.giving360.store import Spread

MAX_KIND_LINES = 24
MAX_NOTE_LINES = 8
FIRST_IDS = 3
SOURCE_NAMES_CHARS = 300  # publishers or files a source names before it counts the rest
REPORT_COLUMNS = ("where", "grant_id", "field", "problem", "detail", "consequence", "amount",
                  "currency")


@dataclass(frozen=True, slots=True)
class Entry:
    """One programme of one funder in one currency, as observed over its grants."""

    funder_id: str
    funder_name: str
    programme_code: str
    programme_title: str
    currency: str
    grants: int
    recipients: int
    grants_without_recipient: int
    amount: Spread
    total: float
    duration_months: Spread | None
    per_year: Spread | None
    first_award: str
    last_award: str
    price_year: int | None
    ungrouped: bool = False
    slug: str = ""
    files: tuple[int, ...] = ()  # which of the import's files its grants came from


@dataclass(frozen=True)
class FileFacts:
    """What one file of an import says of itself, for the source its programmes cite."""

    publisher: str
    date: str  # the package's issued/modified, else its latest award date
    grants_read: int


@dataclass
class Tally:
    """One kind of problem: how many grants, the money they hold, and the first few ids."""

    count: int = 0
    money: dict[str, float] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)


@dataclass
class Summary:
    """What an import read, counted, left out and grouped; entries carry the figures."""

    files: tuple[str, ...]
    publishers: list[str] = field(default_factory=list)
    file_facts: list[FileFacts] = field(default_factory=list)
    issued: str = ""
    latest_award: str = ""
    grants_read: int = 0
    grants_used: int = 0
    left_out: int = 0
    other_funders: int = 0
    without_programme: int = 0
    kinds: dict[tuple[str, str, str], Tally] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    def add(self, p: Problem, currency: str) -> None:
        tally = self.kinds.setdefault((p.field, p.kind, p.consequence), Tally())
        tally.count += 1
        if p.amount is not None:
            tally.money[currency or "?"] = tally.money.get(currency or "?", 0.0) + p.amount
        if len(tally.ids) < FIRST_IDS:
            tally.ids.append(one_line(p.grant_id, 60) if p.grant_id else self._place(p.where))

    def _place(self, where: str) -> str:
        """A grant with no id, named by its place (the file too when there are several)."""
        name = next((f for f in self.files if where.startswith(f)), "")
        place = where[len(name):].lstrip(": ")
        if place.isdigit():
            place = f"line {place}"
        if len(self.files) > 1:
            place = f"{PurePath(name).name[:30]} {place}"
        return f"(no id: {one_line(place, 60)})"

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    @property
    def source_date(self) -> str:
        """The data's own date: the package's issued/modified, else its latest award date."""
        return self.issued or self.latest_award

    @property
    def money_counted(self) -> dict[str, float]:
        money: dict[str, float] = {}
        for e in self.entries:
            money[e.currency] = money.get(e.currency, 0.0) + e.total
        return money


def money_words(money: dict[str, float]) -> str:
    """£1,234 + EUR 50; '?' for amounts whose currency could not be read."""
    parts = []
    for currency, amount in sorted(money.items(), key=lambda kv: (kv[0] != "GBP", kv[0])):
        number = f"{amount:,.0f}" if amount == int(amount) else f"{amount:,.2f}"
        parts.append(f"£{number}" if currency == "GBP" else f"{currency} {number}")
    return " + ".join(parts) or "no money"


def problem_lines(summary: Summary) -> list[str]:
    """One line per kind of problem, then the notes: at most 34 lines. The kinds that left
    money out come first, so none is crowded off by those that did not; most grants first."""
    lines = []
    kinds = sorted(summary.kinds.items(), key=lambda kv: (
        kv[0][2] not in (LEFT_OUT, NOT_DISCLOSED), -kv[1].count, kv[0]))
    for (field_name, kind, consequence), tally in kinds[:MAX_KIND_LINES]:
        more = tally.count - len(tally.ids)
        ids = ", ".join(tally.ids) + (f" and {more} more" if more else "")
        money = money_words(tally.money)
        lines.append(f"{tally.count} grant{'s' if tally.count != 1 else ''} ({money}): "
                     f"{one_line(field_name, 60)}: {one_line(kind, 120)}; {consequence}: {ids}")
    if len(kinds) > MAX_KIND_LINES:
        rest = sum(t.count for _, t in kinds[MAX_KIND_LINES:])
        lines.append(f"... and {len(kinds) - MAX_KIND_LINES} more kinds of problem "
                     f"({rest} grants): --report FILE.csv lists every one")
    notes = summary.notes
    lines += [one_line(n, 300) for n in notes[:MAX_NOTE_LINES]]
    if len(notes) > MAX_NOTE_LINES:
        lines.append(f"... and {len(notes) - MAX_NOTE_LINES} more notes")
    return lines


def report_csv(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """The report's CSV text, a chunk at a time: the header, then one row per problem."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    for where, grant_id, field_name, kind, detail, consequence, amount, currency in rows:
        shown = "" if amount is None else str(int(amount)) if amount == int(amount) \
            else repr(amount)
        # a spreadsheet opens this: no text from the file may start a formula there
        writer.writerow([*(csv_cell(str(c)) for c in (where, grant_id, field_name, kind, detail,
                                                       consequence)), shown, currency])
        if out.tell() > 1 << 16:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def overview_lines(summary: Summary) -> list[str]:
    """What was read and counted, and what was left out by choice, in a few lines."""
    files = summary.files
    lines = [f"read {_grants(summary.grants_read)} from "
             + (", ".join(files) if len(files) <= 3 else f"{len(files)} files")]
    counted = money_words(summary.money_counted)
    entries = "entry" if len(summary.entries) == 1 else "entries"
    lines.append(f"{len(summary.entries)} programme {entries} from "
                 f"{_grants(summary.grants_used)} ({counted})")
    if summary.left_out:
        lines.append(f"{_grants(summary.left_out)} left out of the money: see the problems on "
                     "stderr (--report FILE.csv lists each)")
    if summary.other_funders:
        lines.append(f"left out {_grants(summary.other_funders)} of other funders")
    if summary.without_programme:
        verb, own = ("names", "its") if summary.without_programme == 1 else ("name", "their")
        lines.append(f"{_grants(summary.without_programme)} {verb} no programme while others "
                     f"of {own} funder do: not imported (--ungrouped-as-programme imports them)")
    return lines


def _grants(n: int) -> str:
    return f"{n} grant{'s' if n != 1 else ''}"


def source_record(summary: Summary, files: list[str], today: str) -> dict[str, str]:
    """The registry source the entries of an import cite (of several files, source_records
    gives one per set of them): the files, who published them, when.

    A file that names no publisher (a GrantNav export) is cited as its funders' data;
    long lists of funders or files are cut to a few names and a count, within the
    registry's limit on text.
    """
    from fundcmp.giving360.collect import slugify

    stem = PurePath(files[0]).stem
    undated = "" if summary.source_date else " (the data states no date: dated the day read)"
    return {
        "id": "360giving-" + (slugify(stem) or "grants")
              + (f"-and-{len(files) - 1}-more" if len(files) > 1 else ""),
        "publisher": names_within(summary.publishers, "publishers")
        or names_within(sorted({e.funder_name for e in summary.entries}), "funders"),
        "title": f"360Giving grants data: {summary.grants_read} grant identifiers read, "
                 f"{summary.grants_used} imported{undated}",
        "date": summary.source_date or today,
        "document": names_within([PurePath(f).name for f in files], "files", ", "),
    }


def source_records(summary: Summary, files: list[str],
                   today: str) -> list[tuple[dict[str, str], list[Entry]]]:
    """The sources an import's entries cite, each with its entries: one for a single file;
    for several, one per set of files an entry's grants came from, with those files'
    publishers, counts and date, so that a programme is not dated by another file's data."""
    if len(files) == 1 or len(summary.file_facts) != len(files):
        return [(source_record(summary, files, today), list(summary.entries))]
    from fundcmp.giving360.collect import slugify

    sets: dict[tuple[int, ...], list[Entry]] = {}
    for e in summary.entries:
        sets.setdefault(e.files or tuple(range(len(files))), []).append(e)
    found: list[tuple[dict[str, str], list[Entry]]] = []
    ids: set[str] = set()
    for indexes, entries in sets.items():
        facts = [summary.file_facts[i] for i in indexes]
        date = max(f.date for f in facts)
        base = "360giving-" + (slugify(PurePath(files[indexes[0]]).stem) or "grants") \
            + (f"-and-{len(indexes) - 1}-more" if len(indexes) > 1 else "")
        source_id, number = base, 2
        while source_id in ids:
            source_id, number = f"{base}-{number}", number + 1
        ids.add(source_id)
        undated = "" if date else " (the data states no date: dated the day read)"
        found.append(({
            "id": source_id,
            "publisher": names_within(list(dict.fromkeys(f.publisher for f in facts
                                                          if f.publisher)), "publishers")
            or names_within(sorted({e.funder_name for e in entries}), "funders"),
            "title": f"360Giving grants data: {sum(f.grants_read for f in facts)} grant "
                     f"identifiers read, {sum(e.grants for e in entries)} imported{undated}",
            "date": date or today,
            "document": names_within([PurePath(files[i]).name for i in indexes], "files", ", "),
        }, entries))
    return found


def names_within(names: list[str], what: str, joiner: str = "; ") -> str:
    """Names joined until SOURCE_NAMES_CHARS, then the rest counted: 'a; b and 38 more funders'.
    Each is made registry text as a title is (fields.capped)."""
    shown: list[str] = []
    used = 0
    for name in map(capped, names):
        used += len(name) + len(joiner)
        if shown and used > SOURCE_NAMES_CHARS:
            return f"{joiner.join(shown)} and {len(names) - len(shown)} more {what}"
        shown.append(name)
    return joiner.join(shown)
