"""Words and figures as people read them (issue 11, items 4, 5, 8, 10 and 11)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from fundcmp.cli import cli

Write = Callable[..., Path]

REGISTRY = """\
sources:
  - id: s
    publisher: Pub
    title: Doc
    date: "2020"
    url: https://example.org/doc
programmes:
  - slug: stated-unknown
    name: Stated Unknown
    funders: [F]
    teams: {amount: 3, source: s, quote: "three teams"}
    funding_per_team: {range: [200000, 600000], source: s, quote: "£200,000 to £600,000"}
    total_funding: {unknown: "the total was never published"}
  - slug: pence
    name: Pence
    funders: [F]
    funding_per_team: {range: [30000, 75000.5], source: s, quote: "£30,000 to £75,000.50"}
    duration: {range: [10, 24], source: s, quote: "10 to 24 months"}
"""


def _run(runner: CliRunner, path: Path, *args: str) -> str:
    result = runner.invoke(cli, ["--registry", str(path), *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_an_explicit_unknown_is_not_overridden_by_a_derived_figure(
        runner: CliRunner, write_registry: Write) -> None:
    path = write_registry(REGISTRY)
    data = json.loads(_run(runner, path, "show", "stated-unknown", "--format", "json"))
    total = next(r for r in data if r["fact"] == "Total funding")
    assert total["value"]["kind"] == "unknown"
    assert total["how"] == "unknown: the total was never published"
    ranked = _run(runner, path, "rank", "--by", "total", "--format", "tsv", "--no-header")
    row = next(line.split("\t") for line in ranked.splitlines() if line.startswith("stated"))
    assert row[2] == "unknown" and "never published" in row[4]


def test_explain_shows_working_that_reproduces_its_answer(runner: CliRunner,
                                                         write_registry: Write) -> None:
    path = write_registry(REGISTRY)
    rows = [line.split("\t") for line in
            _run(runner, path, "explain", "pence", "--format", "tsv").splitlines()]
    per_year = next(r for r in rows if r[0] == "Funding per team per year")
    assert per_year[3] == ("[£30,000, £75,000.50] / [10 months, 24 months] x 12 "
                           "= £15,000-£90,001")


def test_explain_labels_input_rows_as_inputs(runner: CliRunner) -> None:
    rows = [line.split("\t") for line in runner.invoke(
        cli, ["explain", "shared-purpose", "--format", "tsv"]).stdout.splitlines()]
    inputs = [r for r in rows if r[2] == "input to funding per team per year"]
    assert [r[0] for r in inputs] == ["input: funding per team", "input: duration"]
    assert not any(r[0] == "Funding per team per year" and r[1] == "420000" for r in rows)


def test_github_and_rst_legends_stand_apart_from_the_table(runner: CliRunner) -> None:
    out = runner.invoke(cli, ["compare", "shared-purpose", "common-ambition",
                              "--format", "github"]).stdout
    table, legend = out.split("\n\n", 1)
    assert table.splitlines()[-1].startswith("|")
    assert all(not line.startswith("* ") for line in legend.splitlines())
    assert "\\* derived from other facts" in legend
    assert "\n\n\\* derived" in out  # a paragraph of its own, not a table row or a bullet
    rst = runner.invoke(cli, ["list", "--format", "rst"]).stdout
    assert "\n\n\\* derived from other facts" in rst
    assert "``fundcmp explain SLUG``" in rst
    html = runner.invoke(cli, ["list", "--format", "html"]).stdout
    assert "</table>\n<p>* derived from other facts" in html


def test_a_source_url_is_shown_in_show_explain_and_json(runner: CliRunner,
                                                       write_registry: Write) -> None:
    path = write_registry(REGISTRY)
    shown = json.loads(_run(runner, path, "show", "pence", "--format", "json"))
    assert any("https://example.org/doc" in (r["source"] or "") for r in shown)
    assert "https://example.org/doc" in _run(runner, path, "explain", "pence", "--format",
                                             "tsv")
    assert "https://example.org/doc" in _run(runner, path, "show", "pence", "--format",
                                             "github")


def test_one_word_for_unknown_in_every_format(runner: CliRunner) -> None:
    table = runner.invoke(cli, ["compare", "shared-purpose", "people-powered-health",
                                "--format", "github"]).stdout
    assert "not valued" not in table and "not stated" not in table
    announced = next(line for line in table.splitlines() if line.startswith("| Announced"))
    assert "| unknown" in announced
    tsv = runner.invoke(cli, ["list", "--fields", "slug,announced,support"]).stdout
    assert "shared-purpose\tunknown\tunknown" in tsv
    listed = runner.invoke(cli, ["list", "--format", "github"]).stdout
    assert "not valued" not in listed and "| unknown" in listed


def test_show_says_stated_and_teams_once(runner: CliRunner) -> None:
    rows = json.loads(runner.invoke(cli, ["show", "common-ambition", "--format",
                                          "json"]).stdout)
    by_fact = {r["fact"]: r for r in rows}
    assert by_fact["Funding per team"]["how"] == "stated"
    assert "Teams" in by_fact and "Teams (teams)" not in by_fact
    rows = json.loads(runner.invoke(cli, ["show", "shared-purpose", "--format",
                                          "json"]).stdout)
    assert "Teams (award-holder teams)" in {r["fact"] for r in rows}


def test_plurals_agree(runner: CliRunner, write_registry: Write) -> None:
    one = write_registry(REGISTRY.split("  - slug: pence")[0])
    result = runner.invoke(cli, ["--registry", str(one), "check"])
    assert "ok: 1 programme in" in result.stderr


def test_compare_headers_stay_names_with_fields(runner: CliRunner) -> None:
    out = runner.invoke(cli, ["compare", "shared-purpose", "common-ambition", "--fields",
                              "funding", "--format", "github"]).stdout
    head = out.splitlines()[0]
    assert "Shared Purpose" in head and "Common Ambition" in head
    assert "| Slug" in out and "shared-purpose" in out


def test_check_points_out_a_stated_unknown_that_could_be_derived(
        runner: CliRunner, write_registry: Write) -> None:
    path = write_registry(REGISTRY)
    result = runner.invoke(cli, ["--registry", str(path), "check"])
    assert result.exit_code == 0
    assert ("fundcmp: note: stated-unknown: total funding is stated unknown (“the total was "
            "never published”), though 3 teams x [£200,000, £600,000] would give "
            "£600,000-£1,800,000\n") in result.stderr
