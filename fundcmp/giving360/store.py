"""The grants being grouped, their identifiers in a temporary on-disk SQLite table, and their
exact statistics.

Memory stays flat however many grants a file holds. Each counted grant's
identifier is one row, which tells a duplicate; its figures (amount, recipient,
award date, the planned duration's ends) are held in memory by group, up to HELD
grants in all, and then written out, each group's as one row of columns (a
chunk), so the end reads a group's figures back in one piece, with no sort of a
million rows. A group that grows past SMALL_GROUP grants, too large to hold at
the end, moves to a table of one row a grant instead, and its statistics are
asked of SQLite query by query. What follows from a grant's figures (the
duration's midpoint, the amount per year, the award year) is worked out as they
are read back, a column at a time, never stored. Order statistics are the values
at ranks, so a median, a quartile or a decile is the same lookup at a different
rank. Every grant problem is kept in another table, for the report.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import math
import operator
import pickle
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fundcmp import quantiles
from fundcmp.giving360.check import Grant, Problem
from fundcmp.giving360.fields import MAX_AMOUNT
from fundcmp.model import Quantiles

BATCH = 2048  # grants queued per insert: few SQLite calls, little memory
SMALL_GROUP = 20_000  # the most grants of a group held in memory at once, to sort them
HELD = 20_000  # counted grants whose figures are held before they are written out as chunks
HELD_CHARS = 2_000_000  # or characters of their identifiers and recipients, whichever comes first


class Tags(Protocol):
    """What flush() gives back for each of a run of grants added that is a duplicate."""

    def __len__(self) -> int: ...

    def __getitem__(self, at: int) -> Any: ...


@dataclass(frozen=True, slots=True)
class Spread:
    """min, median and max over n values (the median as statistics.median gives it), and
    the quartiles and deciles (fundcmp.quantiles.METHOD)."""

    low: float
    median: float
    high: float
    n: int
    quantiles: Quantiles | None = None


@dataclass(frozen=True, slots=True)
class GroupStats:
    """One group's exact facts over its counted grants (duplicates left out)."""

    grants: int
    total: float  # math.fsum: exact
    recipients: int  # distinct, of the grants naming one
    nameless: int  # grants naming no recipient
    first_award: str
    last_award: str
    shortest: float | None  # months
    longest: float | None
    amount: Spread
    duration: Spread | None  # of the durations' midpoints
    per_year: Spread | None
    price_year: int | None  # the award year at the lower median rank


