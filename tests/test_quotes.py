"""Every figure in the shipped registry is backed by a verbatim quote that states it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fundcmp.model import Kind, Quantity, Unit
from fundcmp.registry import load

from .conftest import SHIPPED

SEEDS = Path(__file__).parent / "seeds"
REGISTRY = load(SHIPPED)
NUMBER_WORDS = {2: "two", 3: "three", 5: "five", 6: "six", 9: "nine", 10: "10", 15: "15",
                20: "20"}


def _squash(text: str) -> str:
    return " ".join(text.split())


def _spellings(value: float, unit: str) -> list[str]:
    """The ways a source may write a figure."""
    if unit == Unit.GBP:
        whole = int(value)
        found = [f"£{whole:,}"]
        if whole % 1000 == 0:
            found.append(f"£{whole // 1000}K")
        if whole >= 1_000_000:
            found.append(f"£{whole / 1_000_000:g}m")
        return found
    if unit == Unit.MONTHS:
        words = [f"{value:g} months"]
        years = value / 12
        if years == int(years):
            words.append(NUMBER_WORDS.get(int(years), f"{years:g}"))
        if years * 2 == int(years * 2):
            words.append(f"{NUMBER_WORDS.get(int(years), str(int(years)))} and a half years")
        return words
    number = int(value)
    return [str(number), NUMBER_WORDS.get(number, str(number)), NUMBER_WORDS.get(number,
            str(number)).capitalize()]


def _evidenced() -> list[tuple[str, str, Quantity]]:
    found = []
    for p in REGISTRY.programmes:
        for field in ("teams", "funding_per_team", "total_funding", "duration", "applications"):
            found.append((p.slug, field, getattr(p, field)))
        found.append((p.slug, "support.value", p.support.value))
        found.append((p.slug, "support.days", p.support.days))
    return [f for f in found if f[2].evidence is not None]


def _all_quotes() -> list[tuple[str, str, str]]:
    quotes = []
    for p in REGISTRY.programmes:
        facts = [p.focus, p.part_of, p.announced, p.start, p.end, p.support,
                 p.teams, p.funding_per_team, p.total_funding, p.duration, p.applications,
                 p.support.value, p.support.days]
        for fact in facts:
            evidence = getattr(fact, "evidence", None)
            if evidence is not None:
                quotes.append((p.slug, evidence.source, evidence.quote))
    return quotes


@pytest.mark.parametrize(("slug", "source_id", "quote"), _all_quotes())
def test_every_quote_is_verbatim_in_its_source_document(slug: str, source_id: str,
                                                        quote: str) -> None:
    source = next(s for s in REGISTRY.sources if s.id == source_id)
    document = (SEEDS / source.document).read_text(encoding="utf-8")
    assert _squash(quote) in _squash(document), f"{slug}: quote not in {source.document}"


@pytest.mark.parametrize(("slug", "field", "q"), _evidenced(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_stated_figure_appears_in_its_quote(slug: str, field: str, q: Quantity) -> None:
    assert q.evidence is not None
    quote = q.evidence.quote
    bounds = [q.high] if q.kind is Kind.CEILING else [q.low, q.high]
    if q.kind is Kind.DERIVED:
        return  # a derived figure quotes its inputs, checked below
    for bound in bounds:
        assert bound is not None
        assert any(s in quote for s in _spellings(bound, q.unit)), (
            f"{slug}.{field}: {bound} not found in {quote!r}")
    if q.kind is Kind.CEILING:
        assert re.search(r"\bup to\b", quote), f"{slug}.{field}: a ceiling must quote 'up to'"


def test_derived_support_of_building_health_partnerships_quotes_its_inputs() -> None:
    p = REGISTRY.by_slug()["building-health-partnerships"]
    value = p.support.value
    assert value.kind is Kind.DERIVED and value.low is None and value.high == 45000
    assert value.evidence is not None and "£450,000" in value.evidence.quote
    assert p.teams.high == 10 and value.high == 450000 / p.teams.high
