"""The field rules: how one value of a grant is read, as publishers really write it.

Pure functions, no I/O: each takes a value as a reader found it (text, a number,
or a spreadsheet's date cell) and returns what it means, or raises FieldProblem
saying in a few words what is wrong. Dates come back as ISO text of the
precision they were written in: YYYY-MM-DD, YYYY-MM or YYYY.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from fundcmp.giving360.currencies import ISO_4217, SIGNS
from fundcmp.registry import MAX_DURATION_MONTHS, MIN_DURATION_MONTHS

MAX_TITLE_CHARS = 300
MAX_AMOUNT = 1e15  # the registry's ceiling on any figure
FIRST_YEAR, LAST_YEAR = 1800, 2200
DAYS_PER_MONTH = 365.25 / 12
Order = Literal["dmy", "mdy"]
Dots = Literal["point", "thousands"]  # what a dot in an amount column is


class FieldProblem(ValueError):
    """What is wrong with one value: its kind in a few words, and the value it was said of.

    The kind ("not a date") sums up many grants in the summary; the whole message
    ("not a date ('tbc')") goes to the report.
    """

    def __init__(self, kind: str, value: Any = None) -> None:
        self.kind = kind
        super().__init__(kind if value is None else f"{kind} ({shown(value)})")


def container(value: list[Any] | dict[str, Any]) -> str:
    """What a JSON list or object is, in words, where one value belongs."""
    return "a list" if isinstance(value, list) else "an object"


def text(value: Any) -> str:
    """A value as stripped text; containers and None are empty."""
    if type(value) is str:
        return value.strip()
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a spreadsheet holds the code 160121 as 160121.0
    return str(value).strip()


def shown(value: Any, limit: int = 40) -> str:
    """A value quoted for a problem message, cut short."""
    words = repr(value) if isinstance(value, str) else str(value)
    return words if len(words) <= limit else words[: limit - 3] + "..."


# ---- column titles ---------------------------------------------------------------------------

# The facts fundcmp reads and the spreadsheet column titles that hold them: the standard's
# title first, then titles from its earlier drafts and common variants.
COLUMN_TITLES: dict[str, tuple[str, ...]] = {
    "id": ("Identifier", "Grant Identifier", "Grant ID"),
    "amount": ("Amount Awarded", "Amount Awarded (GBP)", "Amount Awarded (£)", "Amount:Awarded",
               "Award Amount"),
    "currency": ("Currency",),
    "award_date": ("Award Date", "Award date:Start date", "Award Date:Date", "Date Awarded",
                   "Date of Award"),
    "funder_id": ("Funding Org:Identifier", "Funding Organisation:Identifier",
                  "Funding Organization:Identifier", "Funder:Identifier"),
    "funder_name": ("Funding Org:Name", "Funding Organisation:Name",
                    "Funding Organization:Name", "Funder:Name"),
    "programme_code": ("Grant Programme:Code", "Grant Program:Code",
                       "Classification:Grant Programme Code"),
    "programme_title": ("Grant Programme:Title", "Grant Program:Title",
                        "Grant Programme:Name", "Classification:Grant Programme",
                        "Grant Programme"),
    "start": ("Planned Dates:Start Date", "Planned Dates:Start", "Planned Start Date"),
    "end": ("Planned Dates:End Date", "Planned Dates:End", "Planned End Date"),
    "duration": ("Planned Dates:Duration (months)", "Planned Dates:Duration",
                 "Planned Dates:Duration (Months)", "Duration (months)"),
    "recipient_id": ("Recipient Org:Identifier", "Recipient Organisation:Identifier",
                     "Recipient Organization:Identifier"),
    "recipient_name": ("Recipient Org:Name", "Recipient Organisation:Name",
                       "Recipient Organization:Name"),
    # A grant to a person (standard 1.4): its recipient, when no organisation is named.
    "recipient_ind_id": ("Recipient Ind:Identifier", "Recipient Individual:Identifier"),
    "recipient_ind_name": ("Recipient Ind:Name", "Recipient Individual:Name"),
}
# The JSON paths of the facts, for naming a field in a problem; flattened (`a/0/b`,
# `a.0.b`, `a.b`), they are column titles too, as tools that flatten without titles write them.
JSON_NAMES = {
    "id": "id", "amount": "amountAwarded", "currency": "currency", "award_date": "awardDate",
    "funder_id": "fundingOrganization.id", "funder_name": "fundingOrganization.name",
    "programme_code": "grantProgramme.code", "programme_title": "grantProgramme.title",
    "start": "plannedDates.startDate", "end": "plannedDates.endDate",
    "duration": "plannedDates.duration", "recipient_id": "recipientOrganization.id",
    "recipient_name": "recipientOrganization.name",
    "recipient_ind_id": "recipientIndividual.id", "recipient_ind_name": "recipientIndividual.name",
}
REQUIRED_COLUMNS = ("id", "amount", "funder_id")
# What a title is compared without: spacing, underscores and colons (tools drop or double the
# colon), and marks nobody sees: a byte-order mark, as text or as Windows-1252 reads UTF-8's
# ("\u00ef\u00bb\u00bf"), zero-width spaces and joiners.
_IGNORED_RE = re.compile("[\\s_:\u200b-\u200d\u2060\ufeff]+|^\u00ef\u00bb\u00bf")


def title_key(title: Any) -> str:
    """A column title as compared: case, spacing, colons and invisible marks ignored."""
    return _IGNORED_RE.sub("", text(title)).casefold()


_TITLE_KEYS = {title_key(t): key for key, titles in COLUMN_TITLES.items() for t in titles}
_TITLE_KEYS.update({title_key(path.replace(".", joint)): key
                    for key, path in JSON_NAMES.items() for joint in (".", "/0/", ".0.")})


# The first characters a column title may start with, in either case, behind spacing or an
# invisible mark: a reader asks is_title() only of an identifier starting so, and the
# standard's identifiers start "360G-", so a grant's row costs one set lookup.
TITLE_STARTS = frozenset(
    {c for key in _TITLE_KEYS for c in (key[0], key[0].upper())}
    | {" ", "\t", "\n", "\r", "_", ":", "\u00a0", "\u200b", "\u200c", "\u200d", "\u2060",
       "\ufeff", "\u00ef"})


def is_title(cell: Any) -> bool:
    """Whether a cell is one of the column titles, in any case or spacing."""
    return title_key(cell) in _TITLE_KEYS


_TITLE_CURRENCY_RE = re.compile(r"\(\s*([^\w\s]|[A-Za-z]{3})\s*\)\s*$")


def title_currency(title: Any) -> str:
    """The money sign or ISO 4217 code a column's title ends with: "Amount Awarded (£)"."""
    found = _TITLE_CURRENCY_RE.search(text(title))
    if found is None:
        return ""
    mark = found[1].upper()
    return mark if mark in SIGNS or mark in ISO_4217 else ""


