"""A progress bar over bytes read, drawn on stderr only when stderr is a terminal.

Besides render.py, this is the one module that imports rich (lazily): a bar is
feedback while reading, not output, so it never goes to stdout or a pipe.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def byte_progress(total_bytes: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """Yields a callback taking bytes read so far, or None when stderr is not a terminal."""
    if sys.stderr is None or not sys.stderr.isatty():  # None: stderr closed (`2>&-`)
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total_bytes)
        yield lambda done_bytes: bar.update(task, completed=done_bytes)
