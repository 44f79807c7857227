"""Loading and validating a registry file into Programme values.

Every refusal is a RegistryError naming the file, the line, the programme and
the field. The YAML reader accepts a deliberately small set of implicit types
(null, true/false, decimal numbers, strings): YAML 1.1's `no`, `1:30`, `0050`
and unquoted dates stay strings, so they fail validation instead of silently
becoming a boolean, 90, 40 or a date.

A registry is untrusted input (see SECURITY.md): no tag is ever honoured, so
nothing in it is constructed or run; anchors and aliases are refused, so no
"billion laughs"; nesting is capped (MAX_DEPTH) and the file size too
(DEFAULT_MAX_BYTES, or $FUNDCMP_MAX_REGISTRY_BYTES). Text must be UTF-8: a
UTF-8 byte-order mark (as Windows editors write) is accepted and dropped, a
UTF-16 or UTF-32 file is refused with a message saying so.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import re
import stat
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fundcmp.errors import RegistryError, hidden
from fundcmp.model import (
    DateFact,
    Evidence,
    Kind,
    Programme,
    Published,
    Quantiles,
    Quantity,
    Source,
    Support,
    TextFact,
    Unit,
    between,
    ceiling,
    exact,
    is_money,
    unknown,
)

if TYPE_CHECKING:
    from fundcmp.cache import Store

SHIPPED = Path(__file__).with_name("programmes.yaml")
ENV_VAR = "FUNDCMP_REGISTRY"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DATE_RE = re.compile(r"^\d{4}(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?)?$")
# only a refused number needs it: compiled on first use, so a valid registry never pays
MONEY_TEXT = r"^\s*£?\s*([0-9][0-9,_]*(?:\.[0-9]+)?)\s*([kKmM]?)\s*$"
# Control characters (bar tab and newline) and bidirectional overrides: text that reaches a
# terminal must not be able to move the cursor, retitle the window or reorder what is read.
UNSAFE_CHAR_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MAX_FIGURE = 1e15  # no grant figure comes near; bigger ones are typing errors or hostile
# A duration is at least a day and at most a century: anything else is a typing error or
# hostile, and dividing by a vanishing duration would overflow. Zero stays allowed: a range
# from partial dates can start at it, and the arithmetic never divides by it.
MIN_DURATION_MONTHS = 12 / 365.25
MAX_DURATION_MONTHS = 1200.0
# Caps on text, so a hostile file cannot make a slug or a table cell megabytes long.
MAX_SLUG_CHARS = 200
MAX_NAME_CHARS = 500  # a programme's name, its funders and partners
MAX_QUOTE_CHARS = 2000
MAX_TEXT_CHARS = 10_000  # notes, descriptions, source titles and publishers
_NAME_FIELDS = frozenset({"name", "funders", "partners"})
# YAML reads these as line breaks, folding them into a space or a new line unseen.
_YAML_BREAKS = ("\u2028", "\u2029", "\x85")


@dataclass(frozen=True, slots=True)
class Registry:
    path: str
    programmes: tuple[Programme, ...]
    sources: tuple[Source, ...]

    def by_slug(self) -> dict[str, Programme]:
        return {p.slug: p for p in self.programmes}


class _Map(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key (and, decoded from
    JSON, how deep it nests: fundcmp.registry_jsonl)."""

    __slots__ = ("height", "key_lines", "line")

    line: int
    key_lines: dict[str, int]
    height: int


class _List(list[Any]):
    """A YAML sequence that remembers the line of each item."""

    __slots__ = ("item_lines",)

    item_lines: list[int]


_STR_TAGS = {"!", "tag:yaml.org,2002:str"}
_CONTAINER_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
MAX_DEPTH = 20  # a registry nests six deep; refusing deeper keeps hostile files cheap
MAX_BYTES_VAR = "FUNDCMP_MAX_REGISTRY_BYTES"
DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # room for 100,000 programmes and then some


def _line(event: Any) -> int:
    return int(event.start_mark.line) + 1


def parse(text: str, path: str) -> Any:
    """YAML text to plain values with line-aware mappings and sequences.

    Built from the parser's event stream, without recursion, so no file can
    exhaust the C or Python stack; anchors, aliases, explicit tags other than
    !!str, and nesting deeper than MAX_DEPTH are refused where they appear.
    """
    items = _parsed(text, path, keep=True)
    while True:
        try:
            next(items)
        except StopIteration as done:
            return done.value


