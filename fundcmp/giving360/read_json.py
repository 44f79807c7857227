"""Grants from a 360Giving JSON data package (`{"grants": [...], ...}`), streamed.

ijson decodes the file in chunks with its C backend (yajl2_c) where that is
installed, else its pure-Python backend: the same events, slower. Grants are
taken one at a time from `grants`; the package's own `publisher`, `issued` and
`modified` are picked from the same bytes by small parsers beside it, so the
file is read once and memory stays flat however many grants it holds.
"""

from __future__ import annotations

import collections
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from fundcmp.errors import one_line
from fundcmp.giving360.fields import text
from fundcmp.giving360.reading import (
    FACT_KEYS,
    Facts,
    FileInfo,
    ProgressSink,
    RawGrant,
    first_byte,
    open_binary,
)

META_KEYS = ("issued", "modified")
SCALARS = ("string", "number", "integer", "double")
TAIL_BYTES = 1 << 16
MAX_TAIL_TRIES = 200


def backend() -> ModuleType:
    """ijson's C backend when it is installed, else its pure-Python one."""
    import ijson

    try:
        return ijson.get_backend("yajl2_c")  # type: ignore[no-any-return]
    except ImportError:
        return ijson.get_backend("python")  # type: ignore[no-any-return]


_EVENT_KINDS = {"start_array": "a list", "start_map": "an object", "string": "a string",
                "number": "a number", "integer": "a number", "double": "a number",
                "boolean": "true or false", "null": "null"}
_JSON_KINDS = {type(None): "null", bool: "true or false", str: "a string", list: "a list"}


def facts(obj: Any) -> Facts:
    """The facts fundcmp reads from one grant object (of an array field, its first object),
    in FACT_KEYS order."""
    if type(obj) is not dict:
        return (*_NOT_A_GRANT_FACTS, _JSON_KINDS.get(type(obj), "a number"))
    get = obj.get
    funder, programme = get("fundingOrganization"), get("grantProgramme")
    planned, recipient = get("plannedDates"), get("recipientOrganization")
    person = get("recipientIndividual")
    # Written out rather than a helper per field: this runs once per grant of millions.
    if type(funder) is list:
        funder = funder[0] if funder else None
    if type(funder) is not dict:
        funder = _NONE
    if type(programme) is list:
        programme = programme[0] if programme else None
    if type(programme) is not dict:
        programme = _NONE
    if type(planned) is list:
        planned = planned[0] if planned else None
    if type(planned) is not dict:
        planned = _NONE
    if type(recipient) is list:
        recipient = recipient[0] if recipient else None
    if type(recipient) is not dict:
        recipient = _NONE
    if type(person) is list:
        person = person[0] if person else None
    if type(person) is not dict:
        person = _NONE
    return (get("id"), get("amountAwarded"), get("currency"), get("awardDate"),
            funder.get("id"), funder.get("name"), programme.get("code"), programme.get("title"),
            planned.get("startDate"), planned.get("endDate"), planned.get("duration"),
            recipient.get("id"), recipient.get("name"), person.get("id"), person.get("name"),
            None)


_NONE: dict[str, Any] = {}
_NOT_A_GRANT_FACTS = (None,) * (len(FACT_KEYS) - 1)


def grants(path: Path, info: FileInfo, on_bytes: ProgressSink | None,
           ijson_backend: ModuleType | None = None) -> Iterator[RawGrant]:
    """Every grant of the package, in order; info gets the package's publisher and date."""
    ijson = ijson_backend or backend()
    meta = _meta_before_grants(path, info, ijson)
    where = f"{info.name}: grants["
    with open_binary(path, info) as raw:
        stream = _Tail(raw, on_bytes)
        index = 0
        try:
            for obj in ijson.items(stream, "grants.item", use_float=True):
                yield f"{where}{index}]", facts(obj)
                index += 1
        except Exception as exc:  # ijson's errors share no base class across backends
            raise info.refuse(f"not a 360Giving JSON data package: {_what(exc)} "
                              f"(character {stream.read_bytes})") from None
    meta.update(_meta_after_grants(stream.tail))
    publisher = meta.get("publisher")
    info.publisher = text(publisher.get("name")) if isinstance(publisher, dict) else ""
    info.issued = max((text(meta[k]) for k in ("modified", "issued") if text(meta.get(k))),
                      default="")


