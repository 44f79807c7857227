"""A ranking drawn as horizontal bars, so uncertainty is seen rather than hidden.

Rendering only: every bound comes from the Quantity in the ranked Table. A
stated figure is a solid bar; a range is solid up to its low end with a
whisker on to its high end; a ceiling has no solid part, only a dashed line
up to its cap, since nothing below the cap is promised; an unknown is named
but not drawn, so it can never look like zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import IO, Any

from fundcmp import layout
from fundcmp.display import amount
from fundcmp.escaping import single_line
from fundcmp.model import Kind, Quantity, Support
from fundcmp.render import console, human, save
from fundcmp.views import Cell, Table

SOLID = "█"
WHISKER = "─"
WHISKER_START = "├"
CAP = "┤"
OPEN = "╌"
MARK = "●"
ONWARD = "▶"
STYLES = {SOLID: "cyan", WHISKER: "yellow", WHISKER_START: "yellow", CAP: "yellow",
          OPEN: "magenta", MARK: "bold yellow", ONWARD: "cyan"}
MIN_BAR_CHARS = 10
MIN_NAME_CHARS = 12
MAX_NAME_CHARS = 30


@dataclass(frozen=True, slots=True)
class Scale:
    """Characters per unit: `top` (the largest bound drawn) fills `chars` characters."""

    top: float
    chars: int

    def at(self, value: float) -> int:
        """How many characters reach `value`; a positive value always shows."""
        if value <= 0 or self.top <= 0:
            return 0
        return max(1, min(self.chars, round(value / self.top * self.chars)))


def quantity(cell: Cell) -> Quantity | None:
    """The figure a ranked cell holds (support is ranked on its money value)."""
    if isinstance(cell, Support):
        return cell.value
    return cell if isinstance(cell, Quantity) else None


def bar(q: Quantity, scale: Scale, basis: str) -> str:
    """The characters of one bar, without styles; empty for an unknown."""
    if not _drawable(q):
        return ""
    if q.high is None:  # a floor ("at least"): solid to it, open onward
        assert q.low is not None
        return SOLID * max(scale.at(q.low) - 1, 0) + ONWARD
    high = scale.at(q.high)
    if q.low is None:
        cells = [OPEN] * (high - 1) + [CAP] if high else []
    else:
        low = scale.at(q.low)
        cells = [SOLID] * low
        if high - low >= 2:
            cells += [WHISKER_START, *[WHISKER] * (high - low - 2)]
        cells += [CAP] * (high - len(cells))
    stands_for = q.basis(basis)
    if not q.is_point and stands_for is not None and scale.at(stands_for):
        cells[scale.at(stands_for) - 1] = MARK
    return "".join(cells)


def _drawable(q: Quantity | None) -> bool:
    return q is not None and q.kind is not Kind.UNKNOWN and (q.high or q.low) is not None


def _reach(q: Quantity) -> float:
    """How far along the axis a figure reaches: its high end, or a floor's low end."""
    return q.high if q.high is not None else q.low or 0.0


def _styled(drawn: str) -> Any:
    from rich.text import Text

    shown = Text(no_wrap=True, overflow="crop")
    for char, run in groupby(drawn):
        shown.append("".join(run), style=STYLES.get(char))
    return shown


def draw(table: Table, key: str, basis: str, out: IO[str], color: str = "auto",
         width: int | None = None, export: str | None = None) -> None:
    """Print the ranking in `table` as bars of its `key` column, in the table's order."""
    from rich.table import Table as RichTable
    from rich.text import Text

    terminal = console(out, color, width, record=export is not None)
    figures = [quantity(r.get(key)) for r in table.records]
    names = [single_line(str(r.get("name") or r.get("slug"))) for r in table.records]
    labels = [human(q) if _drawable(q) else "unknown, not drawn" for q in figures]
    drawn = [q for q in figures if q is not None and _drawable(q)]
    top = max((_reach(q) for q in drawn), default=0.0)
    # A label narrower than its figure would cut it: wrap between tokens instead.
    least = max((layout.least(label, False) for label in labels), default=0)
    room = terminal.width - MIN_NAME_CHARS - MIN_BAR_CHARS - 2
    label_chars = max(least, min(max((len(label) for label in labels), default=0), room))
    labels = ["\n".join(layout.wrap(label, label_chars, False)) for label in labels]
    name_room = max(MIN_NAME_CHARS, terminal.width - label_chars - MIN_BAR_CHARS - 2)
    name_chars = min(max((len(n) for n in names), default=0), MAX_NAME_CHARS, name_room)
    scale = Scale(top, max(MIN_BAR_CHARS, terminal.width - name_chars - label_chars - 2))

    grid = RichTable.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, overflow="ellipsis", max_width=name_chars)
    grid.add_column(no_wrap=True, width=scale.chars)
    grid.add_column(overflow="fold", width=label_chars)
    for name, q, label in zip(names, figures, labels, strict=True):
        grid.add_row(Text(name), _styled(bar(q, scale, basis)) if q is not None else Text(""),
                     Text(label, style="" if _drawable(q) else "dim"))
    if drawn:
        top_words = amount(top, drawn[0].unit)
        grid.add_row(Text(""), Text("0" + top_words.rjust(scale.chars - 1)), Text(""))
    terminal.print(single_line(table.title), markup=False)
    terminal.print(grid)
    terminal.print(f"{SOLID} stated  {WHISKER_START}{WHISKER}{CAP} range, low..high  "
                   f"{OPEN}{OPEN}{CAP} ceiling, up to  {SOLID}{ONWARD} at least  "
                   f"{MARK} the {basis} it is ranked on",
                   highlight=False, markup=False)
    for note in table.notes:
        terminal.print(single_line(note), markup=False)
    if export is not None:
        save(terminal, export, table.title)
