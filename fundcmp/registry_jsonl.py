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
    _Map,
    source,
    validate_programme,
)

SUFFIX = ".jsonl"
_INT_DIGITS = 18


def is_jsonl(path: str) -> bool:
    return path.lower().endswith(SUFFIX)


class _LineError(ValueError):
    """A problem inside one line's JSON, reported with the line by the caller."""


# The line being decoded: each object becomes the validator's line-aware mapping as it is
# decoded (one decode at a time: fundcmp decodes in one thread).
_AT = [0]


def _pairs(pairs: list[tuple[str, Any]]) -> _Map:
    """An object as the parser's line-aware mapping, all on the line being decoded, with its
    height (see _height), so no second pass over the decoded value is needed."""
    found = _Map()
    below = 0
    for key, value in pairs:
        if key in found:
            raise _LineError(f"duplicate key '{key[:60]}'")
        found[key] = value
        if value.__class__ is _Map:
            if value.height > below:
                below = value.height
        elif value.__class__ is list and value:
            below = max(below, _height(value))
    line = found.line = _AT[0]
    found.key_lines = dict.fromkeys(found, line)
    found.height = below + 1 if found else 0
    return found


def _height(items: list[Any], levels: int = 0) -> int:
    """How deep a non-empty list nests: 1 + its tallest item's height (a scalar's or an empty
    container's is 0). Lists within lists are followed no further than MAX_DEPTH levels, past
    which the figure only has to say "too deep"."""
    if levels > MAX_DEPTH:
        return levels
    below = 0
    for item in items:
        if item.__class__ is _Map:
            below = max(below, item.height)
        elif item.__class__ is list and item:
            below = max(below, _height(item, levels + 1))
    return below + 1


def within_depth(value: Any, path: str, line: int) -> Any:
    """A decoded value, refused as YAML refuses it if any value in it sits more than MAX_DEPTH
    levels below it."""
    tall = value.height if value.__class__ is _Map else \
        _height(value) if value.__class__ is list and value else 0
    if tall > MAX_DEPTH:
        raise RegistryError(path, line, f"nested more than {MAX_DEPTH} levels deep, which no "
                            "registry needs")
    return value


def _constant(name: str) -> Any:
    raise _LineError(f"{name} is not a number a registry can hold")


def _integer(digits: str) -> int | float:
    return int(digits) if len(digits.lstrip("-")) <= _INT_DIGITS else float(digits)


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_constant,
                            parse_int=_integer)


def decode(text: str, path: str, line: int) -> Any:
    """One line's JSON (objects as line-aware mappings on `line`), or one located error."""
    _AT[0] = line
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
        found = source(within_depth(value["source"], path, number), path, number)
        if found.id in sources:
            raise RegistryError(path, number, f"duplicate source id '{found.id}'",
                                field="sources.id")
        order[found.id] = len(order)
        sources[found.id] = found
        return Record(found, value["source"], number)
    if isinstance(value, dict) and "slug" in value:
        item = within_depth(value, path, number)
        programme: Programme = validate_programme(item, sources, path, number, order)
        return Record(programme, line, number)
    raise RegistryError(path, number, "a line must be a programme (an object with 'slug') or "
                        "a source ({\"source\": {...}})")
