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
import operator
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from fundcmp.giving360.fields import (
    TITLE_STARTS,
    header_again,
    is_title,
    match_columns,
    missing_columns,
)
from fundcmp.giving360.reading import (
    CHUNK,
    BadRow,
    Batch,
    Facts,
    FileInfo,
    ProgressSink,
    batch_of,
    blank_row,
    column_names,
    fact_cells,
    fact_columns,
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
    _strays[0] += 1
    return exc.object[exc.start:exc.end].decode("cp1252", "replace"), exc.end


STRAY_AS_CP1252 = "fundcmp-stray-cp1252"
codecs.register_error(STRAY_AS_CP1252, _stray_as_cp1252)
# Stray bytes met in this process: a file met one while it was read if the count grew (or
# another file read at the same time did: then the whole-file check finds none in it).
_strays = [0]


def encoding_of(stream: io.BufferedIOBase) -> tuple[str, str]:
    """The encoding to read the file in (its stray bytes with errors=STRAY_AS_CP1252), and
    a note when it is not plainly UTF-8: utf-16 with its byte-order mark (Excel's "Unicode
    text"), or without one when every other byte is 0 (said); else utf-8-sig, every byte
    that is not UTF-8 read as Windows-1252 and counted, so that a file with no UTF-8 at all
    reads as Windows-1252 (Excel's "CSV" on a UK machine), and one stray byte does not turn
    every UTF-8 pound sign into two letters. Read in chunks."""
    utf16, note = _utf16(stream)
    if utf16:
        return utf16, note
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    bad = good = 0  # bytes that are not UTF-8; characters of more than one byte that are
    first_chunk = -1  # where the chunk with the first bad byte starts, and its lines before it
    lines_before = read = 0
    try:
        while chunk := stream.read(CHECK_BYTES):
            if not (chunk.isascii() and not decoder.getstate()[0]):
                text = decoder.decode(chunk)
                found = text.count("\ufffd") - chunk.count(b"\xef\xbf\xbd")  # a written U+FFFD
                if found > 0 and not bad:
                    first_chunk, lines_before = read, text[:text.index("\ufffd")].count("\n")
                bad += max(found, 0)
                good += len(text) - len(text.encode("ascii", "ignore")) - max(found, 0)
            read += len(chunk)
        bad += decoder.decode(b"", final=True).count("\ufffd")
        first_bad = 1 + lines_before + (_lines(stream, first_chunk) if first_chunk > 0 else 0)
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


def _utf16(stream: io.BufferedIOBase) -> tuple[str, str]:
    """UTF-16 and a note if the file is, by its byte-order mark or every other byte 0."""
    head = stream.read(UTF16_SAMPLE)
    stream.seek(0)
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16", ""
    halves = (head[0::2].count(0), head[1::2].count(0))  # ASCII in UTF-16: one byte of 0 each
    if len(head) >= 4 and min(halves) == 0 and max(halves) >= len(head) // 2 * 0.9:
        codec = "utf-16-le" if halves[1] else "utf-16-be"
        return codec, f"UTF-16 without a byte-order mark: read as {codec.upper()}"
    return "", ""


def _lines(stream: io.BufferedIOBase, end: int) -> int:
    """The line breaks in the stream's first `end` bytes: counted only for a file with a
    bad byte, to say where the first is."""
    stream.seek(0)
    lines = 0
    while end > 0 and (chunk := stream.read(min(CHECK_BYTES, end))):
        lines += chunk.count(b"\n")
        end -= len(chunk)
    return lines


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


class _Header:
    """What a header row says of the rows under it."""

    def __init__(self, found: dict[str, int], header: list[str]) -> None:
        self.found = found
        self.names = column_names(found, header)
        self.cells = fact_cells(found, header)
        self.columns_of = fact_columns(found, header)
        self.width = max(found.values()) + 1  # the cells a row needs
        self.id_column = found["id"]
        self.id_title = header[self.id_column]
        self.columns = len(header)

    def all_plain(self, rows: Sequence[list[str]]) -> bool:
        """Whether every row is a grant with no more cells than the header and at least the
        columns found, none blank or a header met again: a column at a time, in C, each test
        the row-by-row reading's own (the usual case, a million rows over)."""
        if min(map(len, rows)) < self.width or max(map(len, rows)) > self.columns:
            return False
        ids = list(map(operator.itemgetter(self.id_column), rows))
        if not all(ids) or self.id_title in ids:
            return False
        firsts = set(map(operator.itemgetter(0), ids))
        return firsts.isdisjoint(_BLANK_START) and (firsts.isdisjoint(TITLE_STARTS) or not any(
            is_title(cell) for cell in ids if cell[0] in TITLE_STARTS))


def grants(path: Path, info: FileInfo, on_bytes: ProgressSink | None) -> Iterator[Batch]:
    """Every row under the header row, as raw grants, in batches of a chunk of CHUNK rows
    each (less the rows that are no grant), split where a header row met again changes the
    columns."""
    with open_binary(path, info) as stream:
        # A file that is not UTF-16 is read as UTF-8, its stray bytes as Windows-1252, whatever
        # encoding_of would say: only its note waits to be written, if a stray byte is met.
        encoding, note = _utf16(stream)
        if note:
            info.notes.append(note)
        strays_at = -1 if encoding else len(info.notes)
        encoding = encoding or "utf-8-sig"
        strays = _strays[0]
        text = io.TextIOWrapper(stream, encoding=encoding, errors=STRAY_AS_CP1252,
                                newline="")
        limit = csv.field_size_limit(FIELD_CHARS)
        last_line = 0  # the line the row being read starts after
        chunk: list[tuple[list[str], int]] = []
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
            known = _Header(found, header)
            info.names = known.names
            prefix = f"{info.name}:"
            repeated: list[int] = []  # the first few lines of a header row met again
            repeats = 0
            joined: list[str] = []  # the lines of the first few rows that swallowed rows
            joins = 0
            last_line = reader.line_num
            # Each row with the line it ends on, read by C alone, CHUNK rows at a time: a
            # chunk is read, picked into columns and passed on while it is still in the
            # processor's cache (a thousand rows are not, and cost half as much again).
            rows_read = zip(reader, map(_LINE_NUM, itertools.repeat(reader)), strict=False)
            while True:
                chunk = []
                chunk.extend(itertools.islice(rows_read, CHUNK))  # what it read if csv fails
                if not chunk:
                    break
                rows, lines = zip(*chunk, strict=True)
                if lines[-1] - last_line == len(rows) and known.all_plain(rows):
                    # every row one line and a grant: a column a fact, at once
                    yield Batch(prefix, range(last_line + 1, lines[-1] + 1),
                                known.columns_of(rows), known.names)
                    last_line = lines[-1]
                else:  # row by row, each test cheap first
                    places: list[int] = []
                    facts: list[Facts] = []
                    for row, line in chunk:
                        size = len(row)
                        swallows = ""  # the lines of a row that swallowed rows
                        if line - last_line > 1 and _swallows_rows(row, delimiter,
                                                                   known.columns):
                            swallows = f"{last_line + 1}-{line}"
                            joins += 1
                            joined += [swallows] if joins <= 3 else []
                        last_line = line
                        if size < known.width:
                            if blank_row(row):
                                continue
                            row += [""] * (known.width - size)
                        cell = row[known.id_column]
                        if (not cell or cell[0] in _BLANK_START) and blank_row(row):
                            continue
                        if cell == known.id_title or (cell[:1] in TITLE_STARTS
                                                      and is_title(cell)):
                            again = header_again(row)
                            if again is not None:  # files joined end to end
                                repeats += 1
                                repeated += [line] if repeats <= 3 else []
                                if again != known.found:  # columns in another order: the
                                    if facts:  # rows under it too
                                        yield batch_of(prefix, places, facts, known.names)
                                        places, facts = [], []
                                    known = _Header(again, row)
                                    info.names = known.names
                                continue
                        if swallows:
                            row.append(BadRow(  # type: ignore[arg-type]
                                "a quote left open: the lines after it, up to the next quote, "
                                "are one cell of it, and their grants are not read",
                                f"lines {swallows}"))
                        elif size > known.columns and (not blank_row(row[known.columns:])
                                                       or _split_amount(row)):
                            row.append(BadRow(  # type: ignore[arg-type]
                                f"more cells than the header's {known.columns} (a value with "
                                "an unquoted comma, 5,000, moves every cell after it)",
                                f"{size} cells where the header has {known.columns}"))
                        else:
                            row.append(None)  # type: ignore[arg-type]  # the cell of the facts with no column
                        places.append(line)
                        facts.append(known.cells(row))
                    if facts:
                        yield batch_of(prefix, places, facts, known.names)
                chunk = []
                if on_bytes is not None:
                    on_bytes(stream.tell())
            if on_bytes is not None:
                on_bytes(stream.tell())
            if repeats:
                info.notes.append(header_repeats(repeats, repeated, "line "))
            if joins:
                rows_joined = "1 row runs" if joins == 1 else f"{joins} rows run"
                info.notes.append(
                    f"{rows_joined} over several lines that look like rows of their own (lines "
                    f"{', '.join(joined)}{', ...' if joins > 3 else ''}): a quote left open "
                    "makes one cell of the lines after it, up to the next quote, and the "
                    "grants on them are not read; check the quotes there")
            note = encoding_of(stream)[1] if _strays[0] != strays and strays_at >= 0 else ""
            if note:
                info.notes.insert(strays_at, note)
        except csv.Error as exc:
            if chunk:
                last_line = chunk[-1][1]
            if "field limit" in str(exc):
                raise info.refuse(f"not valid CSV: the cell that starts on line "
                                  f"{last_line + 1} runs on past {FIELD_CHARS:,} characters "
                                  "(a quote left open?)") from None
            raise info.refuse(f"not valid CSV near line {reader.line_num}: {exc}") from None
        finally:
            csv.field_size_limit(limit)
            text.detach()


_LINE_NUM = operator.attrgetter("line_num")