def _parsed(text: str, path: str, keep: bool) -> Generator[tuple[Any, int, _Map], None, Any]:
    """parse, as a generator returning the document; unless `keep`, each item of the
    top-level `programmes` list is yielded (with its line and the document so far) as it
    ends, instead of being kept, so a large registry is never held whole."""
    import yaml

    _refuse_yaml_breaks(text, path)
    loader_class = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    loader = loader_class(text)
    try:
        return (yield from _build_tree(loader, path, keep))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "not valid YAML"
        if "nesting depth" in problem:  # newer libyaml stops deep flow nesting while scanning
            raise RegistryError(path, line, f"nested more than {MAX_DEPTH} levels deep, which "
                                "no registry needs") from None
        raise RegistryError(path, line, f"not valid YAML: {problem}{_tab_hint(text, line)}") \
            from None
    except yaml.reader.ReaderError as exc:
        # libyaml counts its position in bytes, the Python reader in characters: find the
        # character itself, whose first appearance is the one refused.
        line = text.count("\n", 0, max(text.find(chr(exc.character)), 0)) + 1
        raise RegistryError(path, line, f"contains the control character U+{exc.character:04X}, "
                            "which YAML does not allow") from None
    except yaml.YAMLError as exc:
        raise RegistryError(path, None, f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()


def _refuse_yaml_breaks(text: str, path: str) -> None:
    found = [i for i in (text.find(c) for c in _YAML_BREAKS) if i >= 0]
    if found:
        at = min(found)
        raise RegistryError(path, text.count("\n", 0, at) + 1, f"contains U+{ord(text[at]):04X}, "
                            "a line break YAML would silently read as a space or a new line; "
                            "remove it")


def _tab_hint(text: str, line: int | None) -> str:
    if line is None:
        return ""
    lines = text.split("\n", line)
    here = lines[line - 1] if len(lines) >= line else ""
    indent = here[: len(here) - len(here.lstrip(" \t"))]
    return " (a tab is used for indentation; indent with spaces)" if "\t" in indent else ""


def _build_tree(loader: Any, path: str,
                keep: bool) -> Generator[tuple[Any, int, _Map], None, Any]:
    """Assemble the one document's values from parser events, iteratively (see _parsed)."""
    import yaml

    from fundcmp.yaml_plain import plain_value

    root: Any = None
    documents = 0
    stack: list[Any] = []  # open _Map / _List containers, innermost last
    pending_keys: list[tuple[str, int] | None] = []  # per open mapping: key awaiting a value
    start_lines: list[int] = []  # per open container: the line it starts on

    def where(last: str = "") -> tuple[str | None, str]:
        """The programme (once its slug is read) and the field being read, for an error:
        (alpha, support.value) inside a programme, (None, sources[0].date) outside one."""
        steps: list[str] = []
        for open_container, key in zip(stack, pending_keys, strict=True):
            if isinstance(open_container, _List):
                steps.append(f"[{len(open_container)}]")
            elif key is not None:
                steps.append(key[0])
        if last:
            steps.append(last)
        slug = stack[2].get("slug") if len(stack) > 2 and steps[:1] == ["programmes"] \
            and isinstance(stack[2], _Map) else None
        if isinstance(slug, str) and SLUG_RE.match(slug) and len(steps) > 2:
            return slug, ".".join(steps[2:])
        text = "".join(s if s.startswith("[") or i == 0 else f".{s}"
                       for i, s in enumerate(steps))
        return None, _clip(text, 120) or "(top level)"

    def fail(line: int, message: str, last: str = "") -> RegistryError:
        programme, field = where(last)
        return RegistryError(path, line, message, programme, field)

    def add(value: Any, line: int) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        container = stack[-1]
        if isinstance(container, _List):
            container.append(value)
            container.item_lines.append(line)
            return
        key = pending_keys[-1]
        if key is None:
            if not isinstance(value, str):
                raise fail(line, f"keys must be text, not {_shown(value)}")
            if value in container:
                raise fail(line, f"duplicate key '{_clip(value)}' (first on line "
                           f"{container.key_lines[value]})", value)
            pending_keys[-1] = (value, line)
            return
        name, key_line = key
        container[name] = value
        container.key_lines[name] = key_line
        pending_keys[-1] = None

    def check_node(event: Any, allowed_tags: set[str]) -> None:
        if event.anchor is not None:
            raise fail(_line(event), f"anchors (&{_clip(event.anchor)}) and aliases are not "
                       "allowed in a registry")
        if event.tag is not None and event.tag not in allowed_tags:
            tag = event.tag.replace("tag:yaml.org,2002:", "!!", 1)
            raise fail(_line(event), f"the tag {_clip(tag)} is not allowed in a registry")

    def programme_item() -> bool:
        """Whether a value ending now is an item of the top-level `programmes` list."""
        return (len(stack) == 2 and isinstance(stack[1], _List) and isinstance(stack[0], _Map)
                and pending_keys[0] is not None and pending_keys[0][0] == "programmes")

    scalar = yaml.ScalarEvent  # the event nine times in ten: checked first, cheaply
    while (event := loader.get_event()) is not None:
        if event.__class__ is scalar:
            if event.anchor is not None or event.tag is not None:
                check_node(event, _STR_TAGS)
            value = plain_value(event.value) if event.tag is None and event.implicit[0] \
                else event.value
            if stack and pending_keys[-1] is not None:
                # the value of a mapping's key, most scalars: what add() does, inline
                into, (name, key_line) = stack[-1], pending_keys[-1]
                into[name] = value
                into.key_lines[name] = key_line
                pending_keys[-1] = None
                continue
            line = _line(event)
            if not keep and len(stack) == 2 and programme_item():
                yield value, line, stack[0]
                value = None  # a place holder, so later items keep their index
            add(value, line)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            check_node(event, _CONTAINER_TAGS)
            if len(stack) >= MAX_DEPTH:
                raise fail(_line(event), f"nested more than {MAX_DEPTH} levels deep, which no "
                           "registry needs")
            container: _Map | _List
            if isinstance(event, yaml.MappingStartEvent):
                container = _Map()
                container.line = _line(event)
                container.key_lines = {}
            else:
                container = _List()
                container.item_lines = []
            if stack and isinstance(stack[-1], _Map) and pending_keys[-1] is None:
                raise fail(_line(event), "keys must be text, not a "
                           + ("mapping" if isinstance(container, _Map) else "list"))
            stack.append(container)
            pending_keys.append(None)
            start_lines.append(_line(event))
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            pending_keys.pop()
            ended, line = stack.pop(), start_lines.pop()
            if not keep and len(stack) == 2 and programme_item():
                yield ended, line, stack[0]
                ended = None
            add(ended, line)
        elif isinstance(event, yaml.AliasEvent):
            raise fail(_line(event), f"aliases (*{_clip(event.anchor or '')}) and anchors are "
                       "not allowed in a registry")
        elif isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise RegistryError(path, _line(event), "a registry is one YAML document, "
                                    "but a second one starts here")
    return root


def _clip(text: str, limit: int = 60) -> str:
    """Text short enough to quote in a one-line error."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_text(path: Path | str) -> str:
    """The file's text: size-capped, UTF-8 (a UTF-8 byte-order mark is dropped)."""
    import codecs

    name = str(path)
    limit = _max_bytes(name)
    try:
        with open(path, "rb") as handle:
            # A regular file's size is known before reading; a device or pipe is read to the cap.
            too_big = os.fstat(handle.fileno()).st_size > limit
            raw = b"" if too_big else handle.read(limit + 1)
    except FileNotFoundError:
        raise RegistryError(name, None, "no such file") from None
    except IsADirectoryError:
        raise RegistryError(name, None, "is a directory, not a registry file") from None
    except OSError as exc:
        raise RegistryError(name, None, f"cannot read: {exc.strerror}") from None
    if too_big or len(raw) > limit:
        raise RegistryError(name, None, f"larger than the {limit:,}-byte limit for a registry "
                            f"(set {MAX_BYTES_VAR} to raise it)")
    for bom, encoding in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                          (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        if raw.startswith(bom):
            raise RegistryError(name, 1, f"is {encoding} text (it starts with a {encoding} "
                                "byte-order mark); save it as UTF-8")
    raw = raw.removeprefix(codecs.BOM_UTF8)
    nul = raw.find(b"\0")
    if nul >= 0:
        raise RegistryError(name, raw[:nul].count(b"\n") + 1, "contains a NUL byte, so it is "
                            "not UTF-8 text (UTF-16 without a byte-order mark?)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RegistryError(name, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot "
                            "start or continue a character here)") from None


def _max_bytes(name: str) -> int:
    setting = os.environ.get(MAX_BYTES_VAR, "").strip()
    if not setting:
        return DEFAULT_MAX_BYTES
    if not setting.isdigit() or int(setting) <= 0:
        raise RegistryError(name, None, f"{MAX_BYTES_VAR} must be a positive whole number of "
                            f"bytes, not '{_clip(setting)}'")
    return int(setting)


def load(path: Path | str, use_cache: bool = True) -> Registry:
    """Read, parse and validate a registry, or take it from the cache when its bytes are unchanged.

    The garbage collector is paused meanwhile: loading makes millions of
    objects and no cycles, and the collector's repeated passes over them made
    loading grow faster than the file (see benchmarks/).
    """
    with _collector_paused():
        store = indexed(path) if use_cache else None
        if store is not None:
            cached = store.registry()
            if not any(p.published is not None for p in cached.programmes):
                return cached
            return Registry(cached.path, tuple(_linked(list(cached.programmes), cached.path)),
                            cached.sources)
        name = str(path)
        text = read_text(path)
        if use_cache and _small_yaml(name, text):
            from fundcmp import small_cache

            return small_cache.registry(name, text, lambda: _records_in(text, name))
        return collect(name, _records_in(text, name))


def _small_yaml(name: str, text: str) -> bool:
    """Whether the small-registry cache (fundcmp.small_cache) serves this registry: YAML under
    the index's threshold, with no published_as links (resolved across the file on load)."""
    from fundcmp import cache_dir, registry_jsonl

    return cache_dir.enabled() and not registry_jsonl.is_jsonl(name) and \
        len(text.encode()) < cache_dir.MIN_BYTES and "published_as" not in text


def indexed(path: Path | str) -> Store | None:
    """The registry's indexed store (fundcmp.cache.Store), built on first use; None when the
    cache is off or cannot be used, so the caller reads the file itself."""
    from fundcmp import cache_dir

    if not cache_dir.enabled():
        return None
    name = str(path)
    with _collector_paused():
        try:
            info = os.stat(path)
        except OSError:
            return None  # read_text reports it
        if not stat.S_ISREG(info.st_mode):
            return None  # a device or pipe has no size to check and may never end
        size = info.st_size
        if size > _max_bytes(name):
            read_text(path)  # refuses with the usual message
        if size < cache_dir.MIN_BYTES:
            return None  # a file this small is read (or its plain values, small_cache) faster
        if _links(path):
            return None  # published_as links are resolved across the whole registry on load
        from fundcmp import cache

        return cache.open_or_build(path, lambda: records(path), parallel=True)


def _links(path: Path | str) -> bool:
    """Whether a registry may link entries (published_as), which the index does not resolve."""
    import mmap

    word, tail = b"published_as", b""
    try:
        with open(path, "rb") as handle:
            # not mappable (empty, or not a regular file): read it instead
            with contextlib.suppress(OSError, ValueError), \
                    mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
                return view.find(word) >= 0
            while chunk := handle.read(1 << 20):
                if word in tail + chunk:
                    return True
                tail = chunk[-len(word):]
    except OSError:
        return False
    return False


@contextmanager
def _collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build(doc: Any, path: str) -> Registry:
    """Validate a parsed document and turn it into a Registry."""
    return collect(path, unique(path, _yaml_records(doc, path)))


@dataclass(frozen=True, slots=True)
class Record:
    """One validated source or programme, its line, and the plain values it was read from
    (a JSON line's text, or a YAML mapping), which the cache keeps to validate again."""

    value: Programme | Source
    raw: Any
    line: int


def collect(path: str, records: Iterable[Record]) -> Registry:
    programmes: list[Programme] = []
    sources: list[Source] = []
    for record in records:
        if isinstance(record.value, Programme):
            programmes.append(record.value)
        else:
            sources.append(record.value)
    if any(p.published is not None for p in programmes):
        programmes = _linked(programmes, path)
    return Registry(path, tuple(programmes), tuple(sources))


def unique(path: str, records: Iterable[Record]) -> Iterator[Record]:
    """The records, refusing a slug given twice (every format, one message)."""
    seen: dict[str, int] = {}
    for record in records:
        if isinstance(record.value, Programme):
            _first_use(path, seen, record.value)
        yield record


def _first_use(path: str, seen: dict[str, int], value: Programme) -> None:
    if value.slug in seen:
        raise RegistryError(path, value.line, f"duplicate slug (first on line "
                            f"{seen[value.slug]})", value.slug, "slug")
    seen[value.slug] = value.line


def records(path: Path | str) -> Iterator[Record]:
    """Every source and programme of a registry file, validated, in file order.

    The format follows the file's suffix: .jsonl is JSON Lines (one record a
    line, what `fundcmp import` writes), anything else YAML (what people write).
    """
    return _records_in(read_text(path), str(path))


def _records_in(text: str, name: str) -> Iterator[Record]:
    from fundcmp import registry_jsonl

    if registry_jsonl.is_jsonl(name):
        return unique(name, registry_jsonl.records(text, name))
    return _streamed(text, name)


def _streamed(text: str, path: str) -> Iterator[Record]:
    """What unique(_yaml_records(parse(text))) gives, in the same order and with the same
    first error, without holding the document: each programme is validated as its item
    ends (once the sources before it are known), then dropped.

    An error found early waits until the parse ends, since a YAML error anywhere, then
    the document's own checks, come first; programmes given before `sources` wait too.
    """
    items = _parsed(text, path, keep=False)
    sources: dict[str, Source] | None = None
    order: dict[str, int] = {}
    seen: dict[str, int] = {}
    waiting: list[tuple[Any, int]] = []
    failure: RegistryError | None = None
    while True:
        try:
            item, line, doc = next(items)
        except StopIteration as done:
            doc = done.value
            break
        if failure is not None:
            continue
        try:
            if sources is None and "sources" in doc:
                sources = _sources(doc, path)
                order = {sid: i for i, sid in enumerate(sources)}
                yield from _source_records(doc, sources)
            if sources is None:
                waiting.append((item, line))
                continue
            programme = validate_programme(item, sources, path, line, order)
            _first_use(path, seen, programme)
        except RegistryError as exc:
            failure = exc
            continue
        yield Record(programme, item, programme.line)
    checked, _ = _document(doc, path)
    if failure is not None:
        raise failure
    if sources is None:
        order = {sid: i for i, sid in enumerate(checked)}
        yield from _source_records(doc, checked)
        for item, line in waiting:
            programme = validate_programme(item, checked, path, line, order)
            _first_use(path, seen, programme)
            yield Record(programme, item, programme.line)


def _source_records(doc: _Map, sources: dict[str, Source]) -> Iterator[Record]:
    for raw, found in zip(doc["sources"], sources.values(), strict=True):
        yield Record(found, raw, raw.line if isinstance(raw, _Map) else 0)


def _yaml_records(doc: Any, path: str) -> Iterator[Record]:
    sources, items = _document(doc, path)
    order = {sid: i for i, sid in enumerate(sources)}
    yield from _source_records(doc, sources)
    for item, item_line in zip(items, _item_lines(items), strict=True):
        programme = validate_programme(item, sources, path, item_line, order)
        yield Record(programme, item, programme.line)


def _document(doc: Any, path: str) -> tuple[dict[str, Source], list[Any]]:
    """A parsed registry's sources, validated, and its list of programmes: the checks of
    the document as a whole, which come before any programme's."""
    if doc is None:
        raise RegistryError(path, 1, "the registry is empty: it needs 'sources' and "
                            "'programmes'")
    if not isinstance(doc, _Map):
        raise RegistryError(path, 1, "the registry must be a mapping with 'sources' and "
                            f"'programmes', not {_shown(doc)}")
    _check_keys(doc, {"sources", "programmes"}, path, None, "")
    for key in ("sources", "programmes"):
        if key not in doc:
            raise RegistryError(path, doc.line, f"missing required field '{key}'")
    sources = _sources(doc, path)
    items = doc["programmes"]
    if not isinstance(items, list):
        raise RegistryError(path, doc.key_lines["programmes"], "must be a list of programmes",
                            field="programmes")
    return sources, items


def _linked(programmes: list[Programme], path: str) -> list[Programme]:
    """Hand-written entries given the observed figures of the imported entry they name."""
    from dataclasses import replace

    index = {p.slug: p for p in programmes}
    result = []
    for p in programmes:
        link = p.published
        if link is None:
            result.append(p)
            continue
        line = link.line or p.line
        ctx = _Ctx(path, p.slug, {})
        target = index.get(link.entry)
        field = "published_as.entry"
        if target is None:
            raise ctx.fail(line, field, f"no programme with slug '{_clip(link.entry)}' in this "
                           "registry (import its grants first)")
        if target.slug == p.slug:
            raise ctx.fail(line, field, "names this programme itself; name the imported entry")
        if target.funding_per_team.kind is not Kind.OBSERVED or target.published is not None:
            raise ctx.fail(line, field, f"'{target.slug}' is not an imported entry (its funding "
                           "per team is not observed from grants)")
        result.append(replace(p, published=replace(
            link, grants=target.teams, funding_per_grant=target.funding_per_team,
            total_funding=target.total_funding, duration=target.duration)))
    return result


class _Ctx:
    """Where in the file a value sits, so an error can say so."""

    __slots__ = ("path", "slug", "sources")

    def __init__(self, path: str, slug: str | None, sources: dict[str, Source]) -> None:
        self.path = path
        self.slug = slug
        self.sources = sources

    def fail(self, line: int | None, field: str, message: str) -> RegistryError:
        return RegistryError(self.path, line, message, self.slug, field)


def _check_keys(m: _Map, allowed: set[str], path: str, slug: str | None, prefix: str) -> None:
    if m.keys() <= allowed:
        return
    for key in m:
        if key not in allowed:
            import difflib

            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else \
                f"; expected one of {', '.join(sorted(allowed))}"
            raise RegistryError(path, m.key_lines[key], f"unknown field{hint}", slug,
                                prefix + key)


def _text(value: Any, ctx: _Ctx, line: int, field: str) -> str:
    if type(value) is str and 0 < len(value) <= MAX_NAME_CHARS and value.isprintable() \
            and not value.isspace():
        return value  # within every cap and nothing to refuse: the checks below all pass
    if not isinstance(value, str) or not value.strip():
        raise ctx.fail(line, field, f"must be non-empty text, not {_shown(value)}")
    limit, words = (MAX_NAME_CHARS, "a name") if field in _NAME_FIELDS else \
        (MAX_QUOTE_CHARS, "a quote") if field.endswith("quote") else (MAX_TEXT_CHARS, "text")
    if len(value) > limit:
        raise ctx.fail(line, field, _too_long(len(value), limit, words))
    if not value.isprintable():
        unsafe = UNSAFE_CHAR_RE.search(value)
        if unsafe:
            raise ctx.fail(line, field, f"contains U+{ord(unsafe.group()):04X}, a control "
                           "character that could rewrite the terminal it is shown on")
        invisible = next((c for c in value if c not in "\t\n" and hidden(c)), None)
        if invisible is not None:
            raise ctx.fail(line, field, f"contains U+{ord(invisible):04X}, an invisible "
                           "character that could hide or reorder what is read")
    return value


def _too_long(length: int, limit: int, words: str) -> str:
    return f"longer than the {limit:,}-character limit for {words} ({length:,} characters)"


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)}" if value else "an empty list"
    if isinstance(value, str):
        return repr(_clip(value))
    return repr(value)


