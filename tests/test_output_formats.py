"""Every output format: machine formats raw and plain, people formats fitted and coloured only
when wanted."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys

import pytest
import tabulate
from click.testing import CliRunner

from fundcmp.cli import cli
from fundcmp.render import TABULATE_FORMATS, styled
from fundcmp.views import CATALOGUE

SLUGS = {"shared-purpose", "common-ambition", "people-powered-health",
         "building-health-partnerships"}
ESC = "\x1b["


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_csv_parses_into_a_header_and_four_rows() -> None:
    code, out, _ = run("list", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0
    assert rows[0][0] == "slug"
    assert {row[0] for row in rows[1:]} == SLUGS
    assert len(rows) == 5


def test_csv_no_header_has_only_the_four_rows() -> None:
    _, out, _ = run("list", "--format", "csv", "--no-header")
    assert {row[0] for row in csv.reader(io.StringIO(out))} == SLUGS


def test_jsonl_is_four_json_objects_one_a_line() -> None:
    _, out, _ = run("list", "--format", "jsonl")
    objects = [json.loads(line) for line in out.splitlines()]
    assert {o["slug"] for o in objects} == SLUGS
    assert len(objects) == 4


def test_github_is_a_markdown_table() -> None:
    _, out, _ = run("list", "--format", "github")
    lines = out.splitlines()
    assert lines[0].startswith("| Slug")
    assert set(lines[1]) <= set("|-: ")
    assert all(line.startswith("|") and line.endswith("|") for line in lines[:6])
    assert sum("| shared-purpose" in line for line in lines) == 1


@pytest.mark.parametrize("fmt", ["tsv", "csv"])
def test_fields_gives_exactly_those_columns_in_that_order(fmt: str) -> None:
    _, out, _ = run("list", "--format", fmt, "--fields", "slug,duration")
    delimiter = "\t" if fmt == "tsv" else ","
    rows = list(csv.reader(io.StringIO(out), delimiter=delimiter))
    assert rows[0] == ["slug", "duration"]
    assert all(len(row) == 2 for row in rows)
    assert ["shared-purpose", "42"] in rows


def test_fields_orders_json_keys() -> None:
    _, out, _ = run("list", "--format", "json", "--fields", "duration,slug")
    assert [list(o) for o in json.loads(out)] == [["duration", "slug"]] * 4


def test_unknown_field_is_a_usage_error_listing_the_valid_ones() -> None:
    code, out, err = run("list", "--fields", "slug,durration")
    assert code == 2
    assert out == ""
    assert "durration" in err and "duration" in err
    assert all(name in err for name in ("slug", "funder", "support_days"))
    assert len(err.strip().splitlines()) == 1


def test_machine_formats_print_raw_numbers() -> None:
    _, out, _ = run("list", "--format", "tsv", "--fields", "slug,funding,teams")
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows[0] == ["slug", "funding", "teams"]
    assert ["common-ambition", "300000-500000", "5"] in rows
    assert "£" not in out


@pytest.mark.parametrize("fmt", ["tsv", "csv", "json", "jsonl", "yaml"])
def test_machine_formats_are_never_cut_or_coloured(fmt: str) -> None:
    code, out, _ = run("list", "--format", fmt, "--color", "always",
                       env={"COLUMNS": "20", "FORCE_COLOR": "1"})
    assert code == 0
    assert ESC not in out
    assert "NHS England, the National Lottery (through the Big Lottery Fund)" in out


def test_every_listed_tabulate_format_is_one_tabulate_knows() -> None:
    assert set(TABULATE_FORMATS) <= set(tabulate.tabulate_formats)


@pytest.mark.parametrize("fmt", TABULATE_FORMATS)
def test_every_tabulate_format_prints_people_figures(fmt: str) -> None:
    code, out, _ = run("list", "--format", fmt, "--fields", "slug,funding")
    assert code == 0
    assert "shared-purpose" in out
    assert "420,000" in out


def test_color_always_styles_the_table_and_never_does_not() -> None:
    _, always, _ = run("list", "--format", "table", "--color", "always")
    _, never, _ = run("list", "--format", "table", "--color", "never",
                      env={"FORCE_COLOR": "1"})
    assert ESC in always
    assert ESC not in never
    assert never.startswith("Programmes")


def test_table_fits_columns() -> None:
    _, out, _ = run("list", "--format", "table", "--color", "never", env={"COLUMNS": "60"})
    assert max(len(line) for line in out.splitlines()) == 60


@pytest.mark.parametrize(("color", "environ", "isatty", "expected"), [
    ("auto", {}, True, True),
    ("auto", {}, False, False),
    ("auto", {"NO_COLOR": "1"}, True, False),
    ("auto", {"NO_COLOR": ""}, True, True),
    ("auto", {"TERM": "dumb"}, True, False),
    ("auto", {"FORCE_COLOR": "1"}, False, True),
    ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
    ("always", {"NO_COLOR": "1", "TERM": "dumb"}, False, True),
    ("never", {"FORCE_COLOR": "1"}, True, False),
])
def test_colour_rules(color: str, environ: dict[str, str], isatty: bool, expected: bool) -> None:
    assert styled(color, environ, isatty) is expected


def _on_a_terminal(*args: str, **env: str) -> str:
    """Everything `fundcmp args` writes to a pseudo-terminal."""
    leader, follower = pty.openpty()
    environ = {k: v for k, v in os.environ.items()
               if k not in ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS")}
    environ.update({"TERM": "xterm-256color", "COLUMNS": "100", **env})
    process = subprocess.Popen([sys.executable, "-m", "fundcmp", *args], stdin=follower,
                               stdout=follower, stderr=follower, env=environ)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait() == 0
    return b"".join(chunks).decode()


def test_no_color_on_a_terminal_has_no_escape_codes() -> None:
    shown = _on_a_terminal("list", "--format", "table", NO_COLOR="1")
    assert shown.startswith("Programmes")
    assert "\x1b" not in shown


def test_a_dumb_terminal_has_no_escape_codes() -> None:
    shown = _on_a_terminal("list", "--format", "table", TERM="dumb")
    assert shown.startswith("Programmes")
    assert "\x1b" not in shown


def test_force_color_styles_a_piped_table() -> None:
    _, forced, _ = run("list", "--format", "table", env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    _, plain, _ = run("list", "--format", "table", env={"FORCE_COLOR": "", "NO_COLOR": ""})
    assert ESC in forced
    assert ESC not in plain


def test_a_terminal_without_no_color_is_styled() -> None:
    shown = _on_a_terminal("list", "--format", "table")
    assert ESC in shown


def test_a_terminal_gets_a_table_by_default() -> None:
    shown = _on_a_terminal("list", NO_COLOR="1", COLUMNS="120")
    assert "┃ Slug" in shown
    assert "\t" not in shown


def test_catalogue_is_what_the_error_lists() -> None:
    _, _, err = run("list", "--fields", "nonsense")
    listed = err.split("available fields: ")[1].strip().split(", ")
    assert listed == list(CATALOGUE)
