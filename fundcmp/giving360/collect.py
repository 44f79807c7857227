"""The import's flow: read each file, check each grant, group the counted ones, sum up.

    reading (read_json / read_csv / read_xlsx) -> check -> store (grouping, exact
    statistics) -> summary (entries, problems by kind, notes)

Grants are grouped by funder identifier, programme title and currency; the
programme code stands in only when a grant has no title, because publishers use
codes for rounds, batches and grant types. Nothing here prints.
"""

from __future__ import annotations

import gc
import operator
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from fundcmp.giving360 import fields
from fundcmp.giving360.check import (
    LEFT_OUT,
    Grant,
    Plain,
    Problem,
    check,
    plain_batch,
    quick_facts,
)
from fundcmp.giving360.fields import MAX_TITLE_CHARS, Dots, Order
from fundcmp.giving360.reader_process import grants
from fundcmp.giving360.reading import FACT_KEYS, Batch, FileInfo, ProgressSink, as_dict
from fundcmp.giving360.store import GroupStats, Store, Tags
from fundcmp.giving360.summary import Entry, FileFacts, Summary, report_csv

DATE_KEYS = ("award_date", "start", "end")
MAX_PENDING = 10_000  # grants held back while a column's date order is undecided
DECIDE_AFTER = 25  # values making sense one way only that decide a column's date order
ReportSink = Callable[[Any], None]
_CODE_TITLES_KEPT = 3
_SEEN_KEPT = 4096
_FUNDER_ID = FACT_KEYS.index("funder_id")
_TYPOGRAPHY = str.maketrans("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2018\u2019\u201c\u201d",
                            "-------''\"\"")
_NAMES = operator.itemgetter(slice(1, 6))  # funder id and name, programme code and title, currency
RUN = 1000  # plain grants stored together
GC_OBJECTS = 200_000  # objects made, less those freed, between runs of the cyclic collector
Names = tuple[str, str, str, str, str]  # _NAMES of a grant


