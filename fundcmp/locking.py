"""One writer at a time: a registry is updated under an exclusive lock, from its latest text.

`fundcmp import` reads a registry, merges programmes into it and writes it
back. Two imports doing that at once would each write their own merge and one
would be lost; a hand edit made meanwhile would be lost too. So the update
holds an exclusive lock (flock on a sidecar file, REGISTRY.lock, beside the
file a symbolic link points to) for the whole read-merge-write, waits a
bounded time for it, reads the registry afresh once it holds it, and checks
just before the rename that the file still holds the bytes the merge started
from. A program that edits the registry without the lock can still slip in
between that check and the rename, a window of microseconds.

The lock file is removed by its holder; a lock file left by a killed process
is not held by anyone, so it never blocks.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from fundcmp import atomic
from fundcmp.errors import FundcmpError, RegistryError, one_line

WAIT_VAR = "FUNDCMP_LOCK_WAIT"
DEFAULT_WAIT = 60.0  # seconds: an import's merge and write take well under a second
_POLL = 0.05


class LockError(FundcmpError):
    """The lock was not free in time, or cannot be taken: nothing was written."""


def lock_path(target: Path) -> Path:
    return target.with_name(target.name + ".lock")


def wait_seconds() -> float:
    """How long to wait for the lock: $FUNDCMP_LOCK_WAIT, else DEFAULT_WAIT."""
    setting = os.environ.get(WAIT_VAR, "").strip()
    if not setting:
        return DEFAULT_WAIT
    try:
        seconds = float(setting)
    except ValueError:
        seconds = -1.0
    if not math.isfinite(seconds) or seconds < 0:
        raise LockError(f"{WAIT_VAR} must be a number of seconds (0 or more), not "
                        f"'{one_line(setting, 40)}'")
    return seconds


@contextlib.contextmanager
def held(target: Path, wait: float, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the exclusive lock for target, waiting up to `wait` seconds (telling on_wait once)."""
    path = lock_path(target)
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise LockError(f"{one_line(str(target))}: cannot write: cannot create the lock file "
                            f"{one_line(str(path))}: {exc.strerror}; nothing was written") \
                from None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockError(
                            f"{one_line(str(target))}: another import still holds "
                            f"{one_line(str(path))} after {wait:g} s; nothing was written "
                            f"({WAIT_VAR}=SECONDS waits longer)") from None
                    if not told:
                        on_wait(f"waiting for another import into {one_line(str(target))} "
                                "to finish")
                        told = True
                    time.sleep(_POLL)
        except BaseException:
            os.close(fd)
            raise
        if _still_named(fd, path):
            break
        os.close(fd)  # the last holder removed that file: lock the one the name has now
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _still_named(fd: int, path: Path) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)


def _digest(target: Path) -> str | None:
    try:
        return hashlib.sha256(target.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def update(path: Path, change: Callable[[str | None], str | None],
           on_wait: Callable[[str], None]) -> bool:
    """Replace the file with change(its current text), under the lock; False if change
    returned None (nothing to write). The text passed is None when the file does not exist.

    Raises RegistryError, writing nothing, when the file changed while `change` ran.
    """
    target = Path(os.path.realpath(path))
    wait = wait_seconds()
    with held(target, wait, on_wait):
        try:
            raw: bytes | None = target.read_bytes()
        except FileNotFoundError:
            raw = None
        except OSError as exc:
            raise RegistryError(str(path), None, f"cannot read: {exc.strerror}") from None
        started = None if raw is None else hashlib.sha256(raw).hexdigest()
        try:
            text = None if raw is None else raw.decode("utf-8")
        except UnicodeDecodeError:
            raise RegistryError(str(path), None, "is no longer UTF-8 text; nothing was "
                                "written") from None
        new = change(text)
        if new is None:
            return False

        def unchanged() -> None:
            if _digest(target) != started:
                raise RegistryError(str(path), None, "changed by another program while the "
                                    "import ran; nothing was written: run the import again")

        atomic.write_text(target, new, before_replace=unchanged)
        return True
