"""An observed spread drawn as one line of text: a box plot a terminal can show.

Drawing only, from the numbers in the Quantity: `·` the axis from 0 up to the
smallest grant (visible, so no layout can trim it away), `├` the smallest grant,
`─` whiskers, `▒` the middle half (first to third quartile), `┃` the median,
`┤` the largest. Without quartiles (an older import) only the ends and the median
are drawn. Plain characters, so any output, an SVG or HTML export included,
carries it.
"""

from __future__ import annotations

from fundcmp.display import amount
from fundcmp.model import Quantity

LOW_END = "├"
HIGH_END = "┤"
WHISKER = "─"
BOX = "▒"
MEDIAN = "┃"
AXIS = "·"
LEGEND = (f"{LOW_END}{WHISKER}{BOX}{MEDIAN}{BOX}{WHISKER}{HIGH_END} observed: smallest, "
          "quartiles (box), median, largest")
WIDTH = 24


def drawable(q: Quantity) -> bool:
    return q.n is not None and q.low is not None and q.mid is not None and q.high is not None


def line(q: Quantity, width: int = WIDTH, top: float | None = None) -> str:
    """The box plot of `q` on an axis from 0 to `top` (default: its largest value)."""
    assert q.low is not None and q.mid is not None and q.high is not None
    axis = q.high if top is None else top

    def at(value: float) -> int:
        if axis <= 0:
            return 0
        return min(width - 1, max(0, round(value / axis * (width - 1))))

    low, high = at(q.low), at(q.high)
    cells = [AXIS] * low + [" "] * (width - low)
    for i in range(low, high + 1):
        cells[i] = WHISKER
    if q.quantiles is not None:
        q1, _, q3 = q.quantiles.quartiles
        for i in range(at(q1), at(q3) + 1):
            cells[i] = BOX
    cells[low], cells[high] = LOW_END, HIGH_END
    cells[at(q.mid)] = MEDIAN
    return "".join(cells).rstrip()


def words(q: Quantity) -> str:
    """The numbers the plot draws: min, quartiles, median, max and n."""
    assert q.low is not None and q.mid is not None and q.high is not None
    unit = q.unit
    if q.quantiles is None:
        middle = f"median {amount(q.mid, unit)}"
    else:
        q1, _, q3 = q.quantiles.quartiles
        middle = f"Q1 {amount(q1, unit)}, median {amount(q.mid, unit)}, Q3 {amount(q3, unit)}"
    return f"min {amount(q.low, unit)}, {middle}, max {amount(q.high, unit)}, n={q.n:,}"


def shown(q: Quantity, top: float | None = None) -> str:
    """Plot and numbers on one line, as a table cell shows them."""
    return f"{line(q, top=top)}  {words(q)}"