def header_again(row: Sequence[Any]) -> dict[str, int] | None:
    """The columns of a header row met below the first (its titles have the columns an
    import needs), or None for a grant's row that only looked like one."""
    found = match_columns(row)
    return None if missing_columns(found) else found


def match_columns(header: Sequence[Any]) -> dict[str, int]:
    """Which column holds each fact: the first column whose title is one of its titles."""
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        key = _TITLE_KEYS.get(title_key(title))
        if key is None and title_currency(title):  # "Amount Awarded (EUR)": see fact_cells
            key = _TITLE_KEYS.get(title_key(_TITLE_CURRENCY_RE.sub("", text(title))))
        if key is not None and key not in found:
            found[key] = index
    return found


def missing_columns(found: dict[str, int]) -> list[str]:
    """The standard's titles of the columns no import can do without."""
    return [COLUMN_TITLES[k][0] for k in REQUIRED_COLUMNS if k not in found]


# ---- amounts and currencies -------------------------------------------------------------------

_AMOUNT_RE = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^\.\d+$", re.ASCII)
# Dots between thousands, as Excel writes them across Europe: unmistakable with a decimal
# comma or two dots or more ("1.000,50", "1.250.000"); "25.000" alone could be either.
_DOT_THOUSANDS_RE = re.compile(r"^[1-9]\d{0,2}(?:(?:\.\d{3})+,\d+|(?:\.\d{3}){2,})$", re.ASCII)
_DOT_OR_THOUSANDS_RE = re.compile(r"^[1-9]\d{0,2}\.\d{3}$", re.ASCII)


# An amount with its currency's code before or after it: "GBP 1,000", "1000 gbp".
_CODED_RE = re.compile(r"^(?:(?P<front>[A-Za-z]{3})\s*(?P<number>[-\d.,]+)|"
                       r"(?P<number2>[-\d.,]+)\s*(?P<back>[A-Za-z]{3}))$", re.ASCII)


