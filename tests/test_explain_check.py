"""`fundcmp explain` (every figure's chain) and `fundcmp check` (facts that disagree)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from fundcmp.arithmetic import months_between
from fundcmp.checks import check, duration_vs_dates, ends_before_it_starts
from fundcmp.cli import cli
from fundcmp.model import DateFact, Kind, Quantity, Unit, exact
from fundcmp.registry import load

from .conftest import SHIPPED

SHIPPED_TEXT = SHIPPED.read_text(encoding="utf-8")
SP_DURATION = ('duration: {amount: 42, source: hf-shared-purpose-summary, '
               'quote: "Runs for three and a half years"}')
CA_TOTAL = "      amount: 2100000\n"
SP = load(SHIPPED).by_slug()["shared-purpose"]


def run(runner: CliRunner, *args: str, code: int = 0) -> tuple[str, str]:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout, result.stderr


def _explain(runner: CliRunner, *args: str) -> list[list[str]]:
    out, _ = run(runner, "explain", *args, "--format", "tsv", "--no-header")
    return [line.split("\t") for line in out.splitlines()]


def _first(rows: list[list[str]]) -> dict[str, list[str]]:
    """Each figure's first row: how it is known (later rows are its inputs and price step)."""
    first: dict[str, list[str]] = {}
    for row in rows:
        first.setdefault(row[0], row)
    return first


def test_explain_shows_the_per_year_arithmetic_and_the_quotes_behind_it(
        runner: CliRunner) -> None:
    rows = [r for r in _explain(runner, "shared-purpose")
            if r[0] == "Funding per team per year" or r[2] == "input to funding per team per year"]
    assert rows[0][1:4] == ["120000", "derived", "£420,000 / 42 months x 12 = £120,000"]
    inputs = {r[0]: r for r in rows[1:]}
    assert inputs["input: funding per team"][3:5] == [
        "stated", "Each participating team receives £420,000 of funding"]
    assert inputs["input: duration"][4] == "Runs for three and a half years"
    assert inputs["input: duration"][5].startswith("The Health Foundation, ")


def test_explain_gives_stated_figures_their_quote_and_source(runner: CliRunner) -> None:
    rows = _first(_explain(runner, "common-ambition"))
    assert rows["Funding per team"][1:3] == ["300000-500000", "stated"]
    assert rows["Funding per team"][4] == "funding between £300,000 and £500,000"
    assert rows["Funding per team"][5].startswith("Healthcare Leader, ")


def test_explain_says_why_an_unknown_is_unknown(runner: CliRunner) -> None:
    rows = _first(_explain(runner, "shared-purpose"))
    assert rows["Support value per team"][1:4] == [
        "unknown", "unknown", "the sources list the package's areas but give it no money value"]
    assert rows["Value per team"][1] == ">=420000"
    assert "a lower bound: support unknown" in rows["Value per team"][3]


def test_explain_adds_the_price_step_after_the_stated_figure(runner: CliRunner) -> None:
    rows = [r for r in _explain(runner, "shared-purpose", "--prices", "2024")
            if r[0] == "Funding per team"]
    assert [r[2] for r in rows] == ["stated", "prices"]
    assert rows[1][1] == "585202.91"
    assert rows[1][3] == ("from 2012 to 2024 prices: x CPI 2024 / CPI 2012 = 133.9 / 96.1 = "
                          "1.3933: £420,000 becomes £585,203")


def test_explain_shows_how_a_deflator_maps_calendar_years(runner: CliRunner) -> None:
    rows = {(r[0], r[2]): r for r in _explain(runner, "shared-purpose", "--prices", "2024",
                                              "--index", "gdp-deflator")}
    step = rows[("Funding per team", "prices")][3]
    assert "(financial years 2012-13 and 2024-25)" in step
    assert "GDP deflator 2024-25 / GDP deflator 2012-13 = 100 / 71.5454" in step
    assert "financial year Y to Y+1 that starts in it" in rows[("Prices", "index")][3]


