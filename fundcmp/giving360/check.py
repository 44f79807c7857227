"""One raw grant checked: the grant fundcmp counts, and every problem it has.

Only what the figures need may keep a grant out of the money: its identifier,
amount, currency and funder. A bad or inconsistent date makes that grant's
award date or duration unknown and is reported; the amount still counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import repeat
from typing import Any, NamedTuple

from fundcmp.giving360 import fields
from fundcmp.giving360.currencies import ISO_4217
from fundcmp.giving360.fields import (
    DAYS_PER_MONTH,
    FIRST_YEAR,
    LAST_YEAR,
    MAX_AMOUNT,
    MAX_TITLE_CHARS,
    Dots,
    FieldProblem,
    Order,
    far_from_dates,
    plain_number,
    real_time,
    rounded_months,
)
from fundcmp.giving360.reading import NOT_A_GRANT, BadRow, Facts
from fundcmp.registry import MAX_DURATION_MONTHS, MIN_DURATION_MONTHS

# Where a grant names its recipient, in the order looked at: an organisation's identifier,
# its name, then a person's (a grant to an individual).
RECIPIENT_KEYS = ("recipient_id", "recipient_name", "recipient_ind_id", "recipient_ind_name")

# A grant is awarded before it is published: a later award date is a typing error (2120 for
# 2020). A day's grace for the time zones ahead of this machine's.
LATEST_AWARD = (date.today() + timedelta(days=1)).isoformat()

LEFT_OUT = "left out of the money"
NOT_DISCLOSED = "left out of the spread and total (--keep-zero keeps them)"
AWARD_UNKNOWN = "amount kept, award date unknown"
DURATION_UNKNOWN = "amount kept, duration unknown"
READ_AS_SAID = "amount kept, read as said"
DATE_UNKNOWN = "amount and stated duration kept, date unknown"
DATES_KEPT = "amount and planned dates kept, stated duration unknown"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of one grant: where, which grant and field, what, and what it cost."""

    where: str
    grant_id: str
    field: str
    kind: str
    detail: str
    consequence: str
    amount: float | None = None

    @property
    def left_out(self) -> bool:
        return self.consequence in (LEFT_OUT, NOT_DISCLOSED)


class Grant(NamedTuple):
    """A grant that counts. A named tuple, not a dataclass: millions are made, one a grant."""

    id: str
    funder_id: str
    funder_name: str
    programme_code: str
    programme_title: str
    currency: str
    amount: float
    award_date: str
    recipient: str
    duration_months: tuple[float, float] | None


def quick_facts(facts: Facts) -> Grant | None:
    """The grant, when every value it needs is in its plainest form: the usual case.

    A shortcut for speed, not a second set of rules: it accepts only what check()
    accepts with no problem, and gives the same Grant (a test holds it to that);
    anything else (None) goes through check(), which says what is wrong. It runs once
    per grant of millions, on the facts in FACT_KEYS order: the values grants repeat
    are read once and remembered.
    """
    (grant_id, amount, currency, award, funder_id, name, code, title, start, end, stated,
     recipient, recipient_name, person_id, person_name, bad_row) = facts
    if type(amount) is str and plain_number(amount):  # CSV's usual amount: plain digits
        amount = float(amount)
    if bad_row is not None or type(grant_id) is not str or not grant_id.isprintable() \
            or not grant_id or grant_id[0].isspace() \
            or grant_id[-1].isspace() or (type(amount) is not float and type(amount) is not int) \
            or not 0 < amount <= MAX_AMOUNT or type(currency) is not str \
            or currency not in ISO_4217:
        return None
    if type(award) is not str or type(stated) is bool:
        return None
    day = _DAYS.get(award)
    if day is None:
        day = _remember(_DAYS, award, _plain_day(award))
    if not day:
        return None
    when = (start, end, stated)
    try:
        duration = _DURATIONS[when]
    except KeyError:
        duration = _remember(_DURATIONS, when, _plain_duration(*when))
    except TypeError:  # a list or an object where a date should be: check() says what
        return None
    if duration is _NOT_PLAIN:
        return None
    if name is None:
        name = ""
    if code is None:
        code = ""
    if title is None:
        title = ""
    if recipient is None:
        recipient = ""
    if type(funder_id) is not str or not funder_id or type(name) is not str \
            or type(code) is not str or type(title) is not str or type(recipient) is not str:
        return None
    if not recipient:
        for recipient in (recipient_name, person_id, person_name):
            if recipient is None:
                recipient = ""
            elif type(recipient) is not str:
                return None
            if recipient:
                break
    names = (funder_id, name, code, title)
    plain = _NAMES.get(names)
    if plain is None:
        plain = _remember(_NAMES, names, _plain_texts(*names))
    # The recipient is kept as check() keeps it, stripped and nothing more (neither capped nor
    # its control characters replaced: it is only counted).
    if not plain or recipient.strip() != recipient:
        return None
    return _new_grant(Grant, (grant_id, funder_id, name, code, title, currency, float(amount),
                              day, recipient, duration))


