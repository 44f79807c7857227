"""The spread of real grants: exact quartiles and deciles, stored, loaded, drawn and exported."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from fundcmp import boxplot, giving360, quantiles
from fundcmp.cli import cli
from fundcmp.errors import RegistryError
from fundcmp.model import Evidence, Quantity, Unit, observed
from fundcmp.registry import build, load, parse, quantity_data
from tests import test_real360 as real360

HEAD = """\
sources:
  - {id: data, publisher: P, title: T, date: "2024"}
programmes:
"""


def entry(slug: str, values: list[float], unit: str = "GBP") -> str:
    """A registry programme whose funding is the observed spread of `values`."""
    cuts = quantiles.of(values)
    spread = {"min": min(values), "median": statistics.median(values), "max": max(values),
              "n": len(values), "quartiles": list(cuts.quartiles), "deciles": list(cuts.deciles)}
    currency = f", currency: {unit}" if unit != "GBP" else ""
    return (f"  - slug: {slug}\n    name: {slug.title()}\n    funders: [F]\n"
            f"    funding_per_team: {{observed: {json.dumps(spread)}, derived: amounts, "
            f"source: data{currency}}}\n")


SMALL = [1000.0, 2000.0, 2500.0, 4000.0, 9000.0, 9500.0, 30000.0]
LARGE = [float(v) for v in range(10000, 210000, 10000)]


@given(st.lists(st.floats(0, 1e12, allow_nan=False), min_size=2, max_size=60))
@example([0.1, 0.2, 0.3])
def test_the_definition_is_statistics_quantiles_inclusive(values: list[float]) -> None:
    cuts = quantiles.of(values)
    assert list(cuts.quartiles) == statistics.quantiles(values, n=4, method="inclusive")
    assert list(cuts.deciles) == statistics.quantiles(values, n=10, method="inclusive")
    assert cuts.quartiles[1] == pytest.approx(statistics.median(values), rel=1e-12)


def test_one_value_is_every_cut_point() -> None:
    cuts = quantiles.of([5.0])
    assert cuts.quartiles == (5.0, 5.0, 5.0) and cuts.deciles == (5.0,) * 9


def test_quartiles_and_deciles_load_and_round_trip() -> None:
    registry = build(parse(HEAD + entry("small", SMALL), "r.yaml"), "r.yaml")
    q = registry.programmes[0].funding_per_team
    assert q.quantiles == quantiles.of(SMALL)
    text = yaml.safe_dump({"funding_per_team": quantity_data(q)}, allow_unicode=True)
    assert "quartiles:" in text and "deciles:" in text


@given(st.lists(st.integers(0, 10**9).map(lambda v: v / 100), min_size=1, max_size=40),
       st.sampled_from(["GBP", "EUR"]))
@example([0.01, 0.01], "GBP")  # the 1st decile is 0.010000000000000002, an ulp above the max
def test_an_observed_spread_round_trips_with_its_quantiles(values: list[float],
                                                           unit: str) -> None:
    q = observed(min(values), statistics.median(values), max(values), len(values), unit,
                 formula="amounts", quantiles=quantiles.of(values))
    q = Quantity(q.kind, q.unit, q.low, q.mid, q.high, q.formula, q.n, Evidence("data", ""),
                 quantiles=q.quantiles)
    text = yaml.safe_dump({"funding_per_team": quantity_data(q)}, allow_unicode=True)
    indented = "".join("    " + line for line in text.splitlines(True))
    head = HEAD + "  - slug: p\n    name: P\n    funders: [F]\n"
    assert build(parse(head + indented, "r.yaml"), "r.yaml").programmes[0].funding_per_team == q


BAD_SPREADS = {
    "quartiles: [2, 5, 8]": "missing required field 'deciles'",
    "quartiles: [2, 5], deciles: [1, 2, 3, 4, 5, 6, 7, 8, 9]": "must be a list of 3 numbers",
    "quartiles: [2, 5, 8], deciles: [1, 2, 3, 4, 5, 6, 7, 9, 8]": "must rise from low to high",
    "quartiles: [0, 5, 8], deciles: [1, 2, 3, 4, 5, 6, 7, 8, 9]": "between min and max",
    "quartiles: [2, 4, 8], deciles: [1, 2, 3, 4, 5, 6, 7, 8, 9]": "must be the median (5)",
    "quartiles: [2, 5, 8], deciles: [1, 2, 3, 4, '5', 6, 7, 8, 9]": "must be a number",
}


@pytest.mark.parametrize(("extra", "words"), BAD_SPREADS.items())
def test_bad_quantiles_are_refused_naming_the_field(extra: str, words: str) -> None:
    import re

    text = HEAD + ("  - slug: p\n    name: P\n    funders: [F]\n    funding_per_team: "
                   f"{{observed: {{min: 1, median: 5, max: 9, n: 9, {extra}}}, derived: d}}\n")
    with pytest.raises(RegistryError, match=re.escape(words)) as caught:
        build(parse(text, "r.yaml"), "r.yaml")
    assert "funding_per_team.observed." in str(caught.value)
    assert "r.yaml:7" in str(caught.value)


@pytest.fixture
def spreads(tmp_path: Path) -> Path:
    path = tmp_path / "spreads.yaml"
    path.write_text(HEAD + entry("small", SMALL) + entry("large", LARGE), encoding="utf-8")
    return path


def invoke(registry: Path, *args: str, width: int = 200) -> str:
    result = CliRunner().invoke(cli, ["--registry", str(registry), *args],
                                env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_the_cache_keeps_the_quantiles(spreads: Path) -> None:
    first = load(spreads)
    assert load(spreads) == first == load(spreads, use_cache=False)


def test_show_draws_the_distribution_with_its_numbers(spreads: Path) -> None:
    out = invoke(spreads, "show", "small", "--format", "plain")
    cuts = quantiles.of(SMALL)
    assert boxplot.line(load(spreads).programmes[0].funding_per_team) in out
    assert (f"min £1,000, Q1 £{cuts.quartiles[0]:,.0f}, median £4,000, "
            f"Q3 £{cuts.quartiles[2]:,.0f}, max £30,000, n=7") in out


def test_the_box_plot_marks_ends_quartiles_and_median() -> None:
    q = observed(0, 50, 100, 5, Unit.GBP, quantiles=quantiles.of([0, 25, 50, 75, 100]))
    assert boxplot.line(q, width=9) == "├─▒▒┃▒▒─┤"
    assert boxplot.line(q, width=9, top=200) == "├▒┃▒┤"


def test_compare_draws_both_on_one_axis(spreads: Path) -> None:
    out = invoke(spreads, "compare", "small", "large", "--format", "json")
    small, large = json.loads(out)
    assert small["funding_spread"]["quartiles"] == list(quantiles.of(SMALL).quartiles)
    assert large["funding_spread"]["deciles"] == list(quantiles.of(LARGE).deciles)
    table = invoke(spreads, "compare", "small", "large", "--format", "table", width=250)
    row = next(line for line in table.splitlines() if "┃" in line and "├" in line)
    small_cell, large_cell = row.split("│")[2], row.split("│")[3]
    # One axis from £0 to £200,000 over 24 characters: £30,000 ends at character 4 of 0..23,
    # £200,000 at the last; each cell starts with one space of padding.
    assert small_cell.index("┤") - 1 == round(30000 / 200000 * 23)
    assert large_cell.index("┤") - 1 == boxplot.WIDTH - 1


def test_tsv_and_json_carry_the_quantiles_as_numbers(spreads: Path) -> None:
    out = invoke(spreads, "list", "--format", "tsv", "--no-header",
                 "--fields", "slug,funding_q1,funding_d9,duration_q1")
    cuts = quantiles.of(LARGE)
    assert f"large\t{cuts.quartiles[0]:g}\t{cuts.deciles[8]:g}\t" in out.splitlines()
    data = json.loads(invoke(spreads, "list", "--format", "json"))
    assert data[1]["funding"]["deciles"] == list(quantiles.of(LARGE).deciles)
    assert data[0]["funding"]["quartiles"] == list(quantiles.of(SMALL).quartiles)


def test_rank_chart_draws_box_plots_and_exports_carry_them(spreads: Path,
                                                           tmp_path: Path) -> None:
    svg, html = tmp_path / "rank.svg", tmp_path / "compare.html"
    out = invoke(spreads, "rank", "--by", "funding", "--chart", "--export", str(svg),
                 width=100)
    assert "├─▒┃▒─┤ observed grants: smallest, quartiles (box), median, largest" in out
    large_bar = next(line for line in out.splitlines() if line.startswith("Large"))
    assert "▒" in large_bar and "┃" in large_bar and large_bar.count("┤") == 1
    assert "▒" in svg.read_text(encoding="utf-8")
    invoke(spreads, "compare", "small", "large", "--format", "table", "--export", str(html))
    assert "▒" in html.read_text(encoding="utf-8")
    assert "median&#160;£4,000" in html.read_text(encoding="utf-8") or \
        "median £4,000" in html.read_text(encoding="utf-8")


def independent_cuts(values: list[float], parts: int) -> list[float]:
    """statistics.quantiles, inclusive; one value is every cut (as Python 3.13 gives it)."""
    if len(values) == 1:
        return values * (parts - 1)
    return statistics.quantiles(values, n=parts, method="inclusive")


@pytest.mark.parametrize("name", sorted({*real360.COPIED, *real360.SHARED_ONLY}))
def test_stored_quantiles_equal_an_independent_computation(name: str, tmp_path: Path) -> None:
    """Every real file: each programme's quartiles and deciles, as the import writes them to
    the registry, equal statistics.quantiles over the amounts read independently."""
    path = real360.path_of(name)
    want = real360.expected(path)
    registry = tmp_path / "r.yaml"
    result = CliRunner().invoke(cli, ["import", str(path), "--into", str(registry)])
    if not want:  # no grant names a programme (Indigo Trust): nothing to cut
        assert result.exit_code == 1 and not registry.exists()
        return
    assert result.exit_code in (0, 3), result.stderr
    by_slug = load(registry, use_cache=False).by_slug()
    summary = giving360.collect([path])
    assert len(summary.entries) == len(want) == len(by_slug)
    for e in summary.entries:
        amounts = want[(e.funder_id, e.programme_title.casefold() or e.programme_code,
                        e.currency)]
        stored = by_slug[e.slug].funding_per_team.quantiles
        assert stored is not None, e.slug
        assert list(stored.quartiles) == independent_cuts(amounts, 4), e.slug
        assert list(stored.deciles) == independent_cuts(amounts, 10), e.slug


def test_durations_and_yearly_amounts_keep_their_quantiles_too(tmp_path: Path) -> None:
    """The same exact cuts for durations (of each grant's months) and amounts per year."""
    from tests.test_import import grant, write_json

    months = [6, 12, 12, 18, 24, 24, 36, 48]
    amounts = [5000.0 * (i + 1) for i in range(len(months))]
    data = write_json(tmp_path / "g.json", [grant(f"G-{i}", a, months=m)
                                            for i, (a, m) in enumerate(zip(amounts, months,
                                                                           strict=True))])
    registry = tmp_path / "r.yaml"
    result = CliRunner().invoke(cli, ["import", str(data), "--into", str(registry)])
    assert result.exit_code == 0, result.stderr
    (p,) = load(registry, use_cache=False).programmes
    assert p.duration.quantiles == quantiles.of([float(m) for m in months])
    assert p.duration.quantiles is not None
    assert list(p.duration.quantiles.deciles) == independent_cuts([float(m) for m in months], 10)
    yearly = [a / m * 12 for a, m in zip(amounts, months, strict=True)]
    assert p.funding_per_year.quantiles is not None
    assert list(p.funding_per_year.quantiles.quartiles) == independent_cuts(yearly, 4)
    shown = CliRunner().invoke(cli, ["--registry", str(registry), "show", p.slug, "--format",
                                     "tsv"]).stdout
    rows = {line.split("\t")[0]: line.split("\t")[1] for line in shown.splitlines()}
    assert rows["Funding per team per year: spread"].startswith(f"min={min(yearly):g} ")
    assert rows["Duration: spread"].startswith("min=6 q1=12 median=21 q3=27 max=48 d1=")