def test_explain_values_days_only_with_a_day_rate(runner: CliRunner) -> None:
    without = _first(_explain(runner, "people-powered-health"))
    assert without["Support value per team"][3] == (
        "stated as up to 20 days, not money; --day-rate GBP values it")
    rows = [r for r in _explain(runner, "people-powered-health", "--day-rate", "750")
            if r[0] == "Support value per team" or r[0] == "input: support days per team"]
    assert rows[0][1:4] == ["<=15000", "derived", "up to 20 days x £750/day = up to £15,000 "
                            "(day rate from --day-rate 750)"]
    assert rows[1][4] == "up to 20 days of non financial support"


def test_explain_json_carries_prices(runner: CliRunner) -> None:
    out, _ = run(runner, "explain", "common-ambition", "--prices", "2020", "--format", "json")
    rows = json.loads(out)
    assert {json.dumps(r["prices"]) for r in rows} == {'{"year": 2020, "index": "cpi"}'}


def test_explain_unknown_slug_is_a_usage_error(runner: CliRunner) -> None:
    _, err = run(runner, "explain", "shared-purpos", code=2)
    assert "unknown programme 'shared-purpos'; did you mean shared-purpose?" in err


def test_derived_figures_elsewhere_point_to_explain(runner: CliRunner) -> None:
    out, _ = run(runner, "rank", "--by", "value", "--format", "github")
    assert "£330,000-£550,000 *" in out
    assert "* derived from other facts; `fundcmp explain SLUG` shows how" in out


def test_check_passes_the_shipped_registry(runner: CliRunner) -> None:
    out, err = run(runner, "--registry", str(SHIPPED), "check")
    assert out == ""
    assert err == f"ok: 4 programmes in {SHIPPED}; no facts disagree\n"
    out, _ = run(runner, "--registry", str(SHIPPED), "check", "--format", "json")
    assert json.loads(out) == []


def test_check_flags_more_awards_than_applications(runner: CliRunner, tmp_path: Path) -> None:
    copy = tmp_path / "odd.yaml"
    copy.write_text(SHIPPED.read_text(encoding="utf-8").replace(
        "{amount: 108, source: nesta-2011", "{amount: 3, source: nesta-2011"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--registry", str(copy), "check", "--format", "tsv",
                                      "--no-header"])
    assert result.exit_code == 1
    assert "people-powered-health" in result.stdout
    assert "more awards than applications" in result.stdout


def _copy(write_registry: Callable[[str], Path], old: str, new: str) -> Path:
    assert old in SHIPPED_TEXT
    return write_registry(SHIPPED_TEXT.replace(old, new))


def test_check_flags_a_duration_the_dates_cannot_give(
        runner: CliRunner, write_registry: Callable[[str], Path]) -> None:
    path = _copy(write_registry, SP_DURATION, SP_DURATION.replace("42", "30"))
    out, err = run(runner, "--registry", str(path), "check", "--format", "tsv", "--no-header",
                   code=1)
    assert out == ("shared-purpose\tduration disagrees with the dates\tstated duration 30 months"
                   "\tRuns for three and a half years\tstated dates 2012-06 to 2015-12, which "
                   "give 41 to 43 months\tfrom June 2012 until December 2015\n")
    assert err == ""


def test_loader_warns_on_stderr_without_changing_the_exit_status(
        runner: CliRunner, write_registry: Callable[[str], Path]) -> None:
    path = _copy(write_registry, SP_DURATION, SP_DURATION.replace("42", "30"))
    out, err = run(runner, "--registry", str(path), "list", "--fields", "slug")
    assert out.splitlines() == ["common-ambition", "shared-purpose",
                                "building-health-partnerships", "people-powered-health"]
    assert err == ("fundcmp: warning: shared-purpose: duration disagrees with the dates: stated "
                   "duration 30 months (\u201cRuns for three and a half years\u201d) vs stated "
                   "dates 2012-06 to 2015-12, which give 41 to 43 months (\u201cfrom June 2012 "
                   "until December 2015\u201d)\n")


