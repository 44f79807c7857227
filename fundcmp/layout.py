"""Fitting a table of text to a terminal without cutting a figure in two.

Pure text layout, no rich: it decides column widths, which columns to leave
out and where lines break; render.py draws the result. The rules:

- a figure (money, a count, a date, a slug) is never broken inside; a range
  may break after its dash ("£300,000-" / "£500,000");
- prose (names, notes, quotes) wraps at spaces, and only a plain word longer
  than its column is folded;
- when the table is too wide it first loses its borders, then the columns the
  view marked as optional (never a figure of money), and only then is shown
  as stacked records, one "Title: value" line per field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PROSE_MIN = 12  # a prose column is never narrower than this (or its longest word)
GAP = 2  # characters between columns of a borderless table
_DATE = re.compile(r"^\d{4}-\d{2}(?:-\d{2})?$")
_RANGE_DASH = re.compile(r"(?<=\d)-(?=[£$€\d])")
_TRAILERS = frozenset({"months", "days"})  # stay on the line of their figure
_SOFT_TRAILERS = frozenset({"*"})  # goes down with its figure rather than alone, when it can
_LEADERS = frozenset({"★"})  # stays on the line of the figure it marks
_FIGURE_LIKE = re.compile(r"[\d£$€]|^[a-z0-9]+(?:-[a-z0-9]+)+$")


def width(text: str) -> int:
    """Columns a string takes on a terminal: wide (East Asian) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


@dataclass(frozen=True, slots=True)
class Token:
    """A piece of text that is never broken (unless `foldable`), and what joins it to
    the previous piece: a space, or nothing after a range's dash."""

    text: str
    joiner: str
    foldable: bool


def tokens(text: str, prose: bool) -> list[Token]:
    """A cell's unbreakable pieces, line breaks kept as tokens of their own ("\\n")."""
    found: list[Token] = []
    for n, line in enumerate(text.split("\n")):
        if n:
            found.append(Token("\n", "", False))
        glue = False
        for word in line.split():
            foldable = prose and not _FIGURE_LIKE.search(word)
            parts = [word] if _DATE.match(word) else _split_ranges(word)
            for i, part in enumerate(parts):
                last = found[-1] if found and found[-1].text != "\n" else None
                if last is not None and (glue or (not i and part in _TRAILERS and not prose)):
                    found[-1] = Token(f"{last.text} {part}", last.joiner, False)
                else:
                    found.append(Token(part, "" if i else " ", foldable))
                glue = part in _LEADERS
    return found


def _split_ranges(word: str) -> list[str]:
    pieces, start = [], 0
    for dash in _RANGE_DASH.finditer(word):
        pieces.append(word[start:dash.end()])
        start = dash.end()
    pieces.append(word[start:])
    return pieces


def least(text: str, prose: bool) -> int:
    """The narrowest a column holding this cell can be without breaking a figure."""
    pieces = [t for t in tokens(text, prose) if t.text != "\n"]
    hard = max((width(t.text) for t in pieces if not t.foldable), default=0)
    soft = max((width(t.text) for t in pieces if t.foldable), default=0)
    return max(hard, min(soft, PROSE_MIN))


def natural(text: str) -> int:
    return max((width(line) for line in text.split("\n")), default=0)


def wrap(text: str, chars: int, prose: bool) -> list[str]:
    """Lines of at most `chars` columns, breaking only between tokens (or inside a
    foldable word too long for a line)."""
    chars = max(chars, 1)
    lines: list[str] = []
    line, last = "", ""
    for token in tokens(text, prose):
        if token.text == "\n":
            lines.append(line)
            line = ""
            continue
        joined = f"{line}{token.joiner}{token.text}" if line else token.text
        if width(joined) <= chars:
            line, last = joined, token.text
            continue
        moved = f"{last} {token.text}"
        if token.text in _SOFT_TRAILERS and line != last and width(moved) <= chars:
            lines.append(line[: len(line) - len(last)].rstrip())  # the mark takes its figure
            line = last = moved
            continue
        if line:
            lines.append(line)
        line = last = token.text
        while token.foldable and width(line) > chars:
            cut = _fits(line, chars)
            lines.append(line[:cut])
            line = line[cut:]
    lines.append(line)
    return lines


def _fits(text: str, chars: int) -> int:
    """How many of text's characters fit in `chars` columns (at least one, so folding ends)."""
    used = 0
    for n, c in enumerate(text):
        used += width(c)
        if used > chars:
            return max(n, 1)
    return len(text)


@dataclass(frozen=True, slots=True)
class Style:
    """How much a table's frame takes: `per_column` characters each plus `fixed`."""

    name: str
    per_column: int
    fixed: int

    def overhead(self, columns: int) -> int:
        return self.per_column * columns + self.fixed


BORDERED = Style("bordered", 3, 1)  # rich's box: a bar and a space each side of a cell
BORDERLESS = Style("borderless", GAP, -GAP)  # columns apart by GAP spaces, nothing at the edges


