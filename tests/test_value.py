"""Valued support, value per team, odds and multi-key ranking: intervals, never zeros."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from fundcmp.arithmetic import (
    MEASURES,
    add,
    rank_by,
    success_rate,
    value_per_team,
    value_programme,
    value_support,
)
from fundcmp.cli import cli
from fundcmp.model import Kind, Quantity, Support, Unit, between, ceiling, exact, unknown
from fundcmp.registry import load

from .conftest import SHIPPED

REGISTRY = load(SHIPPED)
BY_SLUG = REGISTRY.by_slug()
money = st.floats(min_value=0, max_value=1e9, allow_nan=False)


@st.composite
def amounts(draw: st.DrawFn) -> tuple[Quantity, float | None]:
    """A money quantity and one value it could truly be (None when it is unknown)."""
    kind = draw(st.sampled_from([Kind.EXACT, Kind.RANGE, Kind.CEILING, Kind.UNKNOWN]))
    a, b = sorted((draw(money), draw(money)))
    t = draw(st.floats(min_value=0, max_value=1))
    if kind is Kind.EXACT:
        return exact(a, Unit.GBP), a
    if kind is Kind.RANGE:
        return between(a, b, Unit.GBP), a + (b - a) * t
    if kind is Kind.CEILING:
        return ceiling(b, Unit.GBP), b * t
    return unknown(Unit.GBP), None


@given(st.lists(amounts(), min_size=1, max_size=4),
       st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_a_sum_bounds_every_sum_its_parts_could_make(parts: list[tuple[Quantity, float | None]],
                                                     unknown_is: float) -> None:
    total = add([(f"part {i}", q) for i, (q, _) in enumerate(parts)])
    truth = sum(unknown_is if v is None else v for _, v in parts)
    if total.low is not None:
        assert truth >= total.low * (1 - 1e-9)
    if total.high is not None:
        assert truth <= total.high * (1 + 1e-9) + 1e-6
    if total.mid is not None:
        assert total.low is None or total.low <= total.mid * (1 + 1e-9)


@given(st.lists(amounts(), min_size=1, max_size=4))
def test_an_unknown_part_never_counts_as_zero(parts: list[tuple[Quantity, float | None]]) -> None:
    total = add([(f"part {i}", q) for i, (q, _) in enumerate(parts)])
    if any(q.kind is Kind.UNKNOWN for q, _ in parts):
        assert total.high is None and total.mid is None
        if total.low is None:
            assert total.kind is Kind.UNKNOWN and "unknown" in total.note
        else:
            assert total.kind is Kind.DERIVED and total.note.startswith("a lower bound")
    else:
        assert total.high is not None and total.kind is Kind.DERIVED


def test_ranges_add_end_to_end() -> None:
    q = add([("a", between(300000, 500000, Unit.GBP)), ("b", between(30000, 50000, Unit.GBP))])
    assert (q.kind, q.low, q.mid, q.high) == (Kind.DERIVED, 330000, 440000, 550000)
    assert q.formula == "[£300,000, £500,000] + [£30,000, £50,000]"


def test_ceilings_add_to_a_ceiling() -> None:
    q = add([("a", ceiling(100000, Unit.GBP)), ("b", ceiling(15000, Unit.GBP))])
    assert (q.low, q.mid, q.high) == (None, 115000, 115000)


def test_value_support_uses_a_stated_value_first() -> None:
    s = BY_SLUG["common-ambition"].support
    assert value_support(s, 750) is s.value


def test_days_are_valued_only_with_a_day_rate() -> None:
    s = BY_SLUG["people-powered-health"].support
    without = value_support(s, None)
    assert without.kind is Kind.UNKNOWN
    assert without.note == "stated as up to 20 days, not money; --day-rate GBP values it"
    valued = value_support(s, 750)
    assert (valued.kind, valued.low, valued.high) == (Kind.DERIVED, None, 15000)
    assert valued.formula == "up to 20 days x £750/day"


def test_days_in_a_range_give_a_range() -> None:
    s = Support(days=between(10, 20, Unit.DAYS))
    q = value_support(s, 500)
    assert (q.low, q.mid, q.high) == (5000, 7500, 10000)


def test_support_with_neither_value_nor_days_stays_unknown_with_its_reason() -> None:
    s = BY_SLUG["shared-purpose"].support
    q = value_support(s, 750)
    assert q.kind is Kind.UNKNOWN and "no money value" in q.note
    assert value_programme(BY_SLUG["shared-purpose"], 750).support.components == s.components


@pytest.mark.parametrize(("slug", "rate", "expect"), [
    ("common-ambition", None, (Kind.DERIVED, 330000, 440000, 550000)),
    ("shared-purpose", None, (Kind.DERIVED, 420000, None, None)),
    ("people-powered-health", None, (Kind.UNKNOWN, None, None, None)),
    ("people-powered-health", 750, (Kind.DERIVED, None, 115000, 115000)),
    ("building-health-partnerships", 750, (Kind.UNKNOWN, None, None, None)),
])
def test_value_per_team_of_the_shipped_programmes(slug: str, rate: float | None,
                                                  expect: tuple[object, ...]) -> None:
    q = value_per_team(value_programme(BY_SLUG[slug], rate))
    assert (q.kind, q.low, q.mid, q.high) == expect


def test_success_rate_only_where_applications_are_stated() -> None:
    q = success_rate(BY_SLUG["people-powered-health"])
    assert q.unit == "%" and q.mid == pytest.approx(6 / 108 * 100)
    assert q.formula == "6 local partnerships / 108 applications x 100"
    gone = success_rate(BY_SLUG["shared-purpose"])
    assert gone.kind is Kind.UNKNOWN and gone.note == "applications not stated"


def test_success_rate_of_ranges_uses_opposite_ends() -> None:
    p = replace(BY_SLUG["people-powered-health"],
                teams=between(5, 10, Unit.COUNT, evidence=BY_SLUG["shared-purpose"].teams.evidence),
                applications=between(50, 100, Unit.COUNT,
                                     evidence=BY_SLUG["shared-purpose"].teams.evidence))
    q = success_rate(p)
    assert (q.low, q.high) == (5, 20)


def test_rank_by_two_keys_breaks_ties_with_the_second() -> None:
    a = replace(BY_SLUG["shared-purpose"], slug="a", duration=exact(24, Unit.MONTHS),
                funding_per_team=exact(1, Unit.GBP))
    b = replace(a, slug="b", funding_per_team=exact(3, Unit.GBP))
    c = replace(a, slug="c", duration=exact(36, Unit.MONTHS))
    d = replace(a, slug="d", duration=unknown(Unit.MONTHS), funding_per_team=exact(9, Unit.GBP))
    e = replace(d, slug="e", funding_per_team=exact(5, Unit.GBP))
    keys = [MEASURES["duration"], MEASURES["funding"]]
    order = [r.programme.slug for r in rank_by([a, b, c, e, d], keys)]
    assert order == ["c", "b", "a", "d", "e"]
    reverse = [r.programme.slug for r in rank_by([a, b, c, e, d], keys, reverse=True)]
    assert reverse == ["a", "b", "c", "e", "d"]


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=8))
def test_rank_by_sorts_like_sort_k(pairs: list[tuple[int, int]]) -> None:
    base = BY_SLUG["shared-purpose"]
    programmes = [replace(base, slug=f"p{i:02d}", duration=exact(x, Unit.MONTHS),
                          teams=exact(y, Unit.COUNT)) for i, (x, y) in enumerate(pairs)]
    ranked = rank_by(programmes, [MEASURES["duration"], MEASURES["teams"]])
    got = [(r.programme.duration.mid, r.programme.teams.mid) for r in ranked]
    assert got == sorted(got, key=lambda t: (-(t[0] or 0), -(t[1] or 0)))


def run(runner: CliRunner, *args: str, code: int = 0) -> tuple[str, str]:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout, result.stderr


def _rows(out: str) -> dict[str, list[str]]:
    return {line.split("\t")[0]: line.split("\t") for line in out.splitlines()}


def test_rank_by_support_with_a_day_rate_values_days(runner: CliRunner) -> None:
    out, _ = run(runner, "rank", "--by", "support", "--day-rate", "750", "--format", "json")
    rows = json.loads(out)
    pph = next(r for r in rows if r["slug"] == "people-powered-health")
    assert pph["support"]["value"]["kind"] == "derived"
    assert pph["support"]["value"]["text"] == "up to £15,000"
    assert pph["note"] == "derived: up to 20 days x £750/day"
    assert [r["slug"] for r in rows] == ["building-health-partnerships", "common-ambition",
                                         "people-powered-health", "shared-purpose"]


def test_rank_by_support_without_a_day_rate_shows_days_and_ranks_unknown(
        runner: CliRunner) -> None:
    out, _ = run(CliRunner(env={"COLUMNS": "250"}), "rank", "--by", "support", "--format",
                 "github")
    pph = next(line for line in out.splitlines() if "people-powered-health" in line)
    assert "up to 20 days" in pph and "--day-rate GBP values it" in pph
    assert out.splitlines().index(pph) == out.splitlines().index("") - 1
    tsv, _ = run(runner, "rank", "--by", "support", "--format", "tsv", "--no-header")
    assert _rows(tsv)["people-powered-health"][2] == "unknown"


def test_rank_by_value_lists_all_four_and_treats_no_unknown_as_zero(runner: CliRunner) -> None:
    out, _ = run(runner, "rank", "--by", "value", "--format", "tsv", "--no-header")
    rows = _rows(out)
    assert list(rows) == ["common-ambition", "shared-purpose", "building-health-partnerships",
                          "people-powered-health"]
    assert rows["common-ambition"][2:4] == ["330000-550000", "440000"]
    assert rows["shared-purpose"][2:4] == [">=420000", ""]
    assert rows["shared-purpose"][4].startswith("ranked by its floor; a lower bound: support")
    assert rows["people-powered-health"][2] == "unknown"
    assert rows["building-health-partnerships"][4].startswith(
        "unknown: funding per team unknown")


def test_rank_by_value_on_the_low_basis_ranks_the_lower_bound(runner: CliRunner) -> None:
    out, _ = run(runner, "rank", "--by", "value", "--basis", "low", "--format", "tsv",
                 "--no-header")
    assert list(_rows(out))[:2] == ["shared-purpose", "common-ambition"]


def test_rank_by_odds(runner: CliRunner) -> None:
    out, _ = run(runner, "rank", "--by", "odds", "--format", "tsv", "--no-header")
    rows = _rows(out)
    assert next(iter(rows)) == "people-powered-health"
    assert rows["people-powered-health"][2] == "5.56"
    assert rows["common-ambition"][2] == "unknown"


def test_rank_by_two_keys_on_the_cli(runner: CliRunner) -> None:
    out, _ = run(runner, "rank", "--by", "duration,funding", "--format", "tsv")
    head, *rows = out.splitlines()
    assert head.split("\t") == ["slug", "name", "duration", "duration_mid", "funding",
                                "funding_mid", "note"]
    assert [r.split("\t")[0] for r in rows] == ["shared-purpose", "common-ambition",
                                                "people-powered-health",
                                                "building-health-partnerships"]
    title, _ = run(CliRunner(env={"COLUMNS": "250"}), "rank", "--by", "duration,funding",
                   "--format", "table", "--color", "never")
    assert "by duration, then funding per team, largest first" in title


@pytest.mark.parametrize(("args", "words"), [
    (["--by", "duration,speed"], "'speed' is not one of funding, funding-per-year"),
    (["--by", ","], "empty entry"),
    (["--by", "funding,funding"], "given twice"),
    (["--by", "support", "--day-rate", "0"], "0.0 is not in the range 0<x<=100000"),
    (["--by", "support", "--day-rate", "inf"], "inf is not in the range 0<x<=100000"),
    (["--by", "support", "--day-rate", "nan"], "not nan"),
    (["--by", "support", "--day-rate", "lots"], "'lots' is not a valid float"),
])
def test_bad_rank_options_are_usage_errors(runner: CliRunner, args: list[str],
                                           words: str) -> None:
    _, err = run(runner, "rank", *args, code=2)
    assert words in err


def test_list_shows_value_and_success_rate_fields(runner: CliRunner) -> None:
    out, _ = run(runner, "list", "--fields", "slug,value,success_rate", "--day-rate", "750",
                 "--format", "tsv", "--no-header")
    assert _rows(out)["people-powered-health"] == ["people-powered-health", "<=115000", "5.56"]


def test_compare_day_rate_values_days_in_the_support_row(runner: CliRunner) -> None:
    out, _ = run(runner, "compare", "people-powered-health", "common-ambition", "--day-rate",
                 "500", "--format", "tsv", "--no-header")
    support = next(line for line in out.splitlines() if line.startswith("support\t"))
    assert support.split("\t")[1:] == ["<=10000", "30000-50000"]
