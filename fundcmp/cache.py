"""A cache of validated registries, so an unchanged file is not parsed twice.

Parsing and validating YAML is the slow part of a run on a large registry.
The validated programmes are stored as JSON in the user cache directory
($XDG_CACHE_HOME/fundcmp, else ~/.cache/fundcmp), in a file named by the
SHA-256 of the registry's bytes and of fundcmp's own loading code, so any
change to the file or to the validator misses the cache.

JSON is a safe format for this: decoding it can only make dicts, lists,
strings, numbers, booleans and None, never run code or build arbitrary
objects (as pickle, or marshal's code objects, could). The decoder below
turns those plain values back into fundcmp's own model classes only, by name,
and any entry it cannot read, for whatever reason, counts as a miss and is
rebuilt from the registry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from enum import Enum
from pathlib import Path
from typing import Any

from fundcmp import model
from fundcmp.model import Programme, Source

ENV_DISABLE = "FUNDCMP_NO_CACHE"
FORMAT = 1
KEEP_ENTRIES = 8
_CLASSES: dict[str, Any] = {cls.__name__: cls for cls in (
    model.Kind, model.Unit, model.Evidence, model.Quantity, model.DateFact, model.Support,
    model.Source, model.TextFact, model.Programme, model.Quantiles, model.Published)}
_MEMBERS = {cls.__name__: {m.value: m for m in cls} for cls in (model.Kind, model.Unit)}
_READ_ERRORS = (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError,
                RecursionError)


def enabled() -> bool:
    """Off when FUNDCMP_NO_CACHE is set to anything but empty or 0."""
    return os.environ.get(ENV_DISABLE, "") in ("", "0")


def directory() -> Path:
    """$XDG_CACHE_HOME/fundcmp, or ~/.cache/fundcmp when that is unset or not absolute."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "fundcmp"


def key(content: bytes) -> str | None:
    """SHA-256 of the registry's bytes and of fundcmp's own code; None if the code is unreadable.

    All of the package's modules count, not just the loader's, so a new
    validation rule anywhere can never be skipped by an entry made before it.
    """
    digest = hashlib.sha256(content)
    try:
        for module in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(b"\0" + module.read_bytes())
    except OSError:
        return None
    return digest.hexdigest()


def _encode(value: Any) -> Any:
    """Model values as plain JSON values: an object or enum as {class name: fields}."""
    if isinstance(value, Enum):
        return {type(value).__name__: value.value}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    slots = getattr(type(value), "__slots__", None)
    if slots is not None and type(value).__name__ in _CLASSES:
        return {type(value).__name__: [_encode(getattr(value, s)) for s in slots]}
    return value


def _tuples(value: Any) -> Any:
    return tuple([_tuples(v) for v in value]) if type(value) is list else value


def _revive(obj: dict[str, Any]) -> Any:
    """json's object_hook, the inverse of _encode: a name not in the model raises KeyError."""
    ((name, body),) = obj.items()
    members = _MEMBERS.get(name)
    if members is not None:
        return members[body]
    return _CLASSES[name](*[_tuples(v) if type(v) is list else v for v in body])


def fetch(cache_key: str) -> tuple[tuple[Programme, ...], tuple[Source, ...]] | None:
    """The programmes and sources stored under the key, or None if absent or unreadable.

    An entry is a header line, then the body; the header holds the body's
    SHA-256, so a truncated or bit-flipped entry is noticed, not believed.
    """
    try:
        head, _, body = (directory() / f"{cache_key}.json").read_bytes().partition(b"\n")
        header = json.loads(head)
        if header != {"format": FORMAT, "key": cache_key,
                      "body_sha256": hashlib.sha256(body).hexdigest()}:
            return None
        programmes, sources = _tuples(json.loads(body, object_hook=_revive))
    except _READ_ERRORS:
        return None
    if not all(type(p) is Programme for p in programmes) or \
            not all(type(s) is Source for s in sources):
        return None
    return programmes, sources


def store(cache_key: str, programmes: tuple[Programme, ...], sources: tuple[Source, ...]) -> None:
    """Write the entry atomically (a temporary file renamed into place); failures are ignored."""
    folder = directory()
    body = json.dumps([_encode(programmes), _encode(sources)],
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    header = json.dumps({"format": FORMAT, "key": cache_key,
                         "body_sha256": hashlib.sha256(body).hexdigest()}).encode("ascii")
    from fundcmp.atomic import write_bytes

    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        write_bytes(folder / f"{cache_key}.json", header + b"\n" + body)
        _prune(folder)


def _prune(folder: Path) -> None:
    """Keep the newest few entries, so editing a large registry does not fill the disk."""
    entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP_ENTRIES:]:
        old.unlink(missing_ok=True)
