"""Real terms: the shipped indices, the restating arithmetic and --prices/--index on the CLI."""

from __future__ import annotations

import csv
import itertools
import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from fundcmp.arithmetic import restate, restate_programme
from fundcmp.cli import cli
from fundcmp.model import Kind, Quantity, Unit, between, ceiling, exact, unknown
from fundcmp.prices import (
    DATA,
    INDEX_NAMES,
    PriceYearError,
    Restatement,
    at_prices,
    load_index,
    prices_for,
)
from fundcmp.registry import load

from .conftest import SHIPPED

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
BY_SLUG = load(SHIPPED).by_slug()
money = st.floats(min_value=0, max_value=1e9, allow_nan=False)
levels = st.floats(min_value=1, max_value=1000, allow_nan=False)


def _csv_levels(name: str) -> dict[str, float]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return {row[0]: float(row[1]) for row in rows[1:]}


@pytest.mark.parametrize("name", INDEX_NAMES)
def test_index_levels_are_the_shipped_csv(name: str) -> None:
    index = load_index(name)
    assert {period: level for period, level in index.levels.values()} == \
        _csv_levels(index.file)


@pytest.mark.skipif(not SHARED.exists(), reason="shared reference data not beside the repo")
@pytest.mark.parametrize("file", ["uk-cpi-annual.csv", "uk-gdp-deflator-fy.csv"])
def test_shipped_csv_is_byte_for_byte_the_reference(file: str) -> None:
    assert (DATA / file).read_bytes() == (SHARED / file).read_bytes()


def test_index_provenance_is_in_package_data() -> None:
    meta = json.loads((DATA / "indices.json").read_text(encoding="utf-8"))
    assert set(meta) == set(INDEX_NAMES)
    cpi, deflator = load_index("cpi"), load_index("gdp-deflator")
    assert "D7BT" in cpi.source and cpi.base == "2015 = 100"
    assert "HM Treasury" in deflator.source and deflator.base == "2024-25 = 100"
    assert all("Open Government Licence" in i.licence for i in (cpi, deflator))


def test_cpi_levels_and_range() -> None:
    cpi = load_index("cpi")
    assert cpi.level(2011) == ("2011", 93.4)
    assert cpi.level(2024) == ("2024", 133.9)
    assert (cpi.first_year, cpi.last_year) == (2005, 2025)


def test_deflator_reads_a_calendar_year_as_the_financial_year_starting_in_it() -> None:
    deflator = load_index("gdp-deflator")
    assert deflator.level(2024) == ("2024-25", 100.0)
    assert deflator.level(2012) == ("2012-13", 71.5454)
    assert (deflator.first_year, deflator.last_year) == (2005, 2024)


@pytest.mark.parametrize(("year", "index", "words"), [
    (2026, "cpi", "--prices 2026 is outside the CPI index, which covers 2005 to 2025"),
    (2004, "cpi", "--prices 2004 is outside the CPI index, which covers 2005 to 2025"),
    (2025, "gdp-deflator", "--prices 2025 is outside the GDP deflator index, which covers "
                           "2005 to 2024 (financial years 2005-06 to 2024-25)"),
])
def test_year_outside_an_index_is_an_error_naming_the_range(year: int, index: str,
                                                            words: str) -> None:
    with pytest.raises(PriceYearError) as caught:
        prices_for(year, index)
    assert str(caught.value) == words
    assert caught.value.exit_code == 2


def test_restatement_words_show_the_levels() -> None:
    step = prices_for(2024).restatement(2011, "x")
    assert step.factor == pytest.approx(133.9 / 93.4)
    assert step.words() == ("from 2011 to 2024 prices: x CPI 2024 / CPI 2011 = 133.9 / 93.4 "
                            "= 1.4336")


@given(money, levels, levels)
def test_restating_there_and_back_is_the_identity(gbp: float, a: float, b: float) -> None:
    there = Restatement("I", 1, 2, "1", "2", a, b)
    back = Restatement("I", 2, 1, "2", "1", b, a)
    q = restate(restate(exact(gbp, Unit.GBP), there.factor, "there"), back.factor, "back")
    assert q.mid == pytest.approx(gbp, rel=1e-9, abs=1e-6)


