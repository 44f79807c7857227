"""What a person sees at 40, 60, 80 and 120 columns: no figure or slug cut in two."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner

from fundcmp.cli import cli

WIDTHS = (40, 60, 80, 120)
MONEY = re.compile(r"£\d[\d,]*(?:\.\d+)?m?")
SLUGS = ("shared-purpose", "common-ambition", "people-powered-health",
         "building-health-partnerships")
COMMANDS = (
    ["list"],
    ["rank", "--by", "funding"],
    ["rank", "--by", "support"],
    ["rank", "--by", "value,duration"],
    ["compare", "shared-purpose", "common-ambition"],
    ["compare", *SLUGS],
    *(["show", slug] for slug in SLUGS),
)


def _shown_strings(records: list[dict[str, Any]]) -> list[str]:
    """The text of every field the table shows: strings, a figure's text, support's value."""
    found = []
    for record in records:
        for value in record.values():
            if isinstance(value, dict) and isinstance(value.get("value"), dict):
                value = value["value"]
            if isinstance(value, dict) and isinstance(value.get("text"), str):
                found.append(value["text"])
            elif isinstance(value, str):
                found.append(value)
            elif isinstance(value, list):
                found.extend(v for v in value if isinstance(v, str))
    return found


def _every_string(value: Any) -> list[str]:
    """Every string in the JSON, and every number as pounds (a table shows 400000 so)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [f"£{value:,.0f}"]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _every_string(v)]
    if isinstance(value, list):
        return [s for v in value for s in _every_string(v)]
    return []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_every_figure_and_slug_of_the_json_is_whole_on_one_line(args: list[str],
                                                                width: int) -> None:
    runner = CliRunner()
    env = {"COLUMNS": str(width)}
    data = json.loads(runner.invoke(cli, [*args, "--format", "json"], env=env).stdout)
    table = runner.invoke(cli, [*args, "--format", "table"], env=env)
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= width
    shown = _shown_strings(data)
    money = {m for s in shown for m in MONEY.findall(s)}
    slugs = {r["slug"] for r in data if "slug" in r} | {
        s for s in SLUGS if any(s in text for text in shown)} | {a for a in args if a in SLUGS}
    assert money or args[0] == "show"
    for figure in money:
        whole = re.compile(rf"(?<![\d,.]){re.escape(figure)}(?![\d,])")
        assert any(whole.search(line) for line in lines), f"{figure} cut at {width}"
    for slug in slugs:
        whole = re.compile(rf"(?<![\w-]){re.escape(slug)}(?![\w-])")
        assert any(whole.search(line) for line in lines), f"{slug} cut at {width}"
    anywhere = {m for s in _every_string(data) for m in MONEY.findall(s)}
    for line in lines:
        assert not re.search(r"£\s*$", line), line
        for figure in MONEY.findall(line):
            assert figure in anywhere, f"fragment {figure!r} at {width}: {line!r}"


def test_a_narrow_list_leaves_out_low_value_columns_and_says_so() -> None:
    out = CliRunner().invoke(cli, ["list", "--format", "table"], env={"COLUMNS": "80"}).stdout
    assert "£300,000-£500,000" in out.replace("-\n", "-")  or "£300,000-" in out
    assert "left out to fit the screen: Funder, Teams" in " ".join(out.split())
    assert "Funder" not in out.split("left out")[0]


def test_compare_shares_the_width_between_labels_and_values() -> None:
    out = CliRunner().invoke(cli, ["compare", "shared-purpose", "common-ambition",
                                   "--format", "table"], env={"COLUMNS": "80"}).stdout
    rows = [line.split("│")[1:-1] for line in out.splitlines() if line.startswith("│")]
    labels = [row[0].strip() for row in rows]
    assert "Funding per team" in labels and "Per team per year" in labels
    assert max(len(cell) for row in rows for cell in row[1:]) < 40


def test_compare_too_wide_for_the_screen_continues_in_a_second_table() -> None:
    out = CliRunner().invoke(cli, ["compare", *SLUGS, "--format", "table"],
                             env={"COLUMNS": "80"}).stdout
    assert out.count("┏") == 2
    assert all(slug in out for slug in SLUGS)


def test_at_40_columns_records_are_stacked_not_cut() -> None:
    out = CliRunner().invoke(cli, ["list", "--format", "table"], env={"COLUMNS": "40"}).stdout
    assert "building-health-partnerships\n" in out
    assert "  Funding per team: £300,000-£500,000" in out


@pytest.mark.parametrize("width", WIDTHS)
def test_the_chart_keeps_every_figure_whole(width: int) -> None:
    runner = CliRunner()
    env = {"COLUMNS": str(width)}
    data = json.loads(runner.invoke(cli, ["rank", "--by", "funding", "--format", "json"],
                                    env=env).stdout)
    lines = runner.invoke(cli, ["rank", "--by", "funding", "--chart"], env=env).stdout \
        .splitlines()
    figures = {m for r in data for m in MONEY.findall(r["funding"]["text"])}
    assert len(figures) == 4
    for figure in figures:
        whole = re.compile(rf"(?<![\d,.]){re.escape(figure)}(?![\d,])")
        assert any(whole.search(line) for line in lines), f"{figure} cut at {width}"
    for line in lines:
        assert all(m in figures for m in MONEY.findall(line)), f"cut at {width}: {line}"