class _Readings:
    """Per file: the order its DD/MM vs MM/DD dates are read in, per date column, and what
    a dot is in its amounts.

    The values that make sense only one way (25/04/2019 only day first) vote, and
    the column is read their majority's way once DECIDE_AFTER have voted, or at the
    end of the file; a column with no vote of its own follows the file's other date
    columns' votes (one system wrote them all), and a tie, or no vote at all, is day
    first, as the standard is British. Meanwhile the grants with such dates wait (up
    to MAX_PENDING): one odd value first must not turn a whole column, and a value the
    other way round is then reported, never read as the column's other dates are not.

    Amounts vote likewise: "1500.000" has a decimal point, "1.250.000" dots between
    thousands, and "25.000", which could be either, waits and is read the majority's
    way; with no vote, or a tie, it is reported, as a guess would move money a
    thousandfold. Plain amounts ("1003.50") never vote: the plain-grant shortcut may take
    them first, in a child process or not, and the reading must not depend on that.
    """

    def __init__(self, info: FileInfo, summary: Summary) -> None:
        self.info = info
        self.summary = summary
        self.orders: dict[str, Order] = {}
        self.waiting_on: set[str] = set()
        self.votes: dict[str, Counter[str]] = {}
        self.examples: dict[str, dict[str, str]] = {}  # each order's first value, per column
        self.pending: list[tuple[str, dict[str, Any] | Grant]] = []
        self.dots: Dots | None = None
        self.dots_decided = False
        self.dotted = 0  # lone "25.000"s, read by the column's dots
        self.first_dotted = ""

    def see(self, raw: dict[str, Any]) -> bool:
        """Learn from a grant's dates and amount; True when it must wait for an undecided
        column."""
        waits = self._see_amount(raw.get("amount"))
        for key in DATE_KEYS:
            if key in self.orders:
                continue
            value = raw.get(key)
            if not isinstance(value, str) or value[4:5] == "-":  # not text, or ISO
                continue
            order = fields.slash_order(value)
            if not order:
                continue
            self.waiting_on.add(key)
            waits = True
            if order != "either":
                votes = self.votes.setdefault(key, Counter())
                votes[order] += 1
                self.examples.setdefault(key, {}).setdefault(order, value)
                if votes.total() >= DECIDE_AFTER:
                    self._decide(key)
        return waits

    def _see_amount(self, value: Any) -> bool:
        dots = fields.amount_dots(value)
        if not dots or (dots == "point" and fields.plain_number(value)):
            return False  # a plain 1003.50 may be taken by the shortcut first: it never votes
        if dots == "either":
            self.dotted += 1
            self.first_dotted = self.first_dotted or value
            return not self.dots_decided
        if not self.dots_decided:
            votes = self.votes.setdefault("amount", Counter())
            votes[dots] += 1
            self.examples.setdefault("amount", {}).setdefault(dots, value)
            if votes.total() >= DECIDE_AFTER:
                self._decide_dots()
        return False

    def _decide_dots(self) -> None:
        votes = self.votes.get("amount", Counter())
        self.dots_decided = True
        if votes["point"] != votes["thousands"]:
            self.dots = "point" if votes["point"] > votes["thousands"] else "thousands"

    def amount_note(self) -> None:
        """Say how the file's lone "25.000"s were read, and why."""
        if self.dots is None or not self.dotted:
            return
        words = {"point": "a decimal point", "thousands": "dots between thousands"}
        other: Dots = "thousands" if self.dots == "point" else "point"
        examples = self.examples["amount"]
        note = (f"{self.info.name}: {self.info.names['amount']}: {self.dotted} "
                f"value{'s' if self.dotted != 1 else ''} such as {self.first_dotted!r} read with "
                f"{words[self.dots]}, as values such as {examples[self.dots]!r} make sense "
                "only that way")
        if other in examples:
            note += f"; {examples[other]!r} and the like only with {words[other]}"
        self.summary.note(note)

    def _decide(self, key: str) -> None:
        """The column's order by its votes' majority, and a note when it is not all one way
        or is month first."""
        votes = self.votes.get(key, Counter())
        borrowed = not votes.total()
        if borrowed:  # one system wrote all of a file's dates: the other columns' votes
            votes = sum((self.votes.get(k, Counter()) for k in DATE_KEYS), Counter())
        order: Order = "mdy" if votes["mdy"] > votes["dmy"] else "dmy"
        self.orders[key] = order
        other: Order = "dmy" if order == "mdy" else "mdy"
        if order == "dmy" and not votes["mdy"]:
            return
        words = {"dmy": ("day first (DD/MM/YYYY)", "day first"),
                 "mdy": ("month first (MM/DD/YYYY)", "month first")}
        if borrowed:
            self.summary.note(f"{self.info.name}: {self.info.names[key]} read {words[order][0]}, "
                              "as this file's other dates are: no value of its own makes sense "
                              "one way only")
            return
        examples = self.examples.get(key, {})
        note = (f"{self.info.name}: {self.info.names[key]} read {words[order][0]}: "
                f"{votes[order]} value{'s' if votes[order] != 1 else ''} such as "
                f"{examples[order]!r} make{'s' if votes[order] == 1 else ''} sense only that "
                "way")
        if votes[other]:
            note += (f"; {votes[other]} only {words[other][1]} ({examples[other]!r}), "
                     "reported")
        self.summary.note(note)

    def ready(self) -> bool:
        """Whether the waiting grants can be checked: their columns decided, or too many."""
        return (self.waiting_on <= self.orders.keys() and (self.dots_decided or not self.dotted)
                ) or len(self.pending) >= MAX_PENDING

    def settle(self) -> list[tuple[str, dict[str, Any] | Grant]]:
        """The waiting grants, to be checked now; undecided columns become day first."""
        for key in self.waiting_on - self.orders.keys():
            self._decide(key)
        if self.dotted and not self.dots_decided:
            self._decide_dots()
        self.waiting_on.clear()
        held, self.pending = self.pending, []
        return held


