"""What every reader shares: the error for an unreadable file, what a file says about itself,
and the choice of reader by the file's suffix.

A reader yields raw grants: (where, facts) pairs, the facts a tuple in FACT_KEYS
order (the keys of fields.COLUMN_TITLES), holding the values as the file wrote
them, None for those it has not. Nothing is checked here; check.py does that the
same way for every format.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from fundcmp.errors import FundcmpError, one_line
from fundcmp.giving360.fields import COLUMN_TITLES, JSON_NAMES

HEAD_BYTES = 65536  # white space a file may start with before its first real byte

ProgressSink = Callable[[int], None]

# The fact a reader gives in place of all others for an item that is no grant object.
NOT_A_GRANT = "not_a_grant"
# A grant's facts in a fixed order, as a tuple: quicker to make, pickle and unpack than a
# dict, once a grant of millions.
FACT_KEYS = ("id", "amount", "currency", "award_date", "funder_id", "funder_name",
             "programme_code", "programme_title", "start", "end", "duration", "recipient_id",
             "recipient_name", "recipient_ind_id", "recipient_ind_name", NOT_A_GRANT)
Facts = tuple[Any, ...]
RawGrant = tuple[str, Facts]


class BadRow(NamedTuple):
    """The NOT_A_GRANT fact of a row whose cells cannot be trusted: why, for the summary
    (kind) and the report (detail)."""

    kind: str
    detail: str


# What a spreadsheet shows in a cell whose formula fails: no value a grant can have.
SPREADSHEET_ERRORS = frozenset({"#VALUE!", "#REF!", "#N/A", "#DIV/0!", "#NAME?", "#NULL!",
                                "#NUM!", "#SPILL!", "#CALC!", "#GETTING_DATA"})


def blank_row(cells: Any) -> bool:
    """Whether a row holds nothing: every cell empty, white space or a spreadsheet error (a
    template's unused rows, formulas showing #VALUE!). Such a row is no grant."""
    return all(cell is None or (type(cell) is str and (not cell.strip()
                                                         or cell in SPREADSHEET_ERRORS))
               for cell in cells)


def header_repeats(count: int, first: list[int], place: str) -> str:
    """The note of a header row met again `count` times, the first few at rows `first` (a
    line of a CSV, `place` "line "; a sheet's row, "Sheet!row ")."""
    times = "once" if count == 1 else f"{count} times"
    rows = ", ".join(map(str, first)) + (", ..." if count > len(first) else "")
    return f"the header row is repeated {times} ({place}{rows}): read as a header, not a grant"


def as_dict(facts: Facts) -> dict[str, Any]:
    """The facts a reader gave, keyed by name (those it did not give left out)."""
    return {key: value for key, value in zip(FACT_KEYS, facts, strict=True)
            if value is not None}

class ImportDataError(FundcmpError):
    """A file that cannot be read as 360Giving data at all (exit status 1)."""


@dataclass
class FileInfo:
    """What one file says about itself, filled in as it is read."""

    name: str
    names: dict[str, str] = field(default_factory=lambda: dict(JSON_NAMES))
    publisher: str = ""
    issued: str = ""
    notes: list[str] = field(default_factory=list)

    def refuse(self, message: str) -> ImportDataError:
        return ImportDataError(f"{one_line(self.name)}: {message}")


def fact_cells(found: dict[str, int]) -> Callable[[Any], Facts]:
    """The facts of a row, given it with one None cell added at its end: each fact's cell by
    its column found, that last None for the facts with no column."""
    return operator.itemgetter(*(found.get(key, -1) for key in FACT_KEYS))


def column_names(found: dict[str, int], header: list[Any]) -> dict[str, str]:
    """Field names for problems: the title as the file wrote it, else the standard's."""
    return {key: str(header[found[key]]).strip() if key in found else titles[0]
            for key, titles in COLUMN_TITLES.items()}


def first_byte(stream: BinaryIO) -> bytes:
    """The first byte that is not a byte-order mark or white space (b"" if none soon)."""
    return stream.read(HEAD_BYTES).lstrip(b"\xef\xbb\xbf").lstrip()[:1]


def read(path: Path, info: FileInfo, on_bytes: ProgressSink | None) -> Iterator[RawGrant]:
    """The raw grants of one file, by the reader its suffix names.

    A file of another suffix is read as JSON only when it starts as JSON does: a
    CSV or anything else would otherwise fail with a JSON reader's complaint.
    """
    suffix = path.suffix.lower()
    if suffix in (".xls", ".ods"):
        raise info.refuse(f"{suffix} spreadsheets are not read; save the sheet as .xlsx "
                          "(or CSV, UTF-8) with the 360Giving column titles")
    if suffix in (".xlsx", ".xlsm"):
        from fundcmp.giving360 import read_xlsx

        return read_xlsx.grants(path, info, on_bytes)
    if suffix in (".csv", ".tsv"):
        from fundcmp.giving360 import read_csv

        return read_csv.grants(path, info, on_bytes)
    if suffix != ".json":
        with open_binary(path, info) as stream:
            if first_byte(stream) not in (b"{", b"["):
                raise info.refuse("not a file fundcmp reads: give a 360Giving JSON data "
                                  "package (.json), CSV (.csv, .tsv) or XLSX (.xlsx) file")
    from fundcmp.giving360 import read_json

    return read_json.grants(path, info, on_bytes)


def open_binary(path: Path, info: FileInfo) -> Any:
    try:
        return path.open("rb")
    except OSError as exc:
        raise info.refuse(f"cannot read: {exc.strerror}") from None
