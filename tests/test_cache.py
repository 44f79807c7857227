"""The registry cache: a fresh parse's answers, missed on any change, never trusted blindly."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundcmp import cache, registry
from fundcmp.cli import cli
from fundcmp.errors import RegistryError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_BYTES = (ROOT / "fundcmp" / "programmes.yaml").read_bytes()


def _generated(count: int) -> str:
    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.generate(count, 7)
    return text


GENERATED = _generated(60)


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("FUNDCMP_NO_CACHE", raising=False)
    return home / "fundcmp"


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.exists() else []


def _outcome(path: Path, use_cache: bool) -> registry.Registry | str:
    """The loaded registry, or the error message it was refused with."""
    try:
        return registry.load(path, use_cache=use_cache)
    except RegistryError as exc:
        return str(exc)


def _refuse_to_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any YAML parse fail loudly, so a load that succeeds must have come from the cache."""
    def parse(text: str, path: str) -> None:
        raise AssertionError("parsed instead of reading the cache")

    monkeypatch.setattr(registry, "parse", parse)


COMMANDS = [
    ["rank", "--by", "funding", "--format", "tsv"],
    ["rank", "--by", "total", "--basis", "low", "--format", "json"],
    ["rank", "--by", "funding-per-year", "--format", "csv"],
    ["list", "--format", "table", "--color", "never"],
    ["list", "--format", "jsonl"],
    ["list", "--format", "github"],
]


@pytest.mark.parametrize("registry_text", [SHIPPED_BYTES.decode("utf-8"), GENERATED],
                         ids=["shipped", "generated"])