class Plain(NamedTuple):
    """A batch's grants when quick_facts() takes every one: a column each of Grant's fields."""

    ids: Sequence[str]
    funder_ids: Sequence[str]
    funder_names: Sequence[str]
    programme_codes: Sequence[str]
    programme_titles: Sequence[str]
    currencies: Sequence[str]
    amounts: Sequence[float]
    award_dates: Sequence[str]
    recipients: Sequence[str]
    durations: Sequence[tuple[float, float] | None]

    def grants(self) -> list[Grant]:
        return list(map(_new_grant, repeat(Grant), zip(*self, strict=True)))

    def grant(self, at: int) -> Grant:
        return _new_grant(Grant, tuple(column[at] for column in self))


def plain_batch(columns: Sequence[Sequence[Any]]) -> Plain | None:
    """What quick_facts() gives each grant of a batch (its facts a column each, in
    FACT_KEYS order), found a column at a time, when it takes every one and each is plain in
    the usual way (a text amount or a number, an organisation recipient): each test then
    runs in C over a column, not in Python per grant. None when any grant is not: each is
    then asked of quick_facts(), so a batch that is not all plain gets its answers one way."""
    try:
        return _plain_batch(columns)
    except TypeError:  # a value that does not hash or compare: quick_facts() says no
        return None


def _plain_batch(columns: Sequence[Sequence[Any]]) -> Plain | None:
    """The tests are quick_facts()' own, made of whole columns: "".join of texts is
    printable when each is, a text that strip() leaves as it is starts and ends with no
    white space, and _plain_texts() of several texts is whether each is plain, so one call
    over the batch's distinct names and titles says it for every grant."""
    (ids, amounts, currencies, awards, funder_ids, names, codes, titles, starts, ends, stated,
     recipients, _, _, _, bad_rows) = columns
    n = len(ids)
    if not n:
        return None
    if bad_rows.count(None) != n or not _texts(ids) or not all(ids) \
            or not "".join(ids).isprintable() or tuple(map(str.strip, ids)) != tuple(ids) \
            or not _texts(currencies) or not ISO_4217.issuperset(currencies) \
            or not _texts(awards) or bool in set(map(type, stated)) \
            or not _texts(funder_ids) or not all(funder_ids) \
            or not _texts(recipients) or not all(recipients) \
            or tuple(map(str.strip, recipients)) != tuple(recipients):
        return None
    kinds = set(map(type, amounts))
    if kinds == {str}:
        if not all(map(_PLAIN_AMOUNT.fullmatch, amounts)):
            return None
        amounts = tuple(map(float, amounts))
    elif not kinds <= {int, float}:
        return None
    if not all(0 < amount <= MAX_AMOUNT for amount in amounts):  # before float(): a huge int
        return None
    values = list(map(float, amounts))
    days = _known(_DAYS, awards, _plain_day)
    if not all(days):
        return None
    durations = _known(_DURATIONS, list(zip(starts, ends, stated, strict=True)),
                       lambda when: _plain_duration(*when))
    if _NOT_PLAIN in durations:
        return None
    names, codes, titles = (column if None not in column else
                            tuple("" if value is None else value for value in column)
                            for column in (names, codes, titles))
    if not (_texts(names) and _texts(codes) and _texts(titles)) \
            or not _plain_texts(*{*funder_ids, *names, *codes, *titles}):
        return None
    return Plain(ids, funder_ids, names, codes, titles, currencies, values, days, recipients,
                 durations)