@given(money, levels, levels, levels)
def test_restating_is_monotone_in_the_target_index(gbp: float, base: float, a: float,
                                                   b: float) -> None:
    low, high = sorted((a, b))
    q_low = restate(exact(gbp, Unit.GBP), low / base, "")
    q_high = restate(exact(gbp, Unit.GBP), high / base, "")
    assert q_low.mid is not None and q_high.mid is not None
    assert q_low.mid <= q_high.mid


@given(money, money, levels)
def test_restating_keeps_the_kind_and_the_order_of_bounds(a: float, b: float,
                                                          factor: float) -> None:
    lo, hi = sorted((a, b))
    for q in (exact(lo, Unit.GBP), between(lo, hi, Unit.GBP), ceiling(hi, Unit.GBP)):
        r = restate(q, factor, "from 1 to 2 prices")
        assert r.kind is q.kind
        assert (r.low is None) == (q.low is None)
        assert r.high is not None and r.high == pytest.approx(q.high * factor)  # type: ignore[operator]
        assert "restated from 1 to 2 prices" in r.note


@pytest.mark.parametrize("q", [unknown(Unit.GBP), exact(12, Unit.MONTHS), exact(5, Unit.COUNT)])
def test_restating_leaves_unknowns_and_non_money_alone(q: Quantity) -> None:
    assert restate(q, 2.0, "x") == q


def test_restating_a_programme_moves_only_money() -> None:
    p = BY_SLUG["common-ambition"]
    r = restate_programme(p, 2.0, "x")
    assert (r.funding_per_team.low, r.funding_per_team.high) == (600000, 1000000)
    assert r.total_funding.mid == 4200000
    assert (r.support.value.low, r.support.value.high) == (60000, 100000)
    assert r.duration == p.duration and r.teams == p.teams


def test_at_prices_uses_each_programmes_price_year() -> None:
    prices = prices_for(2024)
    pph, sp = at_prices([BY_SLUG["people-powered-health"], BY_SLUG["shared-purpose"]], prices)
    assert pph.funding_per_team.kind is Kind.CEILING
    assert pph.funding_per_team.high == pytest.approx(100000 * 133.9 / 93.4)
    assert sp.funding_per_team.mid == pytest.approx(420000 * 133.9 / 96.1)


def test_money_without_a_price_year_becomes_unknown_not_cash() -> None:
    p = replace(BY_SLUG["shared-purpose"], start=None, end=None)
    (r,) = at_prices([p], prices_for(2024))
    assert r.funding_per_team.kind is Kind.UNKNOWN
    assert "£420,000 in unstated prices" in r.funding_per_team.note


def test_a_price_year_outside_the_index_names_the_programme() -> None:
    p = replace(BY_SLUG["shared-purpose"], price_year=1990)
    with pytest.raises(PriceYearError, match="shared-purpose: price year 1990 is outside"):
        at_prices([p], prices_for(2024))


WIDE = CliRunner(env={"COLUMNS": "250"})


def test_compare_at_2024_prices_restates_by_the_cpi_ratio_and_titles_it() -> None:
    result = WIDE.invoke(cli, ["compare", "people-powered-health", "common-ambition",
                               "--prices", "2024", "--format", "table", "--color", "never"])
    assert result.exit_code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert "£ in 2024 prices, CPI" in first
    funding = next(line for line in result.stdout.splitlines() if "Funding per team" in line)
    assert "up to £143,362" in funding  # 100,000 x 133.9 / 93.4, to the pound
    assert "£369,549-£615,915" in funding  # [300,000, 500,000] x 133.9 / 108.7