class Store:
    """Counted grants by group, identifiers seen, and problems, in one temporary database."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "" is a private temporary database on disk
        self.db.execute("PRAGMA cache_size = -8000")
        self.db.execute("PRAGMA temp_store = FILE")
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        # Keyed by identifier alone (no rowid beside it): one B-tree to insert into, not two.
        self.db.execute("CREATE TABLE grant_row (id TEXT PRIMARY KEY, seq INTEGER) "
                        "WITHOUT ROWID")
        self.db.execute("CREATE TABLE chunk (grp INTEGER, figures BLOB)")
        self.db.execute("CREATE INDEX chunk_grp ON chunk (grp)")
        self.db.execute("CREATE TABLE large_row (grp INTEGER, amount REAL, recipient TEXT, "
                        "award TEXT, dur_low REAL, dur_high REAL)")
        # What follows from a row is worked out as it is read back, by SQLite, not stored.
        self.db.execute("CREATE VIEW counted AS SELECT grp, amount, recipient, award, "
                        "CAST(substr(award, 1, 4) AS INTEGER) AS award_year, dur_low, "
                        "(dur_low + dur_high) / 2 AS dur_mid, dur_high, "
                        "CASE WHEN amount / ((dur_low + dur_high) / 2) * 12 <= "
                        f"{MAX_AMOUNT!r} THEN amount / ((dur_low + dur_high) / 2) * 12 END "
                        "AS per_year FROM large_row")
        self.db.execute("CREATE TABLE problem (seq INTEGER PRIMARY KEY, location TEXT, "
                        "grant_id TEXT, field TEXT, kind TEXT, detail TEXT, consequence TEXT, "
                        "amount REAL, currency TEXT)")
        self.db.execute("BEGIN")
        # Each grant queued is numbered, its number stored with its identifier: flush() tells
        # a duplicate by that. Many rows a statement: one SQLite step, not one a row.
        self._insert = "INSERT OR IGNORE INTO grant_row (id, seq) VALUES (?, ?)"
        self._insert_many = self._insert + ", (?, ?)" * (_IDS_A_STATEMENT - 1)
        self._ids: list[str] = []  # the queued grants' identifiers, and the columns of their
        self._queue: list[list[Any]] = _empty()  # rows: (group, *figures), rows of large_row
        self._tags: list[Tags] = []  # what each add gives back for a duplicate
        self._queued = 0  # grants queued so far, numbered 0 to this less one
        self._sizes: collections.Counter[int] = collections.Counter()  # grants kept, by group
        # The rows of kept grants not yet written out, by group.
        self._held: collections.defaultdict[int, list[tuple[Any, ...]]] = \
            collections.defaultdict(list)
        self._holding = 0
        self._holding_chars = 0
        self._large: set[int] = set()  # groups past SMALL_GROUP, one row a grant in large_row

    def add(self, grant: Grant, group: int) -> bool:
        """Record a grant under its group, now.

        False when the identifier was already seen: a duplicate, not stored. Call
        flush() first when grants wait from add_later, so the first one stays first.
        """
        if self._ids:
            raise RuntimeError("grants are waiting: flush() before add()")
        self.add_later(grant, group, None)
        return not self.flush()

    def add_later(self, grant: Grant, group: int, tag: Any) -> bool:
        """Queue a grant to be recorded in a batch (one SQLite call per BATCH grants rather
        than one a grant); True when the batch is full and flush() is due. Its row holds
        what its figures are worked out from (see the counted view)."""
        grant_id, _, _, _, _, _, amount, award, recipient, duration = grant
        low, high = _NO_DURATION if duration is None else duration
        self._ids.append(grant_id)
        for column, value in zip(self._queue, (group, amount, recipient, award or None, low,
                                               high), strict=True):
            column.append(value)
        self._tags.append((tag,))
        return len(self._ids) >= BATCH

    def add_plain(self, ids: Sequence[str], groups: Sequence[int], amounts: Sequence[float],
                  recipients: Sequence[str], awards: Sequence[str],
                  durations: Sequence[tuple[float, float] | None], tags: Tags) -> bool:
        """add_later for many grants at once, in order, given a column a field: the same rows,
        made a column at a time (a run of plain grants is the usual case, a million times
        over). tags[i] is what flush() gives back if grant i is a duplicate."""
        ends = durations if None not in durations else \
            tuple(_NO_DURATION if d is None else d for d in durations)
        self._ids += ids
        for column, values in zip(self._queue, (
                groups, amounts, recipients,
                awards if "" not in awards else [award or None for award in awards],
                *zip(*ends, strict=True)), strict=True):
            column += values
        self._tags.append(tags)
        return len(self._ids) >= BATCH

    def flush(self) -> list[Any]:
        """Record the queued grants; the tags of those whose identifier was already seen,
        in the order they were queued (the first grant with an identifier is kept)."""
        ids, columns = self._ids, self._queue
        if not ids:
            return []
        tags = self._tags
        self._ids, self._queue, self._tags = [], _empty(), []
        first = self._queued
        self._queued += len(ids)
        before = self.db.total_changes
        self._insert_ids(ids, first)
        if self.db.total_changes - before == len(ids):
            self._hold(ids, columns)
            return []
        # A row whose identifier is stored under another grant's number is a duplicate.
        kept = "SELECT seq FROM grant_row WHERE id = ?"
        keep = [self.db.execute(kept, (grant_id,)).fetchone()[0] == number
                for number, grant_id in enumerate(ids, start=first)]
        self._hold(list(itertools.compress(ids, keep)),
                   [list(itertools.compress(column, keep)) for column in columns])
        return _tags_at(tags, [at for at, kept_here in enumerate(keep) if not kept_here])

    def _insert_ids(self, ids: list[str], first: int) -> None:
        numbered = list(itertools.chain.from_iterable(zip(ids, itertools.count(first))))
        whole = len(ids) - len(ids) % _IDS_A_STATEMENT
        for start in range(0, 2 * whole, 2 * _IDS_A_STATEMENT):
            self.db.execute(self._insert_many, numbered[start:start + 2 * _IDS_A_STATEMENT])
        self.db.executemany(self._insert, zip(ids[whole:], itertools.count(first + whole)))

    def _hold(self, ids: list[str], columns: list[list[Any]]) -> None:
        """Hold the rows of kept grants by group, given their columns; a group that grows
        past SMALL_GROUP moves to large_row, and HELD grants held (or HELD_CHARS characters
        of their texts that can be any length) are written out."""
        groups = columns[0]
        self._sizes.update(groups)
        held = self._held
        for row in zip(*columns, strict=True):
            held[row[0]].append(row)
        self._holding += len(ids)
        self._holding_chars += sum(map(len, ids)) + sum(map(len, columns[2]))
        for group in set(groups) - self._large:
            if self._sizes[group] > SMALL_GROUP:
                self._make_large(group)
        if self._holding >= HELD or self._holding_chars >= HELD_CHARS:
            self._write_held()

    def _make_large(self, group: int) -> None:
        """A group past SMALL_GROUP: its chunks written so far become rows of large_row."""
        self._large.add(group)
        for (figures,) in self.db.execute("SELECT figures FROM chunk WHERE grp = ?",
                                          (group,)).fetchall():
            self.db.executemany("INSERT INTO large_row VALUES (?, ?, ?, ?, ?, ?)",
                                zip(itertools.repeat(group), *pickle.loads(figures)))
        self.db.execute("DELETE FROM chunk WHERE grp = ?", (group,))

    def _write_held(self) -> None:
        """Write out every group's held figures: a large group's as rows of large_row, a
        small group's as one chunk, its columns pickled."""
        held = self._held
        self._write_large()
        self.db.executemany("INSERT INTO chunk VALUES (?, ?)", (
            (group, pickle.dumps(_columns(rows), pickle.HIGHEST_PROTOCOL))
            for group, rows in held.items()))
        held.clear()
        self._holding = self._holding_chars = 0

    def _write_large(self) -> None:
        """Write out the held figures of the large groups, as rows of large_row."""
        for group in self._large & self._held.keys():
            self.db.executemany("INSERT INTO large_row VALUES (?, ?, ?, ?, ?, ?)",
                                self._held.pop(group))

    def add_problem(self, p: Problem, currency: str) -> None:
        self.db.execute("INSERT INTO problem (location, grant_id, field, kind, detail, "
                        "consequence, amount, currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (p.where, p.grant_id, p.field, p.kind, p.detail, p.consequence,
                         p.amount, currency))

    def problems(self) -> Iterator[tuple[Any, ...]]:
        """Every problem recorded, in the order found."""
        yield from self.db.execute("SELECT location, grant_id, field, kind, detail, "
                                   "consequence, amount, currency FROM problem ORDER BY seq")

    def finish(self) -> dict[int, GroupStats]:
        """Every group's statistics, exact; call once, after the last add and flush.

        A small group's figures are read into memory, its chunks and what is still held,
        and sorted there; a large group's are never held: SQLite sorts their rows on disk,
        a few passes for all of them together. Both ways give the same figures.
        """
        if self._ids:
            raise RuntimeError("grants are waiting: flush() before finish()")
        self._write_large()
        held = self._held
        self.db.execute("COMMIT")
        stats = self._large_groups(sorted(self._large)) if self._large else {}
        chunks = self.db.execute("SELECT grp, figures FROM chunk ORDER BY grp")
        for group, written in itertools.groupby(chunks, key=operator.itemgetter(0)):
            parts = [pickle.loads(figures) for _, figures in written]
            if group in held:
                parts.append(_columns(held.pop(group)))
            stats[group] = _small_group(*(tuple(itertools.chain.from_iterable(column))
                                          for column in zip(*parts, strict=True)))
        for group in sorted(held):
            stats[group] = _small_group(*_columns(held.pop(group)))
        return stats

    def _large_groups(self, groups: list[int]) -> dict[int, GroupStats]:
        """The statistics of the groups too large to hold, each read as a sorted stream."""
        facts = {row[0]: row[1:] for row in self.db.execute(
            "SELECT grp, COUNT(*), COUNT(DISTINCT NULLIF(recipient, '')), SUM(recipient = ''), "
            "MIN(award), MAX(award), MIN(dur_low), MAX(dur_high), "
            + ", ".join(f"COUNT({column})" for column in _SPREAD_COLUMNS)
            + " FROM counted GROUP BY grp")}
        rows = self.db.execute("SELECT grp, amount FROM large_row ORDER BY grp")
        totals = {group: math.fsum(map(operator.itemgetter(1), members))
                  for group, members in itertools.groupby(rows, key=operator.itemgetter(0))}
        spreads: dict[str, dict[int, tuple[Spread | None, Callable[[int], float]]]] = {}
        for place, column in enumerate(_SPREAD_COLUMNS, start=7):
            values = map(operator.itemgetter(0), self.db.execute(
                f"SELECT {column} FROM counted WHERE {column} IS NOT NULL "
                f"ORDER BY grp, {column}"))
            spreads[column] = {}
            for group in groups:  # in the order of grp, as the values come; each read to its
                n = facts[group][place]  # last, the largest, so the next group's come next
                at = _at_ranks(values, _ranks(n)).__getitem__
                spreads[column][group] = _spread(n, at), at
        stats = {}
        for group in groups:
            n, recipients, nameless, first, last, shortest, longest = facts[group][:7]
            amount = spreads["amount"][group][0]
            assert amount is not None
            years, year_at = spreads["award_year"][group]
            stats[group] = GroupStats(
                n, totals[group], recipients, nameless or 0, first or "", last or "", shortest,
                longest, amount, spreads["dur_mid"][group][0], spreads["per_year"][group][0],
                _price_year(years, year_at))
        return stats

    def close(self) -> None:
        self.db.close()


