"""JSON Lines registries: the same model and rules as YAML, errors naming the line, and an
import that touches only the lines it must, reading the registry once and writing it once."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fundcmp import atomic, cache, cache_dir, registry, registry_jsonl
from fundcmp.cli import cli
from fundcmp.errors import RegistryError

ROOT = Path(__file__).resolve().parent.parent


def _generate() -> Any:
    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATE = _generate()
YAML_TEXT: str = GENERATE.generate(60, 5)
JSONL_TEXT: str = GENERATE.as_jsonl(YAML_TEXT)

SOURCE = '{"source": {"id": "s1", "publisher": "P", "title": "T", "date": "2020"}}'
GOOD = '{"slug": "a", "name": "A", "funders": ["F"], ' \
       '"teams": {"amount": 5, "source": "s1", "quote": "five"}}'


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("FUNDCMP_NO_CACHE", raising=False)
    return tmp_path / "xdg" / "fundcmp"


def _unlined(r: registry.Registry) -> list[Any]:
    return [dataclasses.replace(p, line=0) for p in r.programmes]


def test_a_jsonl_registry_loads_into_the_same_model_as_its_yaml_twin(tmp_path: Path) -> None:
    yaml_path, jsonl_path = tmp_path / "r.yaml", tmp_path / "r.jsonl"
    yaml_path.write_text(YAML_TEXT, encoding="utf-8")
    jsonl_path.write_text(JSONL_TEXT, encoding="utf-8")
    from_yaml = registry.load(yaml_path, use_cache=False)
    from_jsonl = registry.load(jsonl_path, use_cache=False)
    assert len(from_jsonl.programmes) == 60
    assert _unlined(from_jsonl) == _unlined(from_yaml)
    assert from_jsonl.sources == from_yaml.sources
    # each programme's line is its line in the file
    lines = JSONL_TEXT.splitlines()
    assert all(json.loads(lines[p.line - 1])["slug"] == p.slug for p in from_jsonl.programmes)


def test_commands_print_the_same_for_either_format(tmp_path: Path, cache_home: Path) -> None:
    yaml_path, jsonl_path = tmp_path / "r.yaml", tmp_path / "r.jsonl"
    yaml_path.write_text(YAML_TEXT, encoding="utf-8")
    jsonl_path.write_text(JSONL_TEXT, encoding="utf-8")
    runner = CliRunner()
    for command in (["rank", "--by", "value,funding", "--format", "csv"],
                    ["list", "--format", "json"], ["check", "--format", "tsv"]):
        a = runner.invoke(cli, ["--registry", str(yaml_path), *command])
        b = runner.invoke(cli, ["--registry", str(jsonl_path), *command])
        assert a.stdout == b.stdout and a.stdout.strip(), command


BAD_LINES = {
    "not JSON": (f"{SOURCE}\n{{\"slug\": \"a\",\n", 2, None, "not valid JSON"),
    "duplicate key": (f'{SOURCE}\n{{"slug": "a", "name": "A", "name": "B", "funders": ["F"]}}\n',
                      2, None, "duplicate key 'name'"),
    "NaN": (f'{SOURCE}\n{{"slug": "a", "name": "A", "funders": ["F"], '
            '"teams": {"amount": NaN, "source": "s1", "quote": "q"}}\n', 2, None,
            "NaN is not a number a registry can hold"),
    "huge": (f'{SOURCE}\n{{"slug": "a", "name": "A", "funders": ["F"], '
             '"teams": {"amount": 1e400, "source": "s1", "quote": "q"}}\n', 2,
             "a: teams.amount", "must be a finite number"),
    "unknown field": (f'{SOURCE}\n{{"slug": "a", "name": "A", "funders": ["F"], "team": 1}}\n',
                      2, "a: team", "did you mean 'teams'"),
    "money as text": (f'{SOURCE}\n{{"slug": "a", "name": "A", "funders": ["F"], '
                      '"funding_per_team": {"amount": "£420,000", "source": "s1", '
                      '"quote": "q"}}\n', 2, "a: funding_per_team.amount",
                      "write the plain number 420000"),
    "escape in a name": (f'{SOURCE}\n{{"slug": "a", "name": "\\u001b]0;x\\u0007", '
                         '"funders": ["F"]}\n', 2, "a: name", "U+001B"),
    "source after its use": (f"\n{GOOD}\n{SOURCE}\n", 2, "a: teams.source",
                             "no source with id 's1'"),
    "duplicate slug": (f"{SOURCE}\n{GOOD}\n\n{GOOD}\n", 4, "a: slug",
                       "duplicate slug (first on line 2)"),
    "duplicate source": (f"{SOURCE}\n{SOURCE}\n", 2, "sources.id", "duplicate source id 's1'"),
    "not a record": (f"{SOURCE}\n[1, 2]\n", 2, None, "a line must be a programme"),
    "deep": (SOURCE + "\n" + "[" * 100_000 + "]" * 100_000 + "\n", 2, None, "nested more than"),
}


@pytest.mark.parametrize("case", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_a_bad_line_gives_one_located_error(case: tuple[str, int, str | None, str],
                                            tmp_path: Path) -> None:
    text, line, where, fragment = case
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--registry", str(path), "list"])
    assert result.exit_code == 1
    assert result.stdout == ""
    prefix = f"fundcmp: {path}:{line}: " + (f"{where}: " if where else "")
    assert result.stderr.startswith(prefix), result.stderr
    assert fragment in result.stderr and result.stderr.count("\n") == 1, result.stderr


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.integers(0, len(SOURCE) + len(GOOD)), byte=st.integers(0, 255))
@example(at=len(SOURCE) + 30, byte=ord("\x1b"))
def test_any_one_byte_edit_loads_or_is_refused_with_a_registry_error(
        at: int, byte: int, tmp_path: Path) -> None:
    raw = (SOURCE + "\n" + GOOD + "\n").encode()
    path = tmp_path / "edited.jsonl"
    path.write_bytes(raw[:at] + bytes([byte]) + raw[at + 1:])
    try:
        loaded = registry.load(path, use_cache=False)
    except RegistryError as exc:
        assert exc.line in (None, 1, 2, 3)
    else:
        assert all(registry.UNSAFE_CHAR_RE.search(p.name) is None for p in loaded.programmes)


def _grants(tmp_path: Path, count: int, programmes: int, seed: int) -> Path:
    path = tmp_path / f"grants-{seed}.json"
    path.write_text(GENERATE.grants(count, seed, programmes), encoding="utf-8")
    return path


def test_import_into_a_new_registry_leaves_a_warm_store(
        tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first run after an import that made the registry answers from the store the
    import wrote: no programme is validated again."""
    target = tmp_path / "new.jsonl"
    runner = CliRunner()
    made = runner.invoke(cli, ["import", str(_grants(tmp_path, 400, 60, 1)), "--into",
                               str(target)])
    assert made.exit_code == 0, made.stderr
    assert target.stat().st_size >= cache_dir.MIN_BYTES  # a registry the store serves
    assert (cache_home / f"{cache.file_key(target)}{cache.SUFFIX}").exists()
    validated: list[str] = []
    real_validate = registry_jsonl.validate_programme
    monkeypatch.setattr(registry_jsonl, "validate_programme",
                        lambda item, *args: validated.append(item["slug"])
                        or real_validate(item, *args))
    ranked = runner.invoke(cli, ["--registry", str(target), "rank", "--by", "funding",
                                 "--format", "tsv"])
    assert ranked.exit_code == 0, ranked.stderr
    assert validated == []
    monkeypatch.undo()
    uncached = runner.invoke(cli, ["--no-cache", "--registry", str(target), "rank", "--by",
                                   "funding", "--format", "tsv"])
    assert ranked.stdout == uncached.stdout and len(ranked.stdout.splitlines()) == 61
    assert registry.load(target) == registry.load(target, use_cache=False)