def _item_lines(items: list[Any]) -> list[int]:
    """The line of each item of a parsed list (0, meaning unknown, for a built one)."""
    return items.item_lines if isinstance(items, _List) else [0] * len(items)


def _texts(value: Any, ctx: _Ctx, line: int, field: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ctx.fail(line, field, f"must be a list of text, not {_shown(value)}")
    return tuple(_text(v, ctx, at or line, field)
                 for v, at in zip(value, _item_lines(value), strict=True))


def _funders(value: Any, ctx: _Ctx, line: int, field: str) -> tuple[str, ...]:
    names = _texts(value, ctx, line, field)
    if not names:
        raise ctx.fail(line, field, "must name at least one funder")
    return names


def _mapping(value: Any, ctx: _Ctx, line: int, field: str) -> _Map:
    if not isinstance(value, _Map):
        raise ctx.fail(line, field, f"must be a mapping, not {_shown(value)}")
    return value


def _sources(doc: _Map, path: str) -> dict[str, Source]:
    ctx = _Ctx(path, None, {})
    items = doc["sources"]
    if not isinstance(items, list):
        raise ctx.fail(doc.key_lines["sources"], "sources", "must be a list of sources")
    sources: dict[str, Source] = {}
    for item, item_line in zip(items, _item_lines(items), strict=True):
        found = source(item, path, item_line)
        if found.id in sources:
            raise ctx.fail(item.key_lines["id"], "sources.id", f"duplicate source id "
                           f"'{found.id}'")
        sources[found.id] = found
    return sources


_SOURCE_FIELDS = {"id", "publisher", "title", "date", "document", "url"}


def source(item: Any, path: str, line: int) -> Source:
    """One entry of `sources`, validated; every registry format reads its sources through it."""
    ctx = _Ctx(path, None, {})
    m = _mapping(item, ctx, line, "sources")
    _check_keys(m, _SOURCE_FIELDS, path, None, "sources.")
    for key in ("id", "publisher", "title", "date"):
        if key not in m:
            raise ctx.fail(m.line, f"sources.{key}", f"missing required field '{key}'")
    sid = _text(m["id"], ctx, m.key_lines["id"], "sources.id")
    _date_text(m["date"], ctx, m.key_lines["date"], "sources.date")
    return Source(
        id=sid,
        publisher=_text(m["publisher"], ctx, m.key_lines["publisher"], "sources.publisher"),
        title=_text(m["title"], ctx, m.key_lines["title"], "sources.title"),
        date=m["date"],
        document=_text(m["document"], ctx, m.key_lines["document"], "sources.document")
        if "document" in m else "",
        url=_text(m["url"], ctx, m.key_lines["url"], "sources.url") if "url" in m else "",
    )


def located(value: Any, path: str, line: int, depth: int = 0) -> Any:
    """Plain decoded values (JSON's) as the parser's line-aware containers, all on one line,
    so one validator serves every format. Nesting past MAX_DEPTH is refused as in YAML."""
    if depth > MAX_DEPTH:
        raise RegistryError(path, line, f"nested more than {MAX_DEPTH} levels deep, which no "
                            "registry needs")
    # Copied whole, then only containers replaced: a value deeper than MAX_DEPTH (the
    # items of a container at MAX_DEPTH) is still refused by the call above.
    if isinstance(value, dict):
        m = _Map(value)
        m.line = line
        m.key_lines = dict.fromkeys(value, line)
        for key, item in value.items():
            if depth >= MAX_DEPTH or isinstance(item, (dict, list)):
                m[key] = located(item, path, line, depth + 1)
        return m
    if isinstance(value, list):
        items = _List(value)
        items.item_lines = [line] * len(items)
        for i, item in enumerate(value):
            if depth >= MAX_DEPTH or isinstance(item, (dict, list)):
                items[i] = located(item, path, line, depth + 1)
        return items
    return value


def _date_text(value: Any, ctx: _Ctx, line: int, field: str) -> str:
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise ctx.fail(line, field, f"must be a quoted date \"YYYY\", \"YYYY-MM\" or "
                       f"\"YYYY-MM-DD\", not {_shown(value)}")
    if len(value) == 10:
        import datetime

        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            raise ctx.fail(line, field, f"{value} is not a day of the calendar") from None
    return value


def _evidence(m: _Map, ctx: _Ctx, field: str, required: bool) -> Evidence | None:
    if "source" not in m or "quote" not in m:
        if "source" in m or "quote" in m:
            key = "quote" if "source" in m else "source"
            raise ctx.fail(m.line, f"{field}.{key}", f"missing required field '{key}'")
        if required:
            raise ctx.fail(m.line, field, "a stated figure needs 'source' and 'quote'")
        return None
    sid = _text(m["source"], ctx, m.key_lines["source"], f"{field}.source")
    if sid not in ctx.sources:
        raise ctx.fail(m.key_lines["source"], f"{field}.source",
                       f"no source with id '{sid}' in 'sources'")
    quote = _text(m["quote"], ctx, m.key_lines["quote"], f"{field}.quote")
    return Evidence(sid, quote)


QUANTITY_SHAPES = ("amount", "range", "up_to", "observed", "unknown")
_SHAPES = frozenset(QUANTITY_SHAPES)
_QUANTITY_FIELDS = {*QUANTITY_SHAPES, "derived", "note", "source", "quote", "currency"}


def _number(value: Any, ctx: _Ctx, line: int, field: str, unit: str) -> float:
    kind = type(value)
    # A plain number in range passes every check below: taken at once (a registry of imported
    # programmes holds fifty a programme). NaN fails the comparison, a bool the type test.
    if (kind is float or kind is int) and 0 <= value <= MAX_FIGURE:
        figure: float = value
        if unit == Unit.MONTHS:
            if not figure or MIN_DURATION_MONTHS <= figure <= MAX_DURATION_MONTHS:
                return figure
        elif unit != Unit.COUNT or figure == int(figure):
            return figure
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = ""
        if isinstance(value, str):
            match = re.match(MONEY_TEXT, value)
            if match:
                digits = float(match.group(1).replace(",", "").replace("_", ""))
                digits *= {"k": 1e3, "m": 1e6}.get(match.group(2).lower(), 1)
                hint = f"; write the plain number {digits:.0f}" if digits == int(digits) \
                    else f"; write the plain number {digits}"
        raise ctx.fail(line, field, f"must be a number, not {_shown(value)}{hint}")
    if math.isnan(value):
        raise ctx.fail(line, field, "must be a number, not NaN")
    if math.isinf(value):
        raise ctx.fail(line, field, "must be a finite number; this one is too large to hold")
    if value < 0:
        raise ctx.fail(line, field, f"must not be negative ({value})")
    if value > MAX_FIGURE:
        raise ctx.fail(line, field, f"must be at most {MAX_FIGURE:.0e}, not {value:.6g}")
    if unit == Unit.COUNT and value != int(value):
        raise ctx.fail(line, field, f"must be a whole number ({value})")
    if unit == Unit.MONTHS and value and not MIN_DURATION_MONTHS <= value <= MAX_DURATION_MONTHS:
        raise ctx.fail(line, field, "a duration must be between one day and 100 years "
                       f"({MIN_DURATION_MONTHS:.4f} to {MAX_DURATION_MONTHS:,.0f} months) or 0, "
                       f"not {value:.6g}")
    return value


def _quantity(value: Any, ctx: _Ctx, line: int, field: str, unit: str) -> Quantity:
    m = _mapping(value, ctx, line, field)
    _check_keys(m, _QUANTITY_FIELDS, ctx.path, ctx.slug, field + ".")
    given = _SHAPES.intersection(m)
    if len(given) != 1:
        shapes = [k for k in QUANTITY_SHAPES if k in m]
        raise ctx.fail(m.line, field, "needs exactly one of amount, range, up_to, observed or "
                       "unknown" + (f" (has {', '.join(shapes)})" if shapes else ""))
    (shape,) = given
    where = m.key_lines[shape]
    note = _text(m["note"], ctx, m.key_lines["note"], f"{field}.note") if "note" in m else ""
    if "currency" in m:
        unit = _currency(m["currency"], ctx, m.key_lines["currency"], f"{field}.currency", unit)
    if shape == "observed":
        return _observed(m, ctx, field, unit, note)
    if shape == "unknown":
        reason = _text(m["unknown"], ctx, where, f"{field}.unknown")
        if "derived" in m:
            raise ctx.fail(m.key_lines["derived"], f"{field}.derived",
                           "an unknown figure cannot be derived")
        return Quantity(Kind.UNKNOWN, unit, note=reason)
    formula = _text(m["derived"], ctx, m.key_lines["derived"], f"{field}.derived") \
        if "derived" in m else ""
    evidence = _evidence(m, ctx, field, required=not formula)
    sub = f"{field}.{shape}"
    if shape == "amount":
        q = exact(_number(m["amount"], ctx, where, sub, unit), unit, evidence, note)
    elif shape == "up_to":
        q = ceiling(_number(m["up_to"], ctx, where, sub, unit), unit, evidence, note)
    else:
        pair = m["range"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise ctx.fail(where, sub, f"must be a list [low, high], not {_shown(pair)}")
        low, high = (_number(v, ctx, where, sub, unit) for v in pair)
        if low > high:
            raise ctx.fail(where, sub, f"low {_plain(low)} is greater than high {_plain(high)}")
        q = between(low, high, unit, evidence, note)
    if formula:
        return Quantity(Kind.DERIVED, unit, q.low, q.mid, q.high, formula=formula,
                        evidence=evidence, note=note)
    return q


def _currency(value: Any, ctx: _Ctx, line: int, field: str, unit: str) -> str:
    code = _text(value, ctx, line, field)
    if not is_money(unit):
        raise ctx.fail(line, field, "only a sum of money has a currency")
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ctx.fail(line, field, f"must be an ISO 4217 code such as GBP or EUR, not {code!r}")
    return code


def _observed(m: _Map, ctx: _Ctx, field: str, unit: str, note: str) -> Quantity:
    """A spread seen over n grants; `derived` says what was observed, `source` names the data.

    Data files have no words to quote, so an observed figure's source needs no quote.
    """
    sub = f"{field}.observed"
    spread = _mapping(m["observed"], ctx, m.key_lines["observed"], sub)
    _check_keys(spread, {"min", "median", "max", "n", "quartiles", "deciles"}, ctx.path,
                ctx.slug, sub + ".")
    for key in ("min", "median", "max", "n"):
        if key not in spread:
            raise ctx.fail(spread.line, f"{sub}.{key}", f"missing required field '{key}'")
    low, mid, high = (_number(spread[k], ctx, spread.key_lines[k], f"{sub}.{k}", unit)
                      for k in ("min", "median", "max"))
    n = _number(spread["n"], ctx, spread.key_lines["n"], f"{sub}.n", Unit.COUNT)
    if n < 1:
        raise ctx.fail(spread.key_lines["n"], f"{sub}.n", "must be at least 1")
    if not low <= mid <= high:
        raise ctx.fail(spread.line, sub, f"needs min <= median <= max, not {low:g}, {mid:g}, "
                       f"{high:g}")
    if "derived" not in m:
        raise ctx.fail(m.line, f"{field}.derived", "an observed figure needs 'derived' "
                       "saying what was observed")
    formula = _text(m["derived"], ctx, m.key_lines["derived"], f"{field}.derived")
    evidence = None
    if "source" in m:
        sid = _text(m["source"], ctx, m.key_lines["source"], f"{field}.source")
        if sid not in ctx.sources:
            raise ctx.fail(m.key_lines["source"], f"{field}.source",
                           f"no source with id '{sid}' in 'sources'")
        quote = _text(m["quote"], ctx, m.key_lines["quote"], f"{field}.quote") \
            if "quote" in m else ""
        evidence = Evidence(sid, quote)
    elif "quote" in m:
        raise ctx.fail(m.key_lines["quote"], f"{field}.source", "a quote needs a 'source'")
    return Quantity(Kind.OBSERVED, unit, low, mid, high, formula=formula, n=int(n),
                    evidence=evidence, note=note,
                    quantiles=_quantiles(spread, ctx, sub, unit, (low, mid, high)))


def _cut_points(spread: _Map, key: str, count: int, ctx: _Ctx, sub: str, unit: str,
                ends: tuple[float, float]) -> tuple[float, ...]:
    line = spread.key_lines[key]
    values = spread[key]
    if not isinstance(values, list) or len(values) != count:
        raise ctx.fail(line, f"{sub}.{key}", f"must be a list of {count} numbers, not "
                       f"{_shown(values)}")
    cuts = tuple(_number(v, ctx, line, f"{sub}.{key}", unit) for v in values)
    # The definition scales and divides, so a cut may stray from its neighbours by rounding.
    bounds = (ends[0], *cuts, ends[1])
    if any(b < a and not _close(a, b) for a, b in pairwise(bounds)):
        raise ctx.fail(line, f"{sub}.{key}", "must rise from low to high, between min and "
                       "max")
    return cuts


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _quantiles(spread: _Map, ctx: _Ctx, sub: str, unit: str,
               spread_values: tuple[float, float, float]) -> Quantiles | None:
    """Quartiles and deciles, both or neither, each rising within min..max, middles the median.

    They follow fundcmp.quantiles.METHOD; a cut may differ from the median, or stray
    past a neighbour or an end, by rounding (the definition scales and divides), never more.
    """
    has = [k for k in ("quartiles", "deciles") if k in spread]
    if not has:
        return None
    if len(has) == 1:
        missing = "deciles" if has == ["quartiles"] else "quartiles"
        raise ctx.fail(spread.line, f"{sub}.{missing}", f"missing required field '{missing}' "
                       f"(quartiles and deciles come together)")
    low, median, high = spread_values
    quartiles = _cut_points(spread, "quartiles", 3, ctx, sub, unit, (low, high))
    deciles = _cut_points(spread, "deciles", 9, ctx, sub, unit, (low, high))
    for key, middle in (("quartiles", quartiles[1]), ("deciles", deciles[4])):
        if not _close(middle, median):
            raise ctx.fail(spread.key_lines[key], f"{sub}.{key}", f"the middle one "
                           f"({_plain(middle)}) must be the median ({_plain(median)})")
    q1, q2, q3 = quartiles
    return Quantiles((q1, q2, q3), deciles)


def quantity_data(q: Quantity) -> dict[str, Any]:
    """A quantity as a registry states it: loading the result gives the same quantity."""
    data: dict[str, Any] = {}
    if q.kind is Kind.UNKNOWN or q.high is None:
        data["unknown"] = q.note or "not stated in the sources"
    elif q.kind is Kind.OBSERVED:
        data["observed"] = {"min": _plain(q.low), "median": _plain(q.mid),
                            "max": _plain(q.high), "n": q.n}
        if q.quantiles is not None:
            data["observed"]["quartiles"] = [_plain(v) for v in q.quantiles.quartiles]
            data["observed"]["deciles"] = [_plain(v) for v in q.quantiles.deciles]
    elif q.low is None:
        data["up_to"] = _plain(q.high)
    elif q.low == q.high:
        data["amount"] = _plain(q.low)
    else:
        data["range"] = [_plain(q.low), _plain(q.high)]
    if is_money(q.unit) and q.unit != Unit.GBP:
        data["currency"] = str(q.unit)
    if q.formula and "unknown" not in data:
        data["derived"] = q.formula
    if q.evidence is not None:
        data["source"] = q.evidence.source
        if q.evidence.quote:
            data["quote"] = q.evidence.quote
    if q.note and "unknown" not in data:
        data["note"] = q.note
    return data


def _plain(value: float | None) -> int | float | None:
    return int(value) if value is not None and value == int(value) else value


def _date(value: Any, ctx: _Ctx, line: int, field: str) -> DateFact:
    m = _mapping(value, ctx, line, field)
    _check_keys(m, {"date", "source", "quote"}, ctx.path, ctx.slug, field + ".")
    if "date" not in m:
        raise ctx.fail(m.line, f"{field}.date", "missing required field 'date'")
    text = _date_text(m["date"], ctx, m.key_lines["date"], f"{field}.date")
    return DateFact(text, _evidence(m, ctx, field, required=True))


def _text_fact(value: Any, ctx: _Ctx, line: int, field: str) -> TextFact:
    m = _mapping(value, ctx, line, field)
    _check_keys(m, {"text", "source", "quote"}, ctx.path, ctx.slug, field + ".")
    if "text" not in m:
        raise ctx.fail(m.line, f"{field}.text", "missing required field 'text'")
    return TextFact(_text(m["text"], ctx, m.key_lines["text"], f"{field}.text"),
                    _evidence(m, ctx, field, required=True))


def _support(value: Any, ctx: _Ctx, line: int, field: str) -> Support:
    m = _mapping(value, ctx, line, field)
    _check_keys(m, {"description", "value", "days", "components", "source", "quote"},
                ctx.path, ctx.slug, field + ".")
    lines = m.key_lines
    return Support(
        value=_quantity(m["value"], ctx, lines["value"], f"{field}.value", Unit.GBP)
        if "value" in m else unknown(Unit.GBP),
        days=_quantity(m["days"], ctx, lines["days"], f"{field}.days", Unit.DAYS)
        if "days" in m else unknown(Unit.DAYS),
        description=_text(m["description"], ctx, lines["description"], f"{field}.description")
        if "description" in m else "",
        components=_texts(m["components"], ctx, lines["components"], f"{field}.components")
        if "components" in m else (),
        evidence=_evidence(m, ctx, field, required=False),
    )


def _published(value: Any, ctx: _Ctx, line: int, field: str) -> Published:
    """funder_id and programme as 360Giving names them; entry, the imported entry's slug."""
    m = _mapping(value, ctx, line, field)
    _check_keys(m, {"funder_id", "programme", "entry"}, ctx.path, ctx.slug, field + ".")
    for key in ("funder_id", "programme", "entry"):
        if key not in m:
            raise ctx.fail(m.line, f"{field}.{key}", f"missing required field '{key}'")
    entry = _text(m["entry"], ctx, m.key_lines["entry"], f"{field}.entry")
    if not SLUG_RE.match(entry):
        raise ctx.fail(m.key_lines["entry"], f"{field}.entry", "must be the slug of an "
                       f"imported entry, not {_shown(entry)}")
    return Published(_text(m["funder_id"], ctx, m.key_lines["funder_id"], f"{field}.funder_id"),
                     _text(m["programme"], ctx, m.key_lines["programme"], f"{field}.programme"),
                     entry, line=line)


def _price_year(value: Any, ctx: _Ctx, line: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1800 <= value <= 2200:
        raise ctx.fail(line, field, f"must be a year such as 2020, not {_shown(value)}")
    return value


def _quantity_of(unit: str) -> Callable[[Any, _Ctx, int, str], Quantity]:
    """The reader of a quantity in `unit` (a partial: no Python frame of its own per field)."""
    from functools import partial

    return partial(_quantity, unit=unit)


_FIELDS: dict[str, Callable[[Any, _Ctx, int, str], Any]] = {
    "name": _text,
    "funders": _funders,
    "partners": _texts,
    "focus": _text_fact,
    "part_of": _text_fact,
    "announced": _date,
    "start": _date,
    "end": _date,
    "team_noun": _text,
    "teams": _quantity_of(Unit.COUNT),
    "funding_per_team": _quantity_of(Unit.GBP),
    "total_funding": _quantity_of(Unit.GBP),
    "funding_per_year": _quantity_of(Unit.GBP),
    "duration": _quantity_of(Unit.MONTHS),
    "support": _support,
    "applications": _quantity_of(Unit.COUNT),
    "price_year": _price_year,
    "published_as": _published,
}
_REQUIRED = ("slug", "name", "funders")
_ALLOWED = {"slug", *_FIELDS}


def validate_programme(item: Any, sources: dict[str, Source], path: str, list_line: int,
                       order: dict[str, int]) -> Programme:
    """One programme mapping, validated; every registry format (and the cache) reads through it."""
    ctx = _Ctx(path, None, sources)
    m = _mapping(item, ctx, list_line, "programmes")
    slug_value = m.get("slug")
    if isinstance(slug_value, str) and len(slug_value) > MAX_SLUG_CHARS:
        raise ctx.fail(m.key_lines["slug"], "slug", _too_long(len(slug_value), MAX_SLUG_CHARS,
                                                              "a slug"))
    if isinstance(slug_value, str) and SLUG_RE.match(slug_value):
        ctx.slug = slug_value
    _check_keys(m, _ALLOWED, path, ctx.slug, "")
    for key in _REQUIRED:
        if key not in m:
            raise ctx.fail(m.line, key, f"missing required field '{key}'")
    if ctx.slug is None:
        raise ctx.fail(m.key_lines["slug"], "slug", "must be lower-case words joined by "
                       f"hyphens, such as shared-purpose, not {_shown(slug_value)}")
    values: dict[str, Any] = {}
    for key, value in m.items():
        if key != "slug":
            values[key] = _FIELDS[key](value, ctx, m.key_lines[key], key)
    if "published_as" in values:
        values["published"] = values.pop("published_as")
    used = _cited(values)
    # The few sources this programme cites, in registry order, without walking every source.
    values["sources"] = tuple(sources[s] for s in sorted(used, key=order.__getitem__))
    return Programme(slug=ctx.slug, line=m.line, **values)


def _cited(values: dict[str, Any]) -> set[str]:
    """The ids of the sources the evidence of these values names (a support's own, its
    value's and its days' too): one pass, as it runs for every programme read."""
    found: set[str] = set()
    for value in values.values():
        if isinstance(value, Support):
            for part in (value, value.value, value.days):
                if part.evidence is not None:
                    found.add(part.evidence.source)
            continue
        evidence = getattr(value, "evidence", None)
        if evidence is not None:
            found.add(evidence.source)
    return found