def _texts(column: Sequence[Any]) -> bool:
    """Whether every value of a column is a str (not a subclass, as quick_facts() asks)."""
    return set(map(type, column)) == {str}


def _known(memory: dict[Any, Any], keys: Sequence[Any], find: Callable[[Any], Any]) -> list[Any]:
    """What memory holds for each key, what find() finds (and memory then keeps) for the
    keys it lacks."""
    found = list(map(memory.get, keys, repeat(_UNKNOWN)))
    if _UNKNOWN in found:
        found = [_remember(memory, key, find(key)) if value is _UNKNOWN else value
                 for key, value in zip(keys, found, strict=True)]
    return found


# What quick_facts() found for the values grants repeat (award dates, planned dates, funder and
# programme names): it would find the same again. Each is emptied when it reaches
# _KEPT values, so it stays small whatever the file.
_KEPT = 4096
_DAYS: dict[str, str] = {}
_DURATIONS: dict[tuple[Any, Any, Any], tuple[float, float] | None] = {}
_NAMES: dict[tuple[str, str, str, str], bool] = {}
_new_grant = tuple.__new__  # a Grant from its values, without the named tuple's Python __new__
_NOT_PLAIN = (-1.0, -1.0)  # a duration only check() can read, told apart by identity
_UNKNOWN = object()  # what a memory lacks
# An amount plain_number() takes, as a pattern: digits, maybe a point and digits other than three.
_PLAIN_AMOUNT = re.compile(r"[0-9]+(?:\.(?:[0-9]{1,2}|[0-9]{4,}))?")


def _remember(memory: dict[Any, Any], key: Any, found: Any) -> Any:
    if len(memory) >= _KEPT:
        memory.clear()
    memory[key] = found
    return found


def _plain_day(award: str) -> str:
    """The day of an ISO date or date-time in range, else ''."""
    if len(award) < 10 or award[4] != "-" or award[7] != "-" \
            or (len(award) > 10 and (award[10] not in "T " or not real_time(award[10:]))):
        return ""
    try:
        year = date.fromisoformat(award[:10]).year
    except ValueError:
        return ""
    return award[:10] if FIRST_YEAR <= year <= LAST_YEAR and award[:10] <= LATEST_AWARD else ""


def _plain_duration(start: Any, end: Any, stated: Any) -> tuple[float, float] | None:
    """The planned duration as check() reads it (None: none), or _NOT_PLAIN when only
    check() can say (a date or number not in its plainest form, or a problem)."""
    duration: tuple[float, float] | None = None
    if start or end:
        if type(start) is not str or type(end) is not str or len(start) < 10 \
                or len(end) < 10 or start[4] != "-" or start[7] != "-" or end[4] != "-" \
                or end[7] != "-" or (len(start) > 10 and start[10] not in "T ") \
                or (len(end) > 10 and end[10] not in "T "):
            return _NOT_PLAIN
        try:
            first, last = date.fromisoformat(start[:10]), date.fromisoformat(end[:10])
        except ValueError:
            return _NOT_PLAIN
        if not (FIRST_YEAR <= first.year <= LAST_YEAR and FIRST_YEAR <= last.year <= LAST_YEAR) \
                or not (len(start) == 10 or real_time(start[10:])) \
                or not (len(end) == 10 or real_time(end[10:])):
            return _NOT_PLAIN
        days = (last - first).days + 1
        if days <= 1:  # an end before the start, or on the same day: check() says which
            return _NOT_PLAIN
        months = rounded_months(days / DAYS_PER_MONTH, 1)
        if months > MAX_DURATION_MONTHS:
            return _NOT_PLAIN
        duration = (months, months)  # stated months, below, take its place
    if stated is not None and stated != "":
        if type(stated) is str:
            whole, point, part = stated.partition(".")
            if whole.isascii() and whole.isdecimal() and (not point or (
                    part.isascii() and part.isdecimal())):
                stated = float(stated)
        if (type(stated) is not int and type(stated) is not float) \
                or not MIN_DURATION_MONTHS <= stated <= MAX_DURATION_MONTHS:
            return _NOT_PLAIN
        months = rounded_months(float(stated), 2)
        if duration is not None and far_from_dates(months, duration):
            return _NOT_PLAIN
        duration = (months, months)
    return duration


