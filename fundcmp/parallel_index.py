"""Building a large registry's index in worker processes, a part of the file each.

Validating programmes and computing their index rows is pure Python, about a quarter of a
millisecond a programme (see README, "Performance"), so one core takes tens of seconds over
100,000. Here the file is cut into parts at record boundaries; each worker reads its part
from the file itself, validates it with the serial build's own functions and writes its rows
to a part database (cache.fill), and this process copies the parts' rows into the entry in
the serial build's order, BATCH programmes at a time, so the entry is the same file, byte for
byte, as the serial build writes.

Only a cut that is provably the same as one reading is made; otherwise write() returns False
and the serial build runs from the start, so every error is reported exactly as always:
- a file under MIN_BYTES, or one CPU: starting workers would not pay;
- JSON Lines: cut at line starts. Every line without `"slug"` is read here first, so each
  worker is given the sources before its part; a source on any other line fails its worker;
- YAML: cut only before an item of a block `programmes:` list whose key starts a line, when
  every later line that starts at column 0 is an item or a comment (no other key, document
  marker or directive) and the file has no carriage return. A cut inside a quoted scalar or a
  flow collection leaves the part before it unterminated, which fails that part's parse;
  anchors, tags and aliases are refused in every part as in the whole;
- any part that fails (an error in the registry, a file changed meanwhile, a link between
  entries), or a slug repeated across parts (the entry's unique index refuses it).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fundcmp import cache
from fundcmp.arithmetic import MEASURES
from fundcmp.cache import BATCH, TABLES, Filled
from fundcmp.errors import RegistryError
from fundcmp.model import Source

if TYPE_CHECKING:
    import subprocess

MIN_BYTES = 16 * 1024 * 1024  # about 17,000 programmes, 4 s of work: well over the start-up
PART_BYTES = 4 * 1024 * 1024  # small parts keep each worker small and the cores evenly busy
# SQLite attaches at most 10 databases, and only outside a transaction: every part is attached
# (still empty) before the copying starts, and each is read once its worker has written it.
MAX_PARTS = 10
_BLOCK = 4 * 1024 * 1024
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_HEADER = re.compile(rb"^programmes:[ ]*(?:#[^\n]*)?\n", re.MULTILINE)
_CONTENT = re.compile(rb"^(?![ ]*(?:#[^\n]*)?(?:\n|\Z))", re.MULTILINE)  # not blank or comment
_ITEM_START = re.compile(rb"( *)-[ \n]")


@dataclass(frozen=True)
class _Task:
    """One part of the file for a worker: its bytes [start, end), starting on `line`."""

    path: str
    fingerprint: tuple[int, ...]
    start: int
    end: int
    line: int
    part: str  # the part database the worker writes
    yaml_head: tuple[int, int] | None = None  # a later YAML part: `programmes:` line end, number
    sources_before: tuple[tuple[int, str], ...] = ()  # JSON Lines: source lines before it
    sources_within: frozenset[int] = frozenset()  # JSON Lines: the part's source lines


def write(path: str, target: Path, cache_key: str) -> bool:
    """Write the entry of the registry file at `path` into the empty database file `target`
    with worker processes; False (and `target` left empty) when that does not pay, is not
    provably the same as the serial build, or any part fails."""
    workers = _cpus()
    try:
        size = os.stat(path).st_size
    except OSError:
        return False
    if workers < 2 or size < MIN_BYTES or not hasattr(signal, "pthread_sigmask"):
        return False  # (a system without POSIX signal masks cannot keep Ctrl-C off them)
    parts: list[str] = []
    processes: list[subprocess.Popen[bytes]] = []
    try:
        # the workers start, and load their modules, while the file is read for its cuts
        _start(min(workers, MAX_PARTS), processes)
        planned = _plan(path, size, workers, target.parent, parts)
        done = planned is not None and _merge(target, cache_key,
                                              _results(*planned, processes), planned[0])
    except (OSError, UnicodeDecodeError, RegistryError, sqlite3.Error):
        done = False
    finally:
        _stop(processes)
        for part in parts:
            with contextlib.suppress(OSError):
                os.unlink(part)
    if not done:
        with contextlib.suppress(OSError):
            os.truncate(target, 0)
    return done


def _cpus() -> int:
    """The CPUs this process may run on (its affinity where the system says)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _fingerprint(handle: Any) -> tuple[int, ...]:
    info = os.fstat(handle.fileno())
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _blocks(handle: Any) -> Iterator[tuple[int, int, bytes]]:
    """(offset, line number, bytes) of whole lines, a few MB at a time: the file is never held."""
    offset, line, carry = 0, 1, b""
    while chunk := handle.read(_BLOCK):
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            carry = data
            continue
        yield offset, line, data[:cut]
        offset, line, carry = offset + cut, line + data.count(b"\n", 0, cut), data[cut:]
    if carry:
        yield offset, line, carry


