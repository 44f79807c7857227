"""Where fundcmp's caches live and whether this run may use them.

Kept apart from the index (fundcmp.cache) so a run on a small registry can
check the directory without importing SQLite and hashlib (see README,
"Performance").
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

ENV_DISABLE = "FUNDCMP_NO_CACHE"
MIN_BYTES = 32 * 1024  # smaller registries (the shipped one) load faster than SQLite opens


def enabled() -> bool:
    """Off when FUNDCMP_NO_CACHE is set to anything but empty or 0."""
    return os.environ.get(ENV_DISABLE, "") in ("", "0")


def directory() -> Path | None:
    """$XDG_CACHE_HOME/fundcmp, or ~/.cache/fundcmp when that is unset or not absolute;
    None when there is no home to find it in."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(base):
        return Path(base) / "fundcmp"
    try:
        return Path.home() / ".cache" / "fundcmp"
    except (RuntimeError, KeyError):  # no HOME and no passwd entry (a container's --user N)
        return None


def mine(info: os.stat_result) -> bool:
    """Owned by this user and writable by no one else."""
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def trusted_directory(folder: Path, create: bool) -> bool:
    """Whether the cache may be used here; a missing directory is made private (0700)."""
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        if not create or not _ours_to_fill(folder.parent):
            return False
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir(mode=0o700)
            info = os.lstat(folder)
        except OSError:
            return False
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and mine(info)


def _ours_to_fill(folder: Path) -> bool:
    """Whether the nearest existing directory at or above folder is this user's, or shared
    as /tmp is (sticky): under sudo with HOME kept, a cache made in the user's home would be
    root's, and lock them out of it."""
    for place in (folder, *folder.parents):
        try:
            info = os.stat(place)
            return info.st_uid == os.geteuid() or bool(info.st_mode & stat.S_ISVTX)
        except FileNotFoundError:
            continue
        except OSError:
            return False
    return False



ABANDONED_SECONDS = 86400  # a temporary file this old belongs to no build still running


def remove_abandoned(folder: Path) -> None:
    """Remove temporary files that builds ended by a signal (SIGTERM, a closed terminal) left
    behind; a newer one may be another build's in progress, so is left alone."""
    import time

    stale = time.time() - ABANDONED_SECONDS
    for leftover in folder.glob(".*.tmp"):
        try:
            info = leftover.lstat()
            if stat.S_ISREG(info.st_mode) and info.st_mtime < stale:
                leftover.unlink()
        except OSError:
            continue
