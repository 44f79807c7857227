"""Grants from an XLSX workbook with the 360Giving column titles, streamed with openpyxl.

openpyxl's read-only mode parses the sheet's XML as it goes, so memory stays
flat. A grants sheet is one whose header row (within its first rows: some
publishers put a title above it) has the columns an import needs; every such
sheet is read, in order (a read-me or a child table of locations is not one).
Date cells arrive as dates, numbers as numbers.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fundcmp.giving360.fields import match_columns, missing_columns
from fundcmp.giving360.reading import FileInfo, ProgressSink, RawGrant, column_names, fact_cells

HEADER_ROWS = 10  # how far down a sheet its header row is looked for


def grants(path: Path, info: FileInfo, on_bytes: ProgressSink | None) -> Iterator[RawGrant]:
    """Every row under the grants sheet's header row, as raw grant facts."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise info.refuse(f"not an XLSX workbook ({exc})") from None
    try:
        yield from _sheet_grants(book, info)
    except (SyntaxError, zipfile.BadZipFile, zlib.error, EOFError, KeyError) as exc:
        # a sheet's XML cut short or mangled inside a sound zip (ParseError is a SyntaxError)
        raise info.refuse(f"not a readable XLSX workbook ({type(exc).__name__}: "
                          f"{exc})") from None
    finally:
        book.close()
    if on_bytes is not None:
        on_bytes(path.stat().st_size)


def _sheet_grants(book: Any, info: FileInfo) -> Iterator[RawGrant]:
    """The rows of every grants sheet, in order: publishers split grants by year or fund."""
    looked, read = [], []
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        for number, header in enumerate(rows, start=1):
            if number > HEADER_ROWS:
                break
            found = match_columns(header)
            if missing_columns(found):
                continue
            info.names = column_names(found, list(header))
            read.append(sheet.title)
            yield from _rows(rows, found, f"{info.name}: {sheet.title}!row ", number + 1)
            break
        looked.append(sheet.title)
    if not read:
        raise info.refuse("no sheet has the 360Giving column titles (looked at "
                          + ", ".join(repr(t) for t in looked) + "): it needs "
                          + ", ".join(repr(t) for t in missing_columns({})))
    if len(read) > 1:
        info.notes.append(f"grants read from {len(read)} sheets: "
                          + ", ".join(repr(t) for t in read))


def _rows(rows: Iterator[tuple[Any, ...]], found: dict[str, int], where: str,
          first: int) -> Iterator[RawGrant]:
    cells = fact_cells(found)
    width = max(found.values()) + 1
    for row_number, row in enumerate(rows, start=first):
        if all(v is None or v == "" for v in row):
            continue
        yield f"{where}{row_number}", cells((*row, *([None] * (width + 1 - len(row))))
                                             if len(row) < width else (*row, None))
