"""The registry's observed quantities and currencies, and the atomic write import uses."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from fundcmp import display
from fundcmp.atomic import write_text
from fundcmp.errors import RegistryError, hidden
from fundcmp.model import Evidence, Kind, Quantity, Unit, observed
from fundcmp.registry import build, parse, quantity_data

HEAD = """\
sources:
  - {id: data, publisher: P, title: T, date: "2024"}
programmes:
  - slug: p
    name: P
    funders: [F]
"""


def funding(quantity_yaml: str) -> Quantity:
    text = HEAD + "    funding_per_team: " + quantity_yaml + "\n"
    return build(parse(text, "r.yaml"), "r.yaml").programmes[0].funding_per_team


def test_an_observed_quantity_loads_with_its_spread_formula_and_source() -> None:
    q = funding("{observed: {min: 1000, median: 2500, max: 9000, n: 7}, "
                "derived: amounts of 7 grants, source: data}")
    assert (q.kind, q.low, q.mid, q.high, q.n) == (Kind.OBSERVED, 1000, 2500, 9000, 7)
    assert q.formula == "amounts of 7 grants" and q.evidence == Evidence("data", "")
    assert q.unit == Unit.GBP


def test_an_observed_spread_reads_with_its_median_unless_all_grants_were_equal() -> None:
    spread = funding("{observed: {min: 1000, median: 2500, max: 9000, n: 7}, derived: x}")
    assert display.text(spread) == "£1,000-£9,000 (median £2,500, n=7)"
    same = funding("{observed: {min: 5000, median: 5000, max: 5000, n: 3}, derived: x}")
    assert display.text(same) == "£5,000 (n=3)"


def test_a_currency_makes_the_unit() -> None:
    q = funding("{amount: 5, currency: EUR, derived: x}")
    assert q.unit == "EUR"


@pytest.mark.parametrize(("quantity_yaml", "words"), [
    ("{observed: {min: 3, median: 2, max: 9, n: 7}, derived: x}", "min <= median <= max"),
    ("{observed: {min: 1, median: 2, max: 9}, derived: x}", "observed.n: missing"),
    ("{observed: {min: 1, median: 2, max: 9, n: 0}, derived: x}", "at least 1"),
    ("{observed: {min: 1, median: 2, max: 9, n: 2.5}, derived: x}", "whole number"),
    ("{observed: {min: 1, median: 2, max: 9, n: 2}}", "needs 'derived'"),
    ("{observed: {min: 1, median: 2, max: 9, n: 2}, derived: x, source: nope}", "no source"),
    ("{observed: {min: 1, median: 2, max: 9, n: 2}, derived: x, quote: q}", "needs a 'source'"),
    ("{observed: {min: 1, median: 2, max: 9, n: 2, mean: 3}, derived: x}", "unknown field"),
    ("{amount: 5, currency: euro, derived: x}", "ISO 4217"),
])
def test_a_bad_observed_quantity_or_currency_is_refused(quantity_yaml: str, words: str) -> None:
    with pytest.raises(RegistryError, match=words) as caught:
        funding(quantity_yaml)
    assert caught.value.line is not None and caught.value.programme == "p"


def test_a_duration_has_no_currency() -> None:
    text = HEAD + "    duration: {amount: 5, currency: EUR, derived: x}\n"
    with pytest.raises(RegistryError, match="only a sum of money has a currency"):
        build(parse(text, "r.yaml"), "r.yaml")


money = st.floats(min_value=0, max_value=1e12, allow_nan=False).map(lambda v: round(v, 2))


@st.composite
def observed_quantities(draw: st.DrawFn) -> Quantity:
    low, mid, high = sorted(draw(st.lists(money, min_size=3, max_size=3)))
    q = observed(low, mid, high, draw(st.integers(1, 10**7)),
                 draw(st.sampled_from(["GBP", "EUR", "USD"])),
                 formula=draw(st.text(min_size=1).filter(
                     lambda s: s.strip() and not any(hidden(c) for c in s if c not in "\t\n"))))
    source = draw(st.sampled_from([None, "data"]))
    note = draw(st.sampled_from(["", "a note"]))
    return Quantity(q.kind, q.unit, q.low, q.mid, q.high, q.formula, q.n,
                    Evidence(source, "") if source else None, note)


@given(observed_quantities())
def test_an_observed_quantity_round_trips_through_the_registry(q: Quantity) -> None:
    text = yaml.safe_dump({"funding_per_team": quantity_data(q)}, allow_unicode=True)
    indented = "".join("    " + line for line in text.splitlines(True))
    assert build(parse(HEAD + indented, "r.yaml"), "r.yaml").programmes[0].funding_per_team == q


def test_the_atomic_write_keeps_permissions_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "r.yaml"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o604)
    write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    assert os.listdir(tmp_path) == ["r.yaml"]


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_text(tmp_path / "new.yaml", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.yaml").stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "r.yaml"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_text(target, "\udcff")
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["r.yaml"]
