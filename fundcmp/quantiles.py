"""One quantile definition for every observed spread, computed exactly from ranks.

The definition (METHOD) is Python's `statistics.quantiles(values, n=parts,
method="inclusive")`, the same as R's type 7, numpy's "linear" and Excel's
PERCENTILE.INC: of `count` sorted values x[0..count-1], the i-th of `parts`
cut points sits at position (count - 1) * i / parts; with j and delta from
divmod((count - 1) * i, parts) it is (x[j] * (parts - delta) + x[j + 1] * delta)
/ parts, exactly as the standard library writes it, so the two agree to the
last bit. Every cut lies between the smallest and the largest value, and the
middle quartile is the median. A single value is every cut point (as Python
3.13's statistics.quantiles gives).

Only two neighbouring ranks are needed per cut, so the import asks its
on-disk store for values at given ranks and never holds the grants in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fundcmp.model import Quantiles

METHOD = 'statistics.quantiles(values, n=4 or 10, method="inclusive")'
QUARTILES = 4
DECILES = 10

# The values at ranks j and j + 1 (0-based) of the sorted values: what one cut needs.
PairAt = Callable[[int], tuple[float, float]]


def cuts(count: int, parts: int, pair_at: PairAt) -> tuple[float, ...]:
    """The parts - 1 cut points of `count` sorted values, reading them by rank."""
    if count < 1:
        raise ValueError("no values to cut")
    if count == 1:
        only = pair_at(0)[0]
        return (only,) * (parts - 1)
    result = []
    for i in range(1, parts):
        j, delta = divmod(i * (count - 1), parts)
        low, high = pair_at(j)
        result.append((low * (parts - delta) + high * delta) / parts)
    return tuple(result)


def from_ranks(count: int, pair_at: PairAt) -> Quantiles:
    """Quartiles and deciles of `count` values, given their values by rank."""
    q1, q2, q3 = cuts(count, QUARTILES, pair_at)
    return Quantiles((q1, q2, q3), cuts(count, DECILES, pair_at))


def of(values: Sequence[float]) -> Quantiles:
    """Quartiles and deciles of values in memory (any order): for tests and small data."""
    ordered = sorted(values)
    last = len(ordered) - 1

    def pair_at(j: int) -> tuple[float, float]:
        return ordered[j], ordered[min(j + 1, last)]

    return from_ranks(len(ordered), pair_at)
