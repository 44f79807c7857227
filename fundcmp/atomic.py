"""Writing a file so that a crash leaves the old file or the new one, never a mix.

The new text goes to a temporary file in the same directory (so the rename
stays on one file system), is flushed to disk with fsync, given the old file's
permission bits, and renamed over the target; the directory is then synced so
the rename itself survives a power cut. A killed writer can leave its
temporary file (".NAME.*.tmp") behind, but never a partial target.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path


def _new_file_mode() -> int:
    """The mode open() would give a new file: 0o666 less the umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_text(path: Path | str, text: str, encoding: str = "utf-8") -> None:
    """Replace path's contents with text atomically, keeping its permissions."""
    write_bytes(path, text.encode(encoding))


def write_bytes(path: Path | str, data: bytes) -> None:
    """Replace path's contents with data atomically, keeping its permissions."""
    target = Path(path)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = _new_file_mode()
    directory = target.parent
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _sync_directory(directory)


def _sync_directory(directory: Path) -> None:
    """fsync a directory so a rename in it is durable (not possible on every OS)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def write_chunks(path: Path | str, chunks: Iterable[str], encoding: str = "utf-8") -> None:
    """Replace path's contents atomically with text made a chunk at a time (a long report),
    so the whole text is never in memory."""
    target = Path(path)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = _new_file_mode()
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _sync_directory(target.parent)
