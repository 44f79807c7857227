"""An indexed store of each validated registry, so a run reads only what it prints.

Parsing and validating a large registry is the slow part of a run. The first
run on a registry file stores it in an SQLite database (Python's standard
library) in the user cache directory ($XDG_CACHE_HOME/fundcmp, else
~/.cache/fundcmp), named by the SHA-256 of the file's bytes and of fundcmp's
own code, so any change to either misses. A row per programme holds the plain
values it was read from plus, for every rank key, the figure's unit and its
low/mid/high, computed once by fundcmp.arithmetic (never by SQL), and the
cells and notes a ranking prints. So a ranking is an ordered query, `compare
A B` reads two rows by slug, and only the programmes printed become objects.

Nothing in the store is believed blindly:
- it is used only in a directory owned by the user and writable by no one
  else, from a file owned by the user and writable by no one else (as ssh
  treats its keys); otherwise it is neither read nor written;
- every programme revived goes through the registry's own validator, with the
  same checks as a parse, and its stored rank figures must equal what
  arithmetic computes from it; text printed straight from the store (names,
  cells, notes, warnings) is checked for control characters;
- an entry that fails any of this, or that SQLite cannot read, is deleted
  and rebuilt from the registry file, never believed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fundcmp.arithmetic import (
    MEASURES,
    counted_unit,
    most_common_unit,
    rank_order,
    standing_of,
    value_programme,
)
from fundcmp.cache_dir import MIN_BYTES, directory, remove_abandoned, trusted_directory
from fundcmp.cache_dir import enabled as enabled
from fundcmp.cache_dir import mine as _mine
from fundcmp.display import bound_cell, raw, raw_of_cells
from fundcmp.errors import RegistryError
from fundcmp.model import Programme, Quantity, Source

if TYPE_CHECKING:
    from fundcmp.registry import Record, Registry

FORMAT = 3
KEEP_ENTRIES = 8
SUFFIX = ".sqlite"
BASES = ("low", "mid", "high")
COLUMN = {key: key.replace("-", "_") for key in MEASURES}
_FIGURE = ("kind", "unit", "low", "mid", "high")
T = TypeVar("T")
# A programme to revive: its row, its record, and its stored figures on every key.
_FULL = ("SELECT programmes.*, records.record, "
         + ", ".join(f"{c}.{part} AS {c}_{part}" for c in COLUMN.values() for part in _FIGURE)
         + " FROM programmes JOIN records USING (position)"
         + "".join(f" JOIN by_{c} AS {c} USING (position)" for c in COLUMN.values()))


class Stale(Exception):
    """An entry that cannot be believed: it is deleted and rebuilt."""


def key(content: bytes) -> str | None:
    """SHA-256 of the registry's bytes and of fundcmp's own code; None if the code is unreadable."""
    return _keyed(hashlib.sha256(content).hexdigest())


def _keyed(content_sha256: str) -> str | None:
    """All of the package's modules count, not just the loader's, so a new validation rule
    anywhere can never be skipped by an entry made before it."""
    digest = hashlib.sha256(content_sha256.encode("ascii"))
    try:
        for module in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(b"\0" + module.read_bytes())
    except OSError:
        return None
    return digest.hexdigest()


MEMO_SUFFIX = ".stat"
KEEP_MEMOS = 64
RACY_NS = 2_000_000_000  # a file changed this close to its hashing may change unseen again


def file_key(path: Path | str) -> str | None:
    """The key of a regular file's bytes; None for anything else.

    Hashing a 100 MB registry takes a third of a second, so, as git's index
    does, the SHA-256 is remembered with the file's device, inode, size,
    modification and change times, and reused while all five are unchanged
    (a change time cannot be set back without root). A file modified within
    RACY_NS of being hashed is hashed again next time.
    """
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return None
            fingerprint = [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns,
                           info.st_ctime_ns]
            where = hashlib.sha256(os.fsencode(os.path.abspath(path))).hexdigest()
            folder = directory()
            if folder is None:
                return None
            memo = folder / f"{where}{MEMO_SUFFIX}"
            known = _read_memo(memo)
            if known is not None and known[0] == fingerprint:
                return _keyed(known[1])
            content = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None
    if time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) > RACY_NS:
        _write_memo(memo, fingerprint, content)
    return _keyed(content)


def _read_memo(memo: Path) -> tuple[list[int], str] | None:
    """A remembered (fingerprint, SHA-256), only from a private file in a private directory."""
    try:
        fd = os.open(memo, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        if not _mine(os.fstat(fd)) or not trusted_directory(memo.parent, create=False):
            return None
        value = json.loads(os.read(fd, 4096))
        fingerprint, content = value["stat"], value["sha256"]
        if not (isinstance(fingerprint, list) and all(type(n) is int for n in fingerprint)
                and isinstance(content, str) and len(content) == 64):
            return None
        return fingerprint, content
    except (OSError, ValueError, KeyError, TypeError):
        return None
    finally:
        os.close(fd)


def _write_memo(memo: Path, fingerprint: list[int], content: str) -> None:
    if not trusted_directory(memo.parent, create=True):
        return
    from fundcmp.atomic import write_bytes

    with contextlib.suppress(OSError):
        write_bytes(memo, json.dumps({"stat": fingerprint, "sha256": content}).encode())
        os.chmod(memo, 0o600)


def open_or_build(path: Path | str, records: Callable[[], Iterable[Record]],
                  content: bytes | None = None, parallel: bool = False) -> Store | None:
    """The store for this registry file (whose bytes are `content`, if already read): opened
    if cached, else built from its records (or, if `parallel`, by worker processes reading
    the file when that pays: fundcmp.parallel_index).

    None when the cache cannot be used (untrusted or unwritable directory, a
    file that is not regular): the caller then reads the file itself.
    """
    folder = directory()
    cache_key = file_key(path) if content is None else key(content)
    if cache_key is None or folder is None or not trusted_directory(folder, create=True):
        return None
    entry = folder / f"{cache_key}{SUFFIX}"
    store = Store(entry, cache_key, str(path), records, parallel)
    try:
        store.connect()
    except Stale:
        with contextlib.suppress(OSError):
            entry.unlink(missing_ok=True)
        if not store.build():
            return None
    return store


class Linked(Exception):
    """A programme links to an imported entry (published_as, however the key was spelt): the
    links are resolved and checked across the registry on load, which the index does not do."""


class Store:
    """One registry's entry: queries answer from its rows, revival validates what it returns."""

    def __init__(self, entry: Path, cache_key: str, path: str,
                 records: Callable[[], Iterable[Record]], parallel: bool = False) -> None:
        self.entry = entry
        self.key = cache_key
        self.path = path
        self._records = records
        self._parallel = parallel
        self._db: sqlite3.Connection | None = None
        self.units: dict[str, str | None] = {}

    # Opening and building

    def connect(self) -> None:
        """Open the entry read-only and check it is ours and whole; Stale if not."""
        try:
            fd = os.open(self.entry, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            raise Stale from None
        try:
            if not _mine(os.fstat(fd)):
                raise Stale
            db = sqlite3.connect(f"file:/dev/fd/{fd}?mode=ro&immutable=1", uri=True)
            # a ranking's sort (about 12 MB at 100,000 programmes) is kept in memory: spilt to
            # a temporary file, as by default, its writes and reads cost as much as the sort
            db.execute("PRAGMA temp_store = MEMORY")
            meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
            if meta.get("format") != str(FORMAT) or meta.get("key") != self.key:
                db.close()
                raise Stale
            units = json.loads(meta["units"])
            if set(units) != set(COLUMN.values()) or not all(u is None or isinstance(u, str)
                                                    for u in units.values()):
                db.close()
                raise Stale
        except (sqlite3.Error, ValueError, KeyError, TypeError):
            raise Stale from None
        finally:
            os.close(fd)
        self.units = units
        self._db = db

    def build(self) -> bool:
        """Validate every record of the registry into a new entry; False if it cannot be written.

        A registry that fails validation raises its RegistryError, leaving no entry.
        """
        import tempfile

        folder = self.entry.parent
        try:
            fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{self.entry.name}.",
                                        suffix=".tmp")
            os.close(fd)
        except OSError:
            return False
        try:
            if not (self._parallel and _written_in_parallel(self.path, Path(temp), self.key)):
                _write(Path(temp), self.key, self._records())
            os.replace(temp, self.entry)
        except (OSError, sqlite3.Error, OverflowError, Linked):
            # OverflowError: a figure too extreme to format (a duration of 1e-300 months);
            # the caller then loads the registry without an index, as before there was one
            with contextlib.suppress(OSError):
                os.unlink(temp)
            return False
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        _prune(folder)
        try:
            self.connect()
        except Stale:
            return False
        return True

    def close(self) -> None:
        """Let the entry go: a process that runs many commands keeps no file open."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def _retry(self, query: Callable[[], T]) -> T:
        """Answer from the entry; if it cannot be believed, rebuild it once and answer again."""
        try:
            return query()
        except (Stale, TypeError, ValueError, KeyError, IndexError):
            pass  # what a damaged or forged entry can raise
        self.close()
        with contextlib.suppress(OSError):
            self.entry.unlink(missing_ok=True)
        if not self.build():
            raise RegistryError(self.path, None, "the cache entry could not be rebuilt; run "
                                "with --no-cache")
        return query()

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        assert self._db is not None
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error:
            raise Stale from None

    # Queries

    def count(self) -> int:
        return int(self._retry(lambda: self._rows("SELECT COUNT(*) FROM programmes"))[0][0])

    def names(self) -> list[tuple[str, str]]:
        """Each programme's slug and name (whitespace collapsed), checked printable."""
        def query() -> list[tuple[str, str]]:
            found = [(str(s), str(n)) for s, n in self._rows(
                "SELECT slug, name_cell FROM programmes ORDER BY position")]
            _printable(text for pair in found for text in pair)
            return found

        return self._retry(query)

    def slugs(self) -> list[str]:
        return self._retry(lambda: [s for (s,) in self._rows(
            "SELECT slug FROM programmes ORDER BY position")])

    def lines(self) -> list[tuple[str, int]]:
        """Each programme's slug and the line it starts on."""
        return self._retry(lambda: [(str(s), int(n)) for s, n in self._rows(
            "SELECT slug, line FROM programmes ORDER BY position")])

    def source_lines(self) -> list[tuple[str, int]]:
        """Each source's id and the line it starts on."""
        return self._retry(lambda: [(str(s), int(n)) for s, n in self._rows(
            "SELECT id, line FROM sources ORDER BY position")])

    def findings(self) -> list[str]:
        """The warning lines of facts that disagree, found when the entry was built."""
        def query() -> list[str]:
            found = [line for (text,) in self._rows(
                "SELECT findings FROM programmes WHERE findings IS NOT NULL ORDER BY position")
                for line in _strings(text)]
            _printable(found)
            return found

        return self._retry(query)

    def registry(self) -> Registry:
        """Every programme and source, revived and validated."""
        from fundcmp.registry import Registry

        def query() -> Registry:
            sources = self._sources(self._rows(
                "SELECT position, id, line, record FROM sources ORDER BY position"))
            programmes = self._revive(self._named(f"{_FULL} ORDER BY position"), sources)
            return Registry(self.path, tuple(programmes), tuple(sources.values()))

        return self._retry(query)

    def by_slugs(self, slugs: Sequence[str]) -> dict[str, Programme]:
        """The programmes with these slugs (those the registry holds), revived and checked."""
        def query() -> dict[str, Programme]:
            marks = ",".join("?" * len(slugs))
            rows = self._named(f"{_FULL} WHERE slug IN ({marks})", slugs)
            return {p.slug: p for p in self._revive(rows)}

        return {} if not slugs else self._retry(query)

    def first(self, limit: int) -> list[Programme]:
        """The first programmes in registry order."""
        return self._retry(lambda: self._revive(self._named(
            f"{_FULL} WHERE position < ? ORDER BY position", (limit,))))

    def ranked(self, keys: Sequence[str], basis: str, reverse: bool,
               limit: int | None) -> list[Programme]:
        """The programmes in rank order (arithmetic.rank_order's), revived and checked."""
        def query() -> list[Programme]:
            positions = [row[0] for row in self._ordered(keys, basis, reverse, limit, "")]
            rows = {row["position"]: row for row in self._named(
                f"{_FULL} WHERE position IN ({','.join('?' * len(positions))})", positions)}
            return self._revive([rows[p] for p in positions])

        return self._retry(query)

    def rank_cells(self, keys: Sequence[str], basis: str, reverse: bool,
                   limit: int | None) -> list[str]:
        """rank's default fields (views.rank_fields), each row as tab-separated machine cells,
        read without reviving any programme."""
        from fundcmp.registry import UNSAFE_CHAR_RE
        from fundcmp.views import joined_notes, other_unit_note

        units = [self.units[COLUMN[k]] for k in keys]

        def query() -> list[str]:
            if len(keys) == 1:
                (common,) = units
                # one table, ordered by SQLite (_RANK_SQL); each line put together from the
                # stored cells: slug, name, the figure, its value on the basis and that
                # basis's note (else the mid's); a figure in another unit than the common
                # one comes with that unit, as its stored note assumed the common unit
                rows = self._rows(
                    "SELECT p.slug || char(9) || p.name_cell || char(9) || k.cell || char(9) "
                    f"|| k.cell_{basis} || char(9) || coalesce(nullif(k.note_{basis}, ''), "
                    "k.note_mid), CASE WHEN k.unit IS NOT :unit AND k.kind != 'unknown' "
                    f"THEN k.unit END FROM by_{COLUMN[keys[0]]} AS k JOIN programmes AS p "
                    f"USING (position) {_rank_sql(basis, reverse)} LIMIT :limit",
                    {"unit": common, "limit": limit or -1})
                lines = [line if other is None else
                         line.rsplit("\t", 1)[0] + "\t" + other_unit_note(other, common)
                         for line, other in rows]
            else:
                picked = ", name_cell, " + ", ".join(
                    f"k{i}.kind, k{i}.cell, k{i}.cell_{basis}, "
                    f"coalesce(k{i}.note_{basis}, k{i}.note_mid)" for i in range(len(keys)))
                first = 3 + 2 * len(keys)  # after position, slug, units and values, name_cell
                lines = []
                for row in self._ordered(keys, basis, reverse, limit, picked):
                    cells, notes = [row[1], row[first - 1]], []
                    for i, common in enumerate(units):
                        kind, cell, value, stored = row[first + 4 * i: first + 4 * i + 4]
                        cells += [cell, value]
                        notes.append(other_unit_note(row[2 + 2 * i], common)
                                     if row[2 + 2 * i] != common and kind != "unknown"
                                     else stored)
                    lines.append("\t".join([*cells, joined_notes(keys, notes)]))
            if UNSAFE_CHAR_RE.search("\t".join(lines)):
                raise Stale
            return lines

        return self._retry(query)

    def _ordered(self, keys: Sequence[str], basis: str, reverse: bool, limit: int | None,
                 picked: str) -> list[Any]:
        """Rows (position, slug, each key's unit and value on the basis, then the `picked`
        columns; key i's table is k{i}) in rank order. The stored values are sorted by
        arithmetic.rank_order itself, so the order is rank_by's by construction."""
        tables = "programmes" + "".join(f" JOIN by_{COLUMN[k]} AS k{i} USING (position)"
                                        for i, k in enumerate(keys))
        figures = "".join(f", k{i}.unit, (CASE WHEN k{i}.kind = 'unknown' THEN NULL ELSE "
                          f"json_array(k{i}.low, k{i}.mid, k{i}.high) END)"
                          for i in range(len(keys)))
        rows = self._rows(f"SELECT position, slug{figures}{picked} FROM {tables} "
                          "ORDER BY position")  # registry order: rank_order's tie-break
        units = [self.units[COLUMN[k]] for k in keys]
        spots = range(len(keys))
        def value(unit: str, bounds: str | None, common: str | None) -> float | None:
            if unit != common or bounds is None:
                return None
            low, mid, high = json.loads(bounds)
            return standing_of(low, mid, high, basis)

        values = [[value(row[2 + 2 * i], row[3 + 2 * i], units[i]) for i in spots]
                  for row in rows]
        order = rank_order(values, [row[1] for row in rows], reverse)
        return [rows[i] for i in (order[:limit] if limit else order)]

    # Revival: the same checks as a parse

    def _sources(self, rows: Sequence[Any]) -> dict[str, Source]:
        from fundcmp.registry import source
        from fundcmp.registry_jsonl import decode, within_depth

        found: dict[str, Source] = {}
        try:
            for _, sid, line, record in rows:
                value = source(within_depth(decode(record, self.path, line), self.path, line),
                               self.path, line)
                if value.id != sid:
                    raise Stale
                found[sid] = value
        except (RegistryError, TypeError, ValueError):
            raise Stale from None
        return found

    def _programme(self, line: int, record: str, sources: dict[str, Source],
                   order: dict[str, int]) -> Programme:
        from fundcmp.registry import validate_programme
        from fundcmp.registry_jsonl import decode, within_depth

        try:
            item = within_depth(decode(record, self.path, line), self.path, line)
            return validate_programme(item, sources, self.path, line, order)
        except (RegistryError, TypeError, ValueError, KeyError):
            raise Stale from None

    def _named(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        assert self._db is not None
        try:
            cursor = self._db.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except sqlite3.Error:
            raise Stale from None

    def _revive(self, rows: Sequence[dict[str, Any]],
                sources: dict[str, Source] | None = None) -> list[Programme]:
        """Programmes from rows, validated, each row's stored figures checked against them."""
        if sources is None:
            cited = sorted({sid for row in rows for sid in _strings(row["cites"])})
            marks = ",".join("?" * len(cited))
            sources = self._sources(self._rows(
                f"SELECT position, id, line, record FROM sources WHERE id IN ({marks}) "
                "ORDER BY position", cited))
        order = {sid: i for i, sid in enumerate(sources)}
        revived = []
        stored = [f"{c}_{part}" for c in COLUMN.values() for part in _FIGURE]
        for row in rows:
            p = self._programme(row["line"], row["record"], sources, order)
            if p.slug != row["slug"] or _figures(p, tuple(MEASURES)) != [row[k] for k in stored]:
                raise Stale  # the figures a ranking was ordered by must be arithmetic's
            revived.append(p)
        return revived


# arithmetic.standing_of on a figure table's stored bounds (k), basis by basis
_STANDING = {"low": "k.low", "high": "coalesce(k.high, k.low)",
             "mid": "CASE WHEN k.mid IS NOT NULL THEN k.mid WHEN k.high IS NULL THEN k.low END"}


def _rank_sql(basis: str, reverse: bool) -> str:
    """arithmetic.rank_order's order of one key, as an ORDER BY over a figure table (k) joined
    to the programmes (p), given the common unit as :unit: SQLite sorts in C what rank_order
    sorts in Python, and only the rows shown reach Python. A property test holds the two
    orders equal."""
    value = _STANDING[basis]
    known = f"k.unit IS :unit AND k.kind != 'unknown' AND {value} IS NOT NULL"
    return (f"ORDER BY CASE WHEN {known} THEN 0 ELSE 1 END, CASE WHEN {known} THEN {value} END "
            f"{'ASC' if reverse else 'DESC'}, CASE WHEN {known} THEN p.slug END, k.position")


def _written_in_parallel(path: str, target: Path, cache_key: str) -> bool:
    """Whether worker processes wrote the entry; if not, `target` is left empty for the
    serial build, which then reports any error in the registry as it always has."""
    from fundcmp import parallel_index

    return parallel_index.write(path, target, cache_key)


def _strings(text: str) -> list[str]:
    """A stored JSON list of text; Stale if it is anything else."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        raise Stale from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Stale
    return value


def _printable(cells: Iterable[str]) -> None:
    """Text read straight from the store must pass the parse's control-character check."""
    from fundcmp.registry import UNSAFE_CHAR_RE

    for cell in cells:
        if not isinstance(cell, str) or (not cell.isprintable()
                                         and UNSAFE_CHAR_RE.search(cell)):
            raise Stale


def _shown(p: Programme) -> Programme:
    """The programme as every command ranks it without --day-rate (support days unvalued)."""
    return value_programme(p, None)


def _figures(p: Programme, keys: Sequence[str]) -> list[Any]:
    """A programme's figures on the keys as stored: kind, unit, low, mid, high of each."""
    found: list[Any] = []
    shown = _shown(p)
    for key in keys:
        q = MEASURES[key](shown)
        found += [str(q.kind), str(q.unit), q.low, q.mid, q.high]
    return found


_FIGURE_TABLE = ("position INTEGER PRIMARY KEY, kind TEXT NOT NULL, unit TEXT NOT NULL, "
                 "low REAL, mid REAL, high REAL, cell TEXT NOT NULL, cell_low TEXT NOT NULL, "
                 "cell_mid TEXT NOT NULL, cell_high TEXT NOT NULL, note_low TEXT, "
                 "note_mid TEXT NOT NULL, note_high TEXT")
_FIGURE_WIDTH = 13


def _schema() -> str:
    """A narrow table per rank key, so a ranking scans only the figures it orders by."""
    return (
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE sources (position INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, "
        "line INTEGER NOT NULL, record TEXT NOT NULL);"
        "CREATE TABLE programmes (position INTEGER PRIMARY KEY, slug TEXT NOT NULL, "
        "line INTEGER NOT NULL, cites TEXT NOT NULL, name_cell TEXT NOT NULL, findings TEXT);"
        "CREATE TABLE records (position INTEGER PRIMARY KEY, record TEXT NOT NULL);"
        + "".join(f"CREATE TABLE by_{c} ({_FIGURE_TABLE});" for c in COLUMN.values())
    )


def _rows_of(position: int, p: Programme,
             counts: dict[str, Counter[str]]) -> tuple[list[Any], list[list[Any]]]:
    """One programme's row, and its row in each rank key's table: figure, cells and notes.

    The cells are render.machine's (raw for a figure, number for a bound, whitespace
    collapsed for text), written out here because this runs for every figure of a
    registry: the same functions, without the dispatch on the cell's type."""
    from fundcmp.checks import check
    from fundcmp.views import rank_note, rank_notes

    findings = [f.line() for f in check([p])]
    cites = sorted({s.id for s in p.sources})
    name = " ".join(p.name.split())
    row: list[Any] = [position, p.slug, p.line, json.dumps(cites), name,
                      json.dumps(findings, ensure_ascii=False) if findings else None]
    figures = []
    shown = _shown(p)
    for key, measure in MEASURES.items():
        q: Quantity = measure(shown)
        low, mid, high = q.low, q.mid, q.high
        unit = counted_unit(q)
        if unit is not None:
            counts[key][unit] += 1
        elif low is None and mid is None and high is None:
            # no bound on any basis, so one note and no cells (what the lines below give)
            note = " ".join(rank_note(q, "mid", q.unit).split())
            figures.append([position, str(q.kind), str(q.unit), None, None, None, raw(q),
                            "", "", "", None, note, None])
            continue
        low_note, mid_note, high_note = rank_notes(q)
        cell_low, cell_mid, cell_high = bound_cell(low), bound_cell(mid), bound_cell(high)
        figures.append([position, str(q.kind), str(q.unit), low, mid, high,
                        raw(q) if unit is None else raw_of_cells(q, cell_low, cell_high),
                        cell_low, cell_mid, cell_high,
                        None if low_note is mid_note else " ".join(low_note.split()),
                        " ".join(mid_note.split()),
                        None if high_note is mid_note else " ".join(high_note.split())])
    return row, figures


def _json(raw: Any) -> str:
    """A record as JSON text: a JSON line is kept as read, a YAML mapping is written out."""
    return raw if isinstance(raw, str) else _RECORD_JSON.encode(raw)


# json.dumps(raw, ensure_ascii=False, separators=(",", ":")), without a new encoder each time
_RECORD_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


BATCH = 2000  # programmes written at once; fundcmp.parallel_index writes in the same steps
TABLES = ("programmes", "records", *(f"by_{c}" for c in COLUMN.values()))


@dataclass
class Filled:
    """What a fill wrote: the number of programmes, the number of programmes written before
    each source (which places it among the batches), and each key's counted units."""

    programmes: int
    sources_at: list[int]
    counts: dict[str, Counter[str]]


def _write(target: Path, cache_key: str, records: Iterable[Record]) -> None:
    """Fill a new database file from validated records, streaming: nothing is held but a batch."""
    db = sqlite3.connect(target)
    try:
        create(db)
        finish(db, cache_key, fill(db, records).counts)
    finally:
        db.close()


def create(db: sqlite3.Connection) -> None:
    """The empty tables of an entry, written without a journal (a failed build is deleted)."""
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _schema())


def fill(db: sqlite3.Connection, records: Iterable[Record]) -> Filled:
    """Write the records' rows, positions counted from 0, a source as it comes and the
    programmes BATCH at a time (table by table, in TABLES order)."""
    counts: dict[str, Counter[str]] = {k: Counter() for k in MEASURES}
    batch: list[list[Any]] = []
    texts: list[tuple[int, str]] = []
    figures: list[list[list[Any]]] = [[] for _ in MEASURES]

    def flush() -> None:
        db.executemany("INSERT INTO programmes VALUES (?, ?, ?, ?, ?, ?)", batch)
        db.executemany("INSERT INTO records VALUES (?, ?)", texts)
        for c, rows in zip(COLUMN.values(), figures, strict=True):
            db.executemany(f"INSERT INTO by_{c} VALUES ({','.join('?' * _FIGURE_WIDTH)})", rows)
            rows.clear()
        batch.clear()
        texts.clear()

    programmes = 0
    sources_at: list[int] = []
    for record in records:
        value = record.value
        if isinstance(value, Programme):
            if value.published is not None:
                raise Linked
            row, rows = _rows_of(programmes, value, counts)
            batch.append(row)
            for table, figure in zip(figures, rows, strict=True):
                table.append(figure)
            texts.append((programmes, _json(record.raw)))
            programmes += 1
            if len(batch) >= BATCH:
                flush()
        else:
            db.execute("INSERT INTO sources VALUES (?, ?, ?, ?)",
                       (len(sources_at), value.id, record.line, _json(record.raw)))
            sources_at.append(programmes)
    flush()
    return Filled(programmes, sources_at, counts)


def finish(db: sqlite3.Connection, cache_key: str, counts: dict[str, Counter[str]]) -> None:
    """Index the slugs and write the entry's key and common units: the entry is whole.

    sqlite3.IntegrityError if a slug is given twice (which only a parallel build can reach)."""
    # made once the rows are in, which is quicker than keeping it in order row by row
    db.execute("CREATE UNIQUE INDEX programme_slugs ON programmes (slug)")
    units = {COLUMN[k]: most_common_unit(c) for k, c in counts.items()}
    db.executemany("INSERT INTO meta VALUES (?, ?)", [
        ("format", str(FORMAT)), ("key", cache_key), ("units", json.dumps(units))])
    db.commit()


def build_from(path: Path | str, content: bytes, records: Iterator[Record]) -> None:
    """The entry of a registry about to be written as `content`, built from every record of
    it, in line order, as they are validated (a RegistryError of one leaves no entry), so
    the first run on it is answered as a warm one, as after derive(). The caller validates
    whatever of `records` this did not read: a small registry is read without an index."""
    if not enabled() or len(content) < MIN_BYTES:
        return
    store = open_or_build(path, lambda: records, content)
    if store is not None:
        store.close()


def derive(store: Store, content: bytes, changed: Sequence[Record],
           inserted_at: int | None, inserted: int) -> None:
    """The entry of a registry that an import made from the store's own by replacing and
    appending records (and maybe inserting `inserted` lines at `inserted_at`, which moves
    the lines below it down as many): a copy of the store with those rows rewritten, so the
    first run after an import is answered as a warm one. Failures leave only the old entry."""
    import tempfile

    folder = store.entry.parent
    new_key = key(content)
    if new_key is None or store._db is None:
        return
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".derived.", suffix=".tmp")
        os.close(fd)
    except OSError:
        return
    try:
        store._db.execute("VACUUM INTO ?", (temp + ".db",))
        os.replace(temp + ".db", temp)
        _rewrite(Path(temp), new_key, changed, inserted_at, inserted)
        os.replace(temp, folder / f"{new_key}{SUFFIX}")
    except (OSError, sqlite3.Error, OverflowError):
        for leftover in (temp, temp + ".db"):
            with contextlib.suppress(OSError):
                os.unlink(leftover)
        return
    _prune(folder)


