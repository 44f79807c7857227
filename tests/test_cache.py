"""The registry cache: a fresh parse's answers, missed on any change, never trusted blindly."""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundcmp import cache, cache_dir, registry
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
    monkeypatch.setattr(cache_dir, "MIN_BYTES", 0)  # index even the small shipped registry
    return home / "fundcmp"


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{cache.SUFFIX}")) if folder.exists() else []


def _outcome(path: Path, use_cache: bool) -> registry.Registry | str:
    """The loaded registry, or the error message it was refused with."""
    try:
        return registry.load(path, use_cache=use_cache)
    except RegistryError as exc:
        return str(exc)


def _refuse_to_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any YAML parse fail loudly, so a load that succeeds must have come from the cache."""
    def parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed instead of reading the cache")

    monkeypatch.setattr(registry, "_parsed", parse)


COMMANDS = [
    ["rank", "--by", "funding", "--format", "tsv"],
    ["rank", "--by", "total", "--basis", "low", "--format", "json"],
    ["rank", "--by", "funding-per-year", "--format", "csv"],
    ["list", "--format", "table", "--color", "never"],
    ["list", "--format", "jsonl"],
    ["list", "--format", "github"],
    ["rank", "--by", "support", "--format", "tsv"],
    ["rank", "--by", "funding", "--basis", "low", "--reverse", "--format", "tsv"],
    ["rank", "--by", "duration", "--basis", "high", "--format", "csv", "--limit", "7"],
    ["rank", "--by", "funding-per-year", "--basis", "high", "--reverse", "--format", "tsv"],
    ["rank", "--by", "value,support", "--basis", "low", "--format", "github"],
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
        assert a.stdout == b.stdout, (command, b.stderr, b.exception)
        assert a.stdout == c.stdout, (command, c.stderr, c.exception)
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
    "header only": lambda raw: raw[:100],
    "zeroed pages": lambda raw: raw[:4096] + bytes(len(raw) - 4096),
    "not SQLite": lambda raw: b"\xff\xfe" + raw,
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupt_entry_is_ignored_and_rebuilt(corrupt: object, tmp_path: Path,
                                                cache_home: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "registry.yaml"
    path.write_bytes(SHIPPED_BYTES)
    fresh = registry.load(path, use_cache=False)
    registry.load(path)
    (entry,) = _entries(cache_home)
    good = entry.read_bytes()
    assert callable(corrupt)
    entry.write_bytes(corrupt(good))
    assert registry.load(path) == fresh
    (rebuilt,) = _entries(cache_home)
    assert rebuilt == entry
    _refuse_to_parse(monkeypatch)
    assert registry.load(path) == fresh  # from the rebuilt entry


def _forge(entry: Path, sql: str, *params: object) -> None:
    """Edit an entry as an attacker would: straight SQL, every other part left consistent."""
    db = sqlite3.connect(entry)
    db.execute(sql, params)
    db.commit()
    db.close()


def _entry_for(path: Path, cache_home: Path) -> Path:
    key = cache.file_key(path)
    assert key is not None
    return cache_home / f"{key}{cache.SUFFIX}"


RANK = ["rank", "--by", "funding", "--format", "tsv"]
SHARED = "WHERE position = (SELECT position FROM programmes WHERE slug = 'shared-purpose')"
FORGERIES = {
    # a figure changed in the stored record and in the rank columns, which a warm rank prints
    "figure in record": ("UPDATE records SET record = replace(record, '420000', '990000')",),
    "escape in a name": ("UPDATE records SET record = replace(record, '\"Shared Purpose\"', "
                         "'\"\\u001b]0;owned\\u0007Shared\"')",),
    "escape in a cell": ("UPDATE programmes SET name_cell = 'Shared \x1b[2J'",),
    "unknown field": ("UPDATE records SET record = replace(record, '\"slug\"', "
                      "'\"run\":1,\"slug\"')",),
    "not JSON": ("UPDATE records SET record = '{'",),
    # caught wherever programmes are revived; the tsv ranking reads these columns unrevived,
    # which only the directory rule protects (test_a_cache_others_can_write_...)
    "rank column": (f"UPDATE by_funding SET mid = 990000, low = 990000 {SHARED}",),
    "foreign unit": ("UPDATE meta SET value = '{}' WHERE name = 'units'",),
    "wrong key": ("UPDATE meta SET value = 'x' WHERE name = 'key'",),
    "dropped table": ("DROP TABLE sources",),
    "warning text": ("UPDATE programmes SET findings = '[\"\x1b]0;owned\x07\"]'",),
}


@pytest.mark.parametrize("forgery", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_entry_is_not_believed(forgery: tuple[str], tmp_path: Path,
                                        cache_home: Path) -> None:
    path = tmp_path / "registry.yaml"
    path.write_bytes(SHIPPED_BYTES)
    runner = CliRunner()
    commands = [RANK, ["rank", "--by", "funding", "--limit", "2", "--format", "json"],
                ["compare", "shared-purpose", "common-ambition", "--format", "tsv"],
                ["list", "--format", "tsv"]]
    fresh = [runner.invoke(cli, ["--no-cache", "--registry", str(path), *c]) for c in commands]
    for command, expected in zip(commands, fresh, strict=True):
        if "by_funding" in forgery[0] and command == RANK:
            continue
        runner.invoke(cli, ["--registry", str(path), "list"])  # builds the entry
        _forge(_entry_for(path, cache_home), *forgery)
        result = runner.invoke(cli, ["--registry", str(path), *command])
        assert result.exit_code == 0, result.stderr
        assert result.stdout == expected.stdout, command
        assert "990000" not in result.stdout and "\x1b" not in result.stdout + result.stderr


def _forged_entry(tmp_path: Path, cache_home: Path) -> tuple[Path, str, Path]:
    """A copy of the shipped registry, its uncached rank output, and its cache entry with
    £420,000 forged into £990,000 by straight SQL, the rest of it left consistent."""
    path = tmp_path / "registry.yaml"
    path.write_bytes(SHIPPED_BYTES)
    runner = CliRunner()
    expected = runner.invoke(cli, ["--no-cache", "--registry", str(path), *RANK]).stdout
    runner.invoke(cli, ["--registry", str(path), *RANK])
    entry = _entry_for(path, cache_home)
    _forge(entry, f"UPDATE by_funding SET cell_mid = replace(cell_mid, '420000', '990000') "
                  f"{SHARED}")
    return path, expected, entry


def test_a_cache_others_can_write_is_neither_read_nor_written(
        tmp_path: Path, cache_home: Path) -> None:
    """A tampered entry with every check satisfied is still not believed from a directory
    other users can write (as ssh treats its keys)."""
    path, expected, entry = _forged_entry(tmp_path, cache_home)
    runner = CliRunner()
    forged = runner.invoke(cli, ["--registry", str(path), *RANK]).stdout
    assert "990000" in forged  # the same user can edit their own cache, as their registry
    for mode in (0o777, 0o770, 0o702):
        cache_home.chmod(mode)
        assert runner.invoke(cli, ["--registry", str(path), *RANK]).stdout == expected
        assert entry.exists()  # not rebuilt either: nothing is written where others write
    cache_home.chmod(0o700)
    entry.chmod(0o666)
    assert runner.invoke(cli, ["--registry", str(path), *RANK]).stdout == expected


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_an_entry_owned_by_another_user_is_not_believed(tmp_path: Path,
                                                        cache_home: Path) -> None:
    path, expected, entry = _forged_entry(tmp_path, cache_home)
    runner = CliRunner()
    os.chown(entry, 65534, 65534)
    assert runner.invoke(cli, ["--registry", str(path), *RANK]).stdout == expected
    os.chown(entry, 0, 0)
    os.chown(cache_home, 65534, 65534)
    assert runner.invoke(cli, ["--registry", str(path), *RANK]).stdout == expected


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
    assert [p.name for p in cache_home.iterdir()
            if not p.name.endswith((cache.SUFFIX, cache.MEMO_SUFFIX))] == []
    latest = cache.key(path.read_bytes())
    assert (cache_home / f"{latest}{cache.SUFFIX}").exists()


def test_only_a_regular_file_is_indexed(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A device reports no size, so with every size indexed (cache_home's MIN_BYTES of 0) it
    passed the size checks and the scan for published_as read /dev/zero for ever."""
    if not Path("/dev/zero").exists():
        pytest.skip("needs /dev/zero")

    def endless(path: object) -> bool:
        raise AssertionError(f"read {path} looking for links")

    monkeypatch.setattr(registry, "_links", endless)
    assert registry.indexed("/dev/zero") is None
    result = CliRunner().invoke(cli, ["--registry", "/dev/zero", "list"],
                                env={registry.MAX_BYTES_VAR: "4096"})
    assert result.exit_code == 1
    assert result.stderr == ("fundcmp: /dev/zero: larger than the 4,096-byte limit for a "
                             f"registry (set {registry.MAX_BYTES_VAR} to raise it)\n")


