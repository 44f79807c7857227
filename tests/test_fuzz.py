"""Fuzzing the loader: whatever the file holds, load() returns programmes that keep every
invariant of the model, or raises RegistryError. Nothing else.

The bounded profile runs in the normal suite. The long profile (10,000 examples per test):
    FUNDCMP_FUZZ=long python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from fundcmp.cli import cli
from fundcmp.errors import RegistryError, hidden
from fundcmp.model import DateFact, Kind, Programme, Quantity, TextFact, Unit
from fundcmp.registry import (
    DATE_RE,
    MIN_DURATION_MONTHS,
    SHIPPED,
    SLUG_RE,
    UNSAFE_CHAR_RE,
    Registry,
    load,
)

PROFILE = settings(max_examples=10_000 if os.environ.get("FUNDCMP_FUZZ") == "long" else 150)

SHIPPED_TEXT = SHIPPED.read_text("utf-8")
SHIPPED_DOC: dict[str, Any] = yaml.safe_load(SHIPPED_TEXT)
FIELDS = ["slug", "name", "funders", "partners", "focus", "part_of", "announced", "start", "end",
          "team_noun", "teams", "funding_per_team", "total_funding", "duration", "support",
          "applications", "price_year", "amount", "range", "up_to", "unknown", "derived",
          "note", "source", "quote", "date", "text", "value", "days", "components",
          "description", "id", "publisher", "title", "document", "url", "sources", "programmes"]
SOURCE_IDS = [s["id"] for s in SHIPPED_DOC["sources"]] + ["s1", "nowhere"]
AWKWARD = ["£420,000", "450k", "no", "yes", "on", "1:30", "0050", "2020-13-45", "2020-02-30",
           ".nan", ".inf", "1e400", "", " ", "~", "null", "-1", "shared-purpose", "Not A Slug",
           "2012", "2012-06", "2012-06-30", "tab\there", "new\nline", "&a", "*a", "!!int 5",
           "esc\x1b[2J", "bidi\u202e", "nul\x00"]
FUZZ_DIR = Path(tempfile.mkdtemp(prefix="fundcmp-fuzz-"))

# ---- what every loaded registry must satisfy -------------------------------------------

QUANTITIES = ("teams", "funding_per_team", "total_funding", "duration", "applications")


def _quantities(p: Programme) -> Iterator[tuple[str, Quantity]]:
    for name in QUANTITIES:
        yield name, getattr(p, name)
    yield "support.value", p.support.value
    yield "support.days", p.support.days


def _check_quantity(q: Quantity, where: str, source_ids: set[str]) -> None:
    bounds = [q.low, q.mid, q.high]
    if q.kind is Kind.UNKNOWN:
        assert bounds == [None, None, None], f"{where}: an unknown has numbers {bounds}"
        return
    assert q.mid is not None and q.high is not None, where
    for value in bounds:
        if value is not None:
            assert not isinstance(value, bool), where
            assert isinstance(value, (int, float)), where
            assert math.isfinite(value) and value >= 0, f"{where}: {value}"
    if q.low is not None:
        assert q.low <= q.mid <= q.high, f"{where}: {bounds}"
    else:
        assert q.kind is Kind.CEILING or q.kind is Kind.DERIVED, where
        assert q.mid <= q.high, where
    if q.kind is Kind.EXACT:
        assert q.low == q.mid == q.high, where
    if q.kind is Kind.DERIVED:
        assert q.formula.strip(), where
    if q.unit == Unit.COUNT:  # the ends of a count are whole; a midpoint may not be
        assert all(v == int(v) for v in (q.low, q.high) if v is not None), where
    if q.kind in (Kind.EXACT, Kind.RANGE, Kind.CEILING):
        assert q.evidence is not None, f"{where}: a stated figure without evidence"
    if q.kind is Kind.OBSERVED:
        assert q.n is not None and q.n >= 1 and q.formula.strip(), where
    if q.evidence is not None:
        assert q.evidence.source in source_ids, where
        # data files have no words to quote, so only an observed figure may lack a quote
        assert q.evidence.quote.strip() or q.kind is Kind.OBSERVED, where


def check_invariants(registry: Registry) -> None:
    source_ids = {s.id for s in registry.sources}
    assert len(source_ids) == len(registry.sources), "source ids are not unique"
    for source in registry.sources:
        assert DATE_RE.match(source.date), source
    slugs = [p.slug for p in registry.programmes]
    assert len(set(slugs)) == len(slugs), "slugs are not unique"
    for p in registry.programmes:
        assert SLUG_RE.match(p.slug), p.slug
        assert isinstance(p.name, str) and p.name.strip()
        assert p.funders and all(isinstance(f, str) and f.strip() for f in p.funders)
        for text in (p.name, p.team_noun, *p.funders, *p.partners):
            assert not UNSAFE_CHAR_RE.search(text), f"{p.slug}: a control character in {text!r}"
            assert not any(hidden(c) for c in text if c not in "\t\n"), text
        assert all(s.id in source_ids for s in p.sources), p.slug
        programme_ids = {s.id for s in p.sources}
        for name, q in _quantities(p):
            _check_quantity(q, f"{p.slug}.{name}", programme_ids)
        for fact in (p.focus, p.part_of, p.announced, p.start, p.end):
            if fact is None:
                continue
            assert isinstance(fact, (TextFact, DateFact))
            assert fact.evidence is not None and fact.evidence.source in programme_ids
            if isinstance(fact, DateFact):
                assert DATE_RE.match(fact.text), fact.text
        assert p.price_year is None or (isinstance(p.price_year, int)
                                        and not isinstance(p.price_year, bool))


def load_or_refuse(data: bytes) -> None:
    """The property: programmes that keep every invariant, or a one-line RegistryError."""
    path = FUZZ_DIR / "registry.yaml"
    path.write_bytes(data)
    try:
        registry = load(path)
    except RegistryError as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith(str(path))
        return
    check_invariants(registry)


# ---- strategies ------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(AWKWARD), st.sampled_from(SOURCE_IDS),
)
values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=3)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), kids, max_size=3),
    max_leaves=8,
)


def _nodes(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _nodes(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _nodes(value, (*path, i))


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _mutate(doc: Any, data: st.DataObject) -> Any:
    """Delete, duplicate, retype or reorder one field somewhere in the document."""
    paths = list(_nodes(doc))
    path = data.draw(st.sampled_from(paths))
    op = data.draw(st.sampled_from(["delete", "duplicate", "retype", "reorder", "rename"]))
    if not path:
        return data.draw(values) if op == "retype" else doc
    parent, last = _get(doc, path[:-1]), path[-1]
    if op == "delete":
        del parent[last]
    elif op == "retype":
        parent[last] = data.draw(values)
    elif op == "duplicate":
        if isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        else:
            parent[data.draw(st.sampled_from(FIELDS))] = copy.deepcopy(parent[last])
    elif op == "rename" and isinstance(parent, dict):
        parent[data.draw(st.sampled_from(FIELDS))] = parent.pop(last)
    node = _get(doc, path[:-1])
    if op == "reorder" and isinstance(node, dict):
        items = data.draw(st.permutations(list(node.items())))
        node.clear()
        node.update(items)
    elif op == "reorder" and isinstance(node, list):
        node[:] = data.draw(st.permutations(node))
    return doc


def _dump(doc: Any, flow: bool, quote_text: bool = False) -> bytes:
    dumper = _QuotingDumper if quote_text else yaml.SafeDumper
    return yaml.dump(doc, Dumper=dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=flow).encode("utf-8")


class _QuotingDumper(yaml.SafeDumper):
    """Quotes every string, as a careful author would: `1e5` or `0050` stays text."""


_QuotingDumper.add_representer(
    str, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"'))


@PROFILE
@given(st.data(), st.integers(1, 4), st.booleans())
def test_mutated_shipped_registry_loads_or_is_refused(data: st.DataObject, mutations: int,
                                                      flow: bool) -> None:
    doc = copy.deepcopy(SHIPPED_DOC)
    for _ in range(mutations):
        doc = _mutate(doc, data)
    load_or_refuse(_dump(doc, flow))


def _corrupt(text: bytes, data: st.DataObject) -> bytes:
    """Flip, insert or delete bytes; delete, duplicate or swap lines; truncate."""
    op = data.draw(st.sampled_from(["flip", "insert", "delete", "dup-line", "del-line",
                                    "swap-lines", "truncate"]))
    at = data.draw(st.integers(0, max(len(text) - 1, 0)))
    if op == "flip" and text:
        return text[:at] + bytes([text[at] ^ data.draw(st.integers(1, 255))]) + text[at + 1:]
    if op == "insert":
        junk = data.draw(st.binary(min_size=1, max_size=8)
                         | st.sampled_from([b"\t", b"\xff", b"\x00", b"\xef\xbb\xbf", b"&a ",
                                            b"*a", b"!!python/object ", b"[", b"{", b": ",
                                            b"- ", b"#", b'"', b"---\n", b"\n  "]))
        return text[:at] + junk + text[at:]
    if op == "delete":
        return text[:at] + text[at + data.draw(st.integers(1, 40)):]
    if op == "truncate":
        return text[:at]
    lines = text.split(b"\n")
    i = data.draw(st.integers(0, len(lines) - 1))
    j = data.draw(st.integers(0, len(lines) - 1))
    if op == "dup-line":
        lines.insert(j, lines[i])
    elif op == "del-line":
        del lines[i]
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


@PROFILE
@given(st.data(), st.integers(1, 3))
def test_corrupted_bytes_of_the_shipped_registry_load_or_are_refused(data: st.DataObject,
                                                                     corruptions: int) -> None:
    text = SHIPPED_TEXT.encode("utf-8")
    for _ in range(corruptions):
        text = _corrupt(text, data)
    load_or_refuse(text)


numbers = st.one_of(st.integers(-5, 10**7), st.floats(-1.0, 1e16),
                    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(AWKWARD))
ids = st.sampled_from(["s1", "s2", "s3", "nowhere"])
words = st.one_of(st.text(min_size=0, max_size=10), st.sampled_from(AWKWARD))
evidence = {"source": ids, "quote": words}
quantity = st.one_of(
    st.fixed_dictionaries({"amount": numbers}, optional={**evidence, "derived": words}),
    st.fixed_dictionaries({"range": st.lists(numbers, max_size=3)},
                          optional={**evidence, "derived": words, "note": words}),
    st.fixed_dictionaries({"up_to": numbers}, optional=evidence),
    st.fixed_dictionaries({"unknown": words}, optional={"note": words}),
    st.fixed_dictionaries(
        {"observed": st.fixed_dictionaries({}, optional={"min": numbers, "median": numbers,
                                                         "max": numbers, "n": numbers})},
        optional={**evidence, "derived": words, "currency": st.sampled_from(["EUR", "gbp", ""])}),
    values,
)
date_fact = st.fixed_dictionaries(
    {"date": st.one_of(st.sampled_from(["2012", "2012-06", "2012-06-30", "2021-02-29"]),
                       words)}, optional=evidence)
text_fact = st.fixed_dictionaries({"text": words}, optional=evidence)
programme = st.fixed_dictionaries(
    {"slug": st.sampled_from(["a", "b", "shared-purpose", "a-b-c", "Bad", "", "a--b"]),
     "name": words, "funders": st.lists(words, max_size=3)},
    optional={
        "teams": quantity, "funding_per_team": quantity, "total_funding": quantity,
        "duration": quantity, "applications": quantity, "partners": st.lists(words, max_size=2),
        "focus": text_fact, "part_of": text_fact, "announced": date_fact, "start": date_fact,
        "end": date_fact, "team_noun": words, "price_year": st.one_of(st.integers(1700, 2300),
                                                                      values),
        "support": st.fixed_dictionaries({}, optional={
            "value": quantity, "days": quantity, "description": words,
            "components": st.lists(words, max_size=3), **evidence}),
    },
)
source = st.fixed_dictionaries(
    {"id": ids, "publisher": words, "title": words,
     "date": st.sampled_from(["2012", "2020-01-10", "2020-13", "2019-02-29", "12"])},
    optional={"document": words, "url": words})
registry_doc = st.fixed_dictionaries({"sources": st.lists(source, max_size=3),
                                      "programmes": st.lists(programme, max_size=4)})


@PROFILE
@given(registry_doc, st.booleans())
def test_random_registries_load_or_are_refused(doc: dict[str, Any], flow: bool) -> None:
    load_or_refuse(_dump(doc, flow))


good_text = st.text(st.characters(codec="utf-8",
                                  exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp")),
                    min_size=1, max_size=12).filter(str.strip)
whole = st.integers(0, 10**6)
money = st.one_of(st.integers(0, 10**9), st.floats(0, 1e15))
# zero, or one day to 100 years: the loader refuses any other duration
durations = st.one_of(st.just(0.0), st.floats(MIN_DURATION_MONTHS, 600))


@st.composite
def valid_registry(draw: st.DrawFn) -> dict[str, Any]:
    """A registry every field of which is valid: the loader must accept it whole."""
    ids = draw(st.lists(st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True), min_size=1,
                        max_size=3, unique=True))
    sources = [{"id": i, "publisher": draw(good_text), "title": draw(good_text),
                "date": draw(st.sampled_from(["2012", "2012-06", "2020-02-29"]))} for i in ids]

    def stated() -> dict[str, Any]:
        return {"source": draw(st.sampled_from(ids)), "quote": draw(good_text)}

    def quantity(number: st.SearchStrategy[Any]) -> dict[str, Any]:
        shape = draw(st.sampled_from(["amount", "range", "up_to", "unknown", "derived",
                                      "observed"]))
        if shape == "unknown":
            return {"unknown": draw(good_text)}
        if shape == "observed":
            low, mid, high = sorted(draw(number) for _ in range(3))
            return {"observed": {"min": low, "median": mid, "max": high,
                                 "n": draw(st.integers(1, 10**6))},
                    "derived": draw(good_text), "source": draw(st.sampled_from(ids))}
        if shape == "range":
            return {"range": sorted([draw(number), draw(number)]), **stated()}
        if shape == "derived":
            return {"amount": draw(number), "derived": draw(good_text)}
        return {shape: draw(number), **stated()}

    slugs = draw(st.lists(st.from_regex(r"[a-z0-9]{1,5}(-[a-z0-9]{1,5}){0,2}", fullmatch=True),
                          max_size=4, unique=True))
    programmes = []
    for slug in slugs:
        p: dict[str, Any] = {"slug": slug, "name": draw(good_text),
                             "funders": draw(st.lists(good_text, min_size=1, max_size=2))}
        for name, number in (("teams", whole), ("funding_per_team", money),
                             ("total_funding", money), ("duration", durations),
                             ("applications", whole)):
            if draw(st.booleans()):
                p[name] = quantity(number)
        if draw(st.booleans()):
            p["support"] = {"value": quantity(money), "days": quantity(st.floats(0, 1000))}
        if draw(st.booleans()):
            p["start"] = {"date": "2012-06", **stated()}
        if draw(st.booleans()):
            p["focus"] = {"text": draw(good_text), **stated()}
        programmes.append(draw(st.permutations(list(p.items()))))
    return {"sources": sources, "programmes": [dict(p) for p in programmes]}


@PROFILE
@given(valid_registry(), st.booleans())
def test_a_valid_random_registry_is_accepted_whole(doc: dict[str, Any], flow: bool) -> None:
    path = FUZZ_DIR / "valid.yaml"
    path.write_bytes(_dump(doc, flow, quote_text=True))
    registry = load(path)
    check_invariants(registry)
    assert [p.slug for p in registry.programmes] == [p["slug"] for p in doc["programmes"]]


@PROFILE
@given(valid_registry(), st.data(), st.integers(1, 3))
def test_a_mutated_valid_registry_loads_or_is_refused(doc: dict[str, Any],
                                                      data: st.DataObject,
                                                      mutations: int) -> None:
    for _ in range(mutations):
        doc = _mutate(doc, data)
    load_or_refuse(_dump(doc, data.draw(st.booleans())))


@settings(PROFILE, max_examples=max(PROFILE.max_examples // 5, 30))
@given(registry_doc)
def test_every_command_on_a_random_registry_exits_0_or_1_without_a_traceback(
        doc: dict[str, Any]) -> None:
    path = FUZZ_DIR / "cli.yaml"
    path.write_bytes(_dump(doc, False))
    for args in (["list"], ["list", "--format", "json"], ["rank", "--by", "funding-per-year"],
                 ["list", "--format", "table"]):
        result = CliRunner().invoke(cli, ["--registry", str(path), *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            result.exception
        assert result.exit_code in (0, 1), (args, result.stderr)
        if result.exit_code == 1:
            assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_the_invariant_checker_rejects_a_broken_programme() -> None:
    """The checker itself can fail: a range read backwards is caught."""
    bad = Quantity(Kind.RANGE, Unit.GBP, 5.0, 4.0, 3.0)
    try:
        _check_quantity(bad, "x", set())
    except AssertionError:
        return
    raise AssertionError("a backwards range passed the invariant checker")
