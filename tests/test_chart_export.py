"""rank --chart draws uncertainty; --export saves what was printed, atomically."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from fundcmp.chart import CAP, MARK, OPEN, SOLID, WHISKER, WHISKER_START, Scale, bar
from fundcmp.cli import cli
from fundcmp.model import between, ceiling, exact, unknown

NAMES = ("Shared Purpose", "Common Ambition", "People Powered Health",
         "Building Health Partnerships")
TEN = Scale(top=100.0, chars=10)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_rank_chart_export_svg_names_all_four_programmes(tmp_path: Path) -> None:
    path = tmp_path / "r.svg"
    code, out, err = run("rank", "--by", "funding", "--chart", "--export", str(path))
    assert (code, err) == (0, "")
    svg = html.unescape(path.read_text(encoding="utf-8")).replace("\xa0", " ")
    assert svg.startswith("<svg")
    assert all(name in svg for name in NAMES)
    assert all(name in out for name in NAMES)


def test_export_html_holds_what_the_terminal_shows(tmp_path: Path) -> None:
    path = tmp_path / "c.html"
    code, out, _ = run("compare", "shared-purpose", "common-ambition", "--format", "table",
                       "--color", "never", "--export", str(path))
    page = path.read_text(encoding="utf-8")
    shown = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert code == 0
    assert "<html" in page.lower()
    for line in out.splitlines():
        assert line.rstrip() in shown


def test_export_is_the_table_a_person_sees_whatever_goes_to_stdout(tmp_path: Path) -> None:
    for fmt in ("github", "tsv", "json"):
        path = tmp_path / f"r-{fmt}.html"
        run("rank", "--by", "duration", "--format", fmt, "--export", str(path))
        page = html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))
        assert "Programmes by duration, largest first" in page
        assert "shared-purpose" in page and "42 months" in page
        assert "| Slug" not in page and '"slug"' not in page and "\t" not in page
    run("rank", "--by", "funding", "--format", "json", "--export", str(tmp_path / "x.svg"))
    svg = html.unescape((tmp_path / "x.svg").read_text(encoding="utf-8"))
    assert '"kind"' not in svg and len(svg) < 100_000


def test_export_leaves_no_temporary_file(tmp_path: Path) -> None:
    run("rank", "--by", "funding", "--chart", "--export", str(tmp_path / "r.svg"))
    assert os.listdir(tmp_path) == ["r.svg"]


def test_an_unwritable_export_is_one_line_and_exit_1(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "r.svg"
    code, _, err = run("rank", "--by", "funding", "--chart", "--export", str(target))
    assert code == 1
    assert err.startswith(f"fundcmp: cannot write {target}")
    assert len(err.splitlines()) == 1
    assert not target.parent.exists()


def test_an_export_that_is_not_svg_or_html_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err = run("rank", "--by", "funding", "--export", str(tmp_path / "r.png"))
    assert (code, out) == (2, "")
    assert ".svg or .html" in err


def test_chart_takes_no_format() -> None:
    code, _, err = run("rank", "--by", "funding", "--chart", "--format", "csv")
    assert code == 2
    assert "--chart" in err


def test_chart_draws_each_kind_of_figure() -> None:
    code, out, _ = run("rank", "--by", "funding", "--chart", "--color", "never",
                       env={"COLUMNS": "100"})
    rows = {name: line for line in out.splitlines() for name in NAMES if line.startswith(name)}
    assert code == 0
    assert SOLID in rows["Shared Purpose"] and WHISKER not in rows["Shared Purpose"]
    assert WHISKER_START in rows["Common Ambition"] and CAP in rows["Common Ambition"]
    assert OPEN in rows["People Powered Health"] and SOLID not in rows["People Powered Health"]
    assert "unknown, not drawn" in rows["Building Health Partnerships"]
    assert not set(rows["Building Health Partnerships"]) & {SOLID, OPEN, WHISKER, CAP}
    assert max(len(line) for line in out.splitlines()) <= 100


def test_chart_is_coloured_only_when_asked() -> None:
    _, plain, _ = run("rank", "--by", "funding", "--chart", env={"FORCE_COLOR": ""})
    _, coloured, _ = run("rank", "--by", "funding", "--chart", "--color", "always")
    assert "\x1b[" not in plain
    assert "\x1b[" in coloured


def test_an_exact_figure_is_a_solid_bar() -> None:
    assert bar(exact(50, "GBP"), TEN, "mid") == SOLID * 5


def test_a_range_is_solid_to_its_low_then_a_whisker_to_its_high() -> None:
    drawn = bar(between(30, 90, "GBP"), TEN, "mid")
    assert drawn == SOLID * 3 + WHISKER_START + WHISKER + MARK + WHISKER * 2 + CAP


def test_the_whisker_marks_the_basis_it_is_ranked_on() -> None:
    assert bar(between(30, 90, "GBP"), TEN, "high").endswith(MARK)
    assert bar(between(30, 90, "GBP"), TEN, "low")[2] == MARK


def test_a_ceiling_is_open_ended_with_no_solid_part() -> None:
    drawn = bar(ceiling(80, "GBP"), TEN, "low")
    assert drawn == OPEN * 7 + CAP


def test_an_unknown_is_not_drawn() -> None:
    assert bar(unknown("GBP"), TEN, "mid") == ""


def test_a_tiny_figure_still_shows() -> None:
    assert bar(exact(0.01, "GBP"), TEN, "mid") == SOLID


@pytest.mark.parametrize("value", [0.0, 100.0, 250.0])
def test_scale_stays_inside_the_bar(value: float) -> None:
    assert 0 <= TEN.at(value) <= TEN.chars


def test_chart_of_several_keys_draws_the_first() -> None:
    code, out, _ = run("rank", "--by", "duration,funding", "--chart", "--color", "never")
    assert code == 0
    assert "42 months" in out
    assert "£420,000" not in out
