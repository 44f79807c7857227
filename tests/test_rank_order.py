"""rank_order, the one ordering of rank (used by rank_by and by the cache's index), and the
cache's SQL spelling of it."""

from __future__ import annotations

import sqlite3
from itertools import pairwise

from hypothesis import example, given
from hypothesis import strategies as st

from fundcmp import cache
from fundcmp.arithmetic import rank_order, standing_of

values = st.one_of(st.none(), st.floats(0, 1e15, allow_nan=False), st.sampled_from([0.0, 5.0]))


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[list[float | None]], list[str]]:
    keys = draw(st.integers(1, 3))
    rows = draw(st.lists(st.lists(values, min_size=keys, max_size=keys), max_size=30))
    slugs = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=len(rows),
                          max_size=len(rows)))
    return rows, slugs


@given(tables(), st.booleans())
@example(([[None], [1.0], [None], [1.0]], ["b", "b", "a", "a"]), False)
def test_known_first_in_order_then_unknowns_in_registry_order(
        table: tuple[list[list[float | None]], list[str]], reverse: bool) -> None:
    rows, slugs = table
    order = rank_order(rows, slugs, reverse)
    assert sorted(order) == list(range(len(rows)))
    firsts = [rows[i][0] for i in order]
    known = [v for v in firsts if v is not None]
    # every known first value comes before every unknown one
    assert firsts[:len(known)] == known
    assert known == sorted(known, reverse=not reverse)
    for a, b in pairwise(order):
        if rows[a] == rows[b]:
            # ties: by slug when the first value is known, then by registry position
            if rows[a][0] is not None:
                assert (slugs[a], a) < (slugs[b], b)
            else:
                assert a < b


figures = st.tuples(st.sampled_from(["unknown", "range", "ceiling", "floor", "exact"]),
                    st.sampled_from(["GBP", "EUR", ""]), values, values, values)


@given(st.lists(st.tuples(figures, st.sampled_from(["a", "b", "c", "d", "e"])), max_size=40),
       st.sampled_from(["low", "mid", "high"]), st.booleans(),
       st.sampled_from(["GBP", "EUR", None]), st.sampled_from([-1, 0, 1, 3]))
@example([(("range", "GBP", None, None, 5.0), "a"), (("floor", "GBP", 5.0, None, None), "b")],
         "mid", False, "GBP", -1)
def test_the_index_orders_one_key_in_sql_as_rank_order_does(
        rows: list[tuple[tuple[str, str, float | None, float | None, float | None], str]],
        basis: str, reverse: bool, unit: str | None, limit: int) -> None:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE TABLE by_x ({cache._FIGURE_TABLE})")
    db.execute("CREATE TABLE programmes (position INTEGER PRIMARY KEY, slug TEXT NOT NULL)")
    for position, ((kind, currency, low, mid, high), slug) in enumerate(rows):
        db.execute("INSERT INTO by_x VALUES (?, ?, ?, ?, ?, ?, '', '', '', '', '', '', '')",
                   (position, kind, currency, low, mid, high))
        db.execute("INSERT INTO programmes VALUES (?, ?)", (position, slug))
    found = [position for (position,) in db.execute(
        "SELECT k.position FROM by_x AS k JOIN programmes AS p USING (position) "
        f"{cache._rank_sql(basis, reverse)} LIMIT :limit", {"unit": unit, "limit": limit})]
    standings = [[standing_of(low, mid, high, basis)
                  if currency == unit and kind != "unknown" else None]
                 for (kind, currency, low, mid, high), _ in rows]
    order = rank_order(standings, [slug for _, slug in rows], reverse)
    assert found == (order if limit < 0 else order[:limit])