def test_ctrl_c_while_the_new_registry_is_indexed_says_nothing_was_written(
        tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index of a registry the import makes is built as its records are validated,
    before the registry is written (holding every validated record until after took a
    gigabyte at 100,000 programmes): Ctrl-C then leaves nothing written, and says so."""
    target = tmp_path / "new.jsonl"

    def interrupted(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cache, "build_from", interrupted)
    result = CliRunner().invoke(cli, ["import", str(_grants(tmp_path, 400, 60, 1)), "--into",
                                      str(target)])
    assert result.exit_code == 130
    assert result.stderr == f"fundcmp: interrupted: nothing was written to {target}\n"
    assert not target.exists()


def test_ctrl_c_before_a_jsonl_registry_is_written_says_nothing_was_written(
        tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.jsonl"
    target.write_text(JSONL_TEXT, encoding="utf-8")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", interrupted)
    result = CliRunner().invoke(cli, ["import", str(_grants(tmp_path, 40, 6, 1)), "--into",
                                      str(target)])
    assert result.exit_code == 130
    assert result.stderr == f"fundcmp: interrupted: nothing was written to {target}\n"
    assert target.read_text(encoding="utf-8") == JSONL_TEXT


def test_import_appends_and_replaces_lines_leaving_every_other_byte(
        tmp_path: Path, cache_home: Path) -> None:
    target = tmp_path / "r.jsonl"
    target.write_text(JSONL_TEXT, encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(cli, ["import", str(_grants(tmp_path, 40, 6, 1)), "--into",
                                str(target)])
    assert first.exit_code == 0, first.stderr
    after_first = target.read_bytes()
    assert after_first.startswith(JSONL_TEXT.encode())  # appended, nothing rewritten
    added = after_first[len(JSONL_TEXT.encode()):].decode().splitlines()
    assert json.loads(added[0])["source"]["id"] == "360giving-grants-1"
    assert len(added) == 7 and "added 6 programmes" in first.stdout
    again = runner.invoke(cli, ["import", str(_grants(tmp_path, 30, 6, 2)), "--into",
                                str(target), "--replace"])
    assert again.exit_code == 0, again.stderr
    after = target.read_bytes().decode().splitlines()
    before = after_first.decode().splitlines()
    # the replaced programmes keep their places; a new source goes just above the first
    changed = [i for i, (x, y) in enumerate(zip(before, after, strict=False)) if x != y]
    assert len(after) == len(before) + 1
    assert after[: changed[0]] == before[: changed[0]]
    assert json.loads(after[changed[0]])["source"]["id"] == "360giving-grants-2"
    fresh = registry.load(target, use_cache=False)
    assert registry.load(target) == fresh  # the derived store agrees with a fresh parse
    replaced = [p for p in fresh.programmes if p.teams.evidence is None
                and p.funding_per_team.evidence
                and p.funding_per_team.evidence.source == "360giving-grants-2"]
    assert len(replaced) == 6


def test_import_reads_the_registry_once_writes_once_and_leaves_a_warm_store(
        tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.jsonl"
    target.write_text(JSONL_TEXT, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["--registry", str(target), "list"]).exit_code == 0  # cached
    reads: list[str] = []
    writes: list[str] = []
    real_read, real_write = registry.read_text, atomic.write_bytes
    monkeypatch.setattr(registry, "read_text",
                        lambda path: reads.append(str(path)) or real_read(path))
    monkeypatch.setattr("fundcmp.jsonl_merge.read_text",
                        lambda path: reads.append(str(path)) or real_read(path))
    monkeypatch.setattr(atomic, "write_bytes",
                        lambda path, data: writes.append(str(path)) or real_write(path, data))

    validated: list[str] = []
    real_validate = registry_jsonl.validate_programme

    def counted(item: Any, *args: Any) -> Any:
        validated.append(item["slug"])
        return real_validate(item, *args)

    monkeypatch.setattr(registry_jsonl, "validate_programme", counted)
    result = runner.invoke(cli, ["import", str(_grants(tmp_path, 20, 4, 3)), "--into",
                                 str(target)])
    assert result.exit_code == 0, result.stderr
    assert reads == [str(target)] and writes == [str(target)]
    assert len(validated) == 4  # only the new lines: the cached registry is not validated again
    monkeypatch.undo()
    key = cache.file_key(target)
    assert (cache_home / f"{key}{cache.SUFFIX}").exists()  # the next run starts warm
    assert registry.load(target) == registry.load(target, use_cache=False)


def _package(path: Path, funder: str, award: str, count: int, title: str = "Main") -> Path:
    path.write_text(json.dumps({"grants": [
        {"id": f"{path.stem}-{i}", "amountAwarded": 1000 + i, "currency": "GBP",
         "awardDate": award, "fundingOrganization": [{"id": funder, "name": funder}],
         "grantProgramme": [{"title": title}]} for i in range(count)]}), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".yaml"])
def test_files_imported_together_give_each_programme_the_source_of_its_own_files(
        tmp_path: Path, cache_home: Path, suffix: str) -> None:
    """Imported together, one funder's 2014 file and another's 2019 file made one source,
    dated 2019, with both files' counts, that the 2014 programme cited too."""
    early = _package(tmp_path / "early.json", "GB-CHC-1", "2014-12-04", 3)
    late = _package(tmp_path / "late.json", "GB-CHC-2", "2019-05-13", 5)
    both = [_package(tmp_path / f"{year}.json", "GB-CHC-3", f"{year}-06-01", 2, "Shared")
            for year in (2018, 2020)]
    target = tmp_path / f"r{suffix}"
    result = CliRunner().invoke(cli, ["import", str(early), str(late), *map(str, both),
                                      "--into", str(target)])
    assert result.exit_code == 0, result.stderr
    loaded = registry.load(target, use_cache=False)
    cited = {p.funders[0]: [s for s in loaded.sources if s.id in {c.id for c in p.sources}]
             for p in loaded.programmes}
    ((early_source,), (late_source,), (shared,)) = (cited["GB-CHC-1"], cited["GB-CHC-2"],
                                                   cited["GB-CHC-3"])
    assert (early_source.date, early_source.title) == (
        "2014-12-04", "360Giving grants data: 3 grant identifiers read, 3 imported")
    assert (late_source.date, late_source.title) == (
        "2019-05-13", "360Giving grants data: 5 grant identifiers read, 5 imported")
    assert (shared.id, shared.date, shared.document) == (
        "360giving-2018-and-1-more", "2020-06-01", "2018.json, 2020.json")
    assert "(sources 360giving-early, 360giving-late, 360giving-2018-and-1-more)" \
        in result.stdout


def test_new_sources_inserted_above_replaced_lines_keep_the_index_true(
        tmp_path: Path, cache_home: Path) -> None:
    """Replacing programmes puts the new sources above the first programme replaced: every
    line below moves down as many, and the index derived from the old one must say so."""
    target = tmp_path / "r.jsonl"
    runner = CliRunner()
    first = runner.invoke(cli, ["import", str(_grants(tmp_path, 400, 60, 1)), "--into",
                                str(target)])
    assert first.exit_code == 0, first.stderr
    again = runner.invoke(cli, ["import", str(_grants(tmp_path, 400, 60, 1)),
                                str(_package(tmp_path / "other.json", "GB-CHC-7", "2021-01-01",
                                             3)),
                                str(_package(tmp_path / "more.json", "GB-CHC-8", "2022-01-01",
                                             2)),
                                "--into", str(target), "--replace"])
    assert again.exit_code == 0, again.stderr
    assert "(sources 360giving-grants-1, 360giving-other, 360giving-more)" in again.stdout
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["source"]["id"] for line in lines[:3]] == [
        "360giving-grants-1", "360giving-other", "360giving-more"]
    ranked = runner.invoke(cli, ["--registry", str(target), "rank", "--by", "funding",
                                 "--format", "tsv"])
    uncached = runner.invoke(cli, ["--no-cache", "--registry", str(target), "rank", "--by",
                                   "funding", "--format", "tsv"])
    assert ranked.stdout == uncached.stdout and len(ranked.stdout.splitlines()) == 63
    assert registry.load(target) == registry.load(target, use_cache=False)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text("ab", max_size=2),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("abc", max_size=2),
                                                                inner, max_size=3),
    max_leaves=40)


