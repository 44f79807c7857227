"""`fundcmp match`: where an ask fits, on the shipped registry and on observed grants."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from fundcmp.cli import cli
from fundcmp.matching import (
    AMOUNT,
    MONTHS,
    Ask,
    Fit,
    match,
    place_observed,
    place_stated,
)
from fundcmp.model import Programme, Unit, between, ceiling, exact, observed, unknown
from fundcmp.quantiles import of
from tests.conftest import SHIPPED

FITS, CAVEAT, UNKNOWN, NO = (f.words for f in Fit)

# The shipped registry's figures, and what each ask meets:
#   common-ambition               £300,000-£500,000 (a range)     24-36 months (a range)
#   shared-purpose                £420,000 (exact)                42 months (exact)
#   building-health-partnerships  unknown (no cash grant stated)  unknown (no duration or dates)
#   people-powered-health         up to £100,000 (a ceiling)      15 months (exact)
# Per figure: inside a range, at an exact figure or under a ceiling fits; below a range or an
# exact figure fits with a caveat (the programme gives, or runs, more than asked); above the
# top, or above a ceiling, does not fit; unknown stays unknown. A programme's verdict is its
# worst figure's, in the order fits < caveat < unknown < does not fit.
#
# Amount:   £50,000  CA below range -> caveat; SP below £420,000 -> caveat; BHP unknown;
#                    PPH under the £100,000 ceiling -> fits
#           £250,000 CA caveat; SP caveat; BHP unknown; PPH above its ceiling -> does not fit
#           £600,000 CA above £500,000 -> does not fit; SP above £420,000 -> does not fit;
#                    BHP unknown; PPH does not fit
# Months:   12       CA below 24 -> caveat; SP below 42 -> caveat; BHP unknown;
#                    PPH below 15 -> caveat
#           24       CA inside 24-36 -> fits; SP caveat; BHP unknown; PPH above 15 -> does not fit
#           42       CA above 36 -> does not fit; SP exactly 42 -> fits; BHP unknown;
#                    PPH does not fit
EXPECTED = {
    (50_000, 12): {"common-ambition": CAVEAT, "shared-purpose": CAVEAT,
                   "building-health-partnerships": UNKNOWN, "people-powered-health": CAVEAT},
    (50_000, 24): {"common-ambition": CAVEAT, "shared-purpose": CAVEAT,
                   "building-health-partnerships": UNKNOWN, "people-powered-health": NO},
    (50_000, 42): {"common-ambition": NO, "shared-purpose": CAVEAT,
                   "building-health-partnerships": UNKNOWN, "people-powered-health": NO},
    (250_000, 12): {"common-ambition": CAVEAT, "shared-purpose": CAVEAT,
                    "building-health-partnerships": UNKNOWN, "people-powered-health": NO},
    (250_000, 24): {"common-ambition": CAVEAT, "shared-purpose": CAVEAT,
                    "building-health-partnerships": UNKNOWN, "people-powered-health": NO},
    (250_000, 42): {"common-ambition": NO, "shared-purpose": CAVEAT,
                    "building-health-partnerships": UNKNOWN, "people-powered-health": NO},
    (600_000, 12): {"common-ambition": NO, "shared-purpose": NO,
                    "building-health-partnerships": UNKNOWN, "people-powered-health": NO},
    (600_000, 24): {"common-ambition": NO, "shared-purpose": NO,
                    "building-health-partnerships": UNKNOWN, "people-powered-health": NO},
    (600_000, 42): {"common-ambition": NO, "shared-purpose": NO,
                    "building-health-partnerships": UNKNOWN, "people-powered-health": NO},
}
ORDER = [FITS, CAVEAT, UNKNOWN, NO]


def run(*args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, ["--registry", str(SHIPPED), "match", *args,
                                      "--format", "json"])
    assert result.exit_code == 0, result.stderr
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


@pytest.mark.parametrize(("amount", "months"), sorted(EXPECTED))
def test_each_seed_programme_is_placed_right(amount: int, months: int) -> None:
    rows = run("--amount", str(amount), "--months", str(months))
    assert {r["slug"]: r["fit"] for r in rows} == EXPECTED[(amount, months)]
    fits = [ORDER.index(str(r["fit"])) for r in rows]
    assert fits == sorted(fits), "fits, then caveats, then unknowns, then does not fit"


def test_reasons_are_in_the_words_of_the_evidence() -> None:
    rows = {r["slug"]: str(r["reason"]) for r in run("--amount", "250000")}
    assert rows["people-powered-health"] == "asks £250,000; the programme gives up to £100,000"
    assert rows["building-health-partnerships"].startswith("no amount per team is stated")
    assert rows["common-ambition"] == ("asks £250,000; the programme gives £300,000-£500,000, "
                                       "at least £50,000 more than asked")
    assert rows["shared-purpose"] == ("asks £250,000; the programme gives £420,000, £170,000 "
                                      "more than asked")


def test_several_figures_each_say_their_verdict() -> None:
    rows = {r["slug"]: str(r["reason"]) for r in run("--amount", "50000", "--months", "24")}
    assert rows["people-powered-health"] == (
        "Fits: asks £50,000; the programme gives up to £100,000. Does not fit: asks 24 "
        "months; the programme runs 15 months.")


def test_per_year_uses_the_derived_yearly_figure() -> None:
    rows = {r["slug"]: r for r in run("--per-year", "120000")}
    # Common Ambition: [£300,000, £500,000] / [24, 36 months] x 12 = £100,000-£250,000 a year.
    assert rows["common-ambition"]["fit"] == FITS
    assert "£100,000-£250,000 a year (derived:" in str(rows["common-ambition"]["reason"])
    # Shared Purpose: £420,000 / 42 months x 12 = £120,000 a year exactly.
    assert rows["shared-purpose"]["fit"] == FITS
    # People Powered Health: up to £100,000 / 15 months x 12 = up to £80,000 a year.
    assert rows["people-powered-health"]["fit"] == NO
    assert rows["building-health-partnerships"]["fit"] == UNKNOWN


def test_words_are_matched_against_name_and_focus() -> None:
    rows = {r["slug"]: r for r in run("--words", "Co-Production")}
    assert rows["building-health-partnerships"]["fit"] == FITS
    assert rows["building-health-partnerships"]["reason"] == "its focus mentions “Co-Production”"
    assert rows["shared-purpose"]["fit"] == NO
    assert next(r["slug"] for r in run("--words", "shared purpose")) == "shared-purpose"


def test_funder_keeps_only_that_funders_programmes() -> None:
    rows = run("--amount", "50000", "--funder", "health foundation")
    assert sorted(r["slug"] for r in rows) == ["common-ambition", "shared-purpose"]


def test_nothing_fitting_is_still_an_answer() -> None:
    result = CliRunner().invoke(cli, ["--registry", str(SHIPPED), "match", "--amount",
                                      "9000000", "--format", "tsv", "--no-header"])
    assert result.exit_code == 0
    assert {line.split("\t")[2] for line in result.stdout.splitlines()} == {UNKNOWN, NO}


def test_another_currency_is_never_converted() -> None:
    rows = {r["slug"]: r for r in run("--amount", "50000", "--currency", "EUR")}
    assert rows["people-powered-health"]["fit"] == UNKNOWN
    assert "no exchange rate is assumed" in str(rows["people-powered-health"]["reason"])


@pytest.mark.parametrize(("args", "words"), [
    ([], "say what you need"),
    (["--amount", "-5"], "--amount"),
    (["--amount", "nan"], "--amount"),
    (["--amount", "inf"], "--amount"),
    (["--months", "1e16"], "--months"),
    (["--currency", "pounds", "--amount", "5"], "ISO 4217"),
    (["--words", "  "], "--words needs some words"),
])
def test_bad_asks_are_usage_errors(args: list[str], words: str) -> None:
    result = CliRunner().invoke(cli, ["--registry", str(SHIPPED), "match", *args])
    assert result.exit_code == 2
    assert words in result.stderr
    assert result.stdout == ""


def test_every_output_format_works_as_for_rank() -> None:
    runner = CliRunner()
    tsv = runner.invoke(cli, ["--registry", str(SHIPPED), "match", "--amount", "50000",
                              "--format", "tsv"])
    assert tsv.stdout.splitlines()[0] == "slug\tname\tfit\tfunding\treason"
    assert "people-powered-health\tPeople Powered Health\tfits\t<=100000\t" in tsv.stdout
    csv_out = runner.invoke(cli, ["--registry", str(SHIPPED), "match", "--amount", "50000",
                                  "--format", "csv", "--fields", "slug,fit,funding_high"])
    assert csv_out.stdout.splitlines()[1] == "people-powered-health,fits,100000"
    github = runner.invoke(cli, ["--registry", str(SHIPPED), "match", "--amount", "50000",
                                 "--format", "github"])
    assert "| up to £100,000 " in github.stdout
    table = runner.invoke(cli, ["--registry", str(SHIPPED), "match", "--amount", "50000",
                                "--format", "table"], env={"COLUMNS": "200"})
    assert "Programmes for £50,000: fits, then fits with a caveat" in table.stdout


def test_an_unknown_field_lists_match_s_own_fields_too() -> None:
    result = CliRunner().invoke(cli, ["--registry", str(SHIPPED), "match", "--amount", "5",
                                      "--fields", "slug,fitt"])
    assert result.exit_code == 2
    assert "Unknown field 'fitt'; available fields: fit, reason, slug," in result.stderr


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["match", "--help"])
    assert "fundcmp match --amount 250000 --months 24" in result.stdout


# Observed grants: the ask is placed among the quantiles.
GRANTS = [float(v) for v in range(1000, 21000, 1000)]  # 20 grants, £1,000 to £20,000


def spread(values: list[float]) -> object:
    import statistics

    return observed(min(values), statistics.median(values), max(values), len(values),
                    Unit.GBP, quantiles=of(values))


def test_an_observed_ask_is_placed_between_its_deciles() -> None:
    q = spread(GRANTS)
    test = place_observed(7000, Unit.GBP, q, AMOUNT)  # type: ignore[arg-type]
    # deciles of 1..20 thousand, inclusive method: D3 = 1000 + 0.3 x 19 x 1000 = 6,700
    assert test.fit is Fit.FITS
    assert test.reason == ("£7,000 lies between the 3rd decile and the 4th decile of its 20 "
                           "grants (3rd decile £6,700, 4th decile £8,600)")
    assert place_observed(19_500, Unit.GBP, q, AMOUNT).fit is Fit.CAVEAT  # type: ignore[arg-type]
    top = place_observed(25_000, Unit.GBP, q, AMOUNT)  # type: ignore[arg-type]
    assert (top.fit, top.reason) == (Fit.NO, "£25,000 is above all 20 grants (the largest "
                                             "was £20,000)")


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=40), st.integers(0, 2 * 10**6))
def test_an_observed_verdict_follows_the_deciles(values: list[int], ask: int) -> None:
    grants = [float(v) for v in values]
    q = spread(grants)
    fit = place_observed(float(ask), Unit.GBP, q, AMOUNT).fit  # type: ignore[arg-type]
    deciles = of(grants).deciles
    if ask > max(grants):
        assert fit is Fit.NO
    elif ask < min(grants) or ask > deciles[-1] or ask < deciles[0]:
        assert fit is Fit.CAVEAT
    else:
        assert fit is Fit.FITS


def test_stated_kinds_never_guess() -> None:
    p = Programme("x", "X", ("F",), ())
    assert place_stated(5, Unit.GBP, unknown(Unit.GBP), AMOUNT).fit is Fit.UNKNOWN
    assert place_stated(5, Unit.GBP, ceiling(5, Unit.GBP), AMOUNT).fit is Fit.FITS
    assert place_stated(6, Unit.GBP, ceiling(5, Unit.GBP), AMOUNT).fit is Fit.NO
    assert place_stated(4, Unit.GBP, exact(5, Unit.GBP), AMOUNT).fit is Fit.CAVEAT
    assert place_stated(5, Unit.MONTHS, between(5, 6, Unit.MONTHS), MONTHS).fit is Fit.FITS
    assert match(p, Ask(amount=5)).fit is Fit.UNKNOWN



# On grants imported from real files, match's statements follow statistics.quantiles.
REAL = Path(__file__).parent / "real360"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "real360"
REAL_PROGRAMMES = [
    # (file, directory, funder id, programme title): published by Esmée Fairbairn Foundation
    # and Lloyds Bank Foundation (ThreeSixtyGiving/grantnav test data)
    ("grantnav-test_data-grantnav-20180903134856.json", REAL, "GB-CHC-200051", "Main Grant"),
    ("grantnav-test_data-a002400000OiDBQAA3.json", SHARED, "GB-CHC-327114", "Invest South"),
    ("grantnav-test_data-a002400000OiDBQAA3.json", SHARED, "GB-CHC-327114", "XA8 - Community"),
]


def published_amounts(path: Path, funder_id: str, title: str) -> list[float]:
    """The programme's amounts, read straight from the file, not through fundcmp."""
    grants = json.loads(path.read_text(encoding="utf-8"))["grants"]
    return [float(g["amountAwarded"]) for g in grants
            if g["fundingOrganization"][0]["id"] == funder_id
            and g["grantProgramme"][0]["title"] == title]