_NO_DURATION = (None, None)
_IDS_A_STATEMENT = 499  # rows of one insert: 998 values, under SQLite's oldest limit of 999
# The columns whose order statistics are figures.
_SPREAD_COLUMNS = ("amount", "dur_mid", "per_year", "award_year")


def _empty() -> list[list[Any]]:
    """The columns of no queued rows."""
    return [[] for _ in range(6)]


def _tags_at(tags: list[Tags], places: list[int]) -> list[Any]:
    """The tags of the queued grants at the given places, from the tags of each add."""
    ends = list(itertools.accumulate(map(len, tags)))
    found = []
    for place in places:
        add = bisect.bisect_right(ends, place)
        found.append(tags[add][place - (ends[add - 1] if add else 0)])
    return found


def _columns(rows: list[tuple[Any, ...]]) -> tuple[tuple[Any, ...], ...]:
    """Queued rows (group, amount, recipient, award, duration's ends) as their figures'
    columns, _small_group's arguments."""
    return tuple(zip(*rows, strict=True))[1:]


def _small_group(amounts: Sequence[float], recipients: Sequence[str],
                 awards: Sequence[Any], lows: Sequence[Any],
                 highs: Sequence[Any]) -> GroupStats:
    """A group's statistics from its figures in memory, a tuple a column: what _large_groups
    asks SQLite for, the counted view's columns worked out here the same way."""
    named = [r for r in recipients if r] if "" in recipients else recipients
    dated = [a for a in awards if a is not None] if None in awards else awards
    paid = amounts
    if None in lows:  # a duration's ends are both known, or neither
        known = list(map(operator.is_not, lows, itertools.repeat(None)))
        lows, highs, paid = (tuple(itertools.compress(column, known))
                             for column in (lows, highs, amounts))
    # (low + low) / 2 is low, exactly: most grants state months, and their ends are the same.
    mids = lows if lows == highs else \
        list(map(operator.truediv, map(operator.add, lows, highs), itertools.repeat(2)))
    if 0 in mids:
        yearly = [amount / mid * 12 for amount, mid in zip(paid, mids, strict=True) if mid]
    else:
        yearly = list(map(operator.mul, map(operator.truediv, paid, mids), itertools.repeat(12)))
    if yearly and max(yearly) > MAX_AMOUNT:
        yearly = [y for y in yearly if y <= MAX_AMOUNT]
    # Award dates are ISO, so in the order of their years: a year at a rank is the year of
    # the award date at that rank, and the first and last award dates come with them.
    dated = sorted(dated)

    def year_at(rank: int) -> int:
        return int(dated[rank][:4])

    def spread(values: Sequence[Any]) -> tuple[Spread | None, Callable[[int], float]]:
        ordered = sorted(values)
        return _spread(len(ordered), ordered.__getitem__), ordered.__getitem__

    amount, _ = spread(amounts)
    assert amount is not None
    year_spread = _spread(len(dated), year_at)
    return GroupStats(len(amounts), math.fsum(amounts), len(set(named)),
                      len(recipients) - len(named), dated[0] if dated else "",
                      dated[-1] if dated else "", min(lows, default=None),
                      max(highs, default=None), amount, spread(mids)[0], spread(yearly)[0],
                      _price_year(year_spread, year_at))


