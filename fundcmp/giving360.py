"""360Giving grants data read and grouped into programme figures.

360Giving publishes one record per grant; a programme exists only as the
`grantProgramme` repeated on each grant. This module streams grants from the
standard's JSON data package (`{"grants": [...]}`) or its CSV column titles,
checks each grant, and groups the good ones by funder, programme and currency.

Memory stays flat however large the file: JSON is decoded one grant at a time,
and grants are kept in a temporary on-disk SQLite table (standard library), so
exact medians and duplicate identifiers need no list of every grant in memory.
Nothing here prints: problems and progress go to callbacks the caller passes.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from fundcmp.arithmetic import months_between
from fundcmp.errors import FundcmpError
from fundcmp.registry import MAX_DURATION_MONTHS, MIN_DURATION_MONTHS

CHUNK_BYTES = 1 << 20
MAX_GRANT_CHARS = 64 << 20
MAX_TOKEN_CHARS = 64 << 10
DAYS_PER_MONTH = 365.25 / 12
PARTIAL_DATE_RE = re.compile(r"^\d{4}(?:-(?:0[1-9]|1[0-2])(?:-\d{2})?)?$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# A number as JSON writes one: no "1_000_000", no "420,000", no other scripts' digits.
PLAIN_NUMBER_RE = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")

# The standard's JSON paths and CSV column titles for each fact fundcmp reads.
JSON_NAMES = {
    "id": "id", "amount": "amountAwarded", "currency": "currency", "award_date": "awardDate",
    "funder_id": "fundingOrganization.id", "funder_name": "fundingOrganization.name",
    "programme_code": "grantProgramme.code", "programme_title": "grantProgramme.title",
    "start": "plannedDates.startDate", "end": "plannedDates.endDate",
    "duration": "plannedDates.duration", "recipient_id": "recipientOrganization.id",
    "recipient_name": "recipientOrganization.name",
}
CSV_TITLES = {
    "id": "Identifier", "amount": "Amount Awarded", "currency": "Currency",
    "award_date": "Award Date", "funder_id": "Funding Org:Identifier",
    "funder_name": "Funding Org:Name", "programme_code": "Grant Programme:Code",
    "programme_title": "Grant Programme:Title", "start": "Planned Dates:Start Date",
    "end": "Planned Dates:End Date", "duration": "Planned Dates:Duration (months)",
    "recipient_id": "Recipient Org:Identifier", "recipient_name": "Recipient Org:Name",
}
CSV_REQUIRED = ("id", "amount", "currency", "award_date", "funder_id")


class ImportDataError(FundcmpError):
    """A file that cannot be read as 360Giving data at all (exit status 1)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One skipped grant: where it is, its identifier, the field and what is wrong."""

    where: str
    grant_id: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: grant {self.grant_id or '(no id)'}: {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    funder_id: str
    funder_name: str
    programme_code: str
    programme_title: str
    currency: str
    amount: float
    award_date: str
    recipient: str
    duration_months: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class Spread:
    """min, median and max over n values (the median as statistics.median gives it)."""

    low: float
    median: float
    high: float
    n: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One programme of one funder in one currency, as observed over its grants."""

    funder_id: str
    funder_name: str
    programme_code: str
    programme_title: str
    currency: str
    grants: int
    recipients: int
    grants_without_recipient: int
    amount: Spread
    total: float
    duration_months: Spread | None
    first_award: str
    last_award: str
    price_year: int
    ungrouped: bool = False
    slug: str = ""


@dataclass
class Summary:
    """What an import read, skipped and grouped; entries carry the figures."""

    files: tuple[str, ...]
    publishers: list[str] = field(default_factory=list)
    issued: str = ""
    grants_read: int = 0
    grants_used: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    without_programme: int = 0
    other_funders: int = 0
    entries: list[Entry] = field(default_factory=list)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


ProblemSink = Callable[[Problem], None]
ProgressSink = Callable[[int], None]


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def _first(value: Any) -> dict[str, Any]:
    """The first object of a 360Giving array field (or the object itself)."""
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def raw_from_json(obj: Any) -> dict[str, Any]:
    """The facts fundcmp reads from one grant object of the JSON package."""
    if not isinstance(obj, dict):
        return {}
    funder, programme = _first(obj.get("fundingOrganization")), _first(obj.get("grantProgramme"))
    planned, recipient = _first(obj.get("plannedDates")), _first(obj.get("recipientOrganization"))
    return {
        "id": _text(obj.get("id")), "amount": obj.get("amountAwarded"),
        "currency": _text(obj.get("currency")), "award_date": _text(obj.get("awardDate")),
        "funder_id": _text(funder.get("id")), "funder_name": _text(funder.get("name")),
        "programme_code": _text(programme.get("code")),
        "programme_title": _text(programme.get("title")),
        "start": _text(planned.get("startDate")), "end": _text(planned.get("endDate")),
        "duration": planned.get("duration"),
        "recipient_id": _text(recipient.get("id")), "recipient_name": _text(recipient.get("name")),
    }


