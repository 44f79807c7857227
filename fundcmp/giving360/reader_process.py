"""A file's reader run in a child process, its grants sent back in batches over a pipe.

Reading (CSV or JSON parsing, picking each grant's facts) and checking and storing
the grants are each about half of an import's work: with the reader in a child
process the two halves run at once, on two cores. grants() yields reading.read's
batches joined up to reading.BATCH grants, the same batches in the same order
either way, with the FileInfo filled in as the reader fills it, so the import's
results are the same either way (tests compare the two); a file smaller than
CHILD_BYTES is read in this process, where the child's start-up would cost more
than it saves.

The child is a fresh interpreter (`python -c`, the same Python, given this
process's import path, so the same fundcmp) with its standard output a pipe, not
a multiprocessing Process. Whatever start method multiprocessing would use (fork
on Linux, spawn on macOS and Windows), it has a flaw here: spawn runs the
caller's main script again in the child, which fails in a script that calls
collect() without an `if __name__ == "__main__"` guard, and fork copies this
process mid-use (the store's SQLite connection, a progress bar's thread and its
locks). A plain child started by exec is the same on every platform.

The pipe carries pickles, one a message: a batch of grants (reading.Batch, its
columns of texts each joined into one text, see _packed) and the bytes read so
far; then the end, with the column names, notes, publisher and issued date, or
the error the reader raised. The pipe holds a few batches, so a child that runs
ahead waits: memory stays flat.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import pickle
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import IO, Any

from fundcmp.errors import FundcmpError, one_line
from fundcmp.giving360.reading import Batch, FileInfo, ProgressSink, joined, merged, read

CHILD_BYTES = 4 << 20  # smaller files are read in this process
PIPE_BYTES = 1 << 20  # what the pipe holds, where the system lets it be set: several batches
STOP_SECONDS = 5.0  # how long a stopped child is given to end before it is killed
# The child's program: this process's import path first (the same fundcmp, however it was
# found), then child_main(). A parent gone before it said anything ends it quietly.
_CHILD_CODE = """import sys
try:
    import pickle
    sys.path[:] = pickle.load(sys.stdin.buffer)
    from fundcmp.giving360.reader_process import child_main
except EOFError:
    sys.exit(0)
except Exception as exc:
    sys.exit(f"fundcmp: the reader process could not start ({type(exc).__name__}: {exc})")
child_main()
"""

_GRANTS, _END, _ERROR = "grants", "end", "error"
_SEPARATOR = "\x1f"  # the unit separator: what joins a column's texts on the pipe


class ReaderProcessError(FundcmpError):
    """A child reader that failed in a way it could not send (killed, out of memory, or an
    error that does not pickle): one line, as any import that cannot go on."""


class ChildTraceback(Exception):
    """The child's traceback of an unexpected error, as the cause of the error raised here."""


def grants(path: Path, info: FileInfo,
           on_bytes: ProgressSink | None) -> Generator[Batch, None, None]:
    """The batches of raw grants of one file, as reading.read gives them: read in a child
    process when the file is large enough to be worth it, a batch a message; else here.
    Close it when stopping early: that ends the child at once."""
    try:
        large = path.stat().st_size >= CHILD_BYTES
    except OSError:  # the reader says why the file cannot be read
        large = False
    child = None
    if large and sys.executable:
        try:
            child = _start(path, info.name, on_bytes is not None)
        except OSError:  # no process to spare (fork refused, no Python to run): read here
            child = None
    if child is None:
        # The reader fills a FileInfo of its own, as in a child: the names info holds are
        # the latest batch's (the reader runs a batch ahead), and the rest comes at the end.
        own = FileInfo(info.name)
        try:
            yield from merged(read(path, own, on_bytes))
        finally:
            info.names, info.notes, info.publisher, info.issued = \
                own.names, own.notes, own.publisher, own.issued
        return
    yield from _piped(child, info, on_bytes)  # batches joined by the child, as merged() joins


def _piped(child: subprocess.Popen[bytes], info: FileInfo,
           on_bytes: ProgressSink | None) -> Generator[Batch, None, None]:
    """Yield the child's batches as they come."""
    assert child.stdout is not None
    ended = False
    try:
        while True:
            try:
                message = pickle.load(child.stdout)
            except (EOFError, pickle.UnpicklingError):  # no message, or half of one
                _stop(child, True)  # it closed its end: it is ending, with its own status
                status = child.returncode
                how = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
                raise ReaderProcessError(f"{one_line(info.name)}: the reader process ended "
                                         f"unexpectedly ({how})") from None
            if message[0] == _GRANTS:
                _, done, batch = message
                if done is not None and on_bytes is not None:
                    on_bytes(done)
                yield _unpacked(batch)
                continue
            kind, info.names, info.notes, info.publisher, info.issued, error, remote = message
            ended = True
            if kind == _ERROR:
                if remote is None:
                    raise error from None
                raise error from ChildTraceback(remote)
            return
    finally:
        _stop(child, ended)


