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


def directory() -> Path:
    """$XDG_CACHE_HOME/fundcmp, or ~/.cache/fundcmp when that is unset or not absolute."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "fundcmp"


def mine(info: os.stat_result) -> bool:
    """Owned by this user and writable by no one else."""
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def trusted_directory(folder: Path, create: bool) -> bool:
    """Whether the cache may be used here; a missing directory is made private (0700)."""
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        if not create:
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