class _Grouping:
    """Which group each counted grant belongs to, and what the titles and codes say."""

    def __init__(self, ungrouped_as_programme: bool) -> None:
        self.ungrouped = ungrouped_as_programme
        self.naming_funders: set[str] = set()
        self.groups: dict[tuple[str, str, str], int] = {}
        self.first: list[Names] = []  # of each group's first grant
        self.code_titles: dict[tuple[str, str], dict[str, None]] = {}
        # What group_of found for the values grants repeat: it would find the same again.
        self.seen: dict[tuple[Any, ...], int] = {}
        self.file = 0  # the file being read, and the files each group's grants came from
        self.files: dict[int, set[int]] = {}

    def start_file(self, index: int) -> None:
        """A file's grants follow: each group they meet is found again, and so noted."""
        self.seen.clear()
        self.file = index

    def group_of(self, names: Names) -> int:
        """The group of a grant, by its _NAMES. Grants naming no programme are held in their
        funder's group under the key ""."""
        group = self.seen.get(names)
        if group is None:
            if len(self.seen) >= _SEEN_KEPT:
                self.seen.clear()
            group = self.seen[names] = self._group_of(names)
            self.files.setdefault(group, set()).add(self.file)
        return group

    def groups_of(self, names: Sequence[Names]) -> list[int]:
        """group_of for each grant, in order: the values seen before looked up at once."""
        found = list(map(self.seen.get, names))
        if None in found:
            found = [self.group_of(key) if group is None else group
                     for key, group in zip(names, found, strict=True)]
        return found  # type: ignore[return-value]  # no None is left

    def _group_of(self, names: Names) -> int:
        funder_id, _, code, title, currency = names
        if title:  # an accent typed as one character or two, a dash or a quote as a word
            # processor writes it: the same title
            key = "t:" + (title if title.isascii() else unicodedata.normalize(
                "NFC", title).translate(_TYPOGRAPHY)).casefold()
            if code:
                titles = self.code_titles.setdefault((funder_id, code), {})
                if len(titles) <= _CODE_TITLES_KEPT:
                    titles.setdefault(title, None)
        elif code and not fields.is_placeholder(code):
            key = "c:" + code
        else:
            key = ""
        funder = funder_id.casefold()  # an identifier in other case, the same funder
        if key:
            self.naming_funders.add(funder)
        group = self.groups.setdefault((funder, key, currency), len(self.first))
        if group == len(self.first):
            self.first.append(names)
        return group

    def imported(self, funder_id: str, key: str) -> bool:
        """Grants naming no programme become an entry of their own when asked, or when their
        funder names no programme for any grant (its grants have no other place to go)."""
        return bool(key) or self.ungrouped or funder_id not in self.naming_funders

    def notes(self, entries: list[Entry]) -> list[str]:
        """Codes spanning several titles, placeholder titles, funders naming no programme and
        titles cut short."""
        found = []
        for (funder, code), titles in self.code_titles.items():
            if len(titles) > 1:
                names = list(titles)[:_CODE_TITLES_KEPT]
                more = " and more" if len(titles) > _CODE_TITLES_KEPT else ""
                found.append(f"programme code {code!r} ({funder}) spans {len(titles)}"
                              f"{'+' if more else ''} titles, grouped apart by title: "
                              + "; ".join(repr(t) for t in names) + more)
        for e in entries:
            if e.programme_title and fields.is_placeholder(e.programme_title):
                found.append(f"{e.grants} grant{'s' if e.grants != 1 else ''} of "
                             f"{e.funder_name} {'have' if e.grants != 1 else 'has'} the "
                             "placeholder programme title "
                             f"{e.programme_title!r}: imported under it as written")
        whole = [e for e in entries if e.ungrouped]
        if whole and not self.ungrouped:
            grants = sum(e.grants for e in whole)
            named = Counter(e.funder_name for e in whole)
            funders = ", ".join(e.funder_name if named[e.funder_name] == 1 else
                                f"{e.funder_name} ({e.funder_id})" for e in whole[:3])
            more = f" and {len(whole) - 3} more" if len(whole) > 3 else ""
            found.append(f"{len(whole)} funder{'s' if len(whole) != 1 else ''} naming no "
                         f"programme on any grant ({funders}{more}): {grants} grant"
                         f"{'s' if grants != 1 else ''} imported as one entry per funder, "
                         "'<funder>: grants without a programme'")
        cut = [e for e in entries if any(len(t) == MAX_TITLE_CHARS and t.endswith("...")
                                         for t in (e.programme_title, e.funder_name))]
        if cut:
            entry = "entry's" if len(cut) == 1 else "entries'"
            was = "was" if len(cut) == 1 else "were"
            found.append(f"{len(cut)} programme {entry} title or funder name {was} longer than "
                         f"{MAX_TITLE_CHARS} characters: cut to {MAX_TITLE_CHARS}")
        return found