def read_amount(value: Any, dots: Dots | None = None) -> tuple[float, str]:
    """(amount, the money sign or currency code it was written with, or ''): numbers,
    "26000", "£26,000.50", "GBP 1,000".

    Refuses what would be a guess: "18k", "3 thousand", "tbc", a negative amount, and
    "25.000" unless dots says how its column writes them (amount_dots).
    """
    if isinstance(value, bool):
        raise FieldProblem("not a number", value)
    if isinstance(value, (list, dict)):
        raise FieldProblem("not a number", container(value))
    if isinstance(value, (int, float)):
        amount, sign = float(value), ""
    else:
        words = text(value)
        if not words:
            raise FieldProblem("missing")
        body, sign, negative = _number_part(words)
        if _DOT_OR_THOUSANDS_RE.match(body):
            if dots is None:
                raise FieldProblem("a dot before three digits: a decimal point or between "
                                   "thousands?", words)
            amount = float(body.replace(".", "") if dots == "thousands" else body)
        elif _DOT_THOUSANDS_RE.match(body):
            amount = float(body.replace(".", "").replace(",", "."))
        elif _AMOUNT_RE.match(body):
            amount = float(body.replace(",", ""))
        else:
            raise FieldProblem("not a number", words)
        if negative:
            amount = -amount
    if not math.isfinite(amount):
        raise FieldProblem("not a finite number", value)
    if amount < 0:
        raise FieldProblem("negative (a returned grant is not an award)", amount)
    if amount > MAX_AMOUNT:
        raise FieldProblem(f"past the registry's ceiling of {MAX_AMOUNT:.0e}", amount)
    return amount, sign


def _number_part(words: str) -> tuple[str, str, bool]:
    """(the number's text, the money sign or currency code around it, whether negative)."""
    body, sign = words, ""
    if body[0] in SIGNS:
        body, sign = body[1:].strip(), body[0]
    elif body[0].isalpha() or body[-1].isalpha():
        coded = _CODED_RE.match(body)
        if coded and (coded["front"] or coded["back"]).upper() in ISO_4217:
            body = coded["number"] or coded["number2"]
            sign = (coded["front"] or coded["back"]).upper()
    negative = body.startswith("-")
    if negative:
        body = body[1:].strip()
        if body[:1] in SIGNS and not sign:
            body, sign = body[1:].strip(), body[0]
    return body, sign, negative


def plain_number(value: str) -> bool:
    """Digits, maybe a point and digits other than three: an amount the plain-grant shortcut
    reads as it is (check.quick_facts), "25.000" aside."""
    whole, point, part = value.partition(".")
    return whole.isascii() and whole.isdecimal() and (not point or (
        len(part) != 3 and part.isascii() and part.isdecimal()))


def amount_dots(value: Any) -> Dots | Literal["either", ""]:
    """What an amount written as text says of its column's dots: "point" ("12.50",
    "1500.000"), "thousands" ("1.250.000", "1.000,50"), "either" ("25.000"), or ''
    (no dot, not text, not an amount)."""
    if not isinstance(value, str) or "." not in value:
        return ""
    words = text(value)
    body = _number_part(words)[0] if words else ""
    if _DOT_OR_THOUSANDS_RE.match(body):
        return "either"
    if _DOT_THOUSANDS_RE.match(body):
        return "thousands"
    return "point" if "." in body and _AMOUNT_RE.match(body) else ""


def read_currency(value: Any, sign: str = "") -> str:
    """The grant's ISO 4217 code; a money sign or code in the amount must agree with it.

    Lower case is read as upper ("gbp"). With no currency, the amount's "£", "€" or code
    says which; a sign written where the code belongs ("£") is read as that sign.
    """
    if isinstance(value, (list, dict)):
        raise FieldProblem("not an ISO 4217 currency code", container(value))
    code = text(value).upper()
    if code in SIGNS:
        if sign and sign != code:
            raise FieldProblem(f"the amount is written with {sign} but the currency is "
                               "another", code)
        code, sign = "", code
    if not code:
        implied = sign if sign in ISO_4217 else SIGNS.get(sign, ("",))[0]
        if implied:
            return implied
        raise FieldProblem("missing" if not sign else f"{sign} names no one currency")
    if code not in ISO_4217:
        raise FieldProblem("not an ISO 4217 currency code", text(value))
    if sign and code not in ((sign,) if sign in ISO_4217 else SIGNS[sign]):
        raise FieldProblem(f"the amount is written with {sign} but the currency is another",
                           code)
    return code


