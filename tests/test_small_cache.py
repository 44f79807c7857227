"""The small-registry cache: a fresh parse's answers without a YAML parse, missed on any change,
validated again on every load, never used from a directory or entry others can write."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fundcmp import cache_dir, registry, small_cache
from fundcmp.cli import cli
from tests.test_published import DISAGREEING as PUBLISHED_DISAGREEING

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_TEXT = (ROOT / "fundcmp" / "programmes.yaml").read_text(encoding="utf-8")
SP_DURATION = "duration: {amount: 42, source: hf-shared-purpose-summary"
DISAGREEING = SHIPPED_TEXT.replace(SP_DURATION, SP_DURATION.replace("42", "30"))  # a warning
COMMANDS = [
    ["rank", "--by", "funding", "--format", "tsv"],
    ["list", "--format", "table", "--color", "never"],
    ["compare", "shared-purpose", "common-ambition", "--format", "table", "--color", "never"],
    ["show", "common-ambition", "--format", "json"],
    ["check", "--format", "tsv"],
]


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv(cache_dir.ENV_DISABLE, raising=False)
    return home / "fundcmp"


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{small_cache.SUFFIX}")) if folder.exists() else []


def _write(tmp_path: Path, text: str = SHIPPED_TEXT, name: str = "registry.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _refuse_to_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("parsed instead of reading the cache")

    monkeypatch.setattr(registry, "_parsed", parse)


def _run(path: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--registry", str(path), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("text", [SHIPPED_TEXT, DISAGREEING], ids=["shipped", "warning"])
@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_cached_runs_print_exactly_what_an_uncached_run_prints(
        text: str, command: list[str], tmp_path: Path, cache_home: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, text)
    result = CliRunner().invoke(cli, ["--no-cache", "--registry", str(path), *command])
    expected = (result.exit_code, result.stdout, result.stderr)
    assert _entries(cache_home) == []
    assert _run(path, *command) == expected  # writes the entry
    assert len(_entries(cache_home)) == 1
    _refuse_to_parse(monkeypatch)
    assert _run(path, *command) == expected  # read from it


def test_the_warnings_come_from_the_entry(tmp_path: Path, cache_home: Path) -> None:
    path = _write(tmp_path, DISAGREEING)
    first = _run(path, "list", "--fields", "slug")
    (entry,) = _entries(cache_home)
    stored = json.loads(entry.read_bytes())
    assert [f"fundcmp: warning: {line}" for line in stored["findings"]] == \
        first[2].splitlines()
    assert "duration disagrees with the dates" in first[2]
    stored["findings"] = ["shared-purpose: a warning the entry holds"]
    entry.write_text(json.dumps(stored), encoding="utf-8")
    assert _run(path, "list", "--fields", "slug")[2] == \
        "fundcmp: warning: shared-purpose: a warning the entry holds\n"


def test_a_second_load_reads_the_entry_and_holds_the_same_values(
        tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path)
    fresh = registry.load(path, use_cache=False)
    assert registry.load(path) == fresh
    _refuse_to_parse(monkeypatch)
    assert registry.load(path) == fresh
    assert small_cache.findings(registry.load(path).programmes) == []
    assert small_cache.findings(fresh.programmes) is None  # not served by the cache


@pytest.mark.parametrize("edit", [
    lambda text: text + "# a comment\n",
    lambda text: text.replace("420000", "420001"),
    lambda text: text.replace("Shared Purpose", "Shared purpose"),
], ids=["comment", "figure", "name"])
def test_any_change_to_the_file_misses(edit: Any, tmp_path: Path, cache_home: Path) -> None:
    path = _write(tmp_path)
    registry.load(path)
    path.write_text(edit(SHIPPED_TEXT), encoding="utf-8")
    assert registry.load(path) == registry.load(path, use_cache=False)
    assert len(_entries(cache_home)) == 2


def test_a_change_to_fundcmp_misses(tmp_path: Path, cache_home: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path)
    registry.load(path)
    (entry,) = _entries(cache_home)
    stored = json.loads(entry.read_bytes())
    stored["code"][0][2] += 1  # a module one byte longer
    stored["programmes"][0][1]["name"] = "Forged"
    entry.write_text(json.dumps(stored), encoding="utf-8")
    assert registry.load(path) == registry.load(path, use_cache=False)
    assert "Forged" not in entry.read_text(encoding="utf-8")  # written again


def _forge(entry: Path) -> bytes:
    """Shared Purpose's £420,000 made £990,000 in the entry's record, all else left alone."""
    stored = json.loads(entry.read_bytes())
    (record,) = [raw for _, raw in stored["programmes"] if raw["slug"] == "shared-purpose"]
    record["funding_per_team"]["amount"] = 990000
    entry.write_text(json.dumps(stored), encoding="utf-8")
    return entry.read_bytes()


def _tampered(stored: dict[str, Any], change: str) -> bytes:
    programme = stored["programmes"][0][1]
    if change == "garbage":
        return b"\x00not json"
    if change == "truncated":
        return json.dumps(stored).encode()[:200]
    if change == "unknown field":
        programme["owner"] = "x"
    elif change == "escape in a name":
        programme["name"] = "\x1b]0;owned\x07Shared"
    elif change == "negative figure":
        programme["funding_per_team"]["amount"] = -1
    elif change == "missing source":
        stored["sources"] = []
    elif change == "slug twice":
        stored["programmes"].append(stored["programmes"][0])
    elif change == "source twice":
        stored["sources"].append(stored["sources"][0])
    elif change == "findings not text":
        stored["findings"] = [1]
    elif change == "deep nesting":
        programme["name"] = json.loads("[" * 60 + "]" * 60)
    return json.dumps(stored).encode()


TAMPERINGS = ["garbage", "truncated", "unknown field", "escape in a name", "negative figure",
              "missing source", "slug twice", "source twice", "findings not text",
              "deep nesting"]


@pytest.mark.parametrize("change", TAMPERINGS)
def test_a_damaged_or_invalid_entry_is_not_believed_and_is_written_again(
        change: str, tmp_path: Path, cache_home: Path) -> None:
    path = _write(tmp_path)
    expected = [_run(path, "--no-cache", *command) for command in COMMANDS]
    registry.load(path)
    (entry,) = _entries(cache_home)
    good = entry.read_bytes()
    entry.write_bytes(_tampered(json.loads(good), change))
    assert [_run(path, *command) for command in COMMANDS] == expected
    assert entry.read_bytes() == good


def test_the_same_user_can_edit_their_own_entry_as_their_registry(
        tmp_path: Path, cache_home: Path) -> None:
    """What is not promised (SECURITY.md): a valid edit to one's own entry is read."""
    path = _write(tmp_path)
    registry.load(path)
    (entry,) = _entries(cache_home)
    _forge(entry)
    assert "990000" in _run(path, "rank", "--by", "funding", "--format", "tsv")[1]


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_a_cache_others_can_write_is_neither_read_nor_written(
        mode: int, tmp_path: Path, cache_home: Path) -> None:
    path = _write(tmp_path)
    expected = _run(path, "--no-cache", "rank", "--by", "funding", "--format", "tsv")
    registry.load(path)
    (entry,) = _entries(cache_home)
    forged = _forge(entry)
    cache_home.chmod(mode)
    assert _run(path, "rank", "--by", "funding", "--format", "tsv") == expected
    assert entry.read_bytes() == forged  # not written either
    cache_home.chmod(0o700)
    entry.chmod(0o620)  # an entry others can write
    assert _run(path, "rank", "--by", "funding", "--format", "tsv") == expected
    assert b"990000" not in entry.read_bytes() and entry.stat().st_mode & 0o777 == 0o600
    cache_home.chmod(mode)
    entry.write_bytes(forged)
    entry.chmod(0o600)
    assert _run(path, "rank", "--by", "funding", "--format", "tsv") == expected
    cache_home.chmod(0o700)
    assert "990000" in _run(path, "rank", "--by", "funding", "--format", "tsv")[1]


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_an_entry_owned_by_another_user_is_not_believed(tmp_path: Path,
                                                        cache_home: Path) -> None:
    path = _write(tmp_path)
    expected = _run(path, "--no-cache", "rank", "--by", "funding", "--format", "tsv")
    registry.load(path)
    (entry,) = _entries(cache_home)
    _forge(entry)
    os.chown(entry, 65534, 65534)
    assert _run(path, "rank", "--by", "funding", "--format", "tsv") == expected


