"""Imported programmes written into a JSON Lines registry: one read, one write.

A line is a whole record, so merging touches only the lines it must: a
replaced programme's (or source's) line is swapped in place, new ones are
appended, and every other byte is copied as it was. The registry is read once
(and validated through the cache's store, which answers at once when the file
is cached); the new file is written once, atomically; and the store of the new
file is derived from the old one, so the first run after an import is as fast
as any other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fundcmp.giving360 import Entry
from fundcmp.model import Source
from fundcmp.registry import Record, read_text, unique
from fundcmp.registry_jsonl import record, records
from fundcmp.registry_merge import programme_data

if TYPE_CHECKING:
    from fundcmp.cache import Store


@dataclass
class Existing:
    """What a merge needs of the registry as it was: its bytes, and where each slug and
    source id stands (line numbers)."""

    path: str
    content: bytes
    slugs: dict[str, int]
    sources: dict[str, int]
    store: Store | None = None


@dataclass
class Merged:
    """The new registry bytes and what happened to each imported slug."""

    content: bytes
    added: tuple[str, ...]
    replaced: tuple[str, ...]
    kept: tuple[str, ...]
    source_id: str
    path: str = ""
    new_lines: list[tuple[int, str]] = field(default_factory=list)
    """Each new or replaced line with its final number, in line order."""
    base: Existing | None = None
    inserted_at: int | None = None
    """The line new source lines were put in front of, moving every later line down."""
    inserted: int = 0
    """How many lines were put there."""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced)

    def records(self) -> Iterator[Record]:
        """Each new line through the registry's validator, at the line it will have, one at
        a time (a hundred thousand programmes held at once took a gigabyte); the source line
        first, since the programmes cite it."""
        sources: dict[str, Source] = {}
        order: dict[str, int] = {}
        ordered = sorted(self.new_lines, key=lambda pair: not pair[1].startswith('{"source"'))
        return (record(text, self.path, n, sources, order) for n, text in ordered)

    def validate(self) -> None:
        """Raise the RegistryError of the first new line the registry would refuse."""
        for _ in self.records():
            pass


def read(path: Path) -> Existing | None:
    """The registry as it is, validated before any grant is read; None if it does not exist."""
    if not path.exists():
        return None
    from fundcmp import cache

    name = str(path)
    content = read_text(path).encode("utf-8")  # checked as any registry; only bytes are kept

    def validated() -> Iterator[Record]:
        return unique(name, records(content.decode("utf-8"), name))

    store = cache.open_or_build(path, validated, content) if cache.enabled() else None
    if store is not None:
        slugs = dict(store.lines())
        sources = dict(store.source_lines())
    else:
        slugs, sources = {}, {}
        for found in validated():
            target = sources if isinstance(found.value, Source) else slugs
            target[found.value.id if isinstance(found.value, Source)
                   else found.value.slug] = found.line
    return Existing(name, content, slugs, sources, store)


def _line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(", ", ": "))


def merge(existing: Existing | None, path: str,
          groups: Sequence[tuple[dict[str, Any], Sequence[Entry]]],
          replace_existing: bool) -> Merged:
    """The registry with each source's entries merged in, as registry_merge.merge does for
    YAML: a slug already there is kept unless replace_existing; a source is added only if
    used, and the new ones go together just above the first programme replaced (a source
    comes before the programmes citing it, and after the sources there), else first of the
    lines appended."""
    old = existing or Existing(path, b"", {}, {})
    in_place: dict[int, list[str]] = {}
    appended: list[str] = []
    added, replaced, kept = [], [], []
    new_sources: list[str] = []
    ids: list[str] = []
    for source, entries in groups:
        source_id = base = source["id"]
        number = 2
        while (source_id in old.sources and not replace_existing) or source_id in ids:
            source_id, number = f"{base}-{number}", number + 1
        used = False
        for e in entries:
            text = _line(programme_data(e, source_id))
            if e.slug in old.slugs:
                if not replace_existing:
                    kept.append(e.slug)
                    continue
                in_place[old.slugs[e.slug]] = [text]
                replaced.append(e.slug)
            else:
                appended.append(text)
                added.append(e.slug)
            used = True
        if not used:
            continue
        ids.append(source_id)
        source_text = _line({"source": {**source, "id": source_id}})
        if source_id in old.sources:
            in_place[old.sources[source_id]] = [source_text]
        else:
            new_sources.append(source_text)
    if not added and not replaced:
        return Merged(old.content, (), (), tuple(kept), "", base=existing)
    inserted = None
    replaced_lines = set(in_place) - set(old.sources.values())  # programmes', not sources'
    if new_sources and replaced_lines:
        inserted = min(replaced_lines)
        in_place[inserted][:0] = new_sources
    else:
        appended[:0] = new_sources
    content, numbered = _spliced(old.content, in_place, appended)
    return Merged(content, tuple(added), tuple(replaced), tuple(kept), ", ".join(ids), path,
                  numbered, existing, inserted, len(new_sources) if inserted is not None else 0)


def _spliced(content: bytes, in_place: dict[int, list[str]],
             appended: list[str]) -> tuple[bytes, list[tuple[int, str]]]:
    """The new bytes, every untouched byte copied as it was: lines swapped in place for one
    or more lines, then the appended ones; and each new line with its final number."""
    whole = memoryview(content)  # slices of it are views: untouched bytes are copied once
    parts: list[bytes | memoryview] = []
    numbered: list[tuple[int, str]] = []
    copied = 0  # content[:copied] is already in parts
    start, number = 0, 1  # content[start:] begins line `number` of the old file
    shift = 0  # lines added above line `number` so far
    for target in sorted(in_place):
        while number < target:
            start = content.index(b"\n", start) + 1
            number += 1
        end = content.find(b"\n", start)
        end = len(content) if end < 0 else end
        new = in_place[target]
        parts += [whole[copied:start], "\n".join(new).encode("utf-8")]
        numbered += [(target + shift + i, line) for i, line in enumerate(new)]
        shift += len(new) - 1
        copied = end
    parts.append(whole[copied:])
    lines = content.count(b"\n")
    if content and not content.endswith(b"\n"):
        parts.append(b"\n")
        lines += 1
    parts += [line.encode("utf-8") + b"\n" for line in appended]
    numbered += [(lines + shift + 1 + i, line) for i, line in enumerate(appended)]
    return b"".join(parts), numbered


def write(path: Path, merged: Merged) -> None:
    """Replace the registry atomically, its new lines validated first, and give the new file
    its store: for a registry this import makes, built as its records are validated, one at
    a time; else derived from the old file's."""
    from fundcmp import atomic, cache

    records = merged.records()
    if merged.base is None:
        cache.build_from(path, merged.content, records)
        for _ in records:  # what the build did not read: no index, or it could not be written
            pass
        atomic.write_bytes(path, merged.content)
        return
    changed = list(records)
    atomic.write_bytes(path, merged.content)
    try:
        if merged.base.store is not None:
            cache.derive(merged.base.store, merged.content, changed, merged.inserted_at,
                         merged.inserted)
    except KeyboardInterrupt:  # the registry is whole; only its index is left unbuilt
        raise atomic.WrittenThenInterrupted from None