def _plan(path: str, size: int, workers: int, folder: Path,
          parts: list[str]) -> tuple[list[_Task], list[tuple[int, str]]] | None:
    """The parts to build, each with its part database made (and named in `parts`), and a
    JSON Lines file's source lines; None when the file cannot be cut provably safely."""
    count = min(MAX_PARTS, max(2 * workers, -(-size // PART_BYTES)))
    with open(path, "rb") as handle:
        fingerprint = _fingerprint(handle)
        if path.lower().endswith(".jsonl"):
            found = _jsonl_cuts(handle, path, size / count)
        else:
            found = _yaml_cuts(handle, size / count)
        if found is None or len(found[0]) < 2 or _fingerprint(handle) != fingerprint:
            return None
    cuts, head, sources = found
    ends = [start for start, _ in cuts[1:]] + [size]
    lines = [line for _, line in cuts[1:]] + [1 << 62]
    tasks = []
    for i, ((start, line), end, next_line) in enumerate(zip(cuts, ends, lines, strict=True)):
        fd, part = tempfile.mkstemp(dir=folder, prefix=".part.", suffix=".tmp")
        os.close(fd)
        parts.append(part)
        tasks.append(_Task(
            path, fingerprint, start, end, line, part, yaml_head=head if i else None,
            sources_within=frozenset(n for n, _ in sources if line <= n < next_line)))
    return tasks, sources


_Cuts = tuple[list[tuple[int, int]], tuple[int, int] | None, list[tuple[int, str]]]


def _jsonl_cuts(handle: Any, path: str, step: float) -> _Cuts | None:
    """Line starts about `step` bytes apart, and every source line, validated in order (an
    invalid one: None, the serial build reports it)."""
    from fundcmp import registry_jsonl

    cuts = [(0, 1)]
    sources: list[tuple[int, str]] = []
    known: dict[str, Source] = {}
    order: dict[str, int] = {}
    for offset, number, block in _blocks(handle):
        if offset == 0 and block.startswith(_BOMS):
            return None
        at = 0
        rows = block.split(b"\n")
        if block.endswith(b"\n"):
            rows.pop()
        for row in rows:
            if at + offset >= len(cuts) * step:
                cuts.append((at + offset, number))
            if b'"slug"' not in row and row.strip():
                text = row.decode("utf-8")
                value = registry_jsonl.decode(text, path, number)
                if isinstance(value, dict) and "slug" not in value and set(value) == {"source"}:
                    registry_jsonl.record(text, path, number, known, order)
                    sources.append((number, text))
            at += len(row) + 1
            number += 1
    return cuts, None, sources


def _yaml_cuts(handle: Any, step: float) -> _Cuts | None:
    """Starts of `programmes` items about `step` bytes apart, and where the `programmes:`
    line ends and its number; None unless the file has the shape the module's docstring
    requires."""
    header: tuple[int, int] | None = None
    item: re.Pattern[bytes] | None = None
    stray: re.Pattern[bytes] | None = None
    cuts = [(0, 1)]
    for offset, number, block in _blocks(handle):
        if (offset == 0 and block.startswith(_BOMS)) or b"\r" in block:
            return None
        at = 0
        if header is None:
            found = _HEADER.search(block)
            if found is None:
                continue
            at = found.end()
            header = (offset + at, number + block.count(b"\n", 0, at) - 1)
        if item is None:
            first = _CONTENT.search(block, at)
            if first is None or first.start() == len(block):
                continue
            indent = _ITEM_START.match(block, first.start())
            if indent is None:
                return None
            spaces = indent.group(1)
            item = re.compile(rb"^" + spaces + rb"-[ \n]", re.MULTILINE)
            # At the margin: an item, or an item's lines (indented), comments and blank lines.
            stray = re.compile(rb"^(?!#|\n| |-[ \n]|-?\Z)" if not spaces else
                               rb"^(?!#|\n| |\Z)", re.MULTILINE)
            at = indent.end()
        assert stray is not None
        if stray.search(block, at):
            return None
        while (target := len(cuts) * step) < offset + len(block):
            found = item.search(block, max(at, int(target) - offset))
            if found is None:
                break
            at = found.end()
            cuts.append((offset + found.start(), number + block.count(b"\n", 0, found.start())))
    if item is None:
        return None
    return cuts, header, []


def _stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """Kill the workers, however the build ended, and wait for them: none is left behind."""
    for worker in processes:
        worker.kill()
        worker.wait()
        for pipe in (worker.stdin, worker.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def _start(count: int, processes: list[subprocess.Popen[bytes]]) -> None:
    """Start `count` workers (each listed as it starts).

    A worker is a fresh interpreter started by subprocess (fundcmp.parallel_index.serve),
    on every system: what multiprocessing calls spawn, macOS's default, so what the tests
    run on Linux is what runs there. Not fork, which would copy this process's open SQLite
    connections, locks and threads; and not multiprocessing itself, whose spawn runs the
    caller's main module again in every worker (a script without a main guard would start
    the build again in each) and adds a resource-tracker process. SIGINT is blocked while
    the workers start and ignored in them, so Ctrl-C reaches this process alone, which
    kills them: no worker prints a traceback, none is left behind; a worker whose parent
    dies meets the end of its input and stops."""
    import subprocess
    import sys

    if not sys.executable:
        raise OSError("no interpreter to start a worker with")  # an embedded Python
    root = str(Path(__file__).resolve().parent.parent)
    # -P: no working directory on the path, so no file of the user's is ever imported
    command = [sys.executable, "-P", "-c", f"import sys; sys.path.insert(0, {root!r}); "
               "from fundcmp.parallel_index import serve; serve()"]
    blocked = {signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        for _ in range(count):
            processes.append(subprocess.Popen(command, stdin=subprocess.PIPE,
                                              stdout=subprocess.PIPE,
                                              stderr=subprocess.DEVNULL))
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)


def _results(tasks: Sequence[_Task], sources: Sequence[tuple[int, str]],
             processes: Sequence[subprocess.Popen[bytes]]) -> Iterator[Filled | None]:
    """What each part wrote, in order, with two parts in hand per worker (round robin); the
    workers may outnumber the parts."""
    import pickle

    known: list[set[int]] = [set() for _ in processes]

    def send(index: int) -> None:
        """Task `index` to its worker, with the sources before it that worker lacks."""
        if index >= len(tasks):
            return
        task, have = tasks[index], known[index % len(processes)]
        task = replace(task, sources_before=tuple(s for s in sources
                                                  if s[0] < task.line and s[0] not in have))
        have.update(n for n, _ in sources if n < task.line or n in task.sources_within)
        worker = processes[index % len(processes)]
        assert worker.stdin is not None
        pickle.dump(task, worker.stdin)
        worker.stdin.flush()

    for index in range(len(processes)):
        send(index)
        send(index + len(processes))
    for index in range(len(tasks)):
        worker = processes[index % len(processes)]
        assert worker.stdout is not None
        try:
            found: Filled | None = pickle.load(worker.stdout)
        except (EOFError, pickle.UnpicklingError):
            found = None  # the worker died
        send(index + 2 * len(processes))
        yield found


def serve() -> None:
    """A worker: parts to build arrive on stdin, what each wrote leaves on stdout."""
    import gc
    import pickle
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    gc.disable()  # as the serial load: millions of objects, no cycles
    import yaml  # noqa: F401  (what every part needs, loaded before the first arrives)

    from fundcmp import checks, registry_jsonl, views  # noqa: F401
    tasks, results = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            task = pickle.load(tasks)
        except EOFError:
            return
        pickle.dump(_work(task), results)
        results.flush()


@dataclass
class _Part:
    """A part database attached to the entry: its programmes' and sources' places."""

    alias: str
    offset: int
    programmes: int
    sources: list[int]  # the number of programmes, over all parts, before each source
    next_source: int = 0


def _merge(target: Path, cache_key: str, built: Iterable[Filled | None],
           tasks: Sequence[_Task]) -> bool:
    """Copy each part's rows into the entry as the serial build writes them: each source
    where it came, then each BATCH of programmes table by table."""
    db = sqlite3.connect(target)
    try:
        cache.create(db)
        copies = {}
        for table in (*TABLES, "sources"):
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")][1:]
            copies[table] = (f"INSERT INTO main.{table} SELECT ? + position, "
                             f"{', '.join(columns)} FROM {{alias}}.{table} WHERE position >= ? "
                             "AND position < ? ORDER BY position")
        for index, task in enumerate(tasks):
            db.execute(f"ATTACH DATABASE ? AS part{index}", (task.part,))
        counts: dict[str, Counter[str]] = {k: Counter() for k in MEASURES}
        attached: list[_Part] = []
        state = [0, 0]  # programmes written, sources written
        total = 0
        for index, filled in enumerate(built):
            if filled is None:
                return False
            attached.append(_Part(f"part{index}", total, filled.programmes,
                                  [total + at for at in filled.sources_at]))
            total += filled.programmes
            for key, found in filled.counts.items():
                counts[key].update(found)
            while state[0] + BATCH <= total:
                _flush(db, copies, attached, state, state[0] + BATCH, final=False)
        _flush(db, copies, attached, state, total, final=True)
        cache.finish(db, cache_key, counts)
        return True
    finally:
        db.close()


def _flush(db: sqlite3.Connection, copies: dict[str, str], attached: list[_Part],
           state: list[int], end: int, final: bool) -> None:
    """The sources before programme `end` (all, if final), then the programmes up to it."""
    start = state[0]
    for part in attached:
        while part.next_source < len(part.sources) and (final or part.sources[part.next_source]
                                                        < end):
            local = part.next_source
            db.execute(copies["sources"].format(alias=part.alias),
                       (state[1] - local, local, local + 1))
            part.next_source += 1
            state[1] += 1
    for table in TABLES:
        for part in attached:
            low, high = max(start, part.offset), min(end, part.offset + part.programmes)
            if low < high:
                db.execute(copies[table].format(alias=part.alias),
                           (part.offset, low - part.offset, high - part.offset))
    state[0] = end


# In the workers

# A worker's sources so far, kept between its parts (which come in file order): a JSON
# Lines file's sources before its next part, a YAML file's head, read once.
_known: dict[str, Any] = {"sources": {}, "order": {}}


def _work(task: _Task) -> Filled | None:
    """Build one part; None if anything fails (the serial build then says what)."""
    try:
        with open(task.path, "rb") as handle:
            if _fingerprint(handle) != task.fingerprint:
                return None
            head = b""
            if task.yaml_head is not None:
                head = handle.read(task.yaml_head[0])
            handle.seek(task.start)
            raw = handle.read(task.end - task.start)
        if b"\0" in raw or b"\0" in head:
            return None
        text = raw.decode("utf-8")
        if task.path.lower().endswith(".jsonl"):
            records: Iterable[Any] = _jsonl_records(task, text)
        elif task.yaml_head is None:
            from fundcmp.registry import _streamed

            records = _streamed(text, task.path)
        else:
            records = _yaml_records(task, head.decode("utf-8"), text)
        db = sqlite3.connect(task.part)
        try:
            cache.create(db)
            filled = cache.fill(db, records)
            db.commit()
        finally:
            db.close()
        return filled
    except Exception:  # any failure at all: the serial build reports it as it always has
        return None


class _Unsafe(Exception):
    """A part that is not what the cut assumed."""


def _jsonl_records(task: _Task, text: str) -> Iterator[Any]:
    from fundcmp import registry_jsonl

    sources, order = _known["sources"], _known["order"]
    for number, line in task.sources_before:
        registry_jsonl.record(line, task.path, number, sources, order)
    for number, line in registry_jsonl.lines(text):
        at = number + task.line - 1
        found = registry_jsonl.record(line, task.path, at, sources, order)
        if isinstance(found.value, Source) and at not in task.sources_within:
            raise _Unsafe
        yield found


def _yaml_records(task: _Task, head: str, text: str) -> Iterator[Any]:
    """A later part's programmes: parsed after blank lines, so each keeps its line, under
    the `programmes:` key, and validated against the sources of the file's head."""
    from fundcmp.registry import Record, _Map, _parsed, validate_programme

    assert task.yaml_head is not None
    sources, order = _head_sources(task, head)
    items = _parsed("\n" * (task.line - 2) + "programmes:\n" + text, task.path, keep=False)
    while True:
        try:
            item, line, _ = next(items)
        except StopIteration as done:
            if not isinstance(done.value, _Map) or set(done.value) != {"programmes"}:
                raise _Unsafe from None
            return
        programme = validate_programme(item, sources, task.path, line, order)
        yield Record(programme, item, programme.line)


def _head_sources(task: _Task, head: str) -> tuple[dict[str, Source], dict[str, int]]:
    """The sources of the file's head (all before `programmes:`), read once per worker."""
    from fundcmp.registry import _Map, _sources, parse

    key = (task.path, task.fingerprint, task.yaml_head)
    if _known.get("head") != key:
        doc = parse(head, task.path)
        if not isinstance(doc, _Map) or "sources" not in doc:
            raise _Unsafe
        sources = _sources(doc, task.path)
        _known.update(head=key, head_sources=(sources, {s: i for i, s in enumerate(sources)}))
    found: tuple[dict[str, Source], dict[str, int]] = _known["head_sources"]
    return found