# ---- dates ------------------------------------------------------------------------------------

_TIME = r"(?:[T ]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)?"
_ISO_RE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})" + _TIME + r"$")
_ISO_DAY_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})Z?$")
_SLASH_RE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})" + _TIME + r"$")
_MONTH_YEAR_RE = re.compile(r"^(\d{1,2})[/.-](\d{4})$|^(\d{4})-(\d{2})$")
_YEAR_RE = re.compile(r"^\d{4}$")
_MONTHS = {name: number for number, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december")), start=1) for name in names}
_DAY_MONTH_NAME_RE = re.compile(
    r"^(\d{1,2})(?:st|nd|rd|th)?[ -]([A-Za-z]+)\.?,?[ -](\d{4}|\d{2})$")
_MONTH_NAME_DAY_RE = re.compile(r"^([A-Za-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})$")
_MONTH_NAME_RE = re.compile(r"^([A-Za-z]+)\.?,?[ -](\d{4}|\d{2})$")
EXCEL_EPOCH = date(1899, 12, 30)
FIRST_SERIAL, LAST_SERIAL = 10_000, 109_574  # 1927-05-18 to 2199-12-31


def slash_order(value: Any) -> Literal["dmy", "mdy", "either", ""]:
    """How a DD/MM/YYYY-like value can be read: only day first, only month first, either,
    or '' when it is not such a date (or neither reading is a date)."""
    match = _SLASH_RE.match(text(value)) if isinstance(value, str) else None
    if not match:
        return ""
    first, second = int(match[1]), int(match[2])
    year = _full_year(match[3])
    dmy, mdy = _valid(year, second, first), _valid(year, first, second)
    if dmy and mdy:
        return "either"  # a day equal to its month too: the same date either way, no evidence
    return "dmy" if dmy else "mdy" if mdy else ""


SERIAL = "a spreadsheet serial number, read as the date it stands for"
SHORT_YEAR = "a two-digit year, read as 2000-2068 or 1969-1999"


def _full_year(written: str) -> int:
    """A year as written, its two digits (Excel's short date) read as POSIX reads them."""
    year = int(written)
    if len(written) == 2:
        year += 2000 if year <= 68 else 1900
    return year


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _day(year: int, month: int, day: int, words: str) -> str:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise FieldProblem("a year before 1800 or after 2200", words)
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise FieldProblem("not a date in the calendar", words) from None


def _month(year: int, month: int, words: str) -> str:
    if not 1 <= month <= 12:
        raise FieldProblem("not a date", words)
    return _day(year, month, 1, words)[:7]


def read_date(value: Any, order: Order = "dmy") -> tuple[str, str]:
    """(ISO date, '' or what was read as said: SERIAL, SHORT_YEAR) of one date value.

    Reads ISO dates and date-times, DD/MM/YYYY with or without a time (MM/DD/YYYY
    with order "mdy"), DD/MM/YY, MM/YYYY and YYYY as partial dates, "19 April 2013",
    "April 2013", spreadsheet date cells and spreadsheet serial numbers.
    """
    if type(value) is str and len(value) >= 10 and value[4] == "-" and value[7] == "-" \
            and (len(value) == 10 or value[10] in "T "):
        try:  # the common case, an ISO date or date-time, read without a pattern
            year = date.fromisoformat(value[:10]).year
        except ValueError:
            year = 0
        if FIRST_YEAR <= year <= LAST_YEAR and real_time(value[10:]):
            return value[:10], ""
    if isinstance(value, datetime):
        return _day(value.year, value.month, value.day, str(value)), ""
    if isinstance(value, date):
        return _day(value.year, value.month, value.day, str(value)), ""
    if isinstance(value, bool):
        raise FieldProblem("not a date", value)
    if isinstance(value, (int, float)):
        return _number_date(float(value), str(value))
    words = text(value)
    if not words:
        raise FieldProblem("missing")
    if match := _ISO_DAY_RE.match(words) or _ISO_RE.match(words):
        year, month, day = (int(g) for g in match.groups()[:3])
        if not real_time(words[match.end(3):]):
            raise FieldProblem("not a time of day", words)
        return _day(year, month, day, words), ""
    if match := _SLASH_RE.match(words):
        if not real_time(words[match.end(3):]):
            raise FieldProblem("not a time of day", words)
        first, second, year = int(match[1]), int(match[2]), _full_year(match[3])
        day, month = (first, second) if order == "dmy" else (second, first)
        if not _valid(year, month, day) and _valid(year, first if order == "dmy" else second,
                                                   second if order == "dmy" else first):
            read = "day" if order == "dmy" else "month"
            raise FieldProblem(f"not a date {read} first, as this column's other dates are read",
                               words)
        return _day(year, month, day, words), _short(match[3])
    if match := _MONTH_YEAR_RE.match(words):
        month_text, year_text = (match.group(1), match.group(2)) if match.group(1) else \
            (match.group(4), match.group(3))
        return _month(int(year_text), int(month_text), words), ""
    if _YEAR_RE.match(words):
        year = int(words)
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise FieldProblem("a year before 1800 or after 2200", words)
        return words, ""
    if len(words) == 8 and words.isdigit() and words[:2] in ("19", "20"):
        return _day(int(words[:4]), int(words[4:6]), int(words[6:]), words), ""  # YYYYMMDD
    if words.isdigit() or re.fullmatch(r"\d+\.\d+", words):
        return _number_date(float(words), words)
    return _named_month_date(words)


_TIME_RE = re.compile(_TIME, re.ASCII)
_CLOCK_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)


