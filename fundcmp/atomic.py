"""Writing a file so that a crash leaves the old file or the new one, never a mix.

The new text goes to a temporary file in the target's own directory (so the
rename stays on one file system), is flushed to disk with fsync, given the old
file's permission bits and, where the process may, its owner, and renamed over
the target; the directory is then synced so the rename itself survives a power
cut. A symbolic link is written through: its target is replaced, the link stays.
A file with several hard links is refused, since a rename would leave the other
names holding the old text. A killed writer can leave its temporary file
(".NAME.*.tmp") behind, but never a partial target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO


class WrittenThenInterrupted(KeyboardInterrupt):
    """Ctrl-C arrived after the rename: the new file is in place."""


def _new_file_mode() -> int:
    """The mode open() would give a new file: 0o666 less the umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_text(path: Path | str, text: str, encoding: str = "utf-8",
               before_replace: Callable[[], None] | None = None) -> None:
    """Replace path's contents with text atomically, keeping its permissions."""
    write_bytes(path, text.encode(encoding), before_replace)


def write_bytes(path: Path | str, data: bytes,
                before_replace: Callable[[], None] | None = None) -> None:
    """Replace path's contents with data atomically, keeping its permissions and owner.

    `before_replace` runs once the new file is complete on disk, just before the
    rename; if it raises, nothing is replaced.
    """
    _replace(path, lambda out: out.write(data), before_replace)


def write_chunks(path: Path | str, chunks: Iterable[str], encoding: str = "utf-8") -> None:
    """Replace path's contents atomically with text made a chunk at a time (a long report),
    so the whole text is never in memory."""
    def fill(out: BinaryIO) -> None:
        for chunk in chunks:
            out.write(chunk.encode(encoding))

    _replace(path, fill)


def _replace(path: Path | str, fill: Callable[[BinaryIO], object],
             before_replace: Callable[[], None] | None = None) -> None:
    """Write a temporary file beside the real target with fill, then rename it over it."""
    target = Path(os.path.realpath(path))
    try:
        old: os.stat_result | None = target.stat()
    except FileNotFoundError:
        old = None
    if old is not None and old.st_nlink > 1:
        raise OSError(errno.EMLINK, f"it has {old.st_nlink} hard links, and replacing it would "
                      "leave the other names holding the old text (give it a file of its own "
                      "first: cp FILE FILE.new && mv FILE.new FILE)", str(path))
    mode = stat.S_IMODE(old.st_mode) if old is not None else _new_file_mode()
    directory = target.parent
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    replaced = False
    try:
        with os.fdopen(fd, "wb") as out:
            fill(out)
            out.flush()
            os.fsync(out.fileno())
        if old is not None:
            _keep_owner(temp, old)
        os.chmod(temp, mode)
        if before_replace is not None:
            before_replace()
        os.replace(temp, target)
        replaced = True
        _sync_directory(directory)
    except KeyboardInterrupt:
        if replaced:
            raise WrittenThenInterrupted from None
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    except BaseException:
        if not replaced:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise


def _keep_owner(temp: str, old: os.stat_result) -> None:
    """Give the new file the old one's owner and group, as far as this process may.

    Root may give it to anyone; another user keeps the group if they belong to it,
    and otherwise the file becomes theirs, as with any editor that saves by renaming.
    """
    if (old.st_uid, old.st_gid) == (os.geteuid(), os.getegid()):
        return
    for uid, gid in ((old.st_uid, old.st_gid), (-1, old.st_gid)):
        try:
            os.chown(temp, uid, gid)
            return
        except OSError:
            continue


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

