"""The errors fundcmp reports as one line and an exit status, never a traceback."""

from __future__ import annotations

_MAX_PART_CHARS = 200


def one_line(text: str, limit: int = _MAX_PART_CHARS) -> str:
    """Text safe to print as part of a one-line message: no control characters, bounded."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class FundcmpError(Exception):
    """A problem with the user's data: exit status 1."""

    exit_code = 1


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
        super().__init__(f"unknown programme '{slug}'{hint}")
