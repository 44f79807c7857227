"""The loader: the shipped registry's facts, and every validation rule's one-line error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundcmp.errors import RegistryError
from fundcmp.model import Kind
from fundcmp.registries import paths
from fundcmp.registry import build, load, parse

from .conftest import MINIMAL, SHIPPED

Write = Callable[[str], Path]


def test_shipped_registry_holds_the_four_seed_programmes() -> None:
    programmes = load(SHIPPED).by_slug()
    assert list(programmes) == ["common-ambition", "shared-purpose",
                                "building-health-partnerships", "people-powered-health"]
    ca, sp = programmes["common-ambition"], programmes["shared-purpose"]
    bhp, pph = programmes["building-health-partnerships"], programmes["people-powered-health"]
    assert (ca.funding_per_team.kind, ca.funding_per_team.low, ca.funding_per_team.high) == \
        (Kind.RANGE, 300000, 500000)
    assert (ca.duration.low, ca.duration.high) == (24, 36)
    assert (sp.funding_per_team.kind, sp.funding_per_team.mid) == (Kind.EXACT, 420000)
    assert sp.duration.mid == 42 and sp.start and sp.start.text == "2012-06"
    assert sp.end and sp.end.text == "2015-12"
    assert bhp.funding_per_team.kind is Kind.UNKNOWN
    assert bhp.total_funding.mid == 450000
    assert (pph.funding_per_team.kind, pph.funding_per_team.low, pph.funding_per_team.high) == \
        (Kind.CEILING, None, 100000)
    assert (pph.support.days.kind, pph.support.days.high) == (Kind.CEILING, 20)
    assert pph.support.value.kind is Kind.UNKNOWN
    assert pph.applications.mid == 108 and pph.teams.mid == 6


def _error(write: Write, text: str) -> RegistryError:
    path = write(text)
    with pytest.raises(RegistryError) as info:
        load(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    return info.value


def test_minimal_registry_loads(write_registry: Write) -> None:
    programme = load(write_registry(MINIMAL)).programmes[0]
    assert programme.slug == "alpha" and programme.funding_per_team.mid == 100000
    assert [s.id for s in programme.sources] == ["src"]


@pytest.mark.parametrize(("old", "new", "line", "field", "fragment"), [
    ("    funding_per_team:", "    fundng_per_team:", 10, "fundng_per_team",
     "did you mean 'funding_per_team'"),
    ("{amount: 100000,", "{amount: -5,", 10, "funding_per_team.amount", "must not be negative"),
    ("{amount: 100000,", "{range: [500000, 300000],", 10, "funding_per_team.range",
     "low 500000 is greater than high 300000"),
    ("{amount: 100000,", "{amount: \"£100,000\",", 10, "funding_per_team.amount",
     "write the plain number 100000"),
    ("{amount: 100000,", "{amount: 1e400,", 10, "funding_per_team.amount", "finite"),
    ("{amount: 100000,", "{amount: .nan,", 10, "funding_per_team.amount", "must be a number"),
    ("{amount: 12,", "{amount: 1:30,", 11, "duration.amount", "must be a number, not '1:30'"),
    ("{amount: 12,", "{amount: 012,", 11, "duration.amount", "must be a number"),
    ("    name: Alpha\n", "", 7, "name", "missing required field 'name'"),
    ("    name: Alpha", "    name: no", None, None, None),
    ("    name: Alpha", "    name: [1, 2]", 8, "name", "must be non-empty text, not a list"),
    ("source: src, quote: \"12 months\"", "source: nowhere, quote: \"12 months\"", 11,
     "duration.source", "no source with id 'nowhere'"),
    ("{amount: 12, source: src, quote: \"12 months\"}", "{amount: 12}", 11, "duration",
     "needs 'source' and 'quote'"),
    ("{amount: 12,", "{amount: 12, up_to: 14,", 11, "duration", "exactly one of"),
    ("  - slug: alpha", "  - slug: Alpha Beta", 7, "slug", "lower-case words"),
    ("    funders: [Funder A]", "    funders: Funder A", 9, "funders", "must be a list"),
    ("    name: Alpha", "    name: Alpha\n    name: Beta", 9, "name", "duplicate key 'name'"),
    ("date: \"2020-01-01\"", "date: 2020", 5, "sources.date", "quoted date"),
    ("    name: Alpha", "    name: !!python/object:os.system x", 8, "name", "not allowed"),
])
def test_each_rule_is_one_line_naming_file_line_and_field(
        write_registry: Write, old: str, new: str, line: int | None, field: str | None,
        fragment: str | None) -> None:
    assert old in MINIMAL
    text = MINIMAL.replace(old, new, 1)
    if fragment is None:  # a YAML 1.1 boolean word stays text where text is meant
        assert load(write_registry(text)).programmes[0].name == "no"
        return
    error = _error(write_registry, text)
    assert fragment in error.message
    assert error.line == line
    assert error.field == field
    if field is not None and field != "slug" and not field.startswith("sources"):
        assert error.programme == "alpha"
        assert f":{line}: alpha: {field}: " in str(error)


def test_duplicate_slug_names_both_lines(write_registry: Write) -> None:
    second = MINIMAL[MINIMAL.index("  - slug: alpha"):]
    error = _error(write_registry, MINIMAL + second)
    assert error.programme == "alpha" and error.field == "slug"
    assert error.line == 12 and "first on line 7" in error.message


def test_an_unquoted_date_is_read_as_the_text_written(write_registry: Write) -> None:
    text = MINIMAL.replace('date: "2020-01-01"', "date: 2020-01-01")
    assert load(write_registry(text)).sources[0].date == "2020-01-01"


def test_aliases_are_refused(write_registry: Write) -> None:
    text = MINIMAL.replace("funders: [Funder A]", "funders: &f [Funder A]\n    partners: *f")
    assert "aliases" in _error(write_registry, text).message


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "empty"),
    ("- just\n- a list\n", "must be a mapping"),
    ("sources: []\n", "missing required field 'programmes'"),
    ("sources: []\nprogrammes: {}\n", "must be a list"),
    ("sources: []\nprogrammes: [\n", "not valid YAML"),
])
def test_document_shape_errors(write_registry: Write, text: str, fragment: str) -> None:
    assert fragment in _error(write_registry, text).message


def test_invalid_utf8_names_the_line(write_registry: Write, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(MINIMAL.encode().replace(b"Alpha", b"Alph\xff"))
    with pytest.raises(RegistryError) as info:
        load(path)
    assert info.value.line == 8 and "UTF-8" in info.value.message


def test_missing_file_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="no such file"):
        load(tmp_path / "absent.yaml")


def test_registry_path_option_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDCMP_REGISTRY", "/from/env.yaml")
    assert paths(["/from/option.yaml"]) == [Path("/from/option.yaml")]
    assert paths([]) == [Path("/from/env.yaml")]
    monkeypatch.delenv("FUNDCMP_REGISTRY")
    assert paths([])[0].name == "programmes.yaml" and paths([])[0].exists()


amounts = st.integers(min_value=0, max_value=10**9)


@st.composite
def quantity_yaml(draw: st.DrawFn, numbers: st.SearchStrategy[int] = amounts,
                  ) -> tuple[str, float | None, float | None]:
    shape = draw(st.sampled_from(["amount", "range", "up_to", "unknown"]))
    if shape == "unknown":
        return '{unknown: "not stated"}', None, None
    a, b = sorted((draw(numbers), draw(numbers)))
    if shape == "amount":
        return f'{{amount: {a}, source: src, quote: "q"}}', a, a
    if shape == "up_to":
        return f'{{up_to: {b}, source: src, quote: "q"}}', None, b
    return f'{{range: [{a}, {b}], source: src, quote: "q"}}', a, b


@given(quantity_yaml(), quantity_yaml(st.integers(min_value=0, max_value=1200)))
def test_loader_keeps_every_bound_and_orders_them(
        funding: tuple[str, float | None, float | None],
        duration: tuple[str, float | None, float | None]) -> None:
    text = (MINIMAL.split("    funding_per_team:")[0]
            + f"    funding_per_team: {funding[0]}\n    duration: {duration[0]}\n")
    programme = build(parse(text, "gen.yaml"), "gen.yaml").programmes[0]
    for q, (_, low, high) in ((programme.funding_per_team, funding),
                              (programme.duration, duration)):
        assert (q.low, q.high) == (low, high)
        if q.kind is Kind.UNKNOWN:
            assert q.mid is None
        else:
            assert q.mid is not None and q.high is not None
            assert (q.low if q.low is not None else q.mid) <= q.mid <= q.high


_BAD_AMOUNT = MINIMAL.replace("amount: 100000", "amount: -1")
_SECOND = MINIMAL[MINIMAL.index("  - slug: alpha"):].replace("alpha", "beta")


@pytest.mark.parametrize(("text", "line", "fragment"), [
    # a programme is validated as soon as it is read, but a YAML error anywhere still wins
    (_BAD_AMOUNT + "  - [\n", 13, "not valid YAML"),
    # and so do the document's own checks, though their key comes after the programmes
    (_BAD_AMOUNT + "notes: x\n", 12, "unknown field"),
    (_BAD_AMOUNT + _SECOND.replace("amount: 100000", "amount: -2"), 10, "negative (-1)"),
    (MINIMAL + _SECOND.replace("beta", "alpha") + _SECOND.replace("amount: 100000",
                                                                   "amount: -2"),
     12, "duplicate slug"),
])
def test_the_first_error_is_the_one_a_whole_parse_finds_first(
        write_registry: Write, text: str, line: int, fragment: str) -> None:
    error = _error(write_registry, text)
    assert fragment in error.message and error.line == line


def test_programmes_before_their_sources_load_as_in_order(write_registry: Write) -> None:
    sources, programmes = MINIMAL.split("programmes:\n")
    registry = load(write_registry("programmes:\n" + programmes + sources))
    assert [p.slug for p in registry.programmes] == ["alpha"] and registry.programmes[0].line == 2
    assert [s.id for s in registry.programmes[0].sources] == ["src"]


_UNITS = ("GBP", "EUR", "months", "days", "count")


@given(st.one_of(st.floats(), st.integers(-10, 10**16), st.booleans(),
                 st.sampled_from([0, 0.0, 1e-9, 1e15, 1e15 + 1, 1200, 1200.5, 2.5])),
       st.sampled_from(_UNITS))
def test_a_figure_is_taken_exactly_when_every_rule_holds(value: object, unit: str) -> None:
    """A number is taken as written only when it obeys every rule for its unit; else one
    error, never a guess (the loader's quick path for plain numbers included)."""
    import math

    from fundcmp.model import Unit
    from fundcmp.registry import MAX_DURATION_MONTHS, MAX_FIGURE, MIN_DURATION_MONTHS, _Ctx, _number

    assert Unit.MONTHS == "months" and Unit.COUNT == "count" and Unit.DAYS == "days"
    obeys = isinstance(value, (int, float)) and not isinstance(value, bool) \
        and not math.isnan(value) and 0 <= value <= MAX_FIGURE \
        and (unit != "count" or value == int(value)) \
        and (unit != "months" or value == 0
             or MIN_DURATION_MONTHS <= value <= MAX_DURATION_MONTHS)
    try:
        taken = _number(value, _Ctx("r.yaml", "p", {}), 3, "teams.amount", unit)
    except RegistryError as exc:
        assert not obeys and str(exc).startswith("r.yaml:3:"), (value, unit)
    else:
        assert obeys and taken is value, (value, unit)