def real_time(rest: str) -> bool:
    """Whether what follows a date is nothing, or a time of day that exists (not 25:99)."""
    if not _TIME_RE.fullmatch(rest):
        return False
    clock = _CLOCK_RE.search(rest)
    if clock is None:
        return True
    hour, minute, second = (int(g or 0) for g in clock.groups())
    return (hour, minute, second) == (24, 0, 0) or (hour < 24 and minute < 60 and second < 61)


def _named_month_date(words: str) -> tuple[str, str]:
    if match := _DAY_MONTH_NAME_RE.match(words):
        day, name, year = match.groups()
        month = _MONTHS.get(name.casefold())
        if month:
            return _day(_full_year(year), month, int(day), words), _short(year)
    elif match := _MONTH_NAME_DAY_RE.match(words):
        name, day, year = match.groups()
        month = _MONTHS.get(name.casefold())
        if month:
            return _day(int(year), month, int(day), words), ""
    elif match := _MONTH_NAME_RE.match(words):
        name, year = match.groups()
        month = _MONTHS.get(name.casefold())
        if month:
            return _month(_full_year(year), month, words), _short(year)
    raise FieldProblem("not a date", words)


def _short(year: str) -> str:
    return SHORT_YEAR if len(year) == 2 else ""


def _number_date(number: float, words: str) -> tuple[str, str]:
    """A number in a date field: a year, or a spreadsheet serial day number."""
    if number.is_integer() and FIRST_YEAR <= number <= LAST_YEAR:
        return str(int(number)), ""
    if FIRST_SERIAL <= number <= LAST_SERIAL:
        return (EXCEL_EPOCH + timedelta(days=int(number))).isoformat(), SERIAL
    raise FieldProblem("not a date", words)


# ---- durations --------------------------------------------------------------------------------

_DURATION_RE = re.compile(r"^(-?\d+(?:\.\d+)?)\s*([A-Za-z]*)\.?$", re.ASCII)
_UNIT_MONTHS = {"": 1.0, "m": 1.0, "mo": 1.0, "mos": 1.0, "mth": 1.0, "mths": 1.0,
                "month": 1.0, "months": 1.0, "y": 12.0, "yr": 12.0, "yrs": 12.0, "year": 12.0,
                "years": 12.0, "w": 12 / 52.1775, "wk": 12 / 52.1775, "wks": 12 / 52.1775,
                "week": 12 / 52.1775, "weeks": 12 / 52.1775, "d": 1 / DAYS_PER_MONTH,
                "day": 1 / DAYS_PER_MONTH, "days": 1 / DAYS_PER_MONTH}


def read_duration(value: Any) -> float:
    """Months of a stated duration: 12, "12", "12 months", "2 years"; more than zero."""
    if isinstance(value, bool):
        raise FieldProblem("not a number of months", value)
    if isinstance(value, (int, float)):
        months = float(value)
    else:
        words = text(value)
        match = _DURATION_RE.match(words)
        unit = _UNIT_MONTHS.get(match.group(2).casefold()) if match else None
        if match is None or unit is None:
            raise FieldProblem("not a number of months", words)
        months = float(match.group(1)) * unit
    if not math.isfinite(months):
        raise FieldProblem("not a number of months", value)
    if months < 0:
        raise FieldProblem("negative", f"{months:g} months")
    if months == 0:
        raise FieldProblem("zero months")
    if not MIN_DURATION_MONTHS <= months <= MAX_DURATION_MONTHS:
        raise FieldProblem("not a duration between one day and 100 years", f"{months:g} months")
    return rounded_months(months, 2)


