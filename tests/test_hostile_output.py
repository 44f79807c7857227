"""Hostile text on its way to a person or a program (issue 10, items 5-7).

Terminal escapes and bidi controls in anything fundcmp quotes are shown escaped;
a csv cell cannot start a spreadsheet formula; a name cannot forge cells in a
markdown, rst, mediawiki or other text table.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from fundcmp.cli import cli
from fundcmp.errors import escaped, hidden, one_line
from fundcmp.render import FORMATS, write
from fundcmp.views import Column, Table

from .test_import import grant, write_json

# Window title (OSC 0 ... BEL), clear screen, right-to-left override, zero-width space, BOM.
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\u202e\u200b\ufeff"
SHOWN = "\\x1b]0;pwned\\x07\\x1b[2J\\u202e\\u200b\\ufeff"


def no_hidden(text: str) -> bool:
    return not any(hidden(c) for c in text.replace("\n", "").replace("\t", ""))


def test_escaped_shows_controls_bidi_and_zero_width_characters_as_escapes() -> None:
    assert escaped("id" + ESCAPES) == "id" + SHOWN
    assert escaped("Caf\u00e9 \u00a3420,000 \u201cquoted\u201d") == \
        "Caf\u00e9 \u00a3420,000 \u201cquoted\u201d"
    assert escaped("\u2028\u2029\x85\U000e0001") == "\\u2028\\u2029\\x85\\U000e0001"
    assert escaped("\u200d") == "\u200d"  # a joiner moves nothing; emoji and scripts need it


@given(st.text())
@example("\x1b[2J\u202e")
def test_escaped_text_never_holds_a_hidden_character(text: str) -> None:
    shown = one_line(text, limit=10_000)
    assert no_hidden(shown) and "\n" not in shown and "\t" not in shown


def test_skipped_and_duplicate_warnings_show_escapes_escaped(tmp_path: Path) -> None:
    bad_id = "G-1" + ESCAPES
    data = write_json(tmp_path / "g.json", [
        grant(bad_id), grant(bad_id), grant("G-2" + ESCAPES, amount="lots")])
    result = CliRunner().invoke(cli, ["import", str(data), "--into", str(tmp_path / "r.yaml")])
    assert result.exit_code == 3, result.output
    assert no_hidden(result.stderr) and no_hidden(result.stdout)
    # An identifier's zero-width space and byte-order mark are removed (they would make it
    # another grant); the marks that remain are shown escaped.
    kept = SHOWN.removesuffix("\\u200b\\ufeff")
    assert "G-1" + kept + "," in result.stderr and "G-1" + SHOWN not in result.stderr
    assert "G-2" + kept in result.stderr


@pytest.mark.parametrize("args", [["show", "\x1b[2J"], ["compare", "shared-purpose", "\u202eab"],
                                  ["explain", "a\x1b]0;t\x07"]])
def test_an_unknown_slug_is_quoted_escaped(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert no_hidden(result.stderr)
    assert escaped(args[-1]) in result.stderr


def test_an_unknown_slug_from_stdin_is_quoted_escaped() -> None:
    result = CliRunner().invoke(cli, ["compare", "shared-purpose", "-"],
                                input="\x1b[2Jevil\n")
    assert result.exit_code == 2
    assert no_hidden(result.stderr)
    assert "\\x1b[2Jevil" in result.stderr


def test_a_bad_option_value_is_quoted_escaped() -> None:
    result = CliRunner().invoke(cli, ["list", "--fields", "slug,\x1b[2J"])
    assert result.exit_code == 2
    assert no_hidden(result.stderr)
    assert "\\x1b[2J" in result.stderr


def _hostile_table() -> Table:
    return Table("Programmes \x1b[2J", (Column("slug", "slug"), Column("name", "name")),
                 ({"slug": "a", "name": "Name" + ESCAPES},), notes=("note \u202e",))


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f not in ("json", "jsonl", "yaml")])
def test_tables_in_every_text_format_show_hidden_characters_escaped(fmt: str) -> None:
    out = io.StringIO()
    write(_hostile_table(), fmt, out, color="never", width=200)
    assert no_hidden(out.getvalue()), repr(out.getvalue())
    assert "x1b" in out.getvalue() and "pwned" in out.getvalue()


@pytest.mark.parametrize("fmt", ["json", "jsonl", "yaml"])
def test_json_and_yaml_escape_hidden_characters_but_keep_the_data(fmt: str) -> None:
    out = io.StringIO()
    write(_hostile_table(), fmt, out)
    assert no_hidden(out.getvalue()), repr(out.getvalue())
    import yaml

    data = yaml.safe_load(out.getvalue()) if fmt == "yaml" else \
        json.loads(out.getvalue().splitlines()[0] if fmt == "jsonl" else out.getvalue())
    first = data[0] if isinstance(data, list) else data
    assert first["name"] == "Name" + ESCAPES


FORMULAS = ['=HYPERLINK("http://evil.example/?x=1","Click")', "@SUM(1+1)", "+1+1", "-1+1",
            "\t=1+1", "\r=1+1"]


def _registry_named(tmp_path: Path, names: list[str]) -> Path:
    programmes = "".join(
        f"  - slug: p{i}\n    name: {json.dumps(name)}\n    funders: [{json.dumps(name)}]\n"
        f"    funding_per_team: {{amount: {1000 * (i + 1)}, source: s, quote: q}}\n"
        for i, name in enumerate(names))
    path = tmp_path / "r.yaml"
    path.write_text("sources:\n  - {id: s, publisher: P, title: T, date: \"2020\"}\n"
                    "programmes:\n" + programmes, "utf-8")
    return path


def test_csv_prefixes_a_text_cell_that_a_spreadsheet_would_run(tmp_path: Path) -> None:
    path = _registry_named(tmp_path, [f.replace("\t", "").replace("\r", "") for f in FORMULAS])
    result = CliRunner().invoke(cli, ["--registry", str(path), "list", "--format", "csv",
                                      "--fields", "name,funder,funding"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["name", "funder", "funding"]
    for row in rows[1:]:
        assert row[0].startswith("'") and row[1].startswith("'"), row
        assert row[2].isdigit()  # numbers stay numbers
    assert rows[1][0] == "'" + FORMULAS[0]


@pytest.mark.parametrize("cell", FORMULAS)
def test_csv_prefixes_every_dangerous_first_character(cell: str) -> None:
    table = Table("t", (Column("name", "name"), Column("teams", "teams")),
                  ({"name": cell, "teams": 5.0},))
    out = io.StringIO()
    write(table, "csv", out, header=False)
    # tab and carriage return are whitespace to a csv cell, so what is left is the formula
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["'" + cell.strip(), "5"]]


def test_raw_text_turns_the_csv_prefix_off(tmp_path: Path) -> None:
    path = _registry_named(tmp_path, ["@SUM(1+1)"])
    result = CliRunner().invoke(cli, ["--registry", str(path), "list", "--format", "csv",
                                      "--fields", "name", "--no-header", "--raw-text"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "@SUM(1+1)\n"


FORGED = "Honest | 999999999 | x"


def _cells(line: str, separator: str) -> list[str]:
    """A table row split on its unescaped separators."""
    return re.split(r"(?<!\\)" + re.escape(separator), line.strip().strip(separator))


@pytest.mark.parametrize("fmt", ["github", "pipe", "orgtbl", "jira", "youtrack", "asciidoc"])
def test_a_pipe_in_a_name_cannot_forge_a_cell(tmp_path: Path, fmt: str) -> None:
    path = _registry_named(tmp_path, [FORGED])
    result = CliRunner().invoke(cli, ["--registry", str(path), "list", "--format", fmt,
                                      "--fields", "name,funding"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "Honest" in line]
    assert len(rows) == 1
    separator = "||" if fmt == "jira" and rows[0].startswith("||") else "|"
    cells = [c for c in _cells(rows[0], separator) if c.strip()]
    assert len(cells) == 2, rows[0]
    assert "999999999" not in cells[1]


def test_mediawiki_cells_cannot_start_markup(tmp_path: Path) -> None:
    path = _registry_named(tmp_path, ["Honest || 999999999 [[x]] {{y}} <b>"])
    result = CliRunner().invoke(cli, ["--registry", str(path), "list", "--format",
                                      "mediawiki", "--fields", "name,funding"])
    row = next(line for line in result.stdout.splitlines() if "Honest" in line)
    assert row.count("|") == 3, row  # "| name || funding": the row's own separators only
    assert not any(c in row.replace("||", "", 1).lstrip("|") for c in "[]{}<>")


def test_rst_cells_escape_inline_markup(tmp_path: Path) -> None:
    path = _registry_named(tmp_path, ["*bold* `code` |sub| _target"])
    result = CliRunner().invoke(cli, ["--registry", str(path), "list", "--format", "rst",
                                      "--fields", "name,funding"])
    assert r"\*bold\* \`code\` \|sub\| \_target" in result.stdout


def test_a_newline_in_a_quote_cannot_start_a_markdown_row(tmp_path: Path) -> None:
    table = Table("t", (Column("quote", "quote"),),
                  ({"quote": "first\n| forged | row |"},))
    out = io.StringIO()
    write(table, "github", out)
    assert len(out.getvalue().splitlines()) == 3  # header, rule, one row


@pytest.mark.parametrize("fmt", ["latex", "latex_booktabs", "latex_longtable"])
def test_latex_formats_escape_commands(tmp_path: Path, fmt: str) -> None:
    path = _registry_named(tmp_path, [r"\input{/etc/passwd} & 100 \\"])
    result = CliRunner().invoke(cli, ["--registry", str(path), "list", "--format", fmt,
                                      "--fields", "name"])
    assert result.exit_code == 0
    assert r"\input" not in result.stdout


def test_latex_raw_is_not_offered() -> None:
    assert "latex_raw" not in FORMATS
    assert "unsafehtml" not in FORMATS


def test_the_chart_shows_names_escaped() -> None:
    from fundcmp.chart import draw
    from fundcmp.model import exact

    table = Table("Programmes \x1b[2J", (Column("name", "name"), Column("funding", "funding")),
                  ({"name": "Name" + ESCAPES, "funding": exact(1000.0, "GBP")},),
                  notes=("note \u202e",))
    out = io.StringIO()
    draw(table, "funding", "mid", out, color="never", width=120)
    assert no_hidden(out.getvalue()), repr(out.getvalue())
    assert "Name\\x1b]0;pwned" in out.getvalue()


def test_the_import_report_csv_cannot_start_a_formula(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [grant("=HYPERLINK(\"http://evil.example\")",
                                                  amount="lots"), grant("G-2")])
    report = tmp_path / "problems.csv"
    result = CliRunner().invoke(cli, ["import", str(data), "--into", str(tmp_path / "r.yaml"),
                                      "--report", str(report)])
    assert result.exit_code == 3, result.output
    rows = list(csv.reader(io.StringIO(report.read_text("utf-8"))))
    assert rows[1][1] == "'=HYPERLINK(\"http://evil.example\")"
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)