def _rewrite(target: Path, new_key: str, changed: Sequence[Record],
             inserted_at: int | None, inserted: int) -> None:
    """Replace the rows of changed slugs and source ids in place, append the new ones, and
    choose each key's common unit again over every row."""
    db = sqlite3.connect(target)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
        counts: dict[str, Counter[str]] = {k: Counter() for k in MEASURES}
        if inserted_at is not None:
            for table in ("programmes", "sources"):
                db.execute(f"UPDATE {table} SET line = line + ? WHERE line >= ?",
                           (inserted, inserted_at))
        for record in changed:
            value = record.value
            if isinstance(value, Source):
                db.execute("INSERT OR REPLACE INTO sources VALUES ((SELECT coalesce((SELECT "
                           "position FROM sources WHERE id = ?), (SELECT count(*) FROM "
                           "sources))), ?, ?, ?)",
                           (value.id, value.id, record.line, _json(record.raw)))
                continue
            found = db.execute("SELECT position FROM programmes WHERE slug = ?",
                               (value.slug,)).fetchone()
            position = found[0] if found else db.execute(
                "SELECT coalesce(max(position) + 1, 0) FROM programmes").fetchone()[0]
            for table in TABLES:
                db.execute(f"DELETE FROM {table} WHERE position = ?", (position,))
            row, figures = _rows_of(position, value, counts)
            db.execute("INSERT INTO programmes VALUES (?, ?, ?, ?, ?, ?)", row)
            db.execute("INSERT INTO records VALUES (?, ?)", (position, _json(record.raw)))
            for c, figure in zip(COLUMN.values(), figures, strict=True):
                db.execute(f"INSERT INTO by_{c} VALUES ({','.join('?' * _FIGURE_WIDTH)})", figure)
        units = {}
        for c in COLUMN.values():
            # arithmetic.counted_unit's rule: an unknown figure counts for no unit
            found_counts = Counter(dict(db.execute(
                f"SELECT unit, count(*) FROM by_{c} WHERE kind != 'unknown' GROUP BY unit")))
            units[c] = most_common_unit(found_counts)
        db.executemany("UPDATE meta SET value = ? WHERE name = ?",
                       [(new_key, "key"), (json.dumps(units), "units")])
        db.commit()
    finally:
        db.close()


def _prune(folder: Path) -> None:
    """Keep the newest few entries, so editing a large registry does not fill the disk."""
    remove_abandoned(folder)
    with contextlib.suppress(OSError):
        for suffix, keep in ((SUFFIX, KEEP_ENTRIES), (MEMO_SUFFIX, KEEP_MEMOS)):
            entries = sorted(folder.glob(f"*{suffix}"), key=lambda p: p.stat().st_mtime,
                             reverse=True)
            for old in entries[keep:]:
                old.unlink(missing_ok=True)
