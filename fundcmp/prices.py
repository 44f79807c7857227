"""Price indices shipped as package data, and the factor that restates money between years.

Each index is a CSV of levels, shipped exactly as published (never retyped), with
its provenance (source, base, licence) in data/indices.json so `fundcmp indices`
can say where every number comes from. The GDP deflator is by financial year: a
calendar price year Y is read as the financial year that starts in it (Y-Y+1,
April to March), which holds nine of that calendar year's twelve months.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fundcmp.arithmetic import price_year, restate_programme, unpriced_programme
from fundcmp.errors import FundcmpError
from fundcmp.index_names import DEFAULT_INDEX as DEFAULT_INDEX
from fundcmp.index_names import INDEX_NAMES as INDEX_NAMES
from fundcmp.model import Programme

DATA = Path(__file__).with_name("data")


class PriceYearError(FundcmpError):
    """A price year the chosen index does not cover: a usage error (exit 2)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class PriceIndex:
    """One index: its levels by year and where they come from."""

    name: str
    label: str
    title: str
    source: str
    base: str
    licence: str
    period: str
    file: str
    levels: dict[int, tuple[str, float]]

    @property
    def first_year(self) -> int:
        return min(self.levels)

    @property
    def last_year(self) -> int:
        return max(self.levels)

    def covers(self) -> str:
        """The years this index can restate, in words for an error message."""
        first, last = self.levels[self.first_year][0], self.levels[self.last_year][0]
        if first == str(self.first_year):
            return f"{self.first_year} to {self.last_year}"
        return f"{self.first_year} to {self.last_year} (financial years {first} to {last})"

    def level(self, year: int, what: str = "--prices") -> tuple[str, float]:
        """The period label and index level standing for a calendar year."""
        if year not in self.levels:
            raise PriceYearError(f"{what} {year} is outside the {self.label} index, which "
                                 f"covers {self.covers()}")
        return self.levels[year]


def _year_of(period: str) -> int:
    """'2024' or the financial year '2024-25' to the calendar year it starts in."""
    return int(period[:4])


def load_index(name: str) -> PriceIndex:
    """Read an index's provenance and its CSV from the package data."""
    meta = json.loads((DATA / "indices.json").read_text(encoding="utf-8"))[name]
    with (DATA / meta["file"]).open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    column = rows[0].index(meta["column"])
    levels = {_year_of(row[0]): (row[0], float(row[column])) for row in rows[1:] if row}
    return PriceIndex(name=name, label=meta["label"], title=meta["title"],
                      source=meta["source"], base=meta["base"], licence=meta["licence"],
                      period=meta["period"], file=meta["file"], levels=levels)


@dataclass(frozen=True, slots=True)
class Restatement:
    """Money moved from one year's prices to another's, with the levels that did it."""

    label: str
    from_year: int
    to_year: int
    from_period: str
    to_period: str
    from_level: float
    to_level: float

    @property
    def factor(self) -> float:
        return self.to_level / self.from_level

    def words(self) -> str:
        """'from 2011 to 2024 prices: x CPI 2024 / CPI 2011 = 133.9 / 93.4 = 1.4336'."""
        periods = "" if self.from_period == str(self.from_year) else \
            f" (financial years {self.from_period} and {self.to_period})"
        return (f"from {self.from_year} to {self.to_year} prices{periods}: "
                f"x {self.label} {self.to_period} / {self.label} {self.from_period} = "
                f"{self.to_level:g} / {self.from_level:g} = {self.factor:.4f}")


@dataclass(frozen=True, slots=True)
class Prices:
    """The prices a table is in: one index and one target year."""

    index: PriceIndex
    year: int

    def restatement(self, from_year: int, slug: str) -> Restatement:
        period, level = self.index.level(from_year, f"{slug}: price year")
        to_period, to_level = self.index.level(self.year)
        return Restatement(self.index.label, from_year, self.year, period, to_period, level,
                           to_level)

    def title(self) -> str:
        """'£ in 2024 prices, CPI' (with the financial year for a deflator)."""
        period = self.index.levels[self.year][0]
        shown = str(self.year) if period == str(self.year) else f"{self.year} ({period})"
        return f"£ in {shown} prices, {self.index.label}"


def prices_for(year: int, index_name: str = DEFAULT_INDEX) -> Prices:
    """Prices in YEAR by the named index, refusing a year the index does not cover."""
    index = load_index(index_name)
    index.level(year)
    return Prices(index, year)


def at_prices(programmes: Sequence[Programme], prices: Prices) -> list[Programme]:
    """Every programme's money restated in the chosen year's prices."""
    restated = []
    for p in programmes:
        year, _why = price_year(p)
        if year is None:
            restated.append(unpriced_programme(p, f"{prices.year} prices"))
            continue
        step = prices.restatement(year, p.slug)
        restated.append(restate_programme(p, step.factor, step.words()))
    return restated