def collect(paths: Sequence[Path], funder: str | None = None,
            ungrouped_as_programme: bool = False, keep_zero: bool = False,
            on_bytes: ProgressSink | None = None,
            report: ReportSink | None = None) -> Summary:
    """Read every file, check every grant, and group the counted ones into entries.

    on_bytes hears the bytes read so far across all files; report, if given, is
    called once at the end with an iterator of the report's CSV text chunks.
    """
    summary = Summary(tuple(str(p) for p in paths))
    store = Store()
    grouping = _Grouping(ungrouped_as_programme)
    done_bytes = 0
    # Grants make no reference cycles: the cyclic collector, run every 700 objects made,
    # would only walk the batches and figures held, over and over, for a twentieth of a
    # large import's time. Run rarely, it still finds any cycle a library makes.
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_OBJECTS, *thresholds[1:])
    try:
        for index, path in enumerate(paths):
            info = FileInfo(str(path))
            grouping.start_file(index)
            read_before, latest_before = summary.grants_read, summary.latest_award
            summary.latest_award = ""  # this file's, until it is read
            progress = None if on_bytes is None else \
                (lambda n, base=done_bytes: on_bytes(base + n))
            readings = _Readings(info, summary)

            def handle(where: str, raw: dict[str, Any] | Grant, info: FileInfo = info,
                       readings: _Readings = readings) -> None:
                if isinstance(raw, Grant):  # what check() gives a grant the shortcut took
                    _counted(where, raw, [], info, summary, store, grouping)
                else:
                    _one(where, raw, info, readings, summary, store, grouping, keep_zero)

            batches = grants(path, info, progress)
            # Plain grants in a row, stored together when a grant that is not one comes, or
            # RUN of them: in their order, before it.
            run: list[tuple[str, Grant, str]] = []
            try:
                for batch in batches:
                    info.names = batch.names
                    summary.grants_read += len(batch)
                    # The shortcut for the whole batch at once (a pure function: what it gives
                    # a grant is the same whenever it is asked). A grant it takes has ISO dates
                    # and a plain amount, which teach the file's readings nothing: while a
                    # column is undecided it waits as taken.
                    plain = plain_batch(batch.columns) if funder is None else None
                    if plain is not None and not readings.pending:
                        if run:
                            _plain_run(run, summary, store, grouping)
                        _plain_columns(plain, _Tags(batch, plain), summary, store, grouping)
                        continue
                    taken = plain.grants() if plain is not None else None
                    for at, (where, facts) in enumerate(batch.grants()):
                        grant: Grant | None
                        if funder is not None and fields.text(facts[_FUNDER_ID]) != funder:
                            summary.other_funders += 1
                            continue
                        grant = quick_facts(facts) if taken is None else taken[at]
                        if grant is not None and not readings.pending:
                            run.append((where, grant, info.names["id"]))
                            if len(run) >= RUN:
                                _plain_run(run, summary, store, grouping)
                            continue
                        if run:
                            _plain_run(run, summary, store, grouping)
                        raw = grant if grant is not None else as_dict(facts)
                        # A grant the shortcut took has ISO dates: it teaches the date order
                        # nothing.
                        if isinstance(raw, Grant) or readings.see(raw) or readings.pending:
                            readings.pending.append((where, raw))
                            if readings.ready():
                                for held in readings.settle():
                                    handle(*held)
                        else:
                            handle(where, raw)
                if run:
                    _plain_run(run, summary, store, grouping)
            finally:
                batches.close()  # a reader in a child process ends with it
            for held in readings.settle():
                handle(*held)
            readings.amount_note()
            _flush(summary, store)
            for note in info.notes:
                summary.note(f"{info.name}: {note}")
            publisher = fields.printable(info.publisher)
            if publisher and publisher not in summary.publishers:
                summary.publishers.append(publisher)
            summary.issued = max(summary.issued, _day(info.issued))
            summary.file_facts.append(FileFacts(publisher, _day(info.issued)
                                                or summary.latest_award,
                                                summary.grants_read - read_before))
            summary.latest_award = max(latest_before, summary.latest_award)
            if on_bytes is not None:
                done_bytes += path.stat().st_size
        summary.entries = _with_slugs(_entries(store.finish(), grouping, summary))
        for note in grouping.notes(summary.entries):
            summary.note(note)
        if report is not None:
            report(report_csv(store.problems()))
    finally:
        store.close()
        gc.set_threshold(*thresholds)
    return summary


