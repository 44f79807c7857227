"""Reading a JSON Lines registry: one record a line, validated exactly as YAML is.

`fundcmp import --into FILE.jsonl` writes this format. JSON decodes several
times faster than YAML and a line is a whole record, so a registry of 100,000
programmes loads and streams without building one huge tree, and an error
still names its line. A line is either a programme, with the same fields as
in YAML (`{"slug": ..., "name": ..., "funders": [...], ...}`), or a source,
`{"source": {"id": ..., "publisher": ..., "title": ..., "date": ...}}`, which
must come before the first programme citing it. Blank lines are skipped.

The decoder refuses what the YAML reader refuses: duplicate keys, NaN and
Infinity, nesting deeper than MAX_DEPTH; integers longer than 18 digits are
read as floats, so the figure cap applies to them as to any other number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fundcmp.errors import RegistryError
from fundcmp.model import Programme, Source
from fundcmp.registry import (
    MAX_DEPTH,
    Record,
    located,
    source,
    validate_programme,
)

SUFFIX = ".jsonl"
_INT_DIGITS = 18


def is_jsonl(path: str) -> bool:
    return path.lower().endswith(SUFFIX)


class _LineError(ValueError):
    """A problem inside one line's JSON, reported with the line by the caller."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _LineError(f"duplicate key '{key[:60]}'")
        found[key] = value
    return found


def _constant(name: str) -> Any:
    raise _LineError(f"{name} is not a number a registry can hold")


def _integer(digits: str) -> int | float:
    return int(digits) if len(digits.lstrip("-")) <= _INT_DIGITS else float(digits)


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_constant,
                            parse_int=_integer)


def decode(text: str, path: str, line: int) -> Any:
    """One line's JSON as plain values, or one located error."""
    try:
        return _DECODER.decode(text)
    except _LineError as exc:
        raise RegistryError(path, line, str(exc)) from None
    except RecursionError:
        raise RegistryError(path, line, f"nested more than {MAX_DEPTH} levels deep, which no "
                            "registry needs") from None
    except ValueError as exc:  # json.JSONDecodeError, or an integer too long to convert
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise RegistryError(path, line, f"not valid JSON: {message}") from None


def lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line, without copying the whole file."""
    start, number = 0, 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        number += 1
        line = text[start:end]
        start = end + 1
        if line.strip():
            yield number, line


def records(text: str, path: str) -> Iterator[Record]:
    """Every source and programme, validated in file order (the caller refuses repeated slugs)."""
    sources: dict[str, Source] = {}
    order: dict[str, int] = {}
    for number, line in lines(text):
        yield record(line, path, number, sources, order)


def record(line: str, path: str, number: int, sources: dict[str, Source],
           order: dict[str, int]) -> Record:
    """One line, validated against the sources before it (a source line joins them, and
    `order`, their positions)."""
    value = decode(line, path, number)
    if isinstance(value, dict) and "slug" not in value and set(value) == {"source"}:
        found = source(located(value["source"], path, number), path, number)
        if found.id in sources:
            raise RegistryError(path, number, f"duplicate source id '{found.id}'",
                                field="sources.id")
        order[found.id] = len(order)
        sources[found.id] = found
        return Record(found, value["source"], number)
    if isinstance(value, dict) and "slug" in value:
        item = located(value, path, number)
        programme: Programme = validate_programme(item, sources, path, number, order)
        return Record(programme, line, number)
    raise RegistryError(path, number, "a line must be a programme (an object with 'slug') or "
                        "a source ({\"source\": {...}})")