@dataclass(frozen=True, slots=True)
class Fit:
    """The columns kept (by position), their widths, and the frame they fit in."""

    keep: tuple[int, ...]
    widths: tuple[int, ...]
    style: Style


Grid = list[list[tuple[str, bool]]]
"""Rows of (text, prose) cells, the header row first."""


@dataclass(frozen=True, slots=True)
class _Columns:
    """Each column's least and one-line widths, and whether it holds only figures,
    measured once for every layout tried."""

    lows: tuple[int, ...]
    wants: tuple[int, ...]
    cells: tuple[int, ...]
    """The one-line width of the cells alone: a header may wrap before a figure does."""
    figures: frozenset[int]

    @classmethod
    def measure(cls, grid: Grid) -> _Columns:
        columns = range(len(grid[0]))
        lows = tuple(max(least(row[i][0], row[i][1]) for row in grid) for i in columns)
        cells = tuple(max(max((natural(row[i][0]) for row in grid[1:]), default=0), lows[i])
                      for i in columns)
        wants = tuple(max(natural(grid[0][i][0]), cells[i]) for i in columns)
        figures = frozenset(i for i in columns if not any(row[i][1] for row in grid[1:]))
        return cls(lows, wants, cells, figures)


def _widths(columns: _Columns, keep: tuple[int, ...], room: int) -> tuple[int, ...] | None:
    """Column widths within `room`, or None if even each column's least width is too wide.

    A figure column is worth widening only to its full width (a range on one
    line): those are widened first, smallest widening first, while room lasts.
    The prose columns then share what is left fairly: each gets its full width
    up to a common cap, the cap as high as the room allows, so a short column
    (compare's labels) is not wrapped to give a long one (a list of support)
    more room than it needs.
    """
    lows = [columns.lows[i] for i in keep]
    if sum(columns.wants[i] for i in keep) <= room:
        return tuple(columns.wants[i] for i in keep)
    if sum(lows) > room:
        return None
    wants = [columns.cells[i] for i in keep]
    given = list(lows)
    spare = room - sum(lows)
    figures = {n for n, i in enumerate(keep) if i in columns.figures}
    for n in sorted(figures, key=lambda n: wants[n] - lows[n]):
        if wants[n] - lows[n] <= spare:
            spare -= wants[n] - lows[n]
            given[n] = wants[n]
    prose = [n for n in range(len(keep)) if n not in figures]

    def total(cap: int) -> int:
        return sum(min(wants[n], max(lows[n], cap)) for n in prose)

    budget = spare + sum(given[n] for n in prose)
    cap = max((c for c in range(max(wants) + 1) if total(c) <= budget), default=0)
    for n in prose:
        given[n] = min(wants[n], max(lows[n], cap))
    left = room - sum(given)
    for n in sorted(prose, key=lambda n: given[n]):
        if left > 0 and given[n] < wants[n]:
            given[n] += 1
            left -= 1
    for n in range(len(keep)):  # what is still left lets a header stay on one line
        more = min(left, columns.wants[keep[n]] - given[n])
        if more > 0:
            given[n] += more
            left -= more
    return tuple(given)


def fit(grid: Grid, screen: int, optional: tuple[int, ...] = ()) -> Fit | None:
    """The widest-keeping layout that fits `screen` columns: bordered with every column,
    then borderless, then without each `optional` column in turn; None when even that
    cannot hold every figure whole (the caller then stacks the records)."""
    columns = _Columns.measure(grid)
    keep = tuple(range(len(grid[0])))
    for style in (BORDERED, BORDERLESS):
        widths = _widths(columns, keep, screen - style.overhead(len(keep)))
        if widths is not None:
            return Fit(keep, widths, style)
    for dropped in optional:
        keep = tuple(i for i in keep if i != dropped)
        widths = _widths(columns, keep, screen - BORDERLESS.overhead(len(keep)))
        if widths is not None:
            return Fit(keep, widths, BORDERLESS)
    return None


def stacked(records: list[tuple[str, list[tuple[str, str, bool]]]], screen: int) -> list[str]:
    """Records one under another when no table fits: a heading line, then one
    "Title: value" line per field, the value wrapped under itself or indented."""
    lines: list[str] = []
    for heading, fields in records:
        if lines:
            lines.append("")
        lines.extend(wrap(heading, screen, prose=True))
        for title, value, prose in fields:
            if not value or value == "-":
                continue
            label = f"  {title}: "
            room = screen - width(label)
            if room >= max(least(value, prose), PROSE_MIN):
                body = wrap(value, room, prose)
                lines.append(label + body[0])
                lines.extend(" " * width(label) + rest for rest in body[1:])
            else:
                lines.extend(wrap(f"  {title}:", screen, prose=True))
                lines.extend("    " + rest for rest in wrap(value, max(screen - 4, 1), prose))
    return lines
