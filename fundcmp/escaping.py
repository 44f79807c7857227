"""Outside text made safe for the format it is written in (see SECURITY.md).

Names, funders and quotes come from files anyone can write. Before they reach
a screen, a spreadsheet or a document, each output format gets its own guard:
hidden characters (terminal escapes, bidi controls, zero-width spaces) are
shown escaped in every format; a csv cell cannot start a formula; a text
table's own separators (`|` in markdown, markup in rst and mediawiki) are
escaped so a name cannot forge a cell. JSON and YAML keep the data exactly,
writing hidden characters as their escapes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fundcmp.errors import escaped, hidden

# OWASP's CSV injection advice: a cell starting with one of these is run by a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Patterns, not compiled ones: re compiles each on its first use, so a run that never needs
# one (most never do) never pays for it.
_NUMBER = r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$"
_BREAKS = r"[\r\n\t\u2028\u2029\x85]+"


def terminal(text: str) -> str:
    """Hidden characters escaped; newlines kept, for a format that draws cells in lines."""
    if text.isprintable():
        return text
    return "\n".join(escaped(line) for line in text.split("\n"))


def single_line(text: str) -> str:
    """Line breaks and tabs become a space, hidden characters are escaped."""
    if text.isprintable():
        return text
    return escaped(re.sub(_BREAKS, " ", text))


def csv_cell(text: str, raw_text: bool = False) -> str:
    """A csv cell a spreadsheet shows as text: a formula's first character is quoted with '.

    Numbers stay numbers (-5 is not a formula); `raw_text` leaves text as it is.
    """
    text = single_line(text)
    if raw_text or not text.startswith(FORMULA_STARTS) or re.match(_NUMBER, text):
        return text
    return "'" + text


def _backslashed(chars: str) -> Callable[[str], str]:
    pattern = "([" + re.escape(chars) + "])"
    return lambda text: re.sub(pattern, r"\\\1", text)


def _entities(chars: str) -> Callable[[str], str]:
    table = {ord(c): f"&#{ord(c)};" for c in chars}
    return lambda text: text.translate(table)


# Each text format's structural characters. Formats not named here either escape for
# themselves (html and the latex family, through tabulate) or only draw boxes for a
# terminal, where a `|` inside a padded cell cannot move a border.
_STRUCTURE: dict[str, Callable[[str], str]] = {
    "github": _backslashed("|"),
    "pipe": _backslashed("|"),
    "asciidoc": _backslashed("|"),
    "jira": _backslashed("|[]{}*_"),
    "youtrack": _backslashed("|[]{}*_"),
    "rst": _backslashed("\\*`|_:"),
    "orgtbl": lambda text: text.replace("|", "\\vert{}"),
    "mediawiki": _entities("&|!{}[]<>'~=*#:;"),
    "textile": _entities("&|<>{}[]*_"),
    "moinmoin": _entities("&|<>{}[]'"),
}


def table_cell(text: str, fmt: str) -> str:
    """A cell of one of tabulate's formats: one line, hidden characters and separators escaped."""
    text = single_line(text)
    guard = _STRUCTURE.get(fmt)
    return guard(text) if guard else text


def json_text(dumped: str) -> str:
    """JSON text with every hidden character written as its \\u escape: the same data."""
    if not has_hidden(dumped):
        return dumped
    return "".join(json.dumps(c)[1:-1] if hidden(c) and c not in "\n\t" else c
                   for c in dumped)


def has_hidden(text: str) -> bool:
    """Whether text holds a hidden character other than a newline or tab."""
    if text.replace("\n", "").replace("\t", "").isprintable():
        return False
    return any(hidden(c) for c in text if c not in "\n\t")
