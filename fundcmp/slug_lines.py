"""Slugs read from a stream, so one fundcmp's output can choose another's programmes.

`fundcmp rank --by funding | head -3 | cut -f1 | fundcmp compare -` and
`fundcmp rank --by funding --format tsv | fundcmp compare -` both work: each line
gives its first field (up to a tab, comma or space, none of which a slug may hold),
and blank lines, `#` comments and a header line (first field `slug`) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import IO

STDIN = "-"
FIELD_END = re.compile(r"[\t, ]")
HEADER = "slug"


def parse(lines: Iterable[str]) -> list[str]:
    """The slug at the start of each line that holds one, in order."""
    slugs: list[str] = []
    for line in lines:
        first = FIELD_END.split(line.strip(), maxsplit=1)[0]
        if not first or first.startswith("#"):
            continue
        if not slugs and first.lower() == HEADER:
            continue
        slugs.append(first)
    return slugs


def expand(slugs: Sequence[str], stream: IO[str]) -> list[str]:
    """`slugs` with each `-` replaced by the slugs read from `stream`."""
    if STDIN not in slugs:
        return list(slugs)
    piped = parse(stream)
    expanded: list[str] = []
    for slug in slugs:
        expanded.extend(piped if slug == STDIN else [slug])
    return expanded