def raw_from_csv(row: dict[str, str | None]) -> dict[str, Any]:
    """The facts fundcmp reads from one CSV row with the standard's column titles."""
    return {key: (row.get(title) or "").strip() for key, title in CSV_TITLES.items()}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and PLAIN_NUMBER_RE.match(value.strip()):
        number = float(value.strip())
    else:
        return None
    return number if math.isfinite(number) else None


def _award_date(text: str) -> str | None:
    """YYYY-MM-DD, or the date part of a date-time; None if neither or the year is absurd."""
    if len(text) < 10 or (len(text) > 10 and text[10] not in "T "):
        return None
    try:
        day = date.fromisoformat(text[:10])
        if len(text) > 10:
            datetime.fromisoformat(text)  # a time of day must be one: no 25:99
    except ValueError:
        return None
    return day.isoformat() if 1800 <= day.year <= 2200 else None


def _partial_date(text: str) -> str | None:
    """YYYY, YYYY-MM or YYYY-MM-DD (a date-time keeps its date); None if none of these."""
    if len(text) > 10:
        return _award_date(text)
    if not PARTIAL_DATE_RE.match(text):
        return None
    if len(text) == 10:
        return _award_date(text)
    return text


def duration_between(start: str, end: str) -> tuple[float, float] | None:
    """Months from a start to an end date: a point for full dates, a range for partial ones.

    Full dates count both days (1 Jan to 31 Dec is 12 months); a YYYY or YYYY-MM
    date could be any day in its year or month, so the result spans every case.
    None when the end is before the start.
    """
    if len(start) == 10 and len(end) == 10:
        days = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
        if days <= 0:
            return None
        months = round(days / DAYS_PER_MONTH, 1)
        return months, months
    shortest, longest = months_between(start[:7], end[:7])
    return (float(shortest), float(longest)) if longest > 0 else None


def check(raw: dict[str, Any], names: dict[str, str], where: str) -> Grant | Problem:
    """A grant fundcmp can count, or the first problem that makes it unusable."""
    grant_id = _text(raw.get("id"))

    def problem(key: str, message: str) -> Problem:
        return Problem(where, grant_id, names[key], message)

    if not grant_id:
        return problem("id", "missing identifier")
    amount = _number(raw.get("amount"))
    if amount is None:
        shown = raw.get("amount")
        return problem("amount", "missing" if shown in (None, "") else
                       f"not a number ({shown!r})")
    if amount < 0:
        return problem("amount", f"negative ({amount:g}); a returned grant is not an award")
    currency = raw.get("currency") or ""
    if not currency:
        return problem("currency", "missing")
    if not CURRENCY_RE.match(currency):
        return problem("currency", f"not an ISO 4217 code ({currency!r})")
    award = _award_date(raw.get("award_date") or "")
    if award is None:
        shown = raw.get("award_date")
        return problem("award_date", "missing" if not shown else
                       f"not a date YYYY-MM-DD ({shown!r})")
    if not raw.get("funder_id"):
        return problem("funder_id", "missing")
    start_text, end_text = raw.get("start") or "", raw.get("end") or ""
    start = _partial_date(start_text) if start_text else ""
    end = _partial_date(end_text) if end_text else ""
    if start is None:
        return problem("start", f"not a date YYYY, YYYY-MM or YYYY-MM-DD ({start_text!r})")
    if end is None:
        return problem("end", f"not a date YYYY, YYYY-MM or YYYY-MM-DD ({end_text!r})")
    duration: tuple[float, float] | None = None
    stated = raw.get("duration")
    if stated not in (None, ""):
        months = _number(stated)
        if months is None or months < 0:
            return problem("duration", f"not a number of months ({stated!r})")
        duration = (months, months)
    elif start and end:
        duration = duration_between(start, end)
        if duration is None:
            return problem("end", f"{end} is before the start date {start}")
    if duration is not None and any(0 < months < MIN_DURATION_MONTHS
                                    or months > MAX_DURATION_MONTHS for months in duration):
        key = "duration" if stated not in (None, "") else "end"
        return problem(key, f"{duration[1]:.6g} months is not a duration between one day and "
                       "100 years")
    return Grant(
        id=grant_id, funder_id=raw["funder_id"], funder_name=raw.get("funder_name") or "",
        programme_code=raw.get("programme_code") or "",
        programme_title=raw.get("programme_title") or "", currency=currency, amount=amount,
        award_date=award, recipient=raw.get("recipient_id") or raw.get("recipient_name") or "",
        duration_months=duration)