def _kept(exc: FieldProblem) -> FieldProblem:
    """A problem to keep, without its traceback and the error it was raised in: they hold the
    frame that keeps it, a reference cycle that only the cyclic collector would free."""
    exc.__context__ = None
    return exc.with_traceback(None)


def _plain_texts(*texts: str) -> bool:
    """Whether each text is already stripped, single-spaced, printable and short. Checked in
    one pass over them joined by "|": a "|" beside a space inside a text only sends the
    grant to check()."""
    joined = "|" + "|".join(texts) + "|"
    return not ("| " in joined or " |" in joined or "  " in joined
                or not joined.isprintable()
                or (len(joined) > MAX_TITLE_CHARS and max(map(len, texts)) > MAX_TITLE_CHARS))


def check(raw: dict[str, Any], names: dict[str, str], where: str,
          orders: dict[str, Order] | None = None, keep_zero: bool = False,
          dots: Dots | None = None) -> tuple[Grant | None, list[Problem]]:
    """The grant (None when it cannot count) and all of its problems; orders and dots say
    how the file writes its dates and amounts, where it said."""
    if NOT_A_GRANT in raw:
        why = raw[NOT_A_GRANT]
        if isinstance(why, BadRow):
            return None, [Problem(where, fields.text(raw.get("id")), "row", why.kind, why.detail,
                                  LEFT_OUT, None)]
        return None, [Problem(where, "", "grant", "not a grant object",
                              f"not a grant object ({raw[NOT_A_GRANT]})", LEFT_OUT, None)]
    get = raw.get
    written_id = fields.text(get("id"))
    grant_id = fields.visible(written_id)
    problems: list[Problem] = []
    amount: float | None = None

    def problem(key: str, exc: FieldProblem, consequence: str) -> None:
        problems.append(Problem(where, grant_id, names[key], exc.kind, str(exc), consequence,
                                amount))

    counted = True
    sign = ""
    try:
        amount, sign = fields.read_amount(get("amount"), dots)
    except FieldProblem as exc:
        problem("amount", exc, LEFT_OUT)
        counted = False
    if amount == 0 and not keep_zero:
        problem("amount", FieldProblem("amount not disclosed (0)"), NOT_DISCLOSED)
        counted = False
    if not grant_id:
        problem("id", FieldProblem("missing"), LEFT_OUT)
        counted = False
    currency = ""
    try:
        currency = fields.read_currency(get("currency"), sign)
    except FieldProblem as exc:
        problem("currency", exc, LEFT_OUT)
        counted = False
    funder_id = fields.visible(fields.text(get("funder_id")))
    if not funder_id:
        problem("funder_id", FieldProblem("missing"), LEFT_OUT)
        counted = False
    elif len(funder_id) > MAX_TITLE_CHARS:
        problem("funder_id", FieldProblem(f"longer than {MAX_TITLE_CHARS} characters, not an "
                                          "organisation identifier"), LEFT_OUT)
        counted = False
    orders = orders or {}
    award = ""
    if get("award_date") in (None, ""):
        problem("award_date", FieldProblem("missing"), AWARD_UNKNOWN)
    else:
        try:
            award, said = fields.read_date(get("award_date"), orders.get("award_date", "dmy"))
            if award > LATEST_AWARD:
                award = ""
                raise FieldProblem("after today", get("award_date"))
            if said:
                problem("award_date", _as_said(said, get("award_date"), award), READ_AS_SAID)
        except FieldProblem as exc:
            problem("award_date", exc, AWARD_UNKNOWN)
    duration = _duration(raw, orders, problem)
    if not counted:
        return None, problems
    assert amount is not None
    shown: dict[str, str] = {"funder_id": fields.printable(funder_id)}
    for key in ("funder_name", "programme_code", "programme_title"):
        shown[key] = fields.capped(fields.text(get(key)))
    if grant_id != written_id:
        problem("id", FieldProblem("invisible characters, removed", written_id), READ_AS_SAID)
    for key in shown:
        written = fields.text(get(key))
        seen = fields.printable(written)
        if seen != written:
            problem(key, FieldProblem("invisible characters, removed"
                                      if seen == fields.visible(written)
                                      else "control characters, shown as U+FFFD", written),
                    READ_AS_SAID)
    return Grant(
        id=grant_id, funder_id=shown["funder_id"], funder_name=shown["funder_name"],
        programme_code=shown["programme_code"], programme_title=shown["programme_title"],
        currency=currency, amount=amount, award_date=award,
        recipient=next(filter(None, (fields.text(get(k)) for k in RECIPIENT_KEYS)), ""),
        duration_months=duration), problems