def test_a_link_in_place_of_an_entry_is_not_followed(tmp_path: Path, cache_home: Path) -> None:
    path = _write(tmp_path)
    registry.load(path)
    (entry,) = _entries(cache_home)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(_forge(entry))
    entry.unlink()
    entry.symlink_to(elsewhere)
    assert registry.load(path) == registry.load(path, use_cache=False)
    assert b"990000" in elsewhere.read_bytes()


def test_no_cache_flag_and_environment_variable_leave_no_entry(
        tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path)
    assert _run(path, "--no-cache", "list")[0] == 0
    registry.load(path, use_cache=False)
    monkeypatch.setenv(cache_dir.ENV_DISABLE, "1")
    assert _run(path, "list")[0] == 0
    assert _entries(cache_home) == []


def test_only_small_yaml_registries_without_links_are_kept(
        tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jsonl = _write(tmp_path, '{"source": {"id": "s", "publisher": "P", "title": "T", '
                             '"date": "2020"}}\n{"slug": "a", "name": "A", "funders": ["F"]}\n',
                   "r.jsonl")
    linked = _write(tmp_path, SHIPPED_TEXT + "# published_as is resolved on load\n",
                    "linked.yaml")
    for path in (jsonl, linked):
        assert registry.load(path) == registry.load(path, use_cache=False)
    assert _entries(cache_home) == []
    monkeypatch.setattr(cache_dir, "MIN_BYTES", len(SHIPPED_TEXT.encode()))
    assert registry.load(_write(tmp_path)) == registry.load(_write(tmp_path), use_cache=False)
    assert _entries(cache_home) == []  # as large as the index threshold: the index serves it


def test_old_entries_are_pruned_and_no_temporary_file_is_left(
        tmp_path: Path, cache_home: Path) -> None:
    path = _write(tmp_path)
    for n in range(small_cache.KEEP_ENTRIES + 3):
        path.write_text(SHIPPED_TEXT + f"# edit {n}\n", encoding="utf-8")
        registry.load(path)
    assert len(_entries(cache_home)) == small_cache.KEEP_ENTRIES
    assert [p.name for p in cache_home.iterdir() if not p.name.endswith(small_cache.SUFFIX)] \
        == []


def test_the_parse_is_refused_where_the_tests_refuse_it(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """_refuse_to_parse must stop an uncached load, or a test of the cache proves nothing."""
    _refuse_to_parse(monkeypatch)
    with pytest.raises(AssertionError, match="parsed instead"):
        registry.load(_write(tmp_path), use_cache=False)


# A YAML escape spells the key without the word "published_as".
LINKED = PUBLISHED_DISAGREEING.replace("published_as:", '"published\\x5fas":')


@pytest.mark.parametrize("padding", [0, 40_000], ids=["small", "indexed size"])
@pytest.mark.parametrize("entry", ["fund", "stated"], ids=["warns", "refused"])
def test_a_link_however_spelt_is_resolved_as_without_the_cache(
        entry: str, padding: int, tmp_path: Path, cache_home: Path) -> None:
    """A YAML escape spells published_as without the word: the caches must still step aside."""
    text = LINKED.replace("entry: fund", f"entry: {entry}") + "#" * padding + "\n"
    path = _write(tmp_path, text)
    expected = CliRunner().invoke(cli, ["--no-cache", "--registry", str(path), "list"])
    assert ("more published grants" in expected.stderr) == (entry == "fund"), expected.stderr
    for _ in range(3):
        result = CliRunner().invoke(cli, ["--registry", str(path), "list"])
        assert (result.exit_code, result.stdout, result.stderr) == (
            expected.exit_code, expected.stdout, expected.stderr)
    assert _entries(cache_home) == []
    assert not cache_home.exists() or not list(cache_home.glob("*.sqlite*"))


def test_no_home_directory_means_no_cache_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", no_home)
    result = CliRunner().invoke(cli, ["--registry", str(_write(tmp_path)), "list",
                                      "--format", "tsv"])
    assert result.exit_code == 0, result.output
    assert "shared-purpose" in result.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory to another user")
def test_no_cache_directory_is_made_inside_another_users_home(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As under sudo with HOME kept: a root-owned ~/.cache would lock the user out of it."""
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, 12345, 12345)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(home))
    result = CliRunner().invoke(cli, ["--registry", str(_write(tmp_path)), "list",
                                      "--format", "tsv"])
    assert result.exit_code == 0, result.output
    assert list(home.iterdir()) == []