@pytest.mark.parametrize(("months", "flagged"), [(40, True), (41, False), (42, False),
                                                  (43, False), (44, True)])
def test_month_precise_dates_allow_a_range(months: int, flagged: bool) -> None:
    p = replace(SP, duration=exact(months, Unit.MONTHS))
    assert (duration_vs_dates(p) is not None) == flagged


@pytest.mark.parametrize(("total", "flagged"), [("1400000", True), ("1500000", False),
                                                 ("2750000", False), ("2800000", True)])
def test_check_flags_a_total_teams_x_per_team_cannot_produce(
        runner: CliRunner, write_registry: Callable[[str], Path], total: str,
        flagged: bool) -> None:
    path = _copy(write_registry, CA_TOTAL, f"      amount: {total}\n")
    out, _ = run(runner, "--registry", str(path), "check", "--format", "tsv", "--no-header",
                 code=1 if flagged else 0)
    if flagged:
        cells = out.rstrip("\n").split("\t")
        assert cells[:2] == ["common-ambition", "total disagrees with teams x per-team funding"]
        assert cells[3] == "a new £2.1m program"
        assert cells[4] == ("stated teams x per-team funding 5 x £300,000-£500,000 (plus "
                            "support of up to £50,000 each), which gives £1,500,000 to "
                            "£2,750,000")
        assert cells[5] == ("provide the five winning teams with funding; funding between "
                            "£300,000 and £500,000")


def test_a_derived_figure_that_contradicts_a_stated_one_is_flagged_as_derived() -> None:
    p = replace(SP, duration=Quantity(Kind.DERIVED, Unit.MONTHS, 36, 36, 36,
                                      formula="three years from the report"))
    (finding,) = check([p])
    assert finding.first.how == "derived (three years from the report)"
    assert finding.second.quotes == ("from June 2012 until December 2015",)


month_dates = st.tuples(st.integers(2000, 2030), st.integers(1, 12))


@given(month_dates, month_dates, st.integers(0, 400))
def test_a_duration_is_flagged_exactly_when_outside_the_dates_range(
        start: tuple[int, int], end: tuple[int, int], months: int) -> None:
    start_text, end_text = f"{start[0]}-{start[1]:02d}", f"{end[0]}-{end[1]:02d}"
    p = replace(SP, start=DateFact(start_text), end=DateFact(end_text),
                duration=exact(months, Unit.MONTHS))
    shortest, longest = months_between(start_text, end_text)
    out_of_order = end_text < start_text  # flagged as an end before the start instead
    assert (duration_vs_dates(p) is None) == (out_of_order or shortest <= months <= longest)
    assert (ends_before_it_starts(p) is not None) == out_of_order


def test_check_output_fields_and_json(runner: CliRunner,
                                      write_registry: Callable[[str], Path]) -> None:
    path = _copy(write_registry, SP_DURATION, SP_DURATION.replace("42", "30"))
    out, _ = run(runner, "--registry", str(path), "check", "--format", "json", code=1)
    (row,) = json.loads(out)
    assert row["first_quote"] == ["Runs for three and a half years"]
    assert row["second"] == "stated dates 2012-06 to 2015-12, which give 41 to 43 months"
    out, _ = run(runner, "--registry", str(path), "check", "--fields", "slug",
                 "--format", "tsv", "--no-header", code=1)
    assert out == "shared-purpose\n"


@pytest.mark.parametrize("args", [
    ["list", "--prices", "2024", "--day-rate", "750"],
    ["rank", "--by", "value,odds", "--prices", "2020", "--index", "gdp-deflator"],
    ["explain", "shared-purpose", "--prices", "2024"],
    ["check"],
])
def test_machine_output_never_imports_rich_or_tabulate(args: list[str]) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "fundcmp", *args,
                             "--format", "tsv"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip().split(".")[0] for line in
                result.stderr.splitlines() if line.startswith("import time:")}
    assert "fundcmp" in imported
    assert not imported & {"rich", "tabulate"}
