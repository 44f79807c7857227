"""The grants being grouped, in a temporary on-disk SQLite table, and their exact statistics.

Memory stays flat however many grants a file holds: each counted grant is one
row (identifier, group, amount, recipient, award date, duration, amount per
year), and every statistic is an exact query over a group's rows. Order
statistics are one general query, value_at_rank, so a median, a quartile or a
decile is the same call at a different rank. Every grant problem is kept in a
second table, for the report.
"""

from __future__ import annotations

import itertools
import math
import operator
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from fundcmp import quantiles
from fundcmp.giving360.check import Grant, Problem
from fundcmp.model import Quantiles

COLUMNS = ("amount", "dur_mid", "per_year", "award_year")
GroupFacts = tuple[int, float, int, int, str, str, float, float]
# The facts of a group whose every grant was a duplicate.
_NO_GRANTS = cast(GroupFacts, (0, 0.0, 0, 0, "", "", None, None))
BATCH = 2048  # grants queued per insert: few SQLite calls, little memory


@dataclass(frozen=True, slots=True)
class Spread:
    """min, median and max over n values (the median as statistics.median gives it), and
    the quartiles and deciles (fundcmp.quantiles.METHOD)."""

    low: float
    median: float
    high: float
    n: int
    quantiles: Quantiles | None = None