def _day(text: str) -> str:
    try:
        return fields.read_date(text)[0] if text else ""
    except fields.FieldProblem:
        return ""


def _one(where: str, raw: dict[str, Any], info: FileInfo, readings: _Readings,
         summary: Summary, store: Store, grouping: _Grouping, keep_zero: bool) -> None:
    """Check one grant, tally its problems, and store it if it counts."""
    grant, problems = check(raw, info.names, where, readings.orders, keep_zero,
                            readings.dots)
    if grant is not None:
        _counted(where, grant, problems, info, summary, store, grouping)
    elif problems:
        _tally(problems, fields.text(raw.get("currency")), summary, store)


class _Tags:
    """What the store gives back of a plain batch's grant that is a duplicate, made only
    then: where it is, the grant, and the title of the identifier column it was read under."""

    def __init__(self, batch: Batch, plain: Plain) -> None:
        self.batch, self.plain, self.field = batch, plain, batch.names["id"]

    def __len__(self) -> int:
        return len(self.batch)

    def __getitem__(self, at: int) -> tuple[str, Grant, str]:
        return self.batch.where(at), self.plain.grant(at), self.field


def _plain_run(run: list[tuple[str, Grant, str]], summary: Summary, store: Store,
               grouping: _Grouping) -> None:
    """_counted() for grants with no problem, in order, and the run emptied."""
    _plain_columns(Plain(*zip(*[grant for _, grant, _ in run], strict=True)), list(run),
                   summary, store, grouping)
    run.clear()


def _plain_columns(plain: Plain, tags: Tags, summary: Summary, store: Store,
                   grouping: _Grouping) -> None:
    """_counted() for grants with no problem, in order, given a column a field."""
    latest = max(plain.award_dates)
    if latest > summary.latest_award:
        summary.latest_award = latest
    groups = grouping.groups_of(list(zip(plain.funder_ids, plain.funder_names,
                                         plain.programme_codes, plain.programme_titles,
                                         plain.currencies, strict=True)))
    if store.add_plain(plain.ids, groups, plain.amounts, plain.recipients, plain.award_dates,
                       plain.durations, tags):
        _flush(summary, store)


def _counted(where: str, grant: Grant, problems: list[Problem], info: FileInfo,
             summary: Summary, store: Store, grouping: _Grouping) -> None:
    """Store a grant that counts under its group, unless its identifier was seen before.

    A grant with no problem waits in the store's batch; one with problems is stored at
    once, after the batch, so that every problem is tallied in the order of the grants.
    """
    if grant.award_date > summary.latest_award:
        summary.latest_award = grant.award_date
    group = grouping.group_of(_NAMES(grant))
    if not problems:
        if store.add_later(grant, group, (where, grant, info.names["id"])):
            _flush(summary, store)
        return
    _flush(summary, store)
    if not store.add(grant, group):
        problems = [*problems, _duplicate(where, grant, info.names["id"])]
    _record(problems, grant.currency, summary, store)