def test_cached_runs_print_exactly_what_an_uncached_run_prints(
        registry_text: str, tmp_path: Path, cache_home: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(registry_text, encoding="utf-8")
    slugs = [p.slug for p in registry.load(path, use_cache=False).programmes[:3]]
    commands = [*COMMANDS,
                ["compare", *slugs, "--format", "json"],
                ["compare", *slugs[:2], "--format", "table", "--color", "never"],
                ["show", slugs[0], "--format", "tsv"]]
    runner = CliRunner()
    base = ["--registry", str(path)]
    uncached = [runner.invoke(cli, ["--no-cache", *base, *c]) for c in commands]
    assert _entries(cache_home) == []
    first = [runner.invoke(cli, [*base, *c]) for c in commands]
    assert len(_entries(cache_home)) == 1
    _refuse_to_parse(monkeypatch)
    warm = [runner.invoke(cli, [*base, *c]) for c in commands]
    for command, a, b, c in zip(commands, uncached, first, warm, strict=True):
        assert a.exit_code == 0, (command, a.stderr)
        assert a.stdout.strip(), command
        assert a.stdout == b.stdout == c.stdout, command
        assert a.stderr == b.stderr == c.stderr, command


def test_the_cache_holds_the_same_values_as_a_fresh_load(tmp_path: Path, cache_home: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(GENERATED, encoding="utf-8")
    fresh = registry.load(path, use_cache=False)
    registry.load(path)
    _refuse_to_parse(monkeypatch)
    cached = registry.load(path)
    assert cached == fresh
    kinds = {q.kind for p in cached.programmes for q in (p.funding_per_team, p.duration)}
    assert len(kinds) >= 4  # the generated registry exercises every quantity shape
    for mine, theirs in zip(cached.programmes, fresh.programmes, strict=True):
        pairs = ((mine.teams, theirs.teams), (mine.support.value, theirs.support.value))
        for q, fresh_q in pairs:  # enums come back as the same members, not look-alike strings
            assert q.kind is fresh_q.kind
            assert type(q.unit) is type(fresh_q.unit)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_change_to_the_file_misses_the_cache(data: st.DataObject, tmp_path: Path,
                                                 cache_home: Path) -> None:
    original = SHIPPED_BYTES
    digits = [i for i, b in enumerate(original) if chr(b).isdigit()]
    edit = data.draw(st.sampled_from(["replace", "insert", "delete", "digit"]))
    if edit == "digit":  # usually still valid, with a different figure
        at = data.draw(st.sampled_from(digits))
        new = data.draw(st.sampled_from([d for d in b"0123456789" if d != original[at]]))
        changed = original[:at] + bytes([new]) + original[at + 1:]
    else:
        at = data.draw(st.integers(0, len(original) - 1))
        if edit == "delete":
            changed = original[:at] + original[at + 1:]
        else:
            new = data.draw(st.integers(0, 255).filter(lambda b: edit == "insert"
                                                       or b != original[at]))
            changed = original[:at] + bytes([new]) + original[at + (edit == "replace"):]
    assert changed != original
    assert cache.key(changed) != cache.key(original)

    path = tmp_path / "registry.yaml"
    path.write_bytes(original)
    registry.load(path)  # the original is now cached
    path.write_bytes(changed)
    assert _outcome(path, use_cache=True) == _outcome(path, use_cache=False)


CORRUPTIONS = {
    "empty": lambda raw: b"",
    "truncated": lambda raw: raw[: len(raw) // 2],
    "garbage": lambda raw: os.urandom(512),
    "flipped byte in the body": lambda raw: raw[:-20] + bytes([raw[-20] ^ 0x01]) + raw[-19:],
    "header only": lambda raw: raw.partition(b"\n")[0],
    "not UTF-8": lambda raw: b"\xff\xfe" + raw,
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupt_entry_is_ignored_and_rebuilt(corrupt: object, tmp_path: Path,
                                                cache_home: Path) -> None:
    path = tmp_path / "registry.yaml"
    path.write_bytes(SHIPPED_BYTES)
    fresh = registry.load(path, use_cache=False)
    registry.load(path)
    (entry,) = _entries(cache_home)
    good = entry.read_bytes()
    assert callable(corrupt)
    entry.write_bytes(corrupt(good))
    assert cache.fetch(entry.stem) is None
    assert registry.load(path) == fresh
    assert entry.read_bytes() == good  # rewritten whole
    assert cache.fetch(entry.stem) == (fresh.programmes, fresh.sources)


def _sealed(cache_key: str, body: object) -> bytes:
    """An entry with a correct header around the given body, as a forger would write it."""
    raw = json.dumps(body).encode()
    header = {"format": cache.FORMAT, "key": cache_key,
              "body_sha256": hashlib.sha256(raw).hexdigest()}
    return json.dumps(header).encode() + b"\n" + raw


@pytest.mark.parametrize("body", [
    [[{"Popen": [["ls"]]}], []],  # a class that is not part of the model
    [[{"Source": ["id", "p", "t", "2020"]}], []],  # a source where a programme belongs
    [[{"Programme": []}], []],  # the right class with the wrong fields
    {"programmes": []},
    [[{"Kind": "nonsense"}], []],
], ids=["foreign class", "wrong class", "missing fields", "wrong shape", "unknown enum value"])
def test_an_entry_with_a_valid_checksum_but_foreign_content_is_refused(
        body: object, tmp_path: Path, cache_home: Path) -> None:
    path = tmp_path / "registry.yaml"
    path.write_bytes(SHIPPED_BYTES)
    fresh = registry.load(path, use_cache=False)
    key = cache.key(SHIPPED_BYTES)
    assert key is not None
    cache_home.mkdir(parents=True)
    (cache_home / f"{key}.json").write_bytes(_sealed(key, body))
    assert cache.fetch(key) is None
    assert registry.load(path) == fresh


def test_no_cache_flag_and_environment_variable_leave_no_entry(
        tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "registry.yaml"
    path.write_bytes(SHIPPED_BYTES)
    runner = CliRunner()
    args = ["--registry", str(path), "rank", "--by", "funding", "--format", "tsv"]
    assert runner.invoke(cli, ["--no-cache", *args]).exit_code == 0
    monkeypatch.setenv("FUNDCMP_NO_CACHE", "1")
    assert runner.invoke(cli, args).exit_code == 0
    assert _entries(cache_home) == []
    monkeypatch.setenv("FUNDCMP_NO_CACHE", "0")
    assert runner.invoke(cli, args).exit_code == 0
    assert len(_entries(cache_home)) == 1


def test_the_cache_lives_under_xdg_cache_home_or_home(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.directory() == tmp_path / "fundcmp"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # the spec says ignore it
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.directory() == tmp_path / "home" / ".cache" / "fundcmp"


def test_an_unwritable_cache_changes_nothing(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = tmp_path / "registry.yaml"
    path.write_bytes(SHIPPED_BYTES)
    assert registry.load(path) == registry.load(path, use_cache=False)
    assert blocker.read_text() == "a file where the cache directory would go"


def test_writes_leave_no_temporary_files_and_old_entries_are_pruned(
        tmp_path: Path, cache_home: Path) -> None:
    path = tmp_path / "registry.yaml"
    for n in range(cache.KEEP_ENTRIES + 3):
        path.write_bytes(SHIPPED_BYTES + f"# edit {n}\n".encode())
        registry.load(path)
    assert len(_entries(cache_home)) == cache.KEEP_ENTRIES
    assert [p.name for p in cache_home.iterdir() if not p.name.endswith(".json")] == []
    latest = cache.key(path.read_bytes())
    assert (cache_home / f"{latest}.json").exists()
