"""What every reader shares: the error for an unreadable file, what a file says about itself,
the batches grants come in, and the choice of reader by the file's suffix.

A grant's raw facts are a tuple in FACT_KEYS order (the keys of
fields.COLUMN_TITLES), holding the values as the file wrote them, None for those
it has not. read() gives them in batches, a column a fact (see Batch). Nothing is
checked here; check.py does that the same way for every format.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from fundcmp.errors import FundcmpError, one_line
from fundcmp.giving360.fields import COLUMN_TITLES, JSON_NAMES, title_currency

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
Columns = tuple[Sequence[Any], ...]
# Grants a reader gives at once: read, picked into columns and sent on from a reader process
# while they are still in the processor's cache.
CHUNK = 64
BATCH = 1024  # grants checked at once (merged()): enough that a column's test is cheap


class Batch:
    """Grants read together: their facts a column each (FACT_KEYS order), so that the
    checks test a whole column at once and a batch crosses from a reader process without
    a tuple per grant. Grant i was read at prefix + str(places[i]) (places: a CSV's line
    numbers, or each grant's whole location) under the column names `names`.

    Grants read one at a time (JSON, XLSX) come as rows, their facts a tuple each, and are
    turned into columns only when asked: a reader process, whose work is the larger for
    them, sends them as they are."""

    __slots__ = ("_columns", "names", "places", "prefix", "rows")

    def __init__(self, prefix: str, places: Sequence[Any], columns: Columns | None,
                 names: dict[str, str], rows: Sequence[Facts] | None = None) -> None:
        self.prefix = prefix
        self.places = places
        self._columns = columns
        self.names = names
        self.rows = rows

    @property
    def columns(self) -> Columns:
        if self._columns is None:
            assert self.rows is not None
            self._columns = tuple(zip(*self.rows, strict=True)) or ((),) * len(FACT_KEYS)
        return self._columns

    def __len__(self) -> int:
        return len(self.places)

    def __reduce__(self) -> tuple[Any, ...]:
        if self.rows is not None:
            return Batch, (self.prefix, self.places, None, self.names, self.rows)
        return Batch, (self.prefix, self.places, self._columns, self.names)

    def where(self, at: int) -> str:
        return f"{self.prefix}{self.places[at]}"

    def grants(self) -> Iterator[RawGrant]:
        """Each grant as a reader of one grant at a time would give it."""
        facts = self.rows if self.rows is not None else zip(*self.columns, strict=True)
        return zip(map(self.where, range(len(self.places))), facts, strict=True)


def batch_of(prefix: str, places: Sequence[Any], rows: list[Facts],
             names: dict[str, str]) -> Batch:
    """The batch of grants given a grant at a time."""
    return Batch(prefix, places, None, names, rows)


def joined(parts: list[Batch]) -> Batch:
    """Batches of the same column names and prefix, as one."""
    first = parts[0]
    if len(parts) == 1:
        return first
    places = list(itertools.chain.from_iterable(part.places for part in parts))
    if all(part.rows is not None for part in parts):
        return Batch(first.prefix, places, None, first.names, list(
            itertools.chain.from_iterable(part.rows for part in parts)))  # type: ignore[misc]
    return Batch(first.prefix, places, tuple(
        list(itertools.chain.from_iterable(column))
        for column in zip(*(part.columns for part in parts), strict=True)), first.names)


def batched(grants: Iterator[RawGrant], info: FileInfo) -> Iterator[Batch]:
    """A reader's grants, a grant at a time, in batches of up to CHUNK: a batch ends where
    the reader changed its column names (a new header or sheet), so each holds one set,
    and the grants read before an error come before it."""
    wheres: list[str] = []
    rows: list[Facts] = []
    names = info.names
    try:
        for where, facts in grants:
            if info.names is not names or len(rows) >= CHUNK:
                if rows:
                    yield batch_of("", wheres, rows, names)
                    wheres, rows = [], []
                names = info.names
            wheres.append(where)
            rows.append(facts)
    except Exception:
        if rows:
            yield batch_of("", wheres, rows, names)
        raise
    if rows:
        yield batch_of("", wheres, rows, names)


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


def merged(batches: Iterator[Batch],
           join: Callable[[list[Batch]], Batch] = joined) -> Iterator[Batch]:
    """Batches joined in order by `join`, up to BATCH grants of the same column names; those
    before an error come before it."""
    parts: list[Batch] = []
    size = 0
    try:
        for more in batches:
            if parts and (size + len(more) > BATCH or more.names != parts[0].names
                          or more.prefix != parts[0].prefix):
                yield join(parts)
                parts, size = [], 0
            parts.append(more)
            size += len(more)
    except Exception:
        if parts:
            yield join(parts)
        raise
    if parts:
        yield join(parts)


def fact_cells(found: dict[str, int], header: list[Any]) -> Callable[[Any], Facts]:
    """The facts of a row, given it with one None cell added at its end: each fact's cell by
    its column found, that last None for the facts with no column. An amount column whose
    title states its currency ("Amount Awarded (£)") gives each amount that sign, as if
    written before it: the checks then take it, or find it at odds with the Currency."""
    cells = operator.itemgetter(*(found.get(key, -1) for key in FACT_KEYS))
    sign = _title_sign(found, header)
    if not sign:
        return cells

    def signed(row: Any) -> Facts:
        facts: Facts = cells(row)
        return (*facts[:_AMOUNT], _signed(sign, facts[_AMOUNT]), *facts[_AMOUNT + 1:])

    return signed


def fact_columns(found: dict[str, int], header: list[Any]) -> Callable[[Sequence[Any]], Columns]:
    """fact_cells for many rows at once, a column a fact, given rows that each have every
    column found and are all grants (their NOT_A_GRANT fact None)."""
    getters = [operator.itemgetter(found[key]) if key in found else None for key in FACT_KEYS]
    sign = _title_sign(found, header)

    def columns(rows: Sequence[Any]) -> Columns:
        nothing = (None,) * len(rows)
        found_columns = tuple(nothing if get is None else tuple(map(get, rows))
                              for get in getters)
        if not sign:
            return found_columns
        amounts = tuple(map(_signed, itertools.repeat(sign), found_columns[_AMOUNT]))
        return (*found_columns[:_AMOUNT], amounts, *found_columns[_AMOUNT + 1:])

    return columns


def _title_sign(found: dict[str, int], header: list[Any]) -> str:
    return title_currency(header[found["amount"]]) if "amount" in found else ""


def _signed(sign: str, amount: Any) -> Any:
    if amount is None or amount == "" or isinstance(amount, bool) or (
            isinstance(amount, str) and not amount.strip()[:1].isdigit()):
        return amount  # nothing to sign, or a sign or a code of its own
    return f"{sign} {amount}"


_AMOUNT = FACT_KEYS.index("amount")


def column_names(found: dict[str, int], header: list[Any]) -> dict[str, str]:
    """Field names for problems: the title as the file wrote it, else the standard's."""
    return {key: str(header[found[key]]).strip() if key in found else titles[0]
            for key, titles in COLUMN_TITLES.items()}


def first_byte(stream: BinaryIO) -> bytes:
    """The first byte that is not a byte-order mark or white space (b"" if none soon)."""
    return stream.read(HEAD_BYTES).lstrip(b"\xef\xbb\xbf").lstrip()[:1]


def read(path: Path, info: FileInfo, on_bytes: ProgressSink | None) -> Iterator[Batch]:
    """The raw grants of one file, in batches, by the reader its suffix names.

    A file of another suffix is read as JSON only when it starts as JSON does: a
    CSV or anything else would otherwise fail with a JSON reader's complaint.
    """
    suffix = path.suffix.lower()
    if suffix in (".xls", ".ods"):
        raise info.refuse(f"{suffix} spreadsheets are not read; save the sheet as .xlsx "
                          "(or CSV, UTF-8) with the 360Giving column titles")
    if suffix in (".xlsx", ".xlsm"):
        from fundcmp.giving360 import read_xlsx

        return batched(read_xlsx.grants(path, info, on_bytes), info)
    if suffix in (".csv", ".tsv"):
        from fundcmp.giving360 import read_csv

        return read_csv.grants(path, info, on_bytes)
    if suffix != ".json":
        with open_binary(path, info) as stream:
            if first_byte(stream) not in (b"{", b"["):
                raise info.refuse("not a file fundcmp reads: give a 360Giving JSON data "
                                  "package (.json), CSV (.csv, .tsv) or XLSX (.xlsx) file")
    from fundcmp.giving360 import read_json

    return batched(read_json.grants(path, info, on_bytes), info)


def open_binary(path: Path, info: FileInfo) -> Any:
    try:
        return path.open("rb")
    except OSError as exc:
        raise info.refuse(f"cannot read: {exc.strerror}") from None