def _meta_before_grants(path: Path, info: FileInfo, ijson: ModuleType) -> dict[str, Any]:
    """The package's members written before `grants`; refuses a file that is no package."""
    meta: dict[str, Any] = {}
    with open_binary(path, info) as stream:
        head = first_byte(stream)
        if head != b"{":
            what = "a list" if head == b"[" else "empty" if not head else "not a JSON object"
            raise info.refuse(f"not a 360Giving data package ({what}); expected an object "
                              "{\"grants\": [...]}")
        stream.seek(0)
        try:
            tail = _Tail(stream, None)
            shape = ""  # what `grants` holds, once met
            for key, value in _members(tail, ijson):
                if key == "grants":
                    shape = value
                    break
                meta[key] = value
        except Exception as exc:  # ijson's errors share no base class across backends
            raise info.refuse(f"not a 360Giving JSON data package: {_what(exc)} "
                              f"(character {tail.read_bytes})") from None
    if shape == "a list":
        return meta
    if shape:
        raise info.refuse(f"not a 360Giving data package: \"grants\" is {shape}, not a "
                          "list of grants")
    raise info.refuse("not a 360Giving data package: no \"grants\" list")


def _members(stream: Any, ijson: ModuleType) -> Iterator[tuple[str, Any]]:
    """Top-level members up to `grants`: small ones only; `grants` itself with what it holds
    ("a list", "an object" ...)."""
    events = ijson.parse(stream, use_float=True)
    key = ""
    for prefix, event, value in events:
        if prefix == "" and event == "map_key":
            key = value
            if key == "grants":
                opened = next(events, ("", "end", None))[1]
                yield key, _EVENT_KINDS.get(opened, "empty")
                return
        elif prefix == key and key in META_KEYS and event in SCALARS:
            yield key, value
        elif prefix == "publisher.name" and event == "string":
            yield "publisher", {"name": value}


def _meta_after_grants(tail: bytes) -> dict[str, Any]:
    """Members written after the `grants` list, read from the file's last bytes.

    The list ends at the earliest `]` after which the rest reads as the end of an
    object (`, "issued": "2020-01-01"}`); a `]` inside a grant never does.
    """
    import json

    text_tail = tail.decode("utf-8", "replace").rstrip()
    if not text_tail.endswith("}"):
        return {}
    closes = [i for i, c in enumerate(text_tail) if c == "]"][-MAX_TAIL_TRIES:]
    for position in closes:
        rest = text_tail[position + 1:].lstrip()
        if not rest.startswith((",", "}")):
            continue
        try:
            found = json.loads("{" + rest.lstrip(",").lstrip())
        except ValueError:
            continue
        return found if isinstance(found, dict) else {}
    return {}


class TooDeep(ValueError):
    """JSON nested deeper than any grant: ijson's cost grows with the square of the depth."""


