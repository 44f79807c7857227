"""Grants from an XLSX workbook with the 360Giving column titles, streamed with openpyxl.

openpyxl's read-only mode parses the sheet's XML as it goes, so memory stays
flat. A grants sheet is one whose header row (within its first rows: some
publishers put a title above it) has the columns an import needs; every such
sheet is read, in order (a read-me or a child table of locations is not one).
Date cells arrive as dates, numbers as numbers.
"""

from __future__ import annotations

import contextlib
import re
import warnings
import zipfile
import zlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from fundcmp.errors import one_line
from fundcmp.giving360.fields import (
    TITLE_STARTS,
    header_again,
    is_title,
    match_columns,
    missing_columns,
)
from fundcmp.giving360.reading import (
    FileInfo,
    ProgressSink,
    RawGrant,
    blank_row,
    column_names,
    fact_cells,
    header_repeats,
)

HEADER_ROWS = 10  # how far down a sheet its header row is looked for
EXAMPLES = 3  # cells named in a note of openpyxl's warnings
KINDS = 10  # kinds of openpyxl's warnings told apart; the rest are counted together
_DATE_PAST_LIMITS = re.compile(r"Cell (\S+) is marked as a date but the serial value (\S+) is "
                               r"outside the limits for dates")
# What openpyxl drops and says so, that no cell's value depends on: not the publisher's to fix.
_HARMLESS = re.compile(r"^[\w ]+ extension is not supported and will be removed$"
                       r"|^Workbook contains no default style")


class _Warnings:
    """openpyxl's warnings, as notes of the file: one a kind, counted.

    openpyxl warns once a cell for some flaws (a date cell whose serial number is
    past any date), each two lines of Python's naming its own source: a flood on
    stderr, and no words a publisher can act on. Warnings are caught only while
    openpyxl runs, never while the import handles a grant.
    """

    def __init__(self) -> None:
        self.kinds: dict[str, list[Any]] = {}  # kind: [count, the first few examples]

    @contextlib.contextmanager
    def caught(self) -> Iterator[None]:
        with warnings.catch_warnings():
            warnings.simplefilter("always")  # counted here; no registry of every message seen
            warnings.showwarning = self._show
            yield

    def _show(self, message: Warning | str, *_: Any, **__: Any) -> None:
        text = str(message)
        if _HARMLESS.match(text):
            return
        past = _DATE_PAST_LIMITS.match(text)
        kind = "serial" if past else one_line(text, 200)
        if kind not in self.kinds and len(self.kinds) >= KINDS:
            kind = "other warnings"  # memory stays flat whatever a workbook warns of
        seen = self.kinds.setdefault(kind, [0, []])
        seen[0] += 1
        if past and len(seen[1]) < EXAMPLES:
            seen[1].append(f"{past[1]} ({past[2]})")

    def notes(self) -> list[str]:
        found = []
        for kind, (count, examples) in self.kinds.items():
            if kind == "serial":
                more = f" and {count - len(examples)} more" if count > len(examples) else ""
                found.append(f"{count} cell{'s' if count != 1 else ''} formatted as dates "
                             "hold serial numbers past any date (" + ", ".join(examples)
                             + f"{more}): read as not a date")
            else:
                found.append(f"openpyxl: {kind}" + (f" ({count} times)" if count > 1 else ""))
        return found


def grants(path: Path, info: FileInfo, on_bytes: ProgressSink | None) -> Iterator[RawGrant]:
    """Every row under the grants sheet's header row, as raw grant facts."""
    import openpyxl

    seen = _Warnings()
    try:
        with seen.caught():
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise info.refuse(f"not an XLSX workbook ({exc})") from None
    try:
        yield from _sheet_grants(book, info, seen)
    except (SyntaxError, zipfile.BadZipFile, zlib.error, EOFError, KeyError) as exc:
        # a sheet's XML cut short or mangled inside a sound zip (ParseError is a SyntaxError)
        raise info.refuse(f"not a readable XLSX workbook ({type(exc).__name__}: "
                          f"{exc})") from None
    finally:
        book.close()
        info.notes.extend(seen.notes())
    if on_bytes is not None:
        on_bytes(path.stat().st_size)


def _caught(rows: Iterator[tuple[Any, ...]], seen: _Warnings) -> Iterator[tuple[Any, ...]]:
    """The rows, openpyxl's warnings caught while it reads each (the sheet's XML is parsed
    as the rows are asked for)."""
    while True:
        with seen.caught():
            row = next(rows, None)
        if row is None:
            return
        yield row


def _sheet_grants(book: Any, info: FileInfo, seen: _Warnings) -> Iterator[RawGrant]:
    """The rows of every grants sheet, in order: publishers split grants by year or fund."""
    looked, read, hidden = [], [], []  # read: the sheets with a grant row
    headed = False
    for sheet in book.worksheets:
        # The size a sheet states is wrong in files from some tools, and read-only mode would
        # stop there; Excel reads to the last row, so forget it.
        sheet.reset_dimensions()
        rows = _caught(sheet.iter_rows(values_only=True), seen)
        for number, header in enumerate(rows, start=1):
            if number > HEADER_ROWS:
                break
            found = match_columns(header)
            if missing_columns(found):
                continue
            info.names = column_names(found, list(header))
            headed = True
            if (yield from _rows(rows, found, list(header), info, sheet.title, number + 1)):
                read.append(sheet.title)
                if getattr(sheet, "sheet_state", "visible") != "visible":
                    hidden.append(sheet.title)
            break
        looked.append(sheet.title)
    if not headed:
        raise info.refuse("no sheet has the 360Giving column titles (looked at "
                          + ", ".join(repr(t) for t in looked) + "): it needs "
                          + ", ".join(repr(t) for t in missing_columns({})))
    if len(read) > 1:
        info.notes.append(f"grants read from {len(read)} sheets: "
                          + ", ".join(repr(t) for t in read))
    if hidden:
        one = len(hidden) == 1
        info.notes.append(", ".join(repr(t) for t in hidden) + (" is" if one else " are")
                          + f" hidden in the workbook: {'its' if one else 'their'} grants are "
                          "counted, as published (delete a sheet whose grants are not meant "
                          "to be)")


def _rows(rows: Iterator[tuple[Any, ...]], found: dict[str, int], header: list[Any],
          info: FileInfo, title: str, first: int) -> Generator[RawGrant, None, int]:
    """The grants under a header row, then how many; a header row met again (sheets pasted
    one under another) is no grant, and the rows under it are read by its titles."""
    cells = fact_cells(found)
    width = max(found.values()) + 1
    id_column, header_id = found["id"], header[found["id"]]
    where = f"{info.name}: {title}!row "
    repeated: list[int] = []  # the first few rows of a header row met again
    repeats = grants = 0
    for row_number, row in enumerate(rows, start=first):
        if blank_row(row):
            continue
        cell = row[id_column] if len(row) > id_column else None
        again = header_again(row) if cell == header_id or (
            type(cell) is str and cell[:1] in TITLE_STARTS and is_title(cell)) else None
        if again is not None:
            repeats += 1
            repeated += [row_number] if repeats <= 3 else []
            if again != found:
                found, header = again, list(row)
                info.names = column_names(found, header)
                cells = fact_cells(found)
                width = max(found.values()) + 1
                id_column, header_id = found["id"], header[found["id"]]
            continue
        grants += 1
        yield f"{where}{row_number}", cells((*row, *([None] * (width + 1 - len(row))))
                                             if len(row) < width else (*row, None))
    if repeats:
        info.notes.append(header_repeats(repeats, repeated, f"{title}!row "))
    return grants
