"""The errors fundcmp reports as one line and an exit status, never a traceback."""

from __future__ import annotations

import unicodedata

_MAX_PART_CHARS = 200
# Control characters (C0, C1), format characters (bidi controls such as U+202E, zero-width
# spaces, U+FEFF), line and paragraph separators and lone surrogates: none draws a glyph, and
# each can rewrite a terminal, reorder what is read, hide text or break a line.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# Zero-width non-joiner and joiner: Persian, Indic scripts and emoji need them; they move nothing.
JOINERS = frozenset({"\u200c", "\u200d"})


def hidden(char: str) -> bool:
    """Whether a character must never reach a terminal as itself."""
    return unicodedata.category(char) in HIDDEN_CATEGORIES and char not in JOINERS


_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _shown(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escaped(text: str) -> str:
    """Outside text made safe to show: each hidden character written as \\x1b, \\u202e.

    Every message, warning and table cell that quotes a file, an argument or a
    grant goes through this, so no text can send an escape sequence to a terminal.
    """
    if text.isprintable():
        return text
    return "".join(_shown(c) if hidden(c) else c for c in text)


def one_line(text: str, limit: int = _MAX_PART_CHARS) -> str:
    """Text safe to print as part of a one-line message: escaped (tabs and newlines too),
    and bounded."""
    text = escaped(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class FundcmpError(Exception):
    """A problem with the user's data: exit status 1."""

    exit_code = 1


class Interrupted(FundcmpError):
    """Ctrl-C during a write: the message says whether the file was written (exit 130)."""

    exit_code = 130


class RegistryError(FundcmpError):
    """A registry that cannot be trusted, located to file, line, programme and field."""

    def __init__(self, path: str, line: int | None, message: str,
                 programme: str | None = None, field: str | None = None) -> None:
        self.path = path
        self.line = line
        self.programme = programme
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        path = one_line(self.path)
        parts = [f"{path}:{self.line}" if self.line else path]
        if self.programme:
            parts.append(one_line(self.programme))
        if self.field:
            parts.append(one_line(self.field))
        parts.append(one_line(self.message, limit=2 * _MAX_PART_CHARS))
        return ": ".join(parts)


class UnknownSlugError(FundcmpError):
    """A slug the registry does not hold: a usage error (exit 2)."""

    exit_code = 2

    def __init__(self, slug: str, close: list[str], known: list[str]) -> None:
        self.slug = slug
        if close:
            hint = f"; did you mean {', '.join(close)}?"
        elif known:
            hint = f"; the registry has {', '.join(known)}"
        else:
            hint = ""
        super().__init__(f"unknown programme '{one_line(slug)}'{hint}")
