"""Small YAML registries (like the shipped one) kept as the plain values they parse to.

A registry under cache_dir.MIN_BYTES is not indexed: opening SQLite costs more
than parsing it. Importing the YAML library and parsing still cost a run more
than reading JSON, so the first run on such a registry writes its records'
plain values, as JSON, to one entry in the cache directory, with the warnings
of facts that disagree (fundcmp.checks), and later runs read that instead of
parsing and checking.

The index's trust rules hold here too (SECURITY.md): only a private directory
and a private entry, opened without following links; the entry keeps the
registry's whole text, which must equal the file's (no hash is believed), and
the stamp of fundcmp's own modules (inode, size, modification and change
time), which must equal theirs; every record goes through the registry's own
validator again, exactly as a parse. An entry that fails any of this is
deleted and written again from a fresh parse.
"""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from fundcmp import cache_dir
from fundcmp.errors import RegistryError
from fundcmp.model import Programme, Source
from fundcmp.registry import (
    Record,
    Registry,
    collect,
    located,
    source,
    unique,
    validate_programme,
)

FORMAT = 1
SUFFIX = ".plain.json"
KEEP_ENTRIES = 16


# The last registry served: its programmes (the very tuple) and their warnings; see findings().
_last: list[tuple[tuple[Programme, ...], list[str]]] = []


def registry(path: str, text: str, parse: Callable[[], Iterable[Record]]) -> Registry:
    """The registry: revived from its entry, else parsed (and the entry written).

    A registry whose programmes link to imported entries (published_as, however the key
    is spelt) is never kept: its links are resolved and checked on every load.
    """
    folder = cache_dir.directory()
    if folder is None or not cache_dir.trusted_directory(folder, create=True):
        return collect(path, parse())
    entry = folder / f"{zlib.crc32(text.encode()):08x}{SUFFIX}"
    revived = _revive(entry, path, text)
    if revived is not None and not _linked(r.value for r in revived[0]):
        found, lines = revived
        loaded = collect(path, found)
        _last[:] = [(loaded.programmes, lines)]
        return loaded
    found = list(parse())
    loaded = collect(path, found)
    if _linked(loaded.programmes):
        return loaded
    from fundcmp.checks import check

    lines = [f.line() for f in check(list(loaded.programmes))]
    _write(entry, text, found, lines)
    _last[:] = [(loaded.programmes, lines)]
    return loaded


def _linked(values: Iterable[object]) -> bool:
    return any(isinstance(v, Programme) and v.published is not None for v in values)


def findings(programmes: tuple[Programme, ...]) -> list[str] | None:
    """The warning lines (checks.check's) of the programmes this module served last, found
    when their entry was written, so a run need not import the checks; else None."""
    return next((lines for served, lines in _last if served is programmes), None)


def _stamp() -> list[list[Any]]:
    """fundcmp's modules as git's index sees a file: a change to any of them misses."""
    found = []
    with os.scandir(os.path.dirname(__file__)) as entries:
        for entry in entries:
            if entry.name.endswith(".py"):
                info = entry.stat()
                found.append([entry.name, info.st_ino, info.st_size, info.st_mtime_ns,
                              info.st_ctime_ns])
    return sorted(found)


def _revive(entry: Path, path: str, text: str) -> tuple[list[Record], list[str]] | None:
    """The entry's records, validated again, and its warnings; None (and the entry deleted) if
    it cannot be used."""
    try:
        fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            if not cache_dir.mine(os.fstat(handle.fileno())):
                raise ValueError("not a private entry")
            stored = json.loads(handle.read())
        if stored["format"] != FORMAT or stored["text"] != text or stored["code"] != _stamp():
            raise ValueError("another registry or another fundcmp")
        lines = stored["findings"]
        if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
            raise ValueError("findings that are not lines of text")
        return _validated(stored, path), lines
    except (OSError, ValueError, TypeError, KeyError, RecursionError, RegistryError):
        with contextlib.suppress(OSError):
            entry.unlink()
        return None


def _validated(stored: dict[str, Any], path: str) -> list[Record]:
    """Every stored source and programme through the registry's validator, as a parse."""
    sources: dict[str, Source] = {}
    found: list[Record] = []
    for line, raw in stored["sources"]:
        value = source(located(raw, path, line), path, line)
        if value.id in sources:
            raise ValueError("a source given twice")
        sources[value.id] = value
        found.append(Record(value, raw, line))
    order = {sid: i for i, sid in enumerate(sources)}
    for line, raw in stored["programmes"]:
        programme = validate_programme(located(raw, path, line), sources, path, line, order)
        found.append(Record(programme, raw, line))
    return list(unique(path, found))


def _write(entry: Path, text: str, fresh: list[Record], lines: list[str]) -> None:
    """The entry, written whole under a temporary name and renamed; failure leaves none."""
    stored = {
        "format": FORMAT, "code": _stamp(), "text": text, "findings": lines,
        "sources": [[r.line, r.raw] for r in fresh if isinstance(r.value, Source)],
        "programmes": [[r.line, r.raw] for r in fresh if isinstance(r.value, Programme)],
    }
    import tempfile

    temp = ""
    try:
        data = json.dumps(stored, separators=(",", ":")).encode("ascii")
        fd, temp = tempfile.mkstemp(dir=entry.parent, prefix=f".{entry.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, entry)
    except (OSError, ValueError, TypeError):
        if temp:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        return
    _prune(entry.parent)


def _prune(folder: Path) -> None:
    """Keep the newest few entries, as the index does."""
    cache_dir.remove_abandoned(folder)
    with contextlib.suppress(OSError):
        entries = sorted(folder.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime,
                         reverse=True)
        for old in entries[KEEP_ENTRIES:]:
            old.unlink(missing_ok=True)
