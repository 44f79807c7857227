"""The registry's one rule for what unquoted YAML text means, shared by loader and writer.

The loader reads a plain (unquoted) scalar as null, a boolean, an integer or a
float only by these patterns; everything else is text. The writer quotes any
text this rule would read as something else, so text written comes back as the
same text ("1e3" stays a title, never 1000.0).
"""

from __future__ import annotations

import re
from typing import Any

_PLAIN_NULL = re.compile(r"^(?:~|null|)$")
_PLAIN_BOOL = {"true": True, "false": False}
_PLAIN_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_PLAIN_FLOAT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$")
_NOT_TEXT_STARTS = "~nft+-0123456789"  # the first characters of null, bools and numbers
INT_DIGITS = 18  # longer integers are read as floats, never as unbounded ints


def plain_value(text: str) -> Any:
    """The value of an unquoted scalar under the registry's small set of implicit types."""
    if text and text[0] not in _NOT_TEXT_STARTS:
        return text  # what follows matches nothing that does not start so
    if _PLAIN_NULL.match(text):
        return None
    if text in _PLAIN_BOOL:
        return _PLAIN_BOOL[text]
    if _PLAIN_INT.match(text) and len(text.lstrip("+-")) <= INT_DIGITS:
        return int(text)
    if _PLAIN_FLOAT.match(text):
        return float(text)
    return text


def reads_as_text(text: str) -> bool:
    """True when the loader would read this text, written unquoted, as the same text."""
    return plain_value(text) is text