def _start(path: Path, name: str, progress: bool) -> subprocess.Popen[bytes]:
    """The child, started with Ctrl-C ignored, and told what to read on its standard input.

    Ctrl-C reaches every process of the terminal's foreground group; this process
    stops the child itself, so the child must never raise KeyboardInterrupt (and
    print its traceback), not even while its interpreter starts: an ignored signal
    stays ignored across exec, and Python leaves an inherited SIGINT as it is.
    """
    deaf = threading.current_thread() is threading.main_thread()  # else handlers can't be set
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if deaf else None
    try:
        # -P: no working directory on the path, so no file of the user's is ever imported
        child = subprocess.Popen([sys.executable, "-P", "-c", _CHILD_CODE],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    finally:
        if deaf:
            signal.signal(signal.SIGINT, previous)
    assert child.stdin is not None and child.stdout is not None
    _widen(child.stdout)
    try:
        child.stdin.write(pickle.dumps(sys.path) + pickle.dumps((path, name, progress)))
        child.stdin.close()
    except BaseException:
        _stop(child, False)
        raise
    return child


def _widen(pipe: IO[bytes]) -> None:
    """Let the pipe hold several batches (Linux: 64 KiB, a third of one, unless asked), so
    neither process waits on the other's every pause: the child runs ahead while this one
    stores a batch in SQLite, and this one reads on while the child starts a new one."""
    if sys.platform == "linux":
        import fcntl

        with contextlib.suppress(OSError):  # more than this system lets a pipe hold: its own
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _stop(child: subprocess.Popen[bytes], ended: bool) -> None:
    """End the child however this process stops reading: at the end (it has sent its last
    message and is ending), or on an error or Ctrl-C, when terminate ends it at once."""
    assert child.stdout is not None
    child.stdout.close()
    if not ended and child.poll() is None:
        child.terminate()
    try:
        child.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def child_main() -> None:
    """The child: read the file named on standard input and send its grants, then its end or
    its error, on standard output.

    A parent that is gone makes a write fail: the child then ends quietly, so it
    never outlives the import.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # where exec did not pass it on (Windows)
    path, name, progress = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    try:
        _send_grants(path, name, progress, out)
        out.flush()
    except (BrokenPipeError, ConnectionResetError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())  # nothing left to flush at exit


def _send_grants(path: Path, name: str, progress: bool, out: IO[bytes]) -> None:
    info = FileInfo(name)
    done: list[int | None] = [None]

    def on_bytes(n: int) -> None:
        done[0] = n

    end: tuple[Any, ...]
    try:
        # Each batch packed as it is read, while its values are in the processor's cache.
        for batch in merged(map(_packed, read(path, info, on_bytes if progress else None)),
                            _joined):
            _send(_pickle((_GRANTS, done[0], batch), io.BytesIO()), out)
        end = (_END, info.names, info.notes, info.publisher, info.issued, None, None)
    except Exception as exc:  # sent to the parent, which raises it as if read there
        end = (_ERROR, info.names, info.notes, info.publisher, info.issued, exc,
               None if isinstance(exc, FundcmpError) else traceback.format_exc())
    try:
        _send(_pickle(end, io.BytesIO()), out)
    except (BrokenPipeError, ConnectionResetError):
        raise
    except Exception:  # an error that does not pickle: its type and words, and its traceback
        _send(_pickle((_ERROR, info.names, info.notes, info.publisher, info.issued,
                       ReaderProcessError(f"{type(end[5]).__name__}: {end[5]}"), end[6]),
                      io.BytesIO()), out)


def _packed(batch: Batch) -> Batch:
    """The batch with each column of texts joined into one text by _SEPARATOR (pickled as one
    object, and split in C: a fifth of the cost of pickling each), where none holds it; a
    batch of rows as it is (turned into columns here)."""
    if batch.rows is not None:
        return batch
    return Batch(batch.prefix, batch.places, tuple(map(_pack, batch.columns)), batch.names)


def _pack(column: Sequence[Any]) -> Sequence[Any] | str:
    try:
        text = _SEPARATOR.join(column)
    except TypeError:  # not all texts
        return column
    return text if text.count(_SEPARATOR) == len(column) - 1 else column


def _joined(packed: list[Batch]) -> Batch:
    """Packed batches of the same names, as one."""
    first = packed[0]
    if len(packed) == 1 or all(batch.rows is not None for batch in packed):
        return joined(packed)
    columns: list[Sequence[Any]] = []
    for parts in zip(*(batch.columns for batch in packed), strict=True):
        if all(type(part) is str for part in parts):
            columns.append(_SEPARATOR.join(parts))
        else:
            columns.append(tuple(itertools.chain.from_iterable(
                part.split(_SEPARATOR) if type(part) is str else part for part in parts)))
    return Batch(first.prefix, list(itertools.chain.from_iterable(b.places for b in packed)),
                 tuple(columns), first.names)


def _unpacked(batch: Batch) -> Batch:
    """A batch as it was before _packed."""
    if batch.rows is not None:
        return batch
    return Batch(batch.prefix, batch.places, tuple(
        column.split(_SEPARATOR) if type(column) is str else column for column in batch.columns),
        batch.names)


def _pickle(message: tuple[Any, ...], buffer: io.BytesIO) -> io.BytesIO:
    """One message added to the buffer, pickled without the memo (grants share no objects,
    and the memo doubles the cost)."""
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(message)
    return buffer


def _send(buffer: io.BytesIO, out: IO[bytes]) -> None:
    """The messages in the buffer, written whole and flushed."""
    out.write(buffer.getbuffer())
    out.flush()
