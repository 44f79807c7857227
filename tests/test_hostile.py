"""Hostile and malformed registries: one located line on stderr, exit 1, never a traceback."""

from __future__ import annotations

import codecs
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from fundcmp.cli import cli
from fundcmp.errors import RegistryError, hidden
from fundcmp.registry import DEFAULT_MAX_BYTES, MAX_BYTES_VAR, MAX_DEPTH, SHIPPED, load

HOSTILE = Path(__file__).with_name("hostile")
EXPECTED: dict[str, list[Any]] = yaml.safe_load((HOSTILE / "expected.yaml").read_text("utf-8"))
# The size-cap case needs a cap smaller than the file.
ENV = {"over-size-cap.yaml": {MAX_BYTES_VAR: "64"}}

GOOD = """\
sources:
  - id: s1
    publisher: P
    title: T
    date: "2020"
programmes:
  - slug: a
    name: A
    funders: [F]
    teams: {amount: 5, source: s1, quote: "five"}
"""


def test_the_corpus_is_big_and_every_file_has_an_expectation() -> None:
    files = {p.name for p in HOSTILE.glob("*.yaml")} - {"expected.yaml", "expected-output.yaml"}
    assert len(files) >= 40
    assert files == set(EXPECTED)


def _expected_line(path: Path, line: int | None, where: str | None) -> str:
    location = f"{path}:{line}" if line else str(path)
    return f"fundcmp: {location}: {where}: " if where else f"fundcmp: {location}: "


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_registry_gives_one_located_line_and_exit_1(name: str) -> None:
    line, where, fragment = EXPECTED[name]
    path = HOSTILE / name
    result = CliRunner().invoke(cli, ["--registry", str(path), "list"], env=ENV.get(name, {}))
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    message = result.stderr
    assert message.count("\n") == 1 and message.endswith("\n"), message
    assert "Traceback" not in message
    prefix = _expected_line(path, line, where)
    assert message.startswith(prefix), message
    assert fragment in message[len(prefix):], message


@pytest.mark.parametrize("name", ["tag-python-object-root.yaml", "alias-billion-laughs.yaml",
                                  "encoding-utf16-le.yaml", "deep-flow-sequence.yaml",
                                  "duplicate-nested-key.yaml", "amount-money-string.yaml"])
