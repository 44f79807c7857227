"""The rows of `fundcmp match`: each programme's verdict on the ask, and why.

Rows only: the verdicts come from fundcmp.matching, the characters from the
renderer, so every output format works as it does for `rank`.
"""

from __future__ import annotations

from collections.abc import Sequence

from fundcmp.matching import Ask, Fit, Match, ask_words
from fundcmp.views import CATALOGUE, Column, Record, Table, UnknownFieldError, choose_fields

OWN_FIELDS = {"fit": "Fit", "reason": "Why"}
MATCH_NOTES = (
    "fits: inside a stated range, at a stated figure or under a ceiling, or between the 1st "
    "and 9th deciles of observed grants",
    "fits with a caveat: the programme gives (or runs) more than asked, or the ask is in the "
    "top or bottom tenth of observed grants, or below all of them",
    "unknown: the programme states no such figure; does not fit: above what is stated, or "
    "above every observed grant",
)


def default_fields(ask: Ask) -> tuple[str, ...]:
    figures = [key for key, asked in (("funding", ask.amount), ("funding_per_year",
                                                                 ask.per_year),
                                      ("duration", ask.months)) if asked is not None]
    return ("slug", "name", "fit", *figures, "reason")


def match_table(matches: Sequence[Match], ask: Ask, fields: Sequence[str] | None = None,
                funder: str | None = None) -> Table:
    """One row a programme, best fit first; the reason in the words of the evidence."""
    keys = tuple(fields) if fields else default_fields(ask)
    unknown = [k for k in keys if k not in OWN_FIELDS and k not in CATALOGUE]
    if unknown:
        raise UnknownFieldError(f"Unknown field '{unknown[0]}'; available fields: "
                                + ", ".join([*OWN_FIELDS, *CATALOGUE]))
    catalogue_keys = choose_fields([k for k in keys if k not in OWN_FIELDS], ["slug"])
    getters = [(k, CATALOGUE[k][1]) for k in catalogue_keys]
    records: list[Record] = []
    for m in matches:
        record: Record = {k: get(m.programme) for k, get in getters}
        record["fit"] = m.fit.words
        record["reason"] = m.reason
        records.append(record)
    columns = tuple(Column(k, OWN_FIELDS[k]) if k in OWN_FIELDS else Column(k, CATALOGUE[k][0])
                    for k in keys)
    of = f" of funders matching \u201c{funder}\u201d" if funder else ""
    title = f"Programmes{of} for {ask_words(ask)}: " + ", then ".join(f.words for f in Fit)
    return Table(title, columns, tuple(records), notes=MATCH_NOTES)
