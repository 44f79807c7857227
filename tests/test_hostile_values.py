"""Values hostile or odd data can carry (issue 10, items 9, 12, 13, 14).

Impossible durations are refused at load, so no arithmetic can overflow; names,
slugs and quotes have caps; loose input (underscored numbers, impossible times,
invisible characters, Unicode line separators) is refused, not quietly read;
`check` flags an end date before the start date.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fundcmp.cli import cli
from fundcmp.errors import RegistryError
from fundcmp.registry import (
    MAX_DURATION_MONTHS,
    MAX_NAME_CHARS,
    MAX_QUOTE_CHARS,
    MAX_SLUG_CHARS,
    MIN_DURATION_MONTHS,
    load,
)

from .test_import import grant, write_json

HEAD = 'sources:\n  - {id: s, publisher: P, title: T, date: "2020"}\nprogrammes:\n'


def registry(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(HEAD + body, "utf-8")
    return path


def programme(duration: str = "{amount: 12, source: s, quote: q}",
              funding: str = "{amount: 1000, source: s, quote: q}", name: str = "A",
              slug: str = "a", quote: str = "q", extra: str = "") -> str:
    return (f"  - slug: {slug}\n    name: {json.dumps(name, ensure_ascii=False)}\n"
            "    funders: [F]\n"
            f"    funding_per_team: {funding}\n"
            f"    duration: {duration}\n"
            f"    teams: {{amount: 2, source: s, quote: {json.dumps(quote)}}}\n{extra}")


COMMANDS = [["rank", "--by", "funding-per-year"], ["rank", "--by", "duration"],
            ["compare", "a", "b"], ["show", "a"], ["explain", "a"], ["list"], ["check"]]


@pytest.mark.parametrize("duration", ["{amount: 1e-300, source: s, quote: q}",
                                      "{up_to: 0.01, source: s, quote: q}",
                                      "{range: [1e-9, 12], source: s, quote: q}",
                                      "{amount: 1201, source: s, quote: q}",
                                      "{range: [12, 1e9], source: s, quote: q}"])
@pytest.mark.parametrize("command", COMMANDS)
def test_an_impossible_duration_is_refused_at_load_on_every_command(
        tmp_path: Path, duration: str, command: list[str]) -> None:
    path = registry(tmp_path, programme(duration, "{amount: 1e15, source: s, quote: q}")
                    + programme(slug="b"))
    result = CliRunner().invoke(cli, ["--registry", str(path), *command])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"fundcmp: {path}:8: a: duration.")
    assert "a duration must be between one day and 100 years" in result.stderr


def test_a_zero_duration_still_loads_and_gives_no_per_year_figure(tmp_path: Path) -> None:
    path = registry(tmp_path, programme("{range: [0, 12], source: s, quote: q}"))
    result = CliRunner().invoke(cli, ["--registry", str(path), "rank", "--by",
                                      "funding-per-year", "--format", "tsv", "--no-header"])
    assert result.exit_code == 0, result.output
    assert result.stdout.split("\t")[2] == ">=1000"


def test_a_duration_of_one_day_and_of_100_years_load(tmp_path: Path) -> None:
    path = registry(tmp_path, programme(f"{{range: [{MIN_DURATION_MONTHS!r}, "
                                        f"{MAX_DURATION_MONTHS}], source: s, quote: q}}"))
    q = load(path, use_cache=False).programmes[0].duration
    assert (q.low, q.high) == (MIN_DURATION_MONTHS, MAX_DURATION_MONTHS)


figures = st.floats(0, 1e15, allow_nan=False)
durations = st.floats(MIN_DURATION_MONTHS, MAX_DURATION_MONTHS, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(figures, figures, durations, durations, st.integers(1, 10**15))
@example(1e15, 1e15, MIN_DURATION_MONTHS, MIN_DURATION_MONTHS, 10**15)
@example(0.0, 1e15, MIN_DURATION_MONTHS, MAX_DURATION_MONTHS, 1)
def test_no_command_overflows_at_the_extremes_the_loader_allows(
        low: float, high: float, short: float, long: float, teams: int) -> None:
    import tempfile

    low, high = sorted((low, high))
    short, long = sorted((short, long))
    body = (programme(f"{{range: [{short!r}, {long!r}], source: s, quote: q}}",
                      f"{{range: [{low!r}, {high!r}], source: s, quote: q}}")
            .replace("{amount: 2,", f"{{amount: {teams},")
            + "    support: {days: {up_to: 1e15, source: s, quote: q}}\n"
            + programme(slug="b"))
    with tempfile.TemporaryDirectory() as folder:
        path = registry(Path(folder), body)
        for command in COMMANDS:
            for extra in ([], ["--format", "json"], ["--prices", "2024", "--day-rate",
                                                     "100000"]):
                if command[0] in ("check", "show") and extra[:1] == ["--prices"]:
                    continue
                result = CliRunner().invoke(cli, ["--registry", str(path), *command, *extra])
                assert result.exception is None or isinstance(result.exception, SystemExit), \
                    (command, extra, result.exception)
                assert result.exit_code in (0, 1) and "Traceback" not in result.output


@pytest.mark.parametrize("stated", [1e308, 1e-300, 0.001, 1500])
def test_an_impossible_grant_duration_is_reported_and_left_unknown(tmp_path: Path,
                                                                   stated: float) -> None:
    data = write_json(tmp_path / "g.json", [grant("G-1", months=stated),
                                            grant("G-2", months=12)])
    target = tmp_path / "r.yaml"
    result = CliRunner().invoke(cli, ["import", str(data), "--into", str(target)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert result.stderr == ("fundcmp: 1 grant (£10,000): plannedDates.duration: not a duration "
                             "between one day and 100 years; amount kept, duration unknown: "
                             "G-1\n")
    duration = load(target, use_cache=False).programmes[0].duration
    assert (duration.low, duration.high, duration.n) == (12, 12, 1)


def test_planned_dates_a_century_apart_are_reported_and_left_unknown(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [grant("G-1", start="1801-01-01", end="2199-12-31"),
                                            grant("G-2", months=12)])
    result = CliRunner().invoke(cli, ["import", str(data), "--into", str(tmp_path / "r.yaml")])
    assert result.exit_code == 0, result.output
    assert "plannedDates.endDate: planned dates more than 100 years apart" in result.stderr


@pytest.mark.parametrize(("field", "body", "limit", "words"), [
    ("name", programme(name="N" * (MAX_NAME_CHARS + 1)), MAX_NAME_CHARS, "a name"),
    ("slug", programme(slug="a" * (MAX_SLUG_CHARS + 1)), MAX_SLUG_CHARS, "a slug"),
    ("teams.quote", programme(quote="q" * (MAX_QUOTE_CHARS + 1)), MAX_QUOTE_CHARS, "a quote"),
])
def test_names_slugs_and_quotes_past_their_cap_are_one_line(
        tmp_path: Path, field: str, body: str, limit: int, words: str) -> None:
    path = registry(tmp_path, body)
    result = CliRunner().invoke(cli, ["--registry", str(path), "list"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 600
    assert f": {field}: " in result.stderr
    assert f"longer than the {limit:,}-character limit for {words}" in result.stderr


def test_a_fifty_megabyte_title_is_refused_quickly(tmp_path: Path) -> None:
    path = registry(tmp_path, programme(name="T" * 50_000_000))
    with pytest.raises(RegistryError, match="character limit for a name"):
        load(path, use_cache=False)


@pytest.mark.parametrize(("name", "code"), [("Zero\u200bwidth", "U+200B"),
                                            ("Byte\ufefforder", "U+FEFF"),
                                            ("Left\u200emark", "U+200E"),
                                            ("Soft\u00adhyphen", "U+00AD")])
def test_invisible_characters_in_text_are_refused(tmp_path: Path, name: str, code: str) -> None:
    path = registry(tmp_path, programme(name=name))
    result = CliRunner().invoke(cli, ["--registry", str(path), "list"])
    assert result.exit_code == 1
    assert result.stderr == (f"fundcmp: {path}:5: a: name: contains {code}, an invisible "
                             "character that could hide or reorder what is read\n")


def test_joiners_that_scripts_and_emoji_need_are_kept(tmp_path: Path) -> None:
    name = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \U0001f469\u200d\U0001f52c"
    path = registry(tmp_path, programme(name=name))
    assert load(path, use_cache=False).programmes[0].name == name


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85"])
@pytest.mark.parametrize("quoted", [True, False])
def test_a_unicode_line_separator_is_refused_not_turned_into_a_space(
        tmp_path: Path, char: str, quoted: bool) -> None:
    name = f'"Two{char}lines"' if quoted else f"Two{char}lines"
    path = tmp_path / "r.yaml"
    path.write_text(HEAD + programme().replace('name: "A"', f"name: {name}"), "utf-8")
    result = CliRunner().invoke(cli, ["--registry", str(path), "list"])
    assert result.exit_code == 1
    assert result.stderr == (f"fundcmp: {path}:5: contains U+{ord(char):04X}, a line break "
                             "YAML would silently read as a space or a new line; remove it\n")


@pytest.mark.parametrize("amount", ['"1_000_000"', "1_000_000", '"420,000"'])
def test_a_number_with_separators_is_refused_in_a_registry(tmp_path: Path, amount: str) -> None:
    path = registry(tmp_path, programme(funding=f"{{amount: {amount}, source: s, quote: q}}"))
    result = CliRunner().invoke(cli, ["--registry", str(path), "list"])
    assert result.exit_code == 1
    digits = "1000000" if "_" in amount else "420000"
    assert result.stderr.endswith(f"; write the plain number {digits}\n")


@pytest.mark.parametrize("raw", ["1_000_000", "\u0664\u0662\u0660", "infinity", "1e5"])
def test_an_import_reads_no_loose_numbers(tmp_path: Path, raw: str) -> None:
    data = write_json(tmp_path / "g.json", [grant("G-1", amount=raw), grant("G-2")])
    result = CliRunner().invoke(cli, ["import", str(data), "--into", str(tmp_path / "r.yaml")])
    assert result.exit_code == 3, result.output
    assert result.stderr == ("fundcmp: 1 grant (no money): amountAwarded: not a number; left "
                             "out of the money: G-1\n")


@pytest.mark.parametrize(("award", "problem"), [
    ("2015-02-28T25:99:00", "not a time of day"), ("2015-02-28 24:00:01", "not a time of day"),
    ("28/02/2015 25:30", "not a time of day"), ("2015-02-28Tnonsense", "not a date")])
def test_an_impossible_time_of_day_makes_the_award_date_unknown(tmp_path: Path, award: str,
                                                                problem: str) -> None:
    data = write_json(tmp_path / "g.json", [grant("G-1", award=award), grant("G-2")])
    result = CliRunner().invoke(cli, ["import", str(data), "--into", str(tmp_path / "r.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"fundcmp: 1 grant (£10,000): awardDate: {problem}; amount kept, "
                             "award date unknown: G-1\n")


@pytest.mark.parametrize("award", ["2015-02-28T10:30:00", "2015-02-28T10:30:00Z",
                                   "2015-02-28T10:30:00+01:00", "2015-02-28 10:30",
                                   "2015-02-28T24:00:00", "28/02/2015 10:30"])
def test_a_real_time_of_day_is_still_read(tmp_path: Path, award: str) -> None:
    data = write_json(tmp_path / "g.json", [grant("G-1", award=award)])
    result = CliRunner().invoke(cli, ["import", str(data), "--into", str(tmp_path / "r.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


DATES = ('    start: {date: "2015-06", source: s, quote: "from June 2015"}\n'
         '    end: {date: "2014-01", source: s, quote: "to January 2014"}\n')


def test_check_flags_an_end_before_the_start(tmp_path: Path) -> None:
    path = registry(tmp_path, programme(duration="{unknown: not stated}", extra=DATES))
    result = CliRunner().invoke(cli, ["--registry", str(path), "check", "--format", "tsv",
                                      "--no-header"])
    assert result.exit_code == 1
    assert result.stdout == ("a\tends before it starts\tstated end 2014-01\tto January 2014\t"
                             "stated start 2015-06\tfrom June 2015\n")


def test_an_end_before_the_start_is_not_also_a_duration_disagreement(tmp_path: Path) -> None:
    path = registry(tmp_path, programme(extra=DATES))
    result = CliRunner().invoke(cli, ["--registry", str(path), "check", "--format", "tsv",
                                      "--no-header"])
    assert [line.split("\t")[1] for line in result.stdout.splitlines()] == \
        ["ends before it starts"]


@pytest.mark.parametrize(("start", "end"), [("2015", "2015-01"), ("2015-06-30", "2015-06"),
                                            ("2015-06", "2015"), ("2015-06-01", "2015-06-01")])
def test_dates_that_can_be_in_order_are_not_flagged(tmp_path: Path, start: str,
                                                    end: str) -> None:
    extra = DATES.replace("2015-06", start, 1).replace("2014-01", end, 1)
    path = registry(tmp_path, programme(duration="{unknown: not stated}", extra=extra))
    result = CliRunner().invoke(cli, ["--registry", str(path), "check"])
    assert result.exit_code == 0, result.output