def rounded_months(months: float, places: int) -> float:
    """Months to `places` decimals, or to four where fewer would fall below the registry's
    one day (a day is 0.0329 months: to one decimal, 0.0, and the registry refused it)."""
    shown = round(months, places)
    return shown if shown >= MIN_DURATION_MONTHS else round(months, 4)


FAR_FACTOR = 2.5  # stated months this many times the dates' span, or this much less, contradict


def far_from_dates(stated: float, dated: tuple[float, float]) -> bool:
    """Whether stated months contradict the planned dates' span: two and a half times as
    long or more, or that much shorter, and a month more either way. Days or weeks typed in
    the months column (365 or 52 against a year's dates) or years (1 against 12) do; a late
    start, an extension or a rounded figure does not."""
    low, high = dated
    return stated > high * FAR_FACTOR + 1 or stated < low / FAR_FACTOR - 1


class SameDay(FieldProblem):
    """A plan that starts and ends on one day: the start date written again (a placeholder)
    or a one-day event, no span to take a yearly rate from; stated months stand."""


def months_between(start: str, end: str) -> tuple[float, float]:
    """Months from a start to an end date: a point for full dates, a range for partial ones.

    Full dates count both days (1 Jan to 31 Dec is 12 months); a YYYY or YYYY-MM
    date could be any day in its year or month, so the result spans every case.
    Raises FieldProblem when the end is before the start.
    """
    if len(start) == 10 and len(end) == 10:
        days = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
        if days <= 0:
            raise FieldProblem("planned end before start", f"{start} to {end}")
        if days == 1:
            raise SameDay("planned start and end the same day", start)
        months = rounded_months(days / DAYS_PER_MONTH, 1)
        if months > MAX_DURATION_MONTHS:
            raise FieldProblem("planned dates more than 100 years apart", f"{start} to {end}")
        return months, months
    from fundcmp.arithmetic import months_between as whole_months

    shortest, longest = whole_months(start[:7], end[:7])
    if longest <= 0:
        raise FieldProblem("planned end before start", f"{start} to {end}")
    if longest > MAX_DURATION_MONTHS:
        raise FieldProblem("planned dates more than 100 years apart", f"{start} to {end}")
    return float(shortest), float(longest)


# ---- programme titles -------------------------------------------------------------------------

PLACEHOLDERS = frozenset({
    "na", "n/a", "n.a", "n.a.", "none", "nil", "null", "other", "others", "unknown",
    "undisclosed", "not disclosed", "not applicable", "not known", "unspecified",
    "not specified", "tbc", "tbd", "misc", "miscellaneous", "various", "-", "--", "?", "0",
})


_PLACEHOLDER_KEYS = frozenset(p.strip(" .") for p in PLACEHOLDERS)


def is_placeholder(title: str) -> bool:
    """True for a title that names no programme ("N.A", "Other", "Unknown", ...)."""
    return " ".join(title.split()).casefold().strip(" .") in _PLACEHOLDER_KEYS


# Marks that show nothing and mean nothing in an identifier or a title, pasted in with text or
# left by files joined end to end: a soft hyphen, a zero-width space, a word joiner, a
# byte-order mark. (The zero-width joiners shape some scripts, and are kept.)
_INVISIBLE_RE = re.compile("[\u00ad\u200b\u2060\ufeff]")


def visible(text: str) -> str:
    """Text without the invisible marks that would make it another identifier or title."""
    return text if text.isascii() else _INVISIBLE_RE.sub("", text)


def printable(text: str) -> str:
    """Text without invisible marks (visible()), and with each other character the
    registry's loader refuses (a control or bidirectional override, which could rewrite a
    terminal; an invisible one, which could hide what is read) replaced by U+FFFD, by the
    loader's own rules."""
    if text.isprintable():
        return text
    from fundcmp.errors import hidden
    from fundcmp.registry import UNSAFE_CHAR_RE

    return "".join("\ufffd" if c not in "\t\n" and hidden(c) else c
                   for c in UNSAFE_CHAR_RE.sub("\ufffd", visible(text)))


def capped(title: str) -> str:
    """A title with its spacing made single and its length at most MAX_TITLE_CHARS."""
    title = " ".join(printable(title).split())
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 3] + "..."