def _nest(depth: int, leaf: Any, kinds: str) -> Any:
    """`leaf` inside `depth` containers, the i-th a list or an object as kinds[i % 2] says."""
    for i in range(depth):
        leaf = [leaf] if kinds[i % len(kinds)] == "l" else {"k": leaf}
    return leaf


@settings(max_examples=300, deadline=None)
@given(value=_JSON_VALUES | st.builds(_nest, st.integers(15, 25), _JSON_VALUES,
                                      st.sampled_from(["l", "o", "lo", "ol"])))
def test_a_decoded_line_is_what_located_makes_of_the_plain_json(value: Any) -> None:
    """Objects decode straight to line-aware mappings: the same values, lines and refusals
    of deep nesting as located() gives the plain JSON (which the small cache still uses)."""
    text = json.dumps(value)
    try:
        expected = registry.located(json.loads(text), "r.jsonl", 7)
    except RegistryError as exc:
        with pytest.raises(RegistryError) as raised:
            registry_jsonl.within_depth(registry_jsonl.decode(text, "r.jsonl", 7), "r.jsonl", 7)
        assert str(raised.value) == str(exc)
        return
    found = registry_jsonl.within_depth(registry_jsonl.decode(text, "r.jsonl", 7), "r.jsonl", 7)
    assert found == expected

    def lines(a: Any, b: Any) -> None:
        if isinstance(b, dict):
            assert isinstance(a, registry._Map) and a.line == b.line
            assert a.key_lines == b.key_lines
            for key in b:
                lines(a[key], b[key])
        elif isinstance(b, list):
            for x, y in zip(a, b, strict=True):
                lines(x, y)

    lines(found, expected)


@pytest.mark.parametrize("kinds", ["l", "o", "lo"])
def test_a_programme_nested_twenty_deep_is_read_and_twenty_one_refused(
        kinds: str, tmp_path: Path) -> None:
    for depth, refused in ((19, False), (20, True)):
        line = json.dumps({"slug": "a", "name": "A", "funders": ["F"],
                           "focus": _nest(depth, "x", kinds)})
        path = tmp_path / "deep.jsonl"
        path.write_text(line + "\n", encoding="utf-8")
        result = CliRunner().invoke(cli, ["--no-cache", "--registry", str(path), "list"])
        assert result.exit_code == 1
        assert ("nested more than 20 levels deep" in result.stderr) is refused, result.stderr