def expected_place(ask: float, amounts: list[float]) -> str:
    """Where an ask lies, worked out from statistics.quantiles alone."""
    import statistics

    names = ["the smallest", *(f"the {o} decile" for o in
                               ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th")),
             "the largest"]
    cuts = [min(amounts), *statistics.quantiles(amounts, n=10, method="inclusive"),
            max(amounts)]
    if ask > cuts[-1]:
        return f"is above all {len(amounts):,} grants"
    equal = [names[i] for i, v in enumerate(cuts) if v == ask]
    if len(equal) == 1:
        return f"is {equal[0]} of its"
    if equal:
        return f"equals every cut from {equal[0]} to {equal[-1]} of its"
    below = max(i for i, v in enumerate(cuts) if v < ask)
    return f"lies between {names[below]} and {names[below + 1]} of its {len(amounts):,} grants"


@pytest.mark.parametrize(("name", "folder", "funder_id", "title"), REAL_PROGRAMMES)
def test_match_on_real_grants_agrees_with_statistics_quantiles(
        name: str, folder: Path, funder_id: str, title: str, tmp_path: Path) -> None:
    import statistics

    path = folder / name
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared is absent)")
    registry = tmp_path / "real.yaml"
    result = CliRunner().invoke(cli, ["import", str(path), "--into", str(registry),
                                      "--funder", funder_id])
    assert result.exit_code in (0, 3), result.stderr
    amounts = published_amounts(path, funder_id, title)
    deciles = statistics.quantiles(amounts, n=10, method="inclusive")
    asks = sorted({*deciles, min(amounts), max(amounts) * 1.5,
                   *((a + b) / 2 for a, b in pairwise(deciles))})
    for ask in asks:
        out = CliRunner().invoke(cli, ["--registry", str(registry), "match", "--amount",
                                       repr(ask), "--fields", "name,reason", "--format",
                                       "tsv", "--no-header"]).stdout
        reason = next(line.split("\t")[1] for line in out.splitlines()
                      if line.split("\t")[0] == title)
        assert expected_place(ask, amounts) in reason, (ask, reason)


def test_per_year_on_imported_grants_uses_their_own_yearly_amounts(tmp_path: Path) -> None:
    """Each grant's amount / its own duration x 12, placed among its deciles."""
    import statistics

    path = REAL / "grantnav-test_data-grantnav-20180903134856.json"
    registry = tmp_path / "r.yaml"
    CliRunner().invoke(cli, ["import", str(path), "--into", str(registry)])
    grants = json.loads(path.read_text(encoding="utf-8"))["grants"]
    yearly = [g["amountAwarded"] / g["plannedDates"][0]["duration"] * 12 for g in grants]
    deciles = statistics.quantiles(yearly, n=10, method="inclusive")
    ask = (deciles[3] + deciles[4]) / 2
    out = CliRunner().invoke(cli, ["--registry", str(registry), "match", "--per-year",
                                   repr(ask), "--fields", "fit,reason", "--format", "tsv",
                                   "--no-header"]).stdout
    fit, reason = out.rstrip("\n").split("\t")
    assert fit == "fits"
    assert reason.endswith(f"a year lies between the 4th decile and the 5th decile of its 5 "
                           f"grants (4th decile £{deciles[3]:,.0f} a year, 5th decile "
                           f"£{deciles[4]:,.0f} a year)")