def _ranks(n: int) -> list[int]:
    """The 0-based ranks that _spread reads of n sorted values."""
    if not n:
        return []
    wanted = {0, n - 1, (n - 1) // 2, n // 2}

    def pair_at(rank: int) -> tuple[float, float]:
        wanted.update((rank, min(rank + 1, n - 1)))
        return 0.0, 0.0

    quantiles.from_ranks(n, pair_at)
    return sorted(wanted)


def _at_ranks(ordered: Iterator[Any], ranks: list[int]) -> dict[int, Any]:
    """The values at the given ascending ranks of a sorted stream, skipping the rest unread
    by Python (islice steps over them in C)."""
    found: dict[int, Any] = {}
    position = 0
    for rank in ranks:
        found[rank] = next(itertools.islice(ordered, rank - position, None))
        position = rank + 1
    return found


def _spread(n: int, at: Callable[[int], Any]) -> Spread | None:
    """min, median, max and the cut points of n sorted values, read by rank."""
    if not n:
        return None
    low, high = (n - 1) // 2, n // 2
    median = float(at(low)) if n % 2 else (float(at(low)) + float(at(high))) / 2
    return Spread(float(at(0)), median, float(at(n - 1)), n, quantiles.from_ranks(
        n, lambda rank: (float(at(rank)), float(at(min(rank + 1, n - 1))))))


def _price_year(years: Spread | None, at: Callable[[int], float]) -> int | None:
    """The award year at the lower median rank: the year whose prices the figures are in."""
    return int(at((years.n - 1) // 2)) if years else None