def _as_said(said: str, written: Any, day: str) -> FieldProblem:
    """A date read as it stands for (a serial number, a two-digit year): one kind of problem
    whatever the date (the summary sums up a kind), the date it stands for in the detail."""
    return FieldProblem(said, f"{fields.text(written)} = {day}")


def _duration(raw: dict[str, Any], orders: dict[str, Order],
              problem: Any) -> tuple[float, float] | None:
    """The planned duration: the stated months, else from start to end; None if unknown.

    Start and end dates that contradict each other make it unknown even when
    months are stated: which of them is wrong cannot be told.
    """
    dates: dict[str, str] = {}
    bad: list[tuple[str, FieldProblem]] = []
    for key in ("start", "end"):
        value = raw.get(key)
        if value in (None, ""):
            continue
        try:
            dates[key], said = fields.read_date(value, orders.get(key, "dmy"))
            if said:
                problem(key, _as_said(said, value, dates[key]), READ_AS_SAID)
        except FieldProblem as exc:
            bad.append((key, _kept(exc)))
    between = None
    contradict = False
    if len(dates) == 2:
        try:
            between = fields.months_between(dates["start"], dates["end"])
        except fields.SameDay as exc:
            bad.append(("end", _kept(exc)))
        except FieldProblem as exc:
            bad.append(("end", _kept(exc)))
            contradict = True
    duration = between if not bad else None
    stated = raw.get("duration")
    months: float | None = None
    if stated not in (None, ""):
        try:
            months = fields.read_duration(stated)
        except FieldProblem as exc:  # no duration stated after all: the dates stand
            problem("duration", exc, DURATION_UNKNOWN if duration is None else DATES_KEPT)
    if months is not None:
        try:
            if between is not None and not bad and fields.far_from_dates(months, between):
                low, high = between
                span = f"{low:g}" if low == high else f"{low:g} to {high:g}"
                raise FieldProblem("stated months far from the planned dates",
                                   f"{months:g} months; the dates span {span}")
            duration = None if contradict else (months, months)
        except FieldProblem as exc:
            problem("duration", exc, DURATION_UNKNOWN)
            duration = None
    for key, wrong in bad:
        problem(key, wrong, DURATION_UNKNOWN if duration is None else DATE_UNKNOWN)
    return duration