def test_json_carries_the_prices_and_says_each_figure_was_restated(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["list", "--prices", "2024", "--index", "gdp-deflator",
                                 "--format", "json", "--fields", "slug,funding"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert all(r["prices"] == {"year": 2024, "index": "gdp-deflator"} for r in rows)
    pph = next(r for r in rows if r["slug"] == "people-powered-health")
    assert pph["funding"]["kind"] == "ceiling"
    assert pph["funding"]["high"] == pytest.approx(100000 * 100 / 70.3261, abs=0.01)
    assert "restated from 2011 to 2024 prices (financial years 2011-12 and 2024-25)" in \
        pph["funding"]["note"]


def test_json_without_prices_carries_no_prices_key(runner: CliRunner) -> None:
    rows = json.loads(runner.invoke(cli, ["list", "--format", "json"]).stdout)
    assert all("prices" not in r for r in rows)


def test_rank_at_prices_orders_by_restated_money(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rank", "--by", "funding", "--prices", "2024",
                                 "--format", "tsv", "--no-header"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines][:2] == ["shared-purpose", "common-ambition"]
    assert lines[0].split("\t")[2] == "585202.91"


@pytest.mark.parametrize("command", [["list"], ["rank", "--by", "total"],
                                     ["compare", "shared-purpose", "common-ambition"],
                                     ["explain", "shared-purpose"]])
def test_a_year_outside_the_index_is_a_usage_error(runner: CliRunner,
                                                   command: list[str]) -> None:
    result = runner.invoke(cli, [*command, "--prices", "2031"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == ("fundcmp: --prices 2031 is outside the CPI index, which covers "
                             "2005 to 2025\n")


def test_index_without_prices_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["list", "--index", "gdp-deflator"])
    assert result.exit_code == 2
    assert "--index chooses the index for --prices YEAR" in result.stderr


def test_unknown_index_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["list", "--prices", "2024", "--index", "rpi"])
    assert result.exit_code == 2
    assert "'rpi' is not one of 'cpi', 'gdp-deflator'" in result.stderr


def test_indices_prints_source_base_licence_and_years(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["indices", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["cpi"]["years"] == "2005 to 2025"
    assert rows["cpi"]["base"] == "2015 = 100"
    assert rows["gdp-deflator"]["years"] == "2005 to 2024 (financial years 2005-06 to 2024-25)"
    assert "financial year Y to Y+1 that starts in it" in rows["gdp-deflator"]["period"]
    assert all("Open Government Licence" in r["licence"] for r in rows.values())


def test_indices_fields_select_its_own_columns(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["indices", "--fields", "name,years", "--format", "tsv",
                                 "--no-header"])
    assert result.stdout == ("cpi\t2005 to 2025\n"
                             "gdp-deflator\t2005 to 2024 (financial years 2005-06 to "
                             "2024-25)\n")
    bad = runner.invoke(cli, ["indices", "--fields", "nope"])
    assert bad.exit_code == 2 and "Unknown field 'nope'" in bad.stderr


@given(st.sampled_from(INDEX_NAMES), st.integers(2005, 2024), st.integers(2005, 2024), money)
def test_shipped_indices_round_trip_between_any_two_covered_years(name: str, a: int, b: int,
                                                                  gbp: float) -> None:
    there = prices_for(b, name).restatement(a, "x")
    back = prices_for(a, name).restatement(b, "x")
    q = restate(restate(between(gbp, gbp * 2, Unit.GBP), there.factor, ""), back.factor, "")
    assert q.kind is Kind.RANGE
    assert q.low == pytest.approx(gbp, rel=1e-9, abs=1e-6)
    assert q.high == pytest.approx(gbp * 2, rel=1e-9, abs=1e-6)


@given(st.floats(0.01, 1e9), st.floats(0.01, 1e9), st.floats(0.01, 1e9), st.floats(0.5, 3))
@example(6300.0, 14555.0, 15000.0, 1.339)
def test_restating_a_spread_scales_its_quartiles_and_deciles_with_its_ends(
        a: float, b: float, c: float, factor: float) -> None:
    """Restated, an observed spread's cuts kept today's prices: a Q3 below the median."""
    from fundcmp import quantiles

    low, mid, high = sorted((a, b, c))
    cuts = quantiles.of([low, mid, high])
    q = Quantity(Kind.OBSERVED, Unit.GBP, low, mid, high, n=3, quantiles=cuts)
    restated = restate(q, factor, "in 2024 prices")
    assert restated.quantiles is not None
    assert restated.quantiles.quartiles == pytest.approx([x * factor for x in cuts.quartiles])
    assert restated.quantiles.deciles == pytest.approx([x * factor for x in cuts.deciles])
    ordered = [restated.low, *restated.quantiles.deciles, restated.high]
    assert all(after >= before * (1 - 1e-12) for before, after in itertools.pairwise(ordered))