class _JsonGrants:
    """Grant objects of a JSON data package, decoded one at a time from chunks.

    Other top-level members (publisher, issued, ...) are small and kept in `meta`.
    """

    def __init__(self, stream: BinaryIO, name: str, on_bytes: ProgressSink | None) -> None:
        self.stream = stream
        self.name = name
        self.on_bytes = on_bytes
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.json = json.JSONDecoder()
        self.buf = ""
        self.pos = 0
        self.consumed = 0
        self.read_bytes = 0
        self.eof = False
        self.meta: dict[str, Any] = {}

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK_BYTES)
        self.read_bytes += len(chunk)
        if self.on_bytes is not None:
            self.on_bytes(self.read_bytes)
        try:
            text = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise ImportDataError(f"{self.name}: not UTF-8 text near byte "
                                  f"{self.read_bytes - len(chunk)}") from None
        self.consumed += self.pos
        self.buf = self.buf[self.pos:] + text
        self.pos = 0
        self.eof = not chunk
        return True

    def _fail(self, message: str) -> ImportDataError:
        return ImportDataError(f"{self.name}: not a 360Giving JSON data package: {message} "
                               f"(character {self.consumed + self.pos + 1})")

    def _skip_space(self) -> str:
        """The next non-space character, without consuming it ('' at the end)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def _expect(self, chars: str, what: str) -> str:
        found = self._skip_space()
        if not found or found not in chars:
            raise self._fail(f"expected {what}, found {found or 'the end of the file'!r}")
        self.pos += 1
        return found

    def _value(self) -> Any:
        """One complete JSON value at the current position, reading more as needed."""
        self._skip_space()
        while True:
            try:
                value, end = self.json.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._broken(exc) or not self._more():
                    self.pos = max(self.pos, exc.pos)
                    raise self._fail(exc.msg) from None
                continue
            except RecursionError:  # a hostile file nested thousands deep; no grant is
                raise self._fail("nested too deeply to be a grant") from None
            except ValueError:  # int() refuses a number of more than 4,300 digits
                raise self._fail("a number too long to read") from None
            if end < len(self.buf) or self.eof:
                self.pos = end
                return value
            if not self._more():
                self.pos = end
                return value

    def _broken(self, exc: json.JSONDecodeError) -> bool:
        """True when more text cannot mend the error: it is not at the end of what was read.

        An unterminated string is reported where it starts, so it is given up to
        MAX_GRANT_CHARS to end; any other error must lie in the last token read.
        """
        if exc.msg.startswith("Unterminated string"):
            return len(self.buf) - self.pos > MAX_GRANT_CHARS
        return len(self.buf) - exc.pos > MAX_TOKEN_CHARS

    def __iter__(self) -> Iterator[Any]:
        self._expect("{", "an object {\"grants\": [...]}")
        found_grants = False
        if self._skip_space() == "}":
            self.pos += 1
        else:
            while True:
                key = self._value()
                if not isinstance(key, str):
                    raise self._fail("expected a member name")
                self._expect(":", "':'")
                if key == "grants":
                    found_grants = True
                    yield from self._grants()
                else:
                    self.meta[key] = self._value()
                if self._expect(",}", "',' or '}'") == "}":
                    break
        if self._skip_space():
            raise self._fail("text after the data package")
        if not found_grants:
            raise self._fail("no \"grants\" list")

    def _grants(self) -> Iterator[Any]:
        self._expect("[", "a list of grants")
        if self._skip_space() == "]":
            self.pos += 1
            return
        while True:
            yield self._value()
            if self._expect(",]", "',' or ']'") == "]":
                return


def _publisher(meta: dict[str, Any]) -> str:
    publisher = meta.get("publisher")
    return _text(publisher.get("name")) if isinstance(publisher, dict) else ""


def _read_file(path: Path, on_bytes: ProgressSink | None,
               summary: Summary) -> Iterator[tuple[str, dict[str, Any], dict[str, str]]]:
    """(where, raw facts, field names) for every grant in one file."""
    name = str(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls", ".ods"):
        raise ImportDataError(f"{name}: spreadsheets are not read; save the sheet as CSV "
                              "(UTF-8) with the 360Giving column titles")
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise ImportDataError(f"{name}: cannot read: {exc.strerror}") from None
    with stream:
        if suffix == ".csv":
            yield from _csv_grants(stream, name, on_bytes)
            return
        grants = _JsonGrants(stream, name, on_bytes)
        for index, obj in enumerate(grants):
            yield f"{name}: grants[{index}]", raw_from_json(obj), JSON_NAMES
        publisher = _publisher(grants.meta)
        if publisher and publisher not in summary.publishers:
            summary.publishers.append(publisher)
        issued = _partial_date(_text(grants.meta.get("modified") or grants.meta.get("issued")))
        if issued and issued > summary.issued:
            summary.issued = issued


def _csv_grants(stream: BinaryIO, name: str,
                on_bytes: ProgressSink | None) -> Iterator[tuple[str, dict[str, Any],
                                                             dict[str, str]]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        reader = csv.DictReader(text)
        columns = set(reader.fieldnames or ())
        missing = [CSV_TITLES[k] for k in CSV_REQUIRED if CSV_TITLES[k] not in columns]
        if missing:
            raise ImportDataError(f"{name}: not 360Giving CSV: no column "
                                  + ", ".join(repr(m) for m in missing))
        for row in reader:
            if on_bytes is not None and reader.line_num % 1000 == 0:
                on_bytes(stream.tell())
            yield f"{name}:{reader.line_num}", raw_from_csv(row), CSV_TITLES
        if on_bytes is not None:
            on_bytes(stream.tell())
    except UnicodeDecodeError:
        raise ImportDataError(f"{name}: not UTF-8 text; save the CSV as UTF-8") from None
    except csv.Error as exc:
        raise ImportDataError(f"{name}: not valid CSV: {exc}") from None
    finally:
        text.detach()


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens, as registry slugs are."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text.lower()))


class _Store:
    """Good grants in a temporary on-disk SQLite table: flat memory, exact medians."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")
        self.db.execute("PRAGMA cache_size = -4000")
        self.db.execute("PRAGMA temp_store = FILE")
        self.db.execute("CREATE TABLE grant_row (id TEXT PRIMARY KEY, grp INTEGER, "
                        "amount REAL, recipient TEXT, award TEXT, dur_low REAL, "
                        "dur_mid REAL, dur_high REAL)")
        self.groups: dict[tuple[str, str, str], int] = {}
        self.info: list[Grant] = []
        self.pending: list[tuple[Any, ...]] = []

    def add(self, grant: Grant, programme: str | None) -> bool:
        """Store a grant under its group (none: only its identifier is kept).

        False when the identifier was already seen: a duplicate, not stored.
        """
        key = (grant.funder_id, programme or "", grant.currency)
        group = None if programme is None else self.groups.get(key, len(self.info))
        d = grant.duration_months
        try:
            self.db.execute("INSERT INTO grant_row VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
                grant.id, group, grant.amount, grant.recipient, grant.award_date,
                d[0] if d else None, (d[0] + d[1]) / 2 if d else None, d[1] if d else None))
        except sqlite3.IntegrityError:
            return False
        if group is not None and key not in self.groups:
            self.groups[key] = group
            self.info.append(grant)
        return True

    def _median(self, column: str, group: int, n: int) -> float:
        rows = self.db.execute(
            f"SELECT {column} FROM grant_row WHERE grp = ? AND {column} IS NOT NULL "
            f"ORDER BY {column} LIMIT 2 OFFSET ?", (group, (n - 1) // 2)).fetchall()
        return float(rows[0][0]) if n % 2 else (rows[0][0] + rows[1][0]) / 2

    def entries(self, programmes: dict[int, str]) -> list[Entry]:
        self.db.execute("CREATE INDEX by_amount ON grant_row (grp, amount)")
        self.db.execute("CREATE INDEX by_duration ON grant_row (grp, dur_mid)")
        result = []
        for (funder_id, programme, currency), group in self.groups.items():
            first = self.info[group]
            n, low, high, first_award, last_award, recipients, nameless, durations, \
                dur_low, dur_high = self.db.execute(
                    "SELECT COUNT(*), MIN(amount), MAX(amount), MIN(award), MAX(award), "
                    "COUNT(DISTINCT NULLIF(recipient, '')), SUM(recipient = ''), "
                    "COUNT(dur_mid), MIN(dur_low), MAX(dur_high) FROM grant_row WHERE grp = ?",
                    (group,)).fetchone()
            if n == 0:
                continue
            total = math.fsum(row[0] for row in self.db.execute(
                "SELECT amount FROM grant_row WHERE grp = ?", (group,)))
            years = self.db.execute(
                "SELECT CAST(substr(award, 1, 4) AS INTEGER) AS y FROM grant_row WHERE grp = ? "
                "ORDER BY y LIMIT 1 OFFSET ?", (group, (n - 1) // 2)).fetchone()
            result.append(Entry(
                funder_id=funder_id, funder_name=first.funder_name or funder_id,
                programme_code=first.programme_code if programme else "",
                programme_title=programmes.get(group, ""), currency=currency,
                grants=n, recipients=recipients, grants_without_recipient=nameless or 0,
                amount=Spread(low, self._median("amount", group, n), high, n), total=total,
                duration_months=Spread(dur_low, self._median("dur_mid", group, durations),
                                       dur_high, durations) if durations else None,
                first_award=first_award, last_award=last_award, price_year=years[0],
                ungrouped=not programme))
        return sorted(result, key=lambda e: (e.funder_name, e.programme_title, e.currency))


def _programme_key(grant: Grant) -> str:
    return grant.programme_code or grant.programme_title


def collect(paths: Sequence[Path], funder: str | None = None,
            ungrouped_as_programme: bool = False, on_problem: ProblemSink | None = None,
            on_bytes: ProgressSink | None = None) -> Summary:
    """Read every file, check every grant, and group the good ones into entries.

    A grant is skipped (and passed to on_problem) for a missing or non-numeric
    amount, a missing currency, an unparseable date or an identifier already
    seen; the first grant with an identifier is kept. on_bytes hears the bytes
    read so far across all files.
    """
    summary = Summary(tuple(str(p) for p in paths))
    store = _Store()
    titles: dict[int, str] = {}
    done_bytes = 0
    for path in paths:
        file_progress = None if on_bytes is None else \
            (lambda n, base=done_bytes: on_bytes(base + n))
        for where, raw, names in _read_file(path, file_progress, summary):
            summary.grants_read += 1
            if funder is not None and raw.get("funder_id") != funder:
                summary.other_funders += 1
                continue
            grant = check(raw, names, where)
            if isinstance(grant, Problem):
                summary.skipped[grant.field] += 1
                if on_problem is not None:
                    on_problem(grant)
                continue
            programme = _programme_key(grant)
            grouped = bool(programme) or ungrouped_as_programme
            if not store.add(grant, programme if grouped else None):
                bad = Problem(where, grant.id, names["id"], "duplicate identifier (the first "
                              "grant with it is kept)")
                summary.skipped[f"{bad.field} (duplicate)"] += 1
                if on_problem is not None:
                    on_problem(bad)
                continue
            if not programme:
                summary.without_programme += 1
            if grouped:
                summary.grants_used += 1
                group = store.groups[(grant.funder_id, programme, grant.currency)]
                titles.setdefault(group, grant.programme_title or grant.programme_code)
        if on_bytes is not None:
            done_bytes += path.stat().st_size
    summary.entries = _with_slugs(store.entries(titles))
    store.db.close()
    if not summary.publishers:
        summary.publishers = sorted({e.funder_name for e in summary.entries})
    return summary


def entry_name(entry: Entry) -> str:
    """The programme title; grants without one are named for their funder."""
    name = entry.programme_title or f"{entry.funder_name}: grants without a programme"
    return name if entry.currency == "GBP" else f"{name} ({entry.currency})"


def _with_slugs(entries: list[Entry]) -> list[Entry]:
    """Slugs from programme title and funder id; the code or currency added to tell apart."""
    def base(e: Entry) -> str:
        title = slugify(e.programme_title) or slugify(e.programme_code) or "no-programme"
        return f"{title}-{slugify(e.funder_id) or 'funder'}"

    counts = Counter((base(e), e.currency) for e in entries)
    result, used = [], set()
    for e in entries:
        slug = base(e)
        if counts[(slug, e.currency)] > 1 and e.programme_code:
            slug = f"{slug}-{slugify(e.programme_code)}"
        if e.currency != "GBP":
            slug = f"{slug}-{e.currency.lower()}"
        candidate, number = slug, 2
        while candidate in used:
            candidate, number = f"{slug}-{number}", number + 1
        used.add(candidate)
        result.append(replace(e, slug=candidate))
    return result


def file_date(paths: Sequence[Path], issued: str) -> str:
    """The source's date: the package's modified or issued date, else the newest file's."""
    if issued:
        return issued
    newest = max(p.stat().st_mtime for p in paths)
    return datetime.fromtimestamp(newest, UTC).date().isoformat()
