"""Grants from a CSV file with the 360Giving column titles, one row a grant.

Column titles are matched ignoring case and spacing, and the standard's earlier
titles are accepted (fields.match_columns). A file that is not UTF-8 is read as
Windows-1252, the encoding Excel saves CSV in on a Western European machine,
with one note saying so.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

from fundcmp.giving360.fields import (
    TITLE_STARTS,
    header_again,
    is_title,
    match_columns,
    missing_columns,
)
from fundcmp.giving360.reading import (
    BadRow,
    FileInfo,
    ProgressSink,
    RawGrant,
    blank_row,
    column_names,
    fact_cells,
    header_repeats,
    open_binary,
)

CHECK_BYTES = 1 << 20
UTF16_SAMPLE = 4096  # bytes looked at for UTF-16 with no byte-order mark
HEADER_ROWS = 30  # how far down the header row is looked for (under a title, notes)
HEAD_CHARS = 1 << 16  # of each of those lines, at most, to find the separator
# The longest cell read: a description can run to many pages, and csv's own limit (128 KiB)
# refused a whole file for one; a cell longer than this is a quote left open.
FIELD_CHARS = 1 << 24
_BLANK_START = " \t\r\n\xa0#"  # how an identifier cell of a row that may hold nothing starts


def _delimiter(head: str) -> str:
    """The field separator: the one under which a row of the file's first lines has the
    columns an import needs (the most of its columns, if several do), since a title row
    above the header may hold any separator; else, as the first line suggests, a comma
    unless it has none and a semicolon or tab (European Excel, "Unicode text") does."""
    best, most = "", 0
    for delimiter in (",", ";", "\t"):
        try:
            for row in csv.reader(io.StringIO(head, newline=""), delimiter=delimiter):
                found = match_columns(row)
                if not missing_columns(found) and len(found) > most:
                    best, most = delimiter, len(found)
        except csv.Error:
            continue
    if best:
        return best
    first_line = head.partition("\n")[0]
    if "," in first_line:
        return ","
    return max(";\t", key=first_line.count) if first_line.count(";") or \
        first_line.count("\t") else ","


def _stray_as_cp1252(exc: UnicodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8, read as Windows-1252 wrote them: a file edited in two
    programs keeps both its UTF-8 accents and its Windows-1252 pound signs."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start:exc.end].decode("cp1252", "replace"), exc.end


STRAY_AS_CP1252 = "fundcmp-stray-cp1252"
codecs.register_error(STRAY_AS_CP1252, _stray_as_cp1252)


def encoding_of(stream: io.BufferedIOBase) -> tuple[str, str]:
    """The encoding to read the file in (its stray bytes with errors=STRAY_AS_CP1252), and
    a note when it is not plainly UTF-8: utf-16 with its byte-order mark (Excel's "Unicode
    text"), or without one when every other byte is 0 (said); else utf-8-sig, every byte
    that is not UTF-8 read as Windows-1252 and counted, so that a file with no UTF-8 at all
    reads as Windows-1252 (Excel's "CSV" on a UK machine), and one stray byte does not turn
    every UTF-8 pound sign into two letters. Read in chunks."""
    head = stream.read(UTF16_SAMPLE)
    stream.seek(0)
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16", ""
    halves = (head[0::2].count(0), head[1::2].count(0))  # ASCII in UTF-16: one byte of 0 each
    if len(head) >= 4 and min(halves) == 0 and max(halves) >= len(head) // 2 * 0.9:
        codec = "utf-16-le" if halves[1] else "utf-16-be"
        return codec, f"UTF-16 without a byte-order mark: read as {codec.upper()}"
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    bad = good = 0  # bytes that are not UTF-8; characters of more than one byte that are
    line = first_bad = 1
    try:
        while chunk := stream.read(CHECK_BYTES):
            if not (chunk.isascii() and not decoder.getstate()[0]):
                text = decoder.decode(chunk)
                found = text.count("\ufffd") - chunk.count(b"\xef\xbf\xbd")  # a written U+FFFD
                if found > 0 and not bad:
                    first_bad = line + text[:text.index("\ufffd")].count("\n")
                bad += max(found, 0)
                good += len(text) - len(text.encode("ascii", "ignore")) - max(found, 0)
            if not bad:  # lines are counted up to the first bad byte only
                line += chunk.count(b"\n")
        bad += decoder.decode(b"", final=True).count("\ufffd")
    finally:
        stream.seek(0)
    if not bad:
        return "utf-8-sig", ""
    if good:
        return "utf-8-sig", (f"not all UTF-8: {bad} byte{'s' if bad != 1 else ''} that "
                             f"{'are' if bad != 1 else 'is'} not (the first on line {first_bad}) "
                             "read as Windows-1252, the rest as UTF-8")
    return "utf-8-sig", ("not UTF-8: read as Windows-1252 (save it as CSV UTF-8 to be sure of "
                         "every character)")


# An amount written with thousands and no quotes, split at its commas: "5" then "000".
_THOUSANDS_HEAD_RE = re.compile(r"^[£$€]?\s*-?\d{1,3}$")
_THOUSANDS_TAIL_RE = re.compile(r"^\d{3}(?:\.\d+)?$")


def _split_amount(row: list[str]) -> bool:
    """Whether a row holds an amount split at its thousands: its empty cells past the
    header's are then cells moved off its end, not Excel's padding."""
    return any(_THOUSANDS_TAIL_RE.match(after) and _THOUSANDS_HEAD_RE.match(before)
               for before, after in itertools.pairwise(row))


def _swallows_rows(row: list[str], delimiter: str, columns: int) -> bool:
    """Whether a row over several lines holds lines that look like rows of their own: what a
    quote left open makes, and a description over lines does not."""
    least = max(2, (columns - 1) * 2 // 3)
    return any(line.count(delimiter) >= least
               for cell in row if "\n" in cell for line in cell.splitlines()[1:])


def grants(path: Path, info: FileInfo, on_bytes: ProgressSink | None) -> Iterator[RawGrant]:
    """Every row under the header row, as raw grant facts."""
    with open_binary(path, info) as stream:
        encoding, note = encoding_of(stream)
        if note:
            info.notes.append(note)
        text = io.TextIOWrapper(stream, encoding=encoding, errors=STRAY_AS_CP1252,
                                newline="")
        limit = csv.field_size_limit(FIELD_CHARS)
        last_line = 0  # the line the row being read starts after
        try:
            head = "".join(text.readline(HEAD_CHARS) for _ in range(HEADER_ROWS))
            text.seek(0)
            delimiter = _delimiter(head)
            reader = csv.reader(text, delimiter=delimiter)
            for header in reader:  # the header row, below any title rows above it
                found = match_columns(header)
                missing = missing_columns(found)
                if not missing or reader.line_num >= HEADER_ROWS:
                    break
            else:
                header, found, missing = [], {}, missing_columns({})
            if missing:
                raise info.refuse("not 360Giving CSV: no column "
                                  + ", ".join(repr(m) for m in missing))
            info.names = column_names(found, header)
            cells = fact_cells(found, header)
            width = max(found.values()) + 1
            id_column = found["id"]
            header_id = header[id_column]
            name = info.name
            repeated: list[int] = []  # the first few lines of a header row met again
            repeats = 0
            joined: list[str] = []  # the lines of the first few rows that swallowed rows
            joins = 0
            columns = len(header)
            last_line = reader.line_num
            # Written out, each test cheap first: this runs once per row of millions.
            for row in reader:
                line = reader.line_num
                size = len(row)
                swallows = ""  # the lines of a row that swallowed rows
                if line - last_line > 1 and _swallows_rows(row, delimiter, columns):
                    swallows = f"{last_line + 1}-{line}"
                    joins += 1
                    joined += [swallows] if joins <= 3 else []
                last_line = line
                if size < width:
                    if blank_row(row):
                        continue
                    row += [""] * (width - size)
                cell = row[id_column]
                if (not cell or cell[0] in _BLANK_START) and blank_row(row):
                    continue
                if cell == header_id or (cell[:1] in TITLE_STARTS and is_title(cell)):
                    again = header_again(row)
                    if again is not None:  # files joined end to end
                        repeats += 1
                        repeated += [line] if repeats <= 3 else []
                        if again != found:  # columns in another order: the rows under it too
                            found, header = again, row
                            info.names = column_names(found, header)
                            cells = fact_cells(found, header)
                            width = max(found.values()) + 1
                            id_column = found["id"]
                            header_id = header[id_column]
                            columns = len(header)
                        continue
                if on_bytes is not None and line % 4096 == 0:
                    on_bytes(stream.tell())
                if swallows:
                    row.append(BadRow(  # type: ignore[arg-type]
                        "a quote left open: the lines after it, up to the next quote, are one "
                        "cell of it, and their grants are not read",
                        f"lines {swallows}"))
                elif size > columns and (not blank_row(row[columns:]) or _split_amount(row)):
                    row.append(BadRow(  # type: ignore[arg-type]
                        f"more cells than the header's {columns} (a value with an unquoted "
                        "comma, 5,000, moves every cell after it)",
                        f"{size} cells where the header has {columns}"))
                else:
                    row.append(None)  # type: ignore[arg-type]  # the cell of the facts with no column
                yield f"{name}:{line}", cells(row)
            if on_bytes is not None:
                on_bytes(stream.tell())
            if repeats:
                info.notes.append(header_repeats(repeats, repeated, "line "))
            if joins:
                rows = "1 row runs" if joins == 1 else f"{joins} rows run"
                info.notes.append(
                    f"{rows} over several lines that look like rows of their own (lines "
                    f"{', '.join(joined)}{', ...' if joins > 3 else ''}): a quote left open "
                    "makes one cell of the lines after it, up to the next quote, and the "
                    "grants on them are not read; check the quotes there")
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise info.refuse(f"not valid CSV: the cell that starts on line "
                                  f"{last_line + 1} runs on past {FIELD_CHARS:,} characters "
                                  "(a quote left open?)") from None
            raise info.refuse(f"not valid CSV near line {reader.line_num}: {exc}") from None
        finally:
            csv.field_size_limit(limit)
            text.detach()
