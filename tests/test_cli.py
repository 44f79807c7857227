"""The commands end to end through click's CliRunner: each command, format and error."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from fundcmp.cli import cli

from .conftest import MINIMAL

SLUGS = ["common-ambition", "shared-purpose", "building-health-partnerships",
         "people-powered-health"]


WIDE = CliRunner(env={"COLUMNS": "300"})


def run(runner: CliRunner, *args: str, code: int = 0) -> tuple[str, str]:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout, result.stderr


def test_compare_canonical_call_as_a_table(runner: CliRunner) -> None:
    out, _ = run(WIDE, "compare", "shared-purpose", "common-ambition", "--format", "table",
                 "--color", "never")
    funding = next(line for line in out.splitlines() if "Funding per team" in line)
    assert "£420,000" in funding and "£300,000-£500,000" in funding
    assert funding.index("£420,000") < funding.index("£300,000-£500,000")
    duration = next(line for line in out.splitlines() if line.startswith("│ Duration"))
    assert "42 months" in duration and "24-36 months" in duration
    support = next(line for line in out.splitlines() if "Support per team" in line)
    assert "unknown" in support and "£30,000-£50,000" in support
    assert "coaching support" in out and "learning events" in out
    assert "★ £420,000" in funding  # best funding per team on the mid basis


def test_compare_tsv_when_piped_has_no_header_and_raw_numbers(runner: CliRunner) -> None:
    out, _ = run(runner, "compare", "shared-purpose", "common-ambition")
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines()}
    assert "field" not in rows
    assert rows["funding"] == ["420000", "300000-500000"]
    assert rows["duration"] == ["42", "24-36"]
    assert rows["funding_per_year"] == ["120000", "100000-250000"]
    assert rows["support"] == ["unknown", "30000-50000"]
    assert "£" not in out


def test_compare_json_is_a_list_of_programmes_with_best_fields(runner: CliRunner) -> None:
    out, _ = run(runner, "compare", "shared-purpose", "common-ambition", "--format", "json")
    data = json.loads(out)
    assert [d["slug"] for d in data] == ["shared-purpose", "common-ambition"]
    assert data[0]["funding"] == {"kind": "exact", "low": 420000, "mid": 420000,
                                  "high": 420000, "unit": "GBP", "text": "£420,000",
                                  "formula": None, "note": None, "n": None}
    assert data[0]["funding_per_year"]["kind"] == "derived"
    assert data[0]["funding_per_year"]["formula"] == "£420,000 / 42 months x 12"
    assert "funding" in data[0]["best"] and "funding" not in data[1]["best"]


def test_compare_unknown_slug_is_a_usage_error_naming_it(runner: CliRunner) -> None:
    out, err = run(runner, "compare", "shared-purpose", "nope", code=2)
    assert out == ""
    assert "unknown programme 'nope'" in err
    _, err = run(runner, "compare", "shared-purpose", "shared-purpos", code=2)
    assert "did you mean shared-purpose?" in err


def test_compare_needs_two_programmes(runner: CliRunner) -> None:
    _, err = run(runner, "compare", "shared-purpose", code=2)
    assert "at least two" in err
    _, err = run(runner, "compare", "shared-purpose", "shared-purpose", code=2)
    assert "'shared-purpose' is given twice" in err


@pytest.mark.parametrize(("fields", "words"), [
    ("", "empty entry"), ("slug,,name", "empty entry"), ("slug,slug", "given twice")])
def test_fields_typos_are_refused_not_dropped(runner: CliRunner, fields: str,
                                               words: str) -> None:
    _, err = run(runner, "list", "--fields", fields, code=2)
    assert words in err


def test_rank_by_funding_json_puts_the_programme_without_cash_last(runner: CliRunner) -> None:
    out, _ = run(runner, "rank", "--by", "funding", "--format", "json")
    data = json.loads(out)
    assert [d["slug"] for d in data] == ["shared-purpose", "common-ambition",
                                         "people-powered-health",
                                         "building-health-partnerships"]
    last = data[-1]["funding"]
    assert last["kind"] == "unknown"
    assert (last["low"], last["mid"], last["high"]) == (None, None, None)
    assert data[-1]["funding_mid"] is None
    assert data[-1]["note"].startswith("unknown: no cash grant")
    assert data[2]["funding"]["text"] == "up to £100,000"


def test_rank_piped_cut_f1_gives_only_slugs(runner: CliRunner) -> None:
    out, _ = run(runner, "rank", "--by", "funding")
    assert [line.split("\t")[0] for line in out.splitlines()] == [
        "shared-purpose", "common-ambition", "people-powered-health",
        "building-health-partnerships"]


def test_rank_explicit_tsv_adds_one_header_line(runner: CliRunner) -> None:
    out, _ = run(runner, "rank", "--by", "duration", "--format", "tsv")
    lines = out.splitlines()
    assert lines[0].split("\t") == ["slug", "name", "duration", "duration_mid", "note"]
    assert [line.split("\t")[0] for line in lines[1:]] == [
        "shared-purpose", "common-ambition", "people-powered-health",
        "building-health-partnerships"]
    out, _ = run(runner, "rank", "--by", "duration", "--format", "tsv", "--no-header")
    assert out.splitlines() == lines[1:]


def test_rank_reverse_and_basis(runner: CliRunner) -> None:
    out, _ = run(runner, "rank", "--by", "funding-per-year", "--reverse", "--basis", "high",
                 "--format", "tsv", "--no-header")
    rows = [line.split("\t") for line in out.splitlines()]
    assert [r[0] for r in rows] == ["people-powered-health", "shared-purpose",
                                    "common-ambition", "building-health-partnerships"]
    assert [r[3] for r in rows] == ["80000", "120000", "250000", ""]


def test_rank_table_title_names_the_basis(runner: CliRunner) -> None:
    out, _ = run(WIDE, "rank", "--by", "funding", "--basis", "low", "--format", "table")
    assert "basis: low" in out.splitlines()[0]
    assert "only a ceiling is stated" in " ".join(out.split())


def test_list_formats_agree(runner: CliRunner) -> None:
    tsv, _ = run(runner, "list", "--format", "tsv")
    rows = list(csv.reader(io.StringIO(run(runner, "list", "--format", "csv")[0])))
    assert rows[0] == ["slug", "name", "funder", "teams", "funding", "duration", "support"]
    assert [r[0] for r in rows[1:]] == SLUGS
    assert [line.split("\t") for line in tsv.splitlines()] == rows
    jsonl = [json.loads(line) for line in run(runner, "list", "--format", "jsonl")[0].splitlines()]
    assert [d["slug"] for d in jsonl] == SLUGS
    assert jsonl[3]["support"]["days"]["text"] == "up to 20 days"


def test_list_fields_choose_and_order_columns(runner: CliRunner) -> None:
    out, _ = run(runner, "list", "--fields", "duration,slug", "--format", "tsv")
    assert out.splitlines()[:2] == ["duration\tslug", "24-36\tcommon-ambition"]
    _, err = run(runner, "list", "--fields", "slug,durration", code=2)
    assert "Unknown field 'durration'" in err and "did you mean 'duration'" in err


def test_list_github_format_is_a_markdown_table_in_pounds(runner: CliRunner) -> None:
    out, _ = run(runner, "list", "--format", "github")
    lines = out.splitlines()
    assert lines[0].startswith("| Slug") and set(lines[1]) <= {"|", "-", ":", " "}
    assert "£300,000-£500,000" in out


def test_bad_format_is_a_usage_error(runner: CliRunner) -> None:
    _, err = run(runner, "list", "--format", "exel", code=2)
    assert "exel" in err


def test_show_prints_each_fact_with_its_quote_and_source(runner: CliRunner) -> None:
    out, _ = run(runner, "show", "people-powered-health", "--format", "json")
    facts = {f["fact"]: f for f in json.loads(out)}
    funding = facts["Funding per team"]
    assert funding["value"]["kind"] == "ceiling"
    assert funding["quote"] == "a grant of up to £100,000"
    assert funding["source"].startswith("NESTA")
    assert facts["Support days per team"]["value"]["high"] == 20
    assert facts["Applications"]["value"]["mid"] == 108
    assert facts["Funding per team per year"]["how"] == "derived: up to £100,000 / 15 months x 12"


def test_show_table_on_a_terminal_layout(runner: CliRunner) -> None:
    out, _ = run(WIDE, "show", "shared-purpose", "--format", "table")
    flat = " ".join(out.split())
    assert "Runs for three and a half years" in flat
    assert "£3,780,000 *" in flat and "explain" in flat


def test_bad_registry_via_option_and_environment(runner: CliRunner,
                                                 write_registry: Callable[[str], Path]) -> None:
    bad = write_registry(MINIMAL.replace("amount: 100000", "amount: -1"))
    out, err = run(runner, "--registry", str(bad), "list", code=1)
    assert out == ""
    assert err == f"fundcmp: {bad}:10: alpha: funding_per_team.amount: must not be negative (-1)\n"
    result = CliRunner(env={"FUNDCMP_REGISTRY": str(bad)}).invoke(cli, ["rank", "--by", "funding"])
    assert result.exit_code == 1 and f"{bad}:10" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_other_registry_is_used(runner: CliRunner,
                                write_registry: Callable[[str], Path]) -> None:
    good = write_registry(MINIMAL)
    out, _ = run(runner, "--registry", str(good), "list", "--fields", "slug,funding")
    assert out == "alpha\t100000\n"


@pytest.mark.parametrize("command", [["list"], ["show", "x"], ["compare", "a", "b"],
                                     ["rank", "--by", "funding"]])
def test_every_command_help_has_an_example(runner: CliRunner, command: list[str]) -> None:
    out, _ = run(runner, command[0], "--help")
    assert "Example:" in out and "fundcmp " + command[0] in out


def test_json_holds_exactly_the_chosen_fields(runner: CliRunner) -> None:
    out, _ = run(runner, "rank", "--by", "funding", "--fields", "note,slug", "--format", "json")
    data = json.loads(out)
    assert [list(d) for d in data] == [["note", "slug"]] * 4
    assert data[2] == {"note": "a ceiling (up to)", "slug": "people-powered-health"}
    out, _ = run(runner, "compare", "shared-purpose", "common-ambition", "--fields", "teams",
                 "--format", "json")
    assert json.loads(out) == [
        {"slug": "shared-purpose", "teams": json.loads(out)[0]["teams"], "best": []},
        {"slug": "common-ambition", "teams": json.loads(out)[1]["teams"], "best": []}]
    assert json.loads(out)[0]["teams"]["mid"] == 9


def test_compare_stars_a_ceiling_at_its_cap_as_rank_orders_it(runner: CliRunner) -> None:
    out, _ = run(runner, "compare", "building-health-partnerships", "common-ambition",
                 "--format", "json")
    bhp, ca = json.loads(out)
    assert bhp["support"]["value"]["text"] == "up to £45,000"
    assert "support" in bhp["best"] and "support" not in ca["best"]
    out, _ = run(runner, "compare", "building-health-partnerships", "common-ambition",
                 "--basis", "low", "--format", "json")
    assert json.loads(out)[0]["best"] == []


def test_rank_notes_carry_each_figures_own_note(runner: CliRunner) -> None:
    out, _ = run(runner, "rank", "--by", "total", "--format", "json")
    notes = {d["slug"]: d["note"] for d in json.loads(out)}
    assert "not granted to the areas" in notes["building-health-partnerships"]
    assert "does not say whether this includes the support" in notes["common-ambition"]


def test_chart_draws_a_lower_bound_instead_of_calling_it_unknown(runner: CliRunner) -> None:
    out, _ = run(WIDE, "rank", "--by", "value", "--basis", "low", "--chart", "--color", "never")
    line = next(line for line in out.splitlines() if line.startswith("Shared Purpose"))
    assert "█▶" in line and "at least £420,000" in line and "unknown" not in line