def test_installed_command_reports_hostile_file(name: str) -> None:
    line, where, fragment = EXPECTED[name]
    path = HOSTILE / name
    done = subprocess.run([sys.executable, "-m", "fundcmp", "--registry", str(path), "list"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(_expected_line(path, line, where))
    assert fragment in done.stderr
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize("opener", ["[", "{a: ", "- ", "[{a: "])
def test_hundred_thousand_levels_of_nesting_are_refused_without_a_crash(
        tmp_path: Path, opener: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("sources: []\nprogrammes: " + ("\n  " if opener == "- " else "")
                    + opener * 100_000 + "x\n", "utf-8")
    done = subprocess.run([sys.executable, "-m", "fundcmp", "--registry", str(path), "list"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    assert f"nested more than {MAX_DEPTH} levels deep" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


def test_a_wide_alias_bomb_is_refused_at_its_first_anchor(tmp_path: Path) -> None:
    levels = [f'l0: &l0 ["{"x" * 100}"]'] + [
        f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 50) + "]" for i in range(1, 30)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(levels) + "\n", "utf-8")
    with pytest.raises(RegistryError) as caught:
        load(path)
    assert caught.value.line == 1
    assert "anchors (&l0)" in str(caught.value)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(codecs.BOM_UTF8 + GOOD.encode())
    assert [p.slug for p in load(path).programmes] == ["a"]


def test_yaml_11_words_stay_the_text_that_was_meant(tmp_path: Path) -> None:
    path = tmp_path / "words.yaml"
    path.write_text(GOOD.replace("name: A", "name: no\n    team_noun: on")
                    .replace("funders: [F]", "funders: [yes, off]")
                    .replace('date: "2020"', "date: 2020-01-10"), "utf-8")
    registry = load(path)
    programme = registry.programmes[0]
    assert (programme.name, programme.team_noun, programme.funders) == ("no", "on",
                                                                        ("yes", "off"))
    assert registry.sources[0].date == "2020-01-10"


def test_quoting_with_str_tag_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "str.yaml"
    path.write_text(GOOD.replace("name: A", "name: !!str 0050"), "utf-8")
    assert load(path).programmes[0].name == "0050"


def test_size_cap_default_is_generous_and_the_variable_moves_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_MAX_BYTES == 256 * 1024 * 1024
    path = tmp_path / "r.yaml"
    path.write_text(GOOD, "utf-8")
    size = len(GOOD.encode())
    monkeypatch.setenv(MAX_BYTES_VAR, str(size))
    assert len(load(path).programmes) == 1
    monkeypatch.setenv(MAX_BYTES_VAR, str(size - 1))
    with pytest.raises(RegistryError, match=f"larger than the {size - 1:,}-byte limit"):
        load(path)


def test_an_endless_device_is_read_only_to_the_cap() -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("needs /dev/zero")
    result = CliRunner().invoke(cli, ["--registry", "/dev/zero", "list"],
                                env={MAX_BYTES_VAR: "4096"})
    assert result.exit_code == 1
    assert result.stderr == ("fundcmp: /dev/zero: larger than the 4,096-byte limit for a "
                             f"registry (set {MAX_BYTES_VAR} to raise it)\n")


@pytest.mark.parametrize("setting", ["lots", "-5", "0", "1e6"])
def test_a_bad_size_cap_setting_is_a_one_line_error(tmp_path: Path, setting: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(GOOD, "utf-8")
    result = CliRunner().invoke(cli, ["--registry", str(path), "list"],
                                env={MAX_BYTES_VAR: setting})
    assert result.exit_code == 1
    assert f"{MAX_BYTES_VAR} must be a positive whole number of bytes" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_directory_is_not_a_registry(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--registry", str(tmp_path), "list"])
    assert result.exit_code == 1
    assert result.stderr == f"fundcmp: {tmp_path}: is a directory, not a registry file\n"


def test_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = CliRunner().invoke(cli, ["--registry", str(missing), "list"])
    assert result.exit_code == 1
    assert result.stderr == f"fundcmp: {missing}: no such file\n"


def test_the_shipped_registry_still_loads() -> None:
    slugs = [p.slug for p in load(SHIPPED).programmes]
    assert slugs == ["common-ambition", "shared-purpose", "building-health-partnerships",
                     "people-powered-health"]


def test_a_long_hostile_value_is_clipped_in_the_message(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(GOOD.replace("amount: 5", "amount: " + "x" * 100_000), "utf-8")
    with pytest.raises(RegistryError) as caught:
        load(path)
    assert len(str(caught.value)) < 500


@pytest.mark.parametrize(("body", "fragment"), [
    ('{"grants": [' + "[" * 100_000 + "]" * 100_000 + "]}", "nested too deeply to be a grant"),
    ('{"grants": [{"id": "G-1", "amountAwarded": 1' + "0" * 5000 + "}]}",
     "a number too long to read"),
])
def test_a_hostile_360giving_file_is_one_line_and_exit_1(tmp_path: Path, body: str,
                                                         fragment: str) -> None:
    grants = tmp_path / "grants.json"
    grants.write_text(body, "utf-8")
    result = CliRunner().invoke(cli, ["import", str(grants), "--into",
                                      str(tmp_path / "out.yaml"), "--dry-run"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"fundcmp: {grants}: not a 360Giving JSON data package: "
                                    f"{fragment} (character ")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "out.yaml").exists()


OUTPUT_CASES: dict[str, dict[str, Any]] = yaml.safe_load(
    (HOSTILE / "expected-output.yaml").read_text("utf-8"))


def test_every_accepted_hostile_file_has_an_expectation() -> None:
    assert {p.name for p in (HOSTILE / "output").iterdir()} == set(OUTPUT_CASES)


@pytest.mark.parametrize("name", sorted(OUTPUT_CASES))
def test_accepted_hostile_input_is_shown_safely(tmp_path: Path, name: str) -> None:
    case = OUTPUT_CASES[name]

    def filled(text: str) -> str:
        return text.replace("{file}", str(HOSTILE / "output" / name)).replace("{tmp}",
                                                                              str(tmp_path))

    result = CliRunner().invoke(cli, [filled(a) for a in case["args"]])
    assert result.exit_code == case["exit"], result.output
    assert not any(hidden(c) for c in result.output if c not in "\t\n"), result.output
    for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        for fragment in case[stream]:
            assert filled(fragment) in text, (stream, text)
    for fragment in case["never"]:
        assert fragment not in result.output


@pytest.mark.parametrize("command", [
    ["rank", "--by", "funding", "--limit", "3", "--format", "json"],
    ["compare", "shared-purpose", "common-ambition", "--format", "tsv"],
    ["show", "shared-purpose", "--format", "tsv"],
    ["list", "--format", "csv"],
])
@pytest.mark.parametrize("private", [True, False], ids=["private dir", "dir others can write"])
def test_a_tampered_cache_is_not_believed(command: list[str], private: bool, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/hostile/tampered-cache.sql applied to a built entry: every command prints what a
    fresh parse prints, without the forged figure or escapes; the entry is rebuilt."""
    import sqlite3

    from fundcmp import cache, cache_dir

    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.setattr(cache_dir, "MIN_BYTES", 0)  # index even the small shipped registry
    path = tmp_path / "programmes.yaml"
    path.write_bytes(SHIPPED.read_bytes())
    runner = CliRunner()
    fresh = runner.invoke(cli, ["--no-cache", "--registry", str(path), *command])
    runner.invoke(cli, ["--registry", str(path), "list"])
    entry = home / "fundcmp" / f"{cache.file_key(path)}{cache.SUFFIX}"
    db = sqlite3.connect(entry)
    db.executescript((HOSTILE / "tampered-cache.sql").read_text("utf-8"))
    db.close()
    if not private:
        entry.parent.chmod(0o777)
    result = runner.invoke(cli, ["--registry", str(path), *command])
    assert result.exit_code == 0, result.stderr
    assert (result.stdout, result.stderr) == (fresh.stdout, fresh.stderr)
    assert "990000" not in result.stdout and "\x1b" not in result.stdout + result.stderr