class Store:
    """Counted grants by group, identifiers seen, and problems, in one temporary database."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "" is a private temporary database on disk
        self.db.execute("PRAGMA cache_size = -8000")
        self.db.execute("PRAGMA temp_store = FILE")
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("CREATE TABLE grant_row (id TEXT PRIMARY KEY, grp INTEGER, "
                        "amount REAL, recipient TEXT, award TEXT, award_year INTEGER, "
                        "dur_low REAL, dur_mid REAL, dur_high REAL, per_year REAL)")
        self.db.execute("CREATE TABLE problem (seq INTEGER PRIMARY KEY, location TEXT, "
                        "grant_id TEXT, field TEXT, kind TEXT, detail TEXT, consequence TEXT, "
                        "amount REAL, currency TEXT)")
        self.db.execute("BEGIN")
        self._insert = "INSERT OR IGNORE INTO grant_row (rowid, id, grp, amount, recipient, " \
            "award, award_year, dur_low, dur_mid, dur_high, per_year) " \
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        self._rows: list[tuple[Any, ...]] = []
        self._tags: list[Any] = []
        self._seq = 0
        self._facts: dict[int, GroupFacts] | None = None

    def _row(self, grant_id: str, group: int | None, grant: Grant | None,
             max_figure: float) -> tuple[Any, ...]:
        self._seq += 1
        if grant is None or group is None:
            return (self._seq, grant_id, None, None, None, None, None, None, None, None, None)
        d = grant.duration_months
        mid = (d[0] + d[1]) / 2 if d else None
        yearly = grant.amount / mid * 12 if mid else None
        if yearly is not None and yearly > max_figure:
            yearly = None
        award = grant.award_date or None
        return (self._seq, grant_id, group, grant.amount, grant.recipient, award,
                int(award[:4]) if award else None, d[0] if d else None, mid,
                d[1] if d else None, yearly)

    def add(self, grant_id: str, group: int | None, grant: Grant | None,
            max_figure: float) -> bool:
        """Record a grant under its group (None: only its identifier is kept), now.

        False when the identifier was already seen: a duplicate, not stored. Call
        flush() first when grants wait from add_later, so the first one stays first.
        """
        if self._rows:
            raise RuntimeError("grants are waiting: flush() before add()")
        row = self._row(grant_id, group, grant, max_figure)
        return self.db.execute(self._insert, row).rowcount == 1

    def add_later(self, grant: Grant, group: int, max_figure: float, tag: Any) -> bool:
        """Queue a grant to be recorded in a batch (one SQLite call per BATCH grants rather
        than one a grant); True when the batch is full and flush() is due."""
        self._rows.append(self._row(grant.id, group, grant, max_figure))
        self._tags.append(tag)
        return len(self._rows) >= BATCH

    def flush(self) -> list[Any]:
        """Record the queued grants; the tags of those whose identifier was already seen,
        in the order they were queued (the first grant with an identifier is kept)."""
        rows, tags = self._rows, self._tags
        if not rows:
            return []
        self._rows, self._tags = [], []
        before = self.db.total_changes
        self.db.executemany(self._insert, rows)
        if self.db.total_changes - before == len(rows):
            return []
        kept = "SELECT rowid FROM grant_row WHERE id = ?"
        return [tag for row, tag in zip(rows, tags, strict=True)
                if self.db.execute(kept, (row[1],)).fetchone()[0] != row[0]]

    def add_problem(self, p: Problem, currency: str) -> None:
        self.db.execute("INSERT INTO problem (location, grant_id, field, kind, detail, "
                        "consequence, amount, currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (p.where, p.grant_id, p.field, p.kind, p.detail, p.consequence,
                         p.amount, currency))

    def problems(self) -> Iterator[tuple[Any, ...]]:
        """Every problem recorded, in the order found."""
        yield from self.db.execute("SELECT location, grant_id, field, kind, detail, "
                                   "consequence, amount, currency FROM problem ORDER BY seq")

    def finish(self) -> None:
        """Index the rows for the order statistics; call once, after the last add and flush."""
        if self._rows:
            raise RuntimeError("grants are waiting: flush() before finish()")
        self.db.execute("COMMIT")
        for column in COLUMNS:
            self.db.execute(f"CREATE INDEX by_{column} ON grant_row (grp, {column})")

    def value_at_rank(self, group: int, column: str, rank: int) -> float:
        """The value at 0-based rank among the group's non-null values of column, in order."""
        return self.values_at_ranks(group, column, [rank])[rank]

    def values_at_ranks(self, group: int, column: str, ranks: Iterable[int]) -> dict[int, float]:
        """The values at several 0-based ranks, by rank: one query for them all (a query a
        rank costs more in its round trip than in walking the index)."""
        if column not in COLUMNS:
            raise ValueError(f"no statistics of {column!r}")
        wanted = sorted(set(ranks))
        one = f"(SELECT {column} FROM grant_row WHERE grp = ? AND {column} IS NOT NULL " \
            f"ORDER BY {column} LIMIT 1 OFFSET ?)"
        row = self.db.execute("SELECT " + ", ".join([one] * len(wanted)),
                              [x for rank in wanted for x in (group, rank)]).fetchone()
        found = dict(zip(wanted, row, strict=True))
        for rank, value in found.items():
            if value is None:
                raise IndexError(f"group {group} has no {column} at rank {rank}")
        return {rank: float(value) for rank, value in found.items()}

    def median(self, group: int, column: str, n: int) -> float:
        """The median of n non-null values, as statistics.median gives it."""
        at = self.values_at_ranks(group, column, [(n - 1) // 2, n // 2])
        return at[(n - 1) // 2] if n % 2 else (at[(n - 1) // 2] + at[n // 2]) / 2

    def spread(self, group: int, column: str) -> Spread | None:
        """min, median, max and n of a column over a group (None if no value)."""
        n, low, high = self.db.execute(
            f"SELECT COUNT({column}), MIN({column}), MAX({column}) FROM grant_row "
            "WHERE grp = ?", (group,)).fetchone()
        if not n:
            return None
        # The ranks the median and the cut points read, asked for at once.
        ranks = {(n - 1) // 2, n // 2}

        def rank_of(rank: int) -> tuple[float, float]:
            ranks.update((rank, min(rank + 1, n - 1)))
            return 0.0, 0.0

        quantiles.from_ranks(n, rank_of)
        at = self.values_at_ranks(group, column, ranks)
        median = at[(n - 1) // 2] if n % 2 else (at[(n - 1) // 2] + at[n // 2]) / 2
        return Spread(float(low), median, float(high), n,
                      quantiles.from_ranks(n, lambda rank: (at[rank], at[min(rank + 1, n - 1)])))

    def group_facts(self, group: int) -> GroupFacts:
        """grants, exact total, recipients, grants naming none, first and last award date,
        and the shortest and longest duration."""
        if self._facts is None:
            self._facts = self._all_group_facts()
        return self._facts.get(group, _NO_GRANTS)

    def _all_group_facts(self) -> dict[int, GroupFacts]:
        """Every group's facts from one pass over the table, not one search a group; the
        totals summed exactly (math.fsum) from the amount index, in group order."""
        facts: dict[int, list[Any]] = {}
        for grp, n, recipients, nameless, first, last, shortest, longest in self.db.execute(
                "SELECT grp, COUNT(*), COUNT(DISTINCT NULLIF(recipient, '')), "
                "SUM(recipient = ''), MIN(award), MAX(award), MIN(dur_low), MAX(dur_high) "
                "FROM grant_row NOT INDEXED WHERE grp IS NOT NULL GROUP BY grp"):
            facts[grp] = [n, 0.0, recipients, nameless or 0, first or "", last or "", shortest,
                          longest]
        rows = self.db.execute("SELECT grp, amount FROM grant_row INDEXED BY by_amount "
                               "WHERE grp IS NOT NULL ORDER BY grp")
        for grp, amounts in itertools.groupby(rows, key=operator.itemgetter(0)):
            facts[grp][1] = math.fsum(row[1] for row in amounts)
        return {grp: (n, total, recipients, nameless, first, last, shortest, longest)
                for grp, (n, total, recipients, nameless, first, last, shortest, longest)
                in facts.items()}

    def close(self) -> None:
        self.db.close()