class _Depth:
    """The nesting depth of JSON read a chunk at a time, checked before ijson sees it.

    Text in strings is set aside first (escapes, then quoted runs, carried across chunk
    boundaries); of what is left only brackets matter. Every pass of removing "()"
    takes one level off, so a chunk costs a few passes over a few bytes per grant.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escaped = False

    def check(self, chunk: bytes) -> None:
        if self.escaped and chunk:
            chunk, self.escaped = chunk[1:], False
        if b"\\" in chunk:
            chunk = _ESCAPE.sub(b"", chunk)
            if chunk.endswith(b"\\"):
                chunk, self.escaped = chunk[:-1], True
        # Adjacent quotes hold no bracket between them, whichever string they open or close:
        # dropping them in pairs keeps every bracket's side, and the grant's many short
        # strings stop costing a piece each.
        pieces = chunk.translate(None, _NOT_MARKS).replace(b'""', b"").split(b'"')
        outside = pieces[1::2] if self.in_string else pieces[0::2]
        if len(pieces) % 2 == 0:  # an odd number of quotes: the string state flips
            self.in_string = not self.in_string
        brackets = b"".join(outside).translate(_PARENS)
        passes = 0
        while b"()" in brackets:
            brackets = brackets.replace(b"()", b"")
            passes += 1
            if self.depth + passes > MAX_DEPTH:
                raise TooDeep
        opens = brackets.count(b"(")
        if self.depth + passes + opens > MAX_DEPTH:
            raise TooDeep
        self.depth += opens - (len(brackets) - opens)


_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_MARKS = bytes(b for b in range(256) if b not in b'"[]{}')
_PARENS = bytes.maketrans(b"[]{}", b"()()")
MAX_DEPTH = 1000  # a grant nests about five deep


class _Tail:
    """A binary stream that remembers its last bytes read, reports progress, and refuses
    nesting deeper than MAX_DEPTH."""

    def __init__(self, stream: Any, on_bytes: ProgressSink | None) -> None:
        self.stream = stream
        self.on_bytes = on_bytes
        self.read_bytes = 0
        # The last chunks read, as few as hold TAIL_BYTES: joined only when the tail is asked
        # for, not copied at every read.
        self.recent: collections.deque[bytes] = collections.deque()
        self.recent_bytes = 0
        self.depth = _Depth()

    @property
    def tail(self) -> bytes:
        """The last TAIL_BYTES bytes read (all of them, if fewer)."""
        return b"".join(self.recent)[-TAIL_BYTES:]

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self.stream.read(size)
        if self.read_bytes == 0 and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]
        self.depth.check(chunk)
        self.read_bytes += len(chunk)
        self.recent.append(chunk)
        self.recent_bytes += len(chunk)
        while self.recent_bytes - len(self.recent[0]) >= TAIL_BYTES:
            self.recent_bytes -= len(self.recent.popleft())
        if self.on_bytes is not None:
            self.on_bytes(self.read_bytes)
        return chunk


def _what(exc: Exception) -> str:
    """What is wrong, in words: yajl draws a caret under the error on further lines."""
    if isinstance(exc, TooDeep):
        return "nested too deeply to be a grant"
    said = exc.args[0] if exc.args else ""
    message = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(exc)
    if "invalid bytes in UTF8" in message:
        return "not UTF-8, as JSON must be (save it as UTF-8)"
    lines = message.strip().splitlines()
    words = lines[0] if lines else type(exc).__name__
    constant = _NOT_JSON_NUMBER.search(_at_caret(str(exc)))
    if constant:
        return (f"not valid JSON: {constant[0]} is no JSON number (write null for a number "
                "not known)")
    if "integer overflow" in words or "integer string conversion" in words:
        return "a number too long to read"
    if "trailing garbage" in words:
        return (f"not valid JSON: {one_line(words, 120)}: more after the first value, as in "
                "JSON Lines (one value a line); a data package is one object {\"grants\": "
                "[...]}")
    return f"not valid JSON: {one_line(words, 120)}"


# What Python's json.dump writes for a number it has not: worth naming when yajl refuses it.
_NOT_JSON_NUMBER = re.compile(r"-?(?<![A-Za-z0-9])(?:NaN|Infinity)(?![A-Za-z0-9])")


def _at_caret(message: str) -> str:
    """The few characters around yajl's caret, in the line of the file it quotes above it
    ('' if none; the caret falls on or just past the character it stops at)."""
    lines = message.split("\n")
    for above, line in itertools.pairwise(lines):
        if line.rstrip().endswith("^"):
            at = len(line.rstrip()) - 1
            return above[max(0, at - 2):at + 10]
    return ""