def test_the_parse_is_refused_where_the_tests_refuse_it(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """_refuse_to_parse must stop an uncached load, or a test of the cache proves nothing."""
    path = tmp_path / "registry.yaml"
    path.write_bytes(SHIPPED_BYTES)
    _refuse_to_parse(monkeypatch)
    with pytest.raises(AssertionError, match="parsed instead"):
        registry.load(path, use_cache=False)


def test_each_command_closes_the_index_it_opened(tmp_path: Path, cache_home: Path) -> None:
    """A CLI run in a long-lived process (a test session, a notebook) leaves no file open."""
    path = tmp_path / "registry.yaml"
    path.write_bytes(SHIPPED_BYTES)
    command = ["--registry", str(path), "rank", "--by", "funding", "--format", "tsv"]
    assert CliRunner().invoke(cli, command).exit_code == 0  # builds the entry

    def open_files() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = open_files()
    for _ in range(5):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 0, result.output
    assert open_files() == before



def test_temporary_files_a_killed_build_left_are_removed_once_a_day_old(
        tmp_path: Path, cache_home: Path) -> None:
    """SIGTERM or a closed terminal ends a build before it can remove its temporary files
    (with workers, up to ten parts as large as the index): a later build removes those a day
    old, never a newer one, which may be another build's in progress."""
    cache_home.mkdir(parents=True, exist_ok=True, mode=0o700)
    abandoned = [cache_home / ".part.abc.tmp", cache_home / ".0123.sqlite.xyz.tmp"]
    in_progress = cache_home / ".part.new.tmp"
    for leftover in (*abandoned, in_progress):
        leftover.write_bytes(b"half an index")
    two_days_ago = time.time() - 2 * 86400
    for leftover in abandoned:
        os.utime(leftover, (two_days_ago, two_days_ago))
    path = tmp_path / "registry.yaml"
    path.write_bytes(SHIPPED_BYTES + b"# edited\n")
    registry.load(path)
    assert [p for p in abandoned if p.exists()] == []
    assert in_progress.read_bytes() == b"half an index"
