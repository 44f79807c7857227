"""rank_order, the one ordering of rank (used by rank_by and by the cache's index)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import example, given
from hypothesis import strategies as st

from fundcmp.arithmetic import rank_order

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