def _duplicate(where: str, grant: Grant, field: str) -> Problem:
    return Problem(where, grant.id, field, "duplicate identifier (the first grant with it is "
                   "kept)", "duplicate identifier", LEFT_OUT, grant.amount)


def _flush(summary: Summary, store: Store) -> None:
    """Store the waiting grants, and tally those that were duplicates, each under the title
    of the identifier column it was read under (a file's header may change before then)."""
    for where, grant, field in store.flush():
        _record([_duplicate(where, grant, field)], grant.currency, summary, store)


def _tally(problems: list[Problem], currency: str, summary: Summary, store: Store) -> None:
    """Count one grant's problems, after those of the grants before it."""
    _flush(summary, store)
    _record(problems, currency, summary, store)


def _record(problems: list[Problem], currency: str, summary: Summary, store: Store) -> None:
    """Count one grant's problems in the summary and keep each for the report."""
    if any(p.left_out for p in problems):
        summary.left_out += 1
    for p in problems:
        summary.add(p, currency)
        store.add_problem(p, currency)


def _entries(stats: dict[int, GroupStats], grouping: _Grouping,
             summary: Summary) -> list[Entry]:
    result = []
    for (funder, key, currency), group in grouping.groups.items():
        funder_id, funder_name, code, title, _ = grouping.first[group]
        found = stats.get(group)
        if found is None:  # every grant of the group was a duplicate
            continue
        if not grouping.imported(funder, key):
            summary.without_programme += found.grants
            continue
        summary.grants_used += found.grants
        duration = found.duration
        if duration is not None:  # a duration's midpoint means its ends are known too
            assert found.shortest is not None and found.longest is not None
            duration = replace(duration, low=found.shortest, high=found.longest)
        result.append(Entry(
            funder_id=funder_id, funder_name=funder_name or funder_id,
            programme_code=code if key else "",
            programme_title=title or (code if key else ""),
            currency=currency, grants=found.grants, recipients=found.recipients,
            grants_without_recipient=found.nameless, amount=found.amount, total=found.total,
            duration_months=duration, per_year=found.per_year,
            first_award=found.first_award, last_award=found.last_award,
            price_year=found.price_year, ungrouped=not key,
            files=tuple(sorted(grouping.files.get(group, ())))))
    return sorted(result, key=lambda e: (e.funder_name, e.programme_title, e.currency))


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens, as registry slugs are."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text.lower()))


def entry_name(entry: Entry) -> str:
    """The programme title; grants without one are named for their funder."""
    name = entry.programme_title or f"{entry.funder_name}: grants without a programme"
    return name if entry.currency == "GBP" else f"{name} ({entry.currency})"


def _with_slugs(entries: list[Entry]) -> list[Entry]:
    """Slugs from programme title and funder id; the code or currency added to tell apart."""
    def base(e: Entry) -> str:
        title = slugify(e.programme_title)[:80].strip("-") or "no-programme"
        return f"{title}-{slugify(e.funder_id)[:40].strip('-') or 'funder'}"

    counts = Counter((base(e), e.currency) for e in entries)
    result, used = [], set()
    for e in entries:
        slug = base(e)
        if counts[(slug, e.currency)] > 1 and e.programme_code:
            slug = f"{slug}-{slugify(e.programme_code)[:40].strip('-')}".rstrip("-")
        if e.currency != "GBP":
            slug = f"{slug}-{e.currency.lower()}"
        candidate, number = slug, 2
        while candidate in used:
            candidate, number = f"{slug}-{number}", number + 1
        used.add(candidate)
        result.append(replace(e, slug=candidate))
    return result
