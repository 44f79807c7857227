"""Issue 14, item 8: whatever text a 360Giving file holds comes back from the registry as the
same text. The writer quotes by the loader's own rule (fundcmp.yaml_plain)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from fundcmp.cli import cli
from fundcmp.registry import build, load, parse
from fundcmp.registry_merge import _dump
from fundcmp.yaml_plain import plain_value, reads_as_text

AWKWARD_TITLES = ["1e3", "0E0", "2E5", "null", "yes", "2019", "- x", "a: b", "~", "true",
                  "1_000", "0x1F", ".5", "+1", "-0", "#hash", "'quoted'", "@at", "1e400"]


def package(titles: list[str]) -> str:
    return json.dumps({"grants": [
        {"id": f"g{i}", "amountAwarded": 1000 + i, "currency": "GBP",
         "awardDate": "2020-01-01", "fundingOrganization": [{"id": "GB-X", "name": "X"}],
         "grantProgramme": [{"title": title}]} for i, title in enumerate(titles)]})


def test_programmes_titled_like_yaml_values_load_and_list_unchanged(tmp_path: Path) -> None:
    data = tmp_path / "g.json"
    data.write_text(package(AWKWARD_TITLES), "utf-8")
    into = tmp_path / "r.yaml"
    result = CliRunner().invoke(cli, ["import", str(data), "--into", str(into)])
    assert result.exit_code == 0, result.stderr
    assert "fundcmp: 1 grant of X has the placeholder programme title 'null'" in result.stderr
    names = {p.name for p in load(into, use_cache=False).programmes}
    assert names == set(AWKWARD_TITLES)
    listed = CliRunner().invoke(cli, ["--registry", str(into), "list", "--format", "tsv",
                                      "--fields", "name", "--no-header"])
    assert set(listed.stdout.splitlines()) == set(AWKWARD_TITLES)


def test_the_shared_rule_reads_numbers_the_way_the_loader_does() -> None:
    assert plain_value("1e3") == 1000.0 and plain_value("2019") == 2019
    assert plain_value("null") is None and plain_value("true") is True
    assert not reads_as_text("1e3") and not reads_as_text("0E0") and not reads_as_text("")
    assert reads_as_text("yes") and reads_as_text("1_000") and reads_as_text("Round 1")


@given(st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s.isprintable()))
@example("1e3")
@example("0E0")
@example("2E5")
@example("123456789012345678901")
def test_any_text_round_trips_through_the_writer(title: str) -> None:
    text = "sources:\n  - {id: s, publisher: P, title: T, date: '2024'}\nprogrammes:\n" + \
        _dump({"slug": "p", "name": title, "funders": [title]}, 2)
    programme = build(parse(text, "r.yaml"), "r.yaml").programmes[0]
    assert (programme.name, programme.funders) == (title, (title,))


ANY_TEXT = st.one_of(
    st.text(max_size=30),
    st.builds(lambda c, n: c * n, st.characters(), st.integers(0, 12_000)))


@given(funder_id=ANY_TEXT, funder_name=ANY_TEXT, code=ANY_TEXT, title=ANY_TEXT,
       publisher=ANY_TEXT, suffix=st.sampled_from([".jsonl", ".yaml"]))
@example(funder_id="GB-X", funder_name="F" * 20_000, code="C" * 20_000, title="",
         publisher="P" * 20_000, suffix=".jsonl")
@example(funder_id="GB-" + "9" * 15_000, funder_name="F", code="", title="T", publisher="",
         suffix=".yaml")
@example(funder_id="\x1b", funder_name="", code="", title="", publisher="", suffix=".jsonl")
@example(funder_id="\xad", funder_name="", code="", title="", publisher="", suffix=".jsonl")
def test_whatever_text_a_grant_holds_the_registry_written_loads(
        tmp_path_factory: Any, funder_id: str, funder_name: str, code: str, title: str,
        publisher: str, suffix: str) -> None:
    """The import leaves a grant out or writes a registry its own loader accepts, never a
    registry that refuses to load (over-long names once did)."""
    folder = tmp_path_factory.mktemp("g")
    data = folder / "g.json"
    data.write_text(json.dumps({"publisher": {"name": publisher}, "grants": [
        {"id": "g1", "amountAwarded": 1000, "currency": "GBP", "awardDate": "2020-01-01",
         "fundingOrganization": [{"id": funder_id, "name": funder_name}],
         "grantProgramme": [{"code": code, "title": title}]}]}), "utf-8")
    into = folder / f"r{suffix}"
    result = CliRunner().invoke(cli, ["import", str(data), "--into", str(into)])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        assert len(load(into, use_cache=False).programmes) == 1
    else:  # the grant was left out, so there was nothing to import
        assert "nothing importable" in result.stderr, result.stderr
        assert not into.exists()


_DAY = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))
_PLANS = st.one_of(
    st.none(),
    st.tuples(_DAY, st.integers(-2, 3)), st.tuples(_DAY, st.integers(0, 40_000)),
    st.floats(0, 1300), st.sampled_from(["1 day", "2 weeks", "0.5 months", "1 year", "3"]))


def _planned(plan: Any) -> dict[str, Any]:
    if plan is None:
        return {}
    if isinstance(plan, tuple):
        start, days = plan
        return {"plannedDates": [{"startDate": start.isoformat(),
                                  "endDate": (start + timedelta(days=days)).isoformat()}]}
    return {"plannedDates": [{"duration": plan}]}


@given(st.lists(st.tuples(st.one_of(st.integers(1, 10**12), st.floats(0.01, 1e12)),
                          _PLANS, st.sampled_from(["A", "B"])), min_size=1, max_size=6))
@example([(100, ("2020-01-01", 0), "A"), (100, ("2020-01-01", 1), "A")])
@example([(100, 12 / 365.25, "A")])
def test_any_amounts_and_plans_make_a_registry_that_loads(
        tmp_path_factory: Any, grants: list[tuple[Any, Any, str]]) -> None:
    """Whatever amounts and planned dates or durations the grants hold, the registry the
    import writes loads (a one-day plan once made one that did not, refusing the import)."""
    folder = tmp_path_factory.mktemp("plans")
    data, into = folder / "g.json", folder / "r.yaml"
    data.write_text(json.dumps({"grants": [
        {"id": f"g{i}", "amountAwarded": amount, "currency": "GBP", "awardDate": "2020-01-01",
         "fundingOrganization": [{"id": "GB-X", "name": "X"}],
         "grantProgramme": [{"title": title}],
         **_planned((date.fromisoformat(plan[0]), plan[1])
                    if isinstance(plan, tuple) and isinstance(plan[0], str) else plan)}
        for i, (amount, plan, title) in enumerate(grants)]}), "utf-8")
    result = CliRunner().invoke(cli, ["import", str(data), "--into", str(into)])
    assert result.exit_code in (0, 3), result.stderr
    registry = load(into, use_cache=False)
    assert sum(p.total_funding.mid or 0 for p in registry.programmes) == \
        pytest.approx(sum(amount for amount, _, _ in grants), rel=1e-9)
