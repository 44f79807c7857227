"""Issue 14, "what goes wrong today" items 1-10: each seen on a real file, pinned here on a
small file built for the purpose, and the field rules tested directly."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from fundcmp import giving360, quantiles
from fundcmp.cli import cli
from fundcmp.giving360 import fields
from fundcmp.giving360.fields import FieldProblem
from fundcmp.registry import load


def grant(gid: str, amount: Any = 10000, title: str | None = "Main", code: str | None = None,
          award: Any = "2020-04-01", currency: Any = "GBP", **planned: Any) -> dict[str, Any]:
    g: dict[str, Any] = {"id": gid, "amountAwarded": amount, "currency": currency,
                         "awardDate": award,
                         "fundingOrganization": [{"id": "GB-CHC-1", "name": "Fund"}]}
    programme = {k: v for k, v in (("code", code), ("title", title)) if v is not None}
    if programme:
        g["grantProgramme"] = [programme]
    if planned:
        g["plannedDates"] = [planned]
    return g


def package(path: Path, grants: list[dict[str, Any]], **meta: Any) -> Path:
    path.write_text(json.dumps({**meta, "grants": grants}), "utf-8")
    return path


def run(*args: Any) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args])


# 1. UK dates ------------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "read"), [
    ("05/06/2014", "2014-06-05"), ("5/6/2014 13:45", "2014-06-05"),
    ("26/03/2001 00:00", "2001-03-26"), ("03/2014", "2014-03"), ("2014", "2014"),
    ("19 April 2013", "2013-04-19"), ("19th Apr 2013", "2013-04-19"), ("April 2013", "2013-04"),
    ("2015-06-01T00:00:00+01:00", "2015-06-01"), ("2015-06-01 10:00:00", "2015-06-01"),
    ("2015-06", "2015-06"), ("2015/06/01", "2015-06-01"),
    (datetime(2015, 11, 17), "2015-11-17"), (42325, "2015-11-17"), ("42325", "2015-11-17"),
])
def test_dates_as_publishers_write_them(written: Any, read: str) -> None:
    assert fields.read_date(written)[0] == read


@pytest.mark.parametrize(("written", "read"), [
    ("01/04/19", "2019-04-01"), ("1/4/95", "1995-04-01"), ("01-Apr-19", "2019-04-01"),
    ("Apr-19", "2019-04"), ("30/06/68", "2068-06-30"), ("30/06/69", "1969-06-30")])
def test_a_two_digit_year_is_read_and_said(written: str, read: str) -> None:
    """Excel's short date (dd/mm/yy) in a CSV: 00-68 are 2000-2068 and 69-99 1969-1999, as
    POSIX (and Python's strptime) reads them; said, as a serial number is."""
    assert fields.read_date(written) == (read, fields.SHORT_YEAR)


def test_grants_with_two_digit_years_keep_their_dates_and_say_so(tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [grant("G-1", award="01/04/19"),
                                         grant("G-2", award="2019-05-01")])
    summary = giving360.collect([data])
    assert (summary.entries[0].first_award, summary.entries[0].last_award) == (
        "2019-04-01", "2019-05-01")
    assert [(kind, t.count, t.ids) for (_, kind, _), t in summary.kinds.items()] == [
        ("a two-digit year, read as 2000-2068 or 1969-1999", 1, ["G-1"])]


@pytest.mark.parametrize("written", ["31/02/2020", "tbc", "0001-01-01", "13/2020", "12/31/20",
                                     "", "2020-13-01", 12.5, True])
def test_what_is_not_a_date_is_a_problem(written: Any) -> None:
    with pytest.raises(FieldProblem):
        fields.read_date(written)


def test_a_month_first_value_is_read_month_first_only_when_the_column_says_so() -> None:
    assert fields.slash_order("04/25/2019") == "mdy"
    assert fields.slash_order("25/04/2019") == "dmy"
    assert fields.slash_order("04/05/2019") == "either"
    assert fields.read_date("04/25/2019", "mdy")[0] == "2019-04-25"
    with pytest.raises(FieldProblem, match="day first"):
        fields.read_date("04/25/2019", "dmy")


def test_uk_dates_import_every_grant(tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [grant("G-1", award="05/06/2014"),
                                         grant("G-2", award="31/12/2014 10:00"),
                                         grant("G-3", award="03/2015")])
    summary = giving360.collect([data])
    (entry,) = summary.entries
    assert (entry.grants, entry.first_award, entry.last_award) == (3, "2014-06-05", "2015-03")
    assert not summary.kinds


def test_a_month_first_column_is_read_so_and_said(tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [grant("G-1", award="04/05/2019"),
                                         grant("G-2", award="04/25/2019")])
    summary = giving360.collect([data])
    assert summary.entries[0].first_award == "2019-04-05"  # April 5th: month first
    assert any("read month first" in n and "'04/25/2019'" in n for n in summary.notes)


def test_a_date_column_with_no_vote_of_its_own_follows_the_files_other_dates(
        tmp_path: Path) -> None:
    """Award dates that all make sense both ways (04/05/2019) in a file whose start dates
    are month first (04/25/2019): one publisher's system wrote both, so both are month first,
    and the note says so and why."""
    data = package(tmp_path / "g.json", [
        grant(f"G-{day}", award=f"04/{day:02d}/2019", startDate=f"04/{day + 12:02d}/2019",
              endDate="12/31/2019") for day in range(1, 6)])
    summary = giving360.collect([data])
    (entry,) = summary.entries
    assert (entry.first_award, entry.last_award) == ("2019-04-01", "2019-04-05")
    assert not summary.kinds
    assert any("awardDate read month first (MM/DD/YYYY), as this file's other dates are: "
               "no value of its own makes sense one way only" in n for n in summary.notes), \
        summary.notes


def test_the_values_that_make_sense_one_way_only_decide_a_column_by_their_majority(
        tmp_path: Path) -> None:
    """One month-first date first in a day-first column must not turn the column: the dates
    that make sense only one way vote, the column is read their majority's way, and the
    others are reported (never silently read the other way round)."""
    days = [f"{day}/{month:02d}/2020" for day, month in zip(range(13, 25), range(1, 13),
                                                             strict=True)]
    either = ["07/02/2020", "03/04/2021"]
    data = package(tmp_path / "g.json", [grant("G-0", award="03/25/2019")]
                   + [grant(f"G-{i}", award=a) for i, a in enumerate([*days, *either], 1)])
    summary = giving360.collect([data])
    assert summary.latest_award == "2021-04-03" and summary.entries[0].grants == 15
    assert summary.entries[0].first_award == "2020-01-13"
    ((field, kind, _),) = summary.kinds
    assert (field, kind) == ("awardDate", "not a date day first, as this column's other dates "
                             "are read")
    assert any("awardDate read day first (DD/MM/YYYY): 12 values such as '13/01/2020' make "
               "sense only that way; 1 only month first ('03/25/2019'), reported" in n
               for n in summary.notes), summary.notes


def test_a_day_equal_to_its_month_is_no_evidence_of_the_order(tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [grant("G-1", award="05/05/2019"),
                                         grant("G-2", award="04/25/2019")])
    summary = giving360.collect([data])
    assert (summary.kinds, summary.entries[0].first_award) == ({}, "2019-04-25")


# 2. XLSX ----------------------------------------------------------------------------------

def test_an_xlsx_workbook_imports_like_its_csv(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Grants"
    sheet.append(["360Giving data: a title row above the header"])
    sheet.append(["Identifier", "Amount Awarded", "Currency", "Award Date",
                  "Funding Org:Identifier", "Funding Org:Name", "Grant Programme:Title",
                  "Planned Dates:Duration (months)"])
    sheet.append(["G-1", 1000, "GBP", datetime(2020, 1, 2), "GB-CHC-1", "Fund", "Main", 12])
    sheet.append(["G-2", 3000.5, "GBP", datetime(2021, 1, 2), "GB-CHC-1", "Fund", "Main", 6])
    book.save(tmp_path / "g.xlsx")
    summary = giving360.collect([tmp_path / "g.xlsx"])
    (entry,) = summary.entries
    assert (entry.grants, entry.total, entry.amount.median) == (2, 4000.5, 2000.25)
    assert entry.per_year == giving360.Spread(1000.0, 3500.5, 6001.0, 2,
                                              quantiles.of([1000.0, 6001.0]))


def test_every_sheet_of_grants_in_a_workbook_is_read_and_said(tmp_path: Path) -> None:
    """Publishers split grants by year across sheets; a read-me or a child table is no grants
    sheet (it lacks the columns an import needs) and is passed over."""
    import openpyxl

    header = ["Identifier", "Amount Awarded", "Currency", "Award Date",
              "Funding Org:Identifier", "Funding Org:Name", "Grant Programme:Title"]
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active.append(["Our grants, a sheet a year"])
    for year, amounts in ((2019, [1000, 2000]), (2020, [3000])):
        sheet = book.create_sheet(f"Grants {year}")
        for i, amount in enumerate(amounts):
            if i == 0:
                sheet.append(header)
            sheet.append([f"G-{year}-{i}", amount, "GBP", datetime(year, 4, 1), "GB-CHC-1",
                          "Fund", "Main"])
    book.create_sheet("Locations").append(["Identifier", "Beneficiary Location:Name"])
    book["Locations"].append(["G-2019-0", "Leeds"])
    book.save(tmp_path / "g.xlsx")
    summary = giving360.collect([tmp_path / "g.xlsx"])
    (entry,) = summary.entries
    assert (summary.grants_read, entry.grants, entry.total) == (3, 3, 6000)
    assert any("grants read from 2 sheets: 'Grants 2019', 'Grants 2020'" in n
               for n in summary.notes), summary.notes
    assert not any("hidden" in n for n in summary.notes)
    book["Grants 2019"].sheet_state = "hidden"
    book.save(tmp_path / "g.xlsx")
    summary = giving360.collect([tmp_path / "g.xlsx"])
    assert summary.entries[0].total == 6000
    assert any("'Grants 2019' is hidden in the workbook: its grants are counted" in n
               for n in summary.notes), summary.notes


def _xlsx_with_dimension(path: Path, rows: int, dimension: str) -> Path:
    """A workbook of `rows` grants whose sheet claims the size `dimension`, as some tools
    write it (openpyxl's read-only mode believes it)."""
    import re
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Identifier", "Amount Awarded", "Currency", "Award Date",
                  "Funding Org:Identifier", "Funding Org:Name", "Grant Programme:Title"])
    for i in range(rows):
        sheet.append([f"G-{i}", 1000, "GBP", "2020-01-02", "GB-CHC-1", "Fund", "Main"])
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(),
                              data)
            target.writestr(item, data)
    return path


@pytest.mark.parametrize("dimension", ["A1:G10", "A1"])
def test_an_xlsx_whose_stated_size_is_wrong_is_read_to_its_last_row(
        tmp_path: Path, dimension: str) -> None:
    """Some tools write a sheet's size wrong; Excel reads every row, and so must the import."""
    data = _xlsx_with_dimension(tmp_path / "g.xlsx", 20, dimension)
    summary = giving360.collect([data])
    assert (summary.grants_read, summary.entries[0].total) == (20, 20_000)


def test_rows_of_only_spaces_or_spreadsheet_errors_are_no_grants(tmp_path: Path) -> None:
    """A template's unused rows (spaces, or formulas showing #VALUE!) hold no grant: they are
    passed over as blank rows are, in a workbook and in its CSV."""
    import openpyxl

    header = ["Identifier", "Amount Awarded", "Currency", "Award Date",
              "Funding Org:Identifier", "Funding Org:Name", "Grant Programme:Title",
              "Planned Dates:Duration (months)"]
    rows: list[list[Any]] = [["G-1", 1000, "GBP", "2020-01-02", "GB-CHC-1", "Fund", "Main", 12]]
    rows += [[" "] * 8, [None, " ", None, "", None, None, None, "#VALUE!"], ["#REF!", "#N/A"]]
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [header, *rows]:
        sheet.append(row)
    book.save(tmp_path / "g.xlsx")
    write_csv(tmp_path / "g.csv", header, [["" if v is None else v for v in row] for row in rows])
    for name in ("g.xlsx", "g.csv"):
        summary = giving360.collect([tmp_path / name])
        assert (summary.grants_read, summary.left_out, summary.kinds) == (1, 0, {}), name


def test_openpyxl_warnings_become_one_note_a_kind_not_a_flood(tmp_path: Path) -> None:
    """A date-formatted cell whose serial number is past any date makes openpyxl warn once a
    cell (two lines of Python's each, naming openpyxl's source): read here, they are one
    counted note, and the grants keep their money."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Identifier", "Amount Awarded", "Currency", "Award Date",
                  "Funding Org:Identifier", "Funding Org:Name", "Grant Programme:Title"])
    for i in range(60):
        sheet.append([f"G-{i}", 1000, "GBP", 99_999_999 + i, "GB-CHC-1", "Fund", "Main"])
        sheet.cell(row=i + 2, column=4).number_format = "yyyy-mm-dd"
    book.save(tmp_path / "g.xlsx")
    result = run("import", tmp_path / "g.xlsx", "--into", tmp_path / "r.yaml", "--dry-run")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) <= 3 and not any("UserWarning" in line or "openpyxl/" in line
                                       for line in lines), lines
    (note,) = [line for line in lines if "serial" in line]
    assert "60 cells" in note and "D2 (99999999), D3 (100000000), D4 (100000001) and 57 more" \
        in note, note
    assert "from 60 grants (£60,000)" in result.stdout


def test_openpyxl_warnings_of_many_kinds_stay_a_few_notes() -> None:
    from fundcmp.giving360.read_xlsx import KINDS, _Warnings

    seen = _Warnings()
    with seen.caught():
        import warnings

        for i in range(KINDS + 5):
            warnings.warn(f"sheet {i}: a conditional format discarded", stacklevel=1)
        warnings.warn("sheet 0: a conditional format discarded", stacklevel=1)
    notes = seen.notes()
    assert len(notes) == KINDS + 1 and notes[-1] == "openpyxl: other warnings (5 times)"
    assert notes[0] == "openpyxl: sheet 0: a conditional format discarded (2 times)"


def test_openpyxl_warnings_of_what_it_drops_but_no_value_needs_are_not_notes() -> None:
    """openpyxl drops a sheet's extensions (data validation, conditional formatting) and
    says so: nothing a grant's value depends on, so nothing for the publisher to fix."""
    from fundcmp.giving360.read_xlsx import _Warnings

    seen = _Warnings()
    with seen.caught():
        import warnings

        for feature in ("Data Validation", "Conditional Formatting", "Slicer List"):
            warnings.warn(f"{feature} extension is not supported and will be removed",
                          stacklevel=1)
        warnings.warn("Workbook contains no default style, apply openpyxl's default",
                      stacklevel=1)
        warnings.warn("a cell of an unknown kind", stacklevel=1)
    assert seen.notes() == ["openpyxl: a cell of an unknown kind"]


def test_a_grants_sheet_lacking_a_needed_column_is_reported_not_skipped(
        tmp_path: Path) -> None:
    """A workbook of a sheet a year, one of them without its funder column: its grants were
    skipped without a word (exit 0). Identifiers and amounts make it a grants sheet: its
    grants are read, and each is left out for what it lacks, named, and exit 3."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "2019"
    book.active.append(["Identifier", "Amount Awarded", "Currency", "Award Date",
                        "Funding Org:Identifier", "Grant Programme:Title"])
    for i in range(3):
        book.active.append([f"G-{i}", 1000, "GBP", "2019-01-02", "GB-1", "Main"])
    later = book.create_sheet("2020")
    later.append(["Identifier", "Amount Awarded", "Currency", "Award Date",
                  "Grant Programme:Title"])
    for i in range(3, 6):
        later.append([f"G-{i}", 5000, "GBP", "2020-01-02", "Main"])
    notes = book.create_sheet("Notes")
    notes.append(["Amount Awarded", "Total"])
    notes.append([18000, "all years"])
    book.save(tmp_path / "g.xlsx")
    result = run("import", tmp_path / "g.xlsx", "--into", tmp_path / "r.yaml", "--dry-run")
    assert result.exit_code == 3
    assert "1 programme entry from 3 grants (£3,000)" in result.stdout
    assert "3 grants (£15,000): Funding Org:Identifier: missing; left out of the money: G-3, " \
        "G-4, G-5" in result.stderr


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_header_under_a_long_preamble_is_found(tmp_path: Path, suffix: str) -> None:
    """A logo, a title and a block of notes above the header: twenty rows are not unusual."""
    preamble: list[list[Any]] = [[f"Note {i}: these grants were made in 2020"] for i in range(20)]
    data = write_table(tmp_path / f"g{suffix}", ["Our grants"], [*preamble, [
        "Identifier", "Amount Awarded", "Currency", "Award Date", "Funding Org:Identifier",
        "Grant Programme:Title"], ["G-1", "1000", "GBP", "2020-01-02", "GB-1", "Main"]])
    assert giving360.collect([data]).entries[0].total == 1000


def test_a_serial_number_in_a_mac_workbook_counts_from_1904(tmp_path: Path) -> None:
    """Old Mac Excel counts days from 1904: its serial 42384 is 2020-01-16, not 2016-01-15."""
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    book.active.append(["Identifier", "Amount Awarded", "Currency", "Award Date",
                        "Funding Org:Identifier", "Grant Programme:Title"])
    book.active.append(["G-1", 1000, "GBP", 42384, "GB-1", "Main"])
    book.save(tmp_path / "g.xlsx")
    summary = giving360.collect([tmp_path / "g.xlsx"])
    assert summary.entries[0].first_award == "2020-01-16"
    ((_, kind, _),) = summary.kinds
    assert kind == "a spreadsheet serial number, read as the date it stands for"


def test_a_hidden_sheet_of_titles_only_is_no_grants_sheet(tmp_path: Path) -> None:
    """A template sheet, hidden, with the column titles and no grant: no grant of it is
    counted, so the summary says nothing of reading it, or of its being hidden."""
    import openpyxl

    header = ["Identifier", "Amount Awarded", "Currency", "Award Date",
              "Funding Org:Identifier", "Grant Programme:Title"]
    book = openpyxl.Workbook()
    book.active.append(header)
    book.active.append(["G-1", 100, "GBP", "2020-01-02", "GB-1", "Main"])
    template = book.create_sheet("Template")
    template.append(header)
    template.sheet_state = "hidden"
    book.save(tmp_path / "g.xlsx")
    summary = giving360.collect([tmp_path / "g.xlsx"])
    assert summary.entries[0].total == 100
    assert not [n for n in summary.notes if "hidden" in n or "sheets" in n], summary.notes


# 3. Date problems never drop money --------------------------------------------------------

@pytest.mark.parametrize(("planned", "kind"), [
    ({"startDate": "2020-05-01", "endDate": "2020-01-01"}, "planned end before start"),
    ({"duration": -3}, "negative"),
    ({"duration": "soon"}, "not a number of months"),
    ({"startDate": "tbc", "endDate": "2021-01-01"}, "not a date"),
    ({"startDate": "2020-01-01", "endDate": "2020-12-31", "duration": 365},
     "stated months far from the planned dates"),
    ({"startDate": "2020-01-01", "endDate": "2020-12-31", "duration": "52"},
     "stated months far from the planned dates"),
])
def test_a_bad_date_or_duration_keeps_the_amount(tmp_path: Path, planned: dict[str, Any],
                                                 kind: str) -> None:
    data = package(tmp_path / "g.json", [grant("G-1", 5000, **planned), grant("G-2", 7000)])
    summary = giving360.collect([data])
    assert summary.entries[0].total == 12000 and summary.left_out == 0
    ((_, found, consequence),) = summary.kinds
    assert found == kind and consequence == "amount kept, duration unknown"


@pytest.mark.parametrize("planned", [
    {"startDate": "2020-01-01", "endDate": "2020-01-02"},
    {"duration": "1 day"}, {"duration": 12 / 365.25}])
def test_a_plan_of_a_day_or_two_is_a_duration_the_registry_takes(
        tmp_path: Path, planned: dict[str, Any]) -> None:
    """A plan of a day or two: its months rounded to 0.0, below the registry's one day, and
    the whole import was refused (the registry it made would not load)."""
    data = package(tmp_path / "g.json", [grant("G-1", **planned), grant("G-2", duration=12)])
    result = run("import", data, "--into", tmp_path / "r.yaml")
    assert result.exit_code == 0, result.stderr
    (programme,) = load(tmp_path / "r.yaml", use_cache=False).programmes
    assert programme.duration.low is not None and programme.duration.quantiles is not None
    assert 12 / 365.25 <= programme.duration.low <= 0.1
    assert min(programme.duration.quantiles.quartiles) >= programme.duration.low


@pytest.mark.parametrize("stated", [0, -3, "soon", 5000])
def test_a_stated_duration_that_is_no_duration_leaves_the_planned_dates(
        tmp_path: Path, stated: Any) -> None:
    """Foundation Scotland states 0 months beside dates two weeks apart: the README's rule is
    the stated months, else start to end, so the dates give the duration."""
    data = package(tmp_path / "g.json", [grant("G-1", 3000, startDate="2015-12-07",
                                               endDate="2015-12-21", duration=stated)])
    summary = giving360.collect([data])
    (entry,) = summary.entries
    assert entry.duration_months is not None and entry.duration_months.median == 0.5
    ((_, _, consequence),) = summary.kinds
    assert consequence == "amount and planned dates kept, stated duration unknown"


@pytest.mark.parametrize(("stated", "duration"), [(None, None), (12, 12.0)])
def test_a_plan_starting_and_ending_the_same_day_gives_no_duration(
        tmp_path: Path, stated: Any, duration: float | None) -> None:
    """Real files (Power to Change: 4 grants) write the start date again as the end: a
    placeholder, or a one-day event, and no span to take a yearly rate from. Read as a day,
    £67,194 became £24.5m a year. The duration is unknown, or the stated months, and said."""
    same = {"startDate": "2020-02-01", "endDate": "2020-02-01"}
    if stated is not None:
        same["duration"] = stated
    data = package(tmp_path / "g.json", [grant("G-1", 67194, **same),
                                         grant("G-2", 10000, duration=12)])
    summary = giving360.collect([data])
    (entry,) = summary.entries
    assert entry.total == 77194
    assert entry.per_year is not None and entry.per_year.high <= 67194
    ((_, kind, consequence),) = summary.kinds
    assert kind == "planned start and end the same day"
    assert consequence == ("amount kept, duration unknown" if duration is None
                           else "amount and stated duration kept, date unknown")


@pytest.mark.parametrize(("stated", "detail"), [
    (-3, "negative ('-3 months')"), ("-2 years", "negative ('-24 months')"),
    (1500, "not a duration between one day and 100 years ('1500 months')")])
def test_a_duration_problem_says_its_months(stated: Any, detail: str) -> None:
    with pytest.raises(FieldProblem) as raised:
        fields.read_duration(stated)
    assert str(raised.value) == detail


@pytest.mark.parametrize("stated", [12, 11, 14, "13", 18, 24, 6])
def test_stated_months_near_the_planned_dates_are_taken(tmp_path: Path, stated: Any) -> None:
    """A stated duration is what the publisher says the grant runs for; dates a little
    longer or shorter (a late start) do not contradict it."""
    data = package(tmp_path / "g.json", [grant("G-1", startDate="2020-01-01",
                                               endDate="2020-12-31", duration=stated)])
    summary = giving360.collect([data])
    assert summary.kinds == {} and summary.entries[0].duration_months is not None
    assert summary.entries[0].duration_months.median == float(stated)


def test_an_award_date_after_today_is_reported_not_believed(tmp_path: Path) -> None:
    """A grant is awarded before it is published: 2120 for 2020 is a typing error, and must
    not become the data's date or the programme's last award."""
    data = package(tmp_path / "g.json", [grant("G-1", award="2120-04-13"),
                                         grant("G-2", award="2020-01-10")])
    summary = giving360.collect([data])
    assert (summary.latest_award, summary.entries[0].last_award) == ("2020-01-10", "2020-01-10")
    assert summary.entries[0].total == 20000
    ((field, kind, consequence),) = summary.kinds
    assert (field, kind, consequence) == ("awardDate", "after today",
                                          "amount kept, award date unknown")


def test_durations_in_words_and_serial_dates_are_read(tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [grant("G-1", duration="12 months"),
                                         grant("G-2", award=43831, duration="2 years")])
    summary = giving360.collect([data])
    (entry,) = summary.entries
    assert entry.duration_months == giving360.Spread(12, 18, 24, 2, quantiles.of([12, 24]))
    assert entry.first_award == "2020-01-01"
    assert [k[1] for k in summary.kinds] == [
        "a spreadsheet serial number, read as the date it stands for"]


# 4. Grouping by title, code only without one ----------------------------------------------

def test_a_code_shared_by_several_titles_is_warned_and_titles_group(tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [
        grant("G-1", code="Round 1", title="Fund A"), grant("G-2", code="Round 1", title="Fund B"),
        grant("G-3", code="160121.0", title="Flood"), grant("G-4", code="160128.0",
                                                            title="Flood"),
        grant("G-5", code="N.A", title=None), grant("G-6", code="X7", title=None)])
    summary = giving360.collect([data])
    assert sorted((e.programme_title, e.grants) for e in summary.entries) == [
        ("Flood", 2), ("Fund A", 1), ("Fund B", 1), ("X7", 1)]
    assert summary.without_programme == 1  # the placeholder code N.A names no programme
    assert any("'Round 1'" in n and "spans 2 titles" in n for n in summary.notes)


def test_a_placeholder_title_is_warned(tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [grant("G-1", title="Undisclosed")])
    assert any("placeholder" in n for n in giving360.collect([data]).notes)


# 5. Column titles -------------------------------------------------------------------------

def test_column_titles_match_ignoring_case_and_spacing_and_old_titles() -> None:
    found = fields.match_columns(["identifier", "Amount  Awarded", "Currency",
                                  "Award date:Start date", "Funding Org : Identifier",
                                  "Grant Programme: Title", "Classification:Grant Programme",
                                  "Planned Dates:Duration"])
    assert found == {"id": 0, "amount": 1, "currency": 2, "award_date": 3, "funder_id": 4,
                     "programme_title": 5, "duration": 7}


def test_column_titles_match_without_colons_and_invisible_marks() -> None:
    """Titles as tools mangle them: the colon dropped or doubled, a byte-order mark left on
    the first (as text, or as Windows-1252 read it), a zero-width space pasted in."""
    found = fields.match_columns(["\ufeffIdentifier", "Amount Awarded:", "Currency\u200b",
                                  "Award Date", "Funding Org Identifier", "Funding Org::Name",
                                  "Grant Programme Title", "Grant Programme Code"])
    assert found == {"id": 0, "amount": 1, "currency": 2, "award_date": 3, "funder_id": 4,
                     "funder_name": 5, "programme_title": 6, "programme_code": 7}
    assert fields.match_columns(["\u00ef\u00bb\u00bfIdentifier"]) == {"id": 0}
    assert fields.match_columns(["Grant Programme"]) == {"programme_title": 0}


def test_no_two_facts_share_a_title_once_spacing_and_colons_are_ignored() -> None:
    keys = [(fields.title_key(t), fact) for fact, titles in fields.COLUMN_TITLES.items()
            for t in titles]
    assert len(dict(keys)) == len(set(keys))


def test_a_utf8_csv_with_a_byte_order_mark_and_a_stray_byte_keeps_its_first_column(
        tmp_path: Path) -> None:
    """One byte that is not UTF-8 makes the file read as Windows-1252, in which the UTF-8
    byte-order mark is three letters: the first title must still be found."""
    data = tmp_path / "g.csv"
    data.write_bytes(b"\xef\xbb\xbfIdentifier,Amount Awarded,Currency,Award Date,"
                     b"Funding Org:Identifier,Grant Programme:Title\n"
                     b"G-1,100,GBP,2020-01-02,GB-1,Caf\xe9 fund\n")
    summary = giving360.collect([data])
    assert [(e.programme_title, e.grants) for e in summary.entries] == [("Caf\u00e9 fund", 1)]


def test_a_header_row_repeated_by_joining_files_is_skipped_and_said(tmp_path: Path) -> None:
    header = ["Identifier", "Amount Awarded", "Currency", "Award Date", "Funding Org:Identifier",
              "Grant Programme:Title"]
    data = write_csv(tmp_path / "g.csv", header, [
        ["G-1", "100", "GBP", "2020-01-01", "GB-1", "Main"], header,
        ["G-2", "200", "GBP", "2021-01-01", "GB-1", "Main"]])
    summary = giving360.collect([data])
    assert (summary.entries[0].total, summary.left_out, summary.kinds) == (300, 0, {})
    assert any("the header row is repeated once (line 3)" in n for n in summary.notes)


def test_a_quote_left_open_that_joins_lines_is_said(tmp_path: Path) -> None:
    """A quote left open makes one cell of the lines after it, up to the next quote: the
    grants on them are never read. The row that swallowed them spans several lines and has
    not the header's cells; a description spanning lines (a legitimate cell) is not noted."""
    data = tmp_path / "g.csv"
    header = "Identifier,Amount Awarded,Currency,Award Date,Funding Org:Identifier," \
        "Grant Programme:Title,Description\n"
    rows = [f"G-{i},100,GBP,2020-01-02,GB-1,Main,plain\n" for i in range(3)]
    data.write_text(header + "".join(rows) + 'G-8,100,GBP,2020-01-02,GB-1,Main,"two\nlines"\n'
                    + 'G-9,5,GBP,2020-01-02,GB-1,"Main,open\n' + "".join(rows).replace("G-", "H-")
                    + 'H-7,100,GBP,2020-01-02,GB-1,Main,"closed"\n'
                    + "".join(rows).replace("G-", "K-"), encoding="utf-8")
    result = run("import", data, "--into", tmp_path / "r.yaml", "--dry-run")
    assert result.exit_code == 3
    assert "read 8 grants" in result.stdout  # G-0..2, G-8, G-9 (holding H-0..2), K-0..2
    assert "1 grant (no money): row: a quote left open: the lines after it, up to the next " \
        "quote, are one cell of it, and their grants are not read; left out of the money: " \
        "G-9" in result.stderr
    (note,) = [line for line in result.stderr.splitlines() if "look like rows" in line]
    assert "g.csv: 1 row runs over several lines that look like rows of their own (lines " \
        "7-11)" in note and "quote left open" in note, note


def test_a_quote_left_open_and_closed_in_the_same_column_is_caught(tmp_path: Path) -> None:
    """Publishers quote titles: a stray quote in one closes at the next quoted title, and the
    row that swallowed the lines between has the header's cells. Its lines are rows still."""
    data = tmp_path / "g.csv"
    rows = [f'G-{i},Grant {i},1000,GBP,2020-01-02,GB-1,Main\n' for i in range(1, 7)]
    rows[1] = 'G-2,"Project ""A"" ,1000,GBP,2020-01-02,GB-1,Main\n'
    rows[5] = 'G-6,"Grant 6",1000,GBP,2020-01-02,GB-1,Main\n'
    data.write_text("Identifier,Title,Amount Awarded,Currency,Award Date,"
                    "Funding Org:Identifier,Grant Programme:Title\n" + "".join(rows),
                    encoding="utf-8")
    result = run("import", data, "--into", tmp_path / "r.yaml", "--dry-run")
    assert result.exit_code == 3
    assert "1 programme entry from 1 grant (£1,000)" in result.stdout  # G-1
    assert "row: a quote left open" in result.stderr and "G-2" in result.stderr
    assert "lines 3-7" in result.stderr


@pytest.mark.parametrize("ending", ["", ",,", ",,,", ",x"])
def test_a_description_over_lines_in_a_row_of_other_width_is_not_a_quote_left_open(
        tmp_path: Path, ending: str) -> None:
    """Exports that leave off empty cells at the end of a row, or add a comma: a row with a
    description over lines then has not the header's cells, yet no quote is open in it. A
    quote left open swallows lines that look like rows: this has none."""
    data = tmp_path / "g.csv"
    data.write_text("Identifier,Amount Awarded,Currency,Award Date,Funding Org:Identifier,"
                    "Grant Programme:Title,Description,Last modified\n"
                    'G-1,100,GBP,2020-01-02,GB-1,Main,"two\nlines, with, a comma or two"'
                    f"{ending}\nG-2,100,GBP,2020-01-02,GB-1,Main,plain,\n", encoding="utf-8")
    summary = giving360.collect([data])
    assert summary.entries[0].total == 200
    assert not [n for n in summary.notes if "quote" in n], summary.notes


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_header_met_again_in_another_order_or_with_a_mark_is_read_by_its_titles(
        tmp_path: Path, suffix: str) -> None:
    """Files joined end to end: the second's header may put its columns in another order,
    or carry its own byte-order mark. Each header row is read as one, and the rows under it
    by its titles."""
    first = ["Identifier", "Amount Awarded", "Amount Applied For", "Currency", "Award Date",
             "Funding Org:Identifier", "Grant Programme:Title"]
    second = ["\ufeffIdentifier", "Amount Applied For", "Amount Awarded", "Currency",
              "Award Date", "Funding Org:Identifier", "Grant Programme:Title"]
    rows: list[list[Any]] = [["G-1", 100, 9999, "GBP", "2020-01-02", "GB-1", "Main"], second,
                             ["G-2", 8888, 200, "GBP", "2021-01-02", "GB-1", "Main"], first,
                             ["G-3", 300, 7777, "GBP", "2021-01-02", "GB-1", "Main"]]
    data = write_table(tmp_path / f"g{suffix}", first, rows)
    summary = giving360.collect([data])
    assert (summary.entries[0].grants, summary.entries[0].total) == (3, 600)
    assert (summary.left_out, summary.kinds) == (0, {})
    where = "line 3, 5" if suffix == ".csv" else "Sheet!row 3, 5"
    assert any(f"the header row is repeated 2 times ({where})" in n for n in summary.notes), \
        summary.notes


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_header_met_again_in_other_case_or_spacing_is_a_header(
        tmp_path: Path, suffix: str) -> None:
    """Titles are matched ignoring case and spacing in the first header: so too in one met
    again, or its row is read as a grant and its Amount Awarded cell reported."""
    first = ["Identifier", "Amount Awarded", "Currency", "Award Date",
             "Funding Org:Identifier", "Grant Programme:Title"]
    again = [" IDENTIFIER", "amount awarded ", "currency", "Award  Date",
             "Funding Org: Identifier", "grant programme:title"]
    rows: list[list[Any]] = [["G-1", 100, "GBP", "2020-01-02", "GB-1", "Main"], again,
                             ["G-2", 200, "GBP", "2021-01-02", "GB-1", "Main"]]
    data = write_table(tmp_path / f"g{suffix}", first, rows)
    summary = giving360.collect([data])
    assert (summary.entries[0].total, summary.grants_read, summary.kinds) == (300, 2, {})
    assert any("the header row is repeated once" in n for n in summary.notes), summary.notes


def test_rows_with_more_cells_than_the_header_are_left_out_and_said(tmp_path: Path) -> None:
    """An amount written 5,000 without quotes splits in two and moves every cell after it:
    read as it stands, this grant was £5 and counted. Which cell holds the comma cannot be
    known, so none of the row's cells can be trusted: the grant is left out and named.
    Empty cells past the header (Excel pads rows so) are not a problem."""
    data = tmp_path / "g.csv"
    header = "Identifier,Currency,Award Date,Funding Org:Identifier,Grant Programme:Title," \
        "Amount Awarded,Notes\n"
    data.write_text(header + "G-1,GBP,2020-01-02,GB-1,Main,500,,,\n"
                    + "".join(f"G-{i},GBP,2020-01-02,GB-1,Main,{i},000,a note\n"
                              for i in range(2, 7)), encoding="utf-8")
    result = run("import", data, "--into", tmp_path / "r.yaml", "--dry-run",
                 "--report", tmp_path / "report.csv")
    assert result.exit_code == 3
    assert "1 programme entry from 1 grant (£500)" in result.stdout
    assert "5 grants (no money): row: more cells than the header's 7 (a value with an " \
        "unquoted comma, 5,000, moves every cell after it); left out of the money: G-2, G-3, " \
        "G-4 and 2 more" in result.stderr
    with (tmp_path / "report.csv").open(encoding="utf-8") as report:
        rows = list(csv.DictReader(report))
    assert [(r["where"], r["grant_id"], r["detail"]) for r in rows][:2] == [
        (f"{data}:3", "G-2", "8 cells where the header has 7"),
        (f"{data}:4", "G-3", "8 cells where the header has 7")]


@pytest.mark.parametrize("amount", ["5,000", "1,250,000", "£5,000.50"])
def test_an_unquoted_comma_that_pushes_an_empty_last_cell_off_is_caught(
        tmp_path: Path, amount: str) -> None:
    """The row's extra cells are empty when the cells moved off its end were: Excel pads
    rows so too, but an amount split at its thousands (5 | 000) is no padding."""
    data = tmp_path / "g.csv"
    header = "Identifier,Title,Currency,Amount Awarded,Award Date,Funding Org:Identifier," \
        "Funding Org:Name,Grant Programme:Title,Recipient Org:Name,Description,Notes\n"
    data.write_text(header + "G-1,One,GBP,100,2020-01-15,GB-1,Funder,Main,R1,,\n"
                    + f"G-2,Two,GBP,{amount},2020-01-15,GB-1,Funder,Main,R2,,\n",
                    encoding="utf-8")
    result = run("import", data, "--into", tmp_path / "r.yaml", "--dry-run")
    assert result.exit_code == 3
    assert "1 programme entry from 1 grant (£100)" in result.stdout
    assert "row: more cells than the header's 11" in result.stderr and "G-2" in result.stderr


def test_empty_cells_past_the_header_on_every_row_are_padding(tmp_path: Path) -> None:
    data = tmp_path / "g.csv"
    data.write_text("Identifier,Amount Awarded,Currency,Award Date,Funding Org:Identifier,"
                    "Grant Programme:Title\n" + "".join(
                        f"G-{i},{i}000,GBP,2020-01-15,GB-1,Main,,\n" for i in range(1, 4)),
                    encoding="utf-8")
    summary = giving360.collect([data])
    assert (summary.entries[0].total, summary.kinds) == (6000, {})


def test_flattened_json_paths_are_column_titles_too() -> None:
    """Some publishers flatten the JSON without titles: `fundingOrganization/0/id`."""
    found = fields.match_columns(["id", "amountAwarded", "currency", "awardDate",
                                  "fundingOrganization/0/id", "fundingOrganization.0.name",
                                  "grantProgramme/0/title", "plannedDates/0/duration",
                                  "recipientOrganization/0/id"])
    assert found == {"id": 0, "amount": 1, "currency": 2, "award_date": 3, "funder_id": 4,
                     "funder_name": 5, "programme_title": 6, "duration": 7, "recipient_id": 8}


def write_csv(path: Path, header: list[str], rows: list[list[Any]],
              encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as out:
        csv.writer(out).writerows([header, *rows])
    return path


def write_table(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    """The header and rows as a CSV or an XLSX file, by the path's suffix."""
    if path.suffix == ".csv":
        return write_csv(path, header, rows)
    import openpyxl

    book = openpyxl.Workbook()
    for row in [header, *rows]:
        book.active.append(row)
    book.save(path)
    return path


def test_a_csv_with_a_spaced_title_imports_its_programmes(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "g.csv", ["Identifier", "Amount Awarded", "Currency",
                                          "Award Date", "Funding Org:Identifier",
                                          "Grant Programme: Title"],
                     [["G-1", "£26,000", "GBP", "26/03/2001 00:00", "GB-1", "Main"]])
    (entry,) = giving360.collect([data]).entries
    assert (entry.programme_title, entry.total, entry.first_award) == ("Main", 26000,
                                                                       "2001-03-26")


# 6. Odd values ----------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "read"), [
    ("£26,000", (26000.0, "£")), ("26000", (26000.0, "")), ("1,234.50", (1234.5, "")),
    (500, (500.0, "")), (0.5, (0.5, "")), ("€ 300", (300.0, "€")),
    ("GBP 1,000", (1000.0, "GBP")), ("1,000 gbp", (1000.0, "GBP")), ("EUR300", (300.0, "EUR")),
    ("1.250.000", (1250000.0, "")), ("1.000,50", (1000.5, "")), ("€1.000.000,00", (1e6, "€")),
    ("0.500", (0.5, "")), ("1234.567", (1234.567, ""))])
def test_amounts_as_publishers_write_them(written: Any, read: tuple[float, str]) -> None:
    assert fields.read_amount(written) == read


@pytest.mark.parametrize("written", ["18k", "3 thousand", "tbc", "1,00", "", None, True, -5,
                                     2e15, "£-", "GPB 1000", "GBP", "GBP £100", "1000 GBP EUR"])
def test_what_is_not_an_amount_is_a_problem(written: Any) -> None:
    with pytest.raises(FieldProblem):
        fields.read_amount(written)


@pytest.mark.parametrize("written", ["25.000", "1.000", "£7.500", "EUR 999.999"])
def test_a_dot_before_three_digits_is_not_guessed(written: str) -> None:
    """Europe's Excel writes 25.000 for twenty-five thousand, a UK file 25.000 (rarely) for
    twenty-five: a problem to report, never a guess either way."""
    with pytest.raises(FieldProblem, match="decimal point or between thousands"):
        fields.read_amount(written)


def test_a_semicolon_csv_of_dotted_thousands_loses_no_money_silently(tmp_path: Path) -> None:
    """Alone, 25.000 could be either; beside 1.250.000 in its column it is dots between
    thousands, and the note says why it was read so."""
    data = tmp_path / "g.csv"
    data.write_text("Identifier;Amount Awarded;Currency;Award Date;Funding Org:Identifier;"
                    "Grant Programme:Title\n" + "G-1;25.000;GBP;2020-01-02;GB-1;Main\n"
                    "G-2;1.250.000;GBP;2020-01-02;GB-1;Main\nG-3;950;GBP;2020-01-02;GB-1;Main\n",
                    encoding="utf-8")
    result = run("import", data, "--into", tmp_path / "r.yaml", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "1 programme entry from 3 grants (£1,275,950)" in result.stdout
    assert "Amount Awarded: 1 value such as '25.000' read with dots between thousands, as " \
        "values such as '1.250.000' make sense only that way" in result.stderr


def test_a_column_of_three_decimal_amounts_reads_its_dots_as_decimal_points(
        tmp_path: Path) -> None:
    """Some exports write every amount with three decimals: 1500.000 shows the column's dot
    is a decimal point, so its 50.000 is fifty, not a problem and not fifty thousand."""
    data = tmp_path / "g.csv"
    rows = [("G-1", "50.000"), ("G-2", "1500.000"), ("G-3", "250.500"), ("G-4", "£12.250")]
    data.write_text("Identifier,Amount Awarded,Currency,Award Date,Funding Org:Identifier,"
                    "Grant Programme:Title\n" + "".join(
                        f"{i},{a},GBP,2020-01-02,GB-1,Main\n" for i, a in rows),
                    encoding="utf-8")
    summary = giving360.collect([data])
    (entry,) = summary.entries
    assert (entry.total, entry.amount.n) == (1812.75, 4)
    assert not summary.kinds
    assert any("Amount Awarded: 3 values such as '50.000' read with a decimal point, as "
               "values such as '1500.000' make sense only that way" in n for n in summary.notes)


@pytest.mark.parametrize(("amounts", "lone"), [(["25.000", "7.500", "950"], 2),
                                               (["25.000", "1.250.000", "1500.000"], 1)])
def test_an_amount_column_that_does_not_say_how_it_writes_dots_is_not_guessed(
        tmp_path: Path, amounts: list[str], lone: int) -> None:
    """No value making sense one way only, or as many each way: 25.000 stays a problem."""
    data = tmp_path / "g.csv"
    data.write_text("Identifier,Amount Awarded,Currency,Award Date,Funding Org:Identifier,"
                    "Grant Programme:Title\n" + "".join(
                        f'G-{i},"{a}",GBP,2020-01-02,GB-1,Main\n'
                        for i, a in enumerate(amounts)), encoding="utf-8")
    summary = giving360.collect([data])
    ((key, tally),) = summary.kinds.items()
    assert "a dot before three digits" in key[1] and tally.count == lone
    assert summary.entries[0].amount.n == len(amounts) - lone


def test_an_amount_reads_a_lone_dot_the_way_its_column_does() -> None:
    assert fields.read_amount("25.000", "thousands") == (25000.0, "")
    assert fields.read_amount("£7.500", "point") == (7.5, "£")
    assert fields.read_amount("1.250.000", "point") == (1250000.0, "")
    assert [fields.amount_dots(v) for v in ("25.000", "1.250.000", "1.000,50", "1500.000",
                                             "12.5", "£1,250.000", "1000", 25.5, "x.yz")] == [
        "either", "thousands", "thousands", "point", "point", "point", "", "", ""]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_currency_in_the_amount_columns_title_is_the_amounts_currency(
        tmp_path: Path, suffix: str) -> None:
    """"Amount Awarded (£)" says what the amounts are in, as a £ before each would: with no
    Currency column they are pounds (they were all left out as missing a currency), and a
    Currency column saying EUR beside "Amount Awarded (GBP)" is a conflict, not euros."""
    pounds = write_table(tmp_path / f"pounds{suffix}", [
        "Identifier", "Amount Awarded (£)", "Award Date", "Funding Org:Identifier",
        "Grant Programme:Title"], [[f"G-{i}", "1,000", "2020-01-02", "GB-1", "Main"]
                                   for i in range(3)])
    summary = giving360.collect([pounds])
    assert [(e.currency, e.total) for e in summary.entries] == [("GBP", 3000)]
    assert not summary.kinds
    both = write_table(tmp_path / f"both{suffix}", [
        "Identifier", "Amount Awarded (GBP)", "Currency", "Award Date", "Funding Org:Identifier",
        "Grant Programme:Title"], [["G-1", 1000, "EUR", "2020-01-02", "GB-1", "Main"],
                                   ["G-2", 2000, "GBP", "2020-01-02", "GB-1", "Main"]])
    summary = giving360.collect([both])
    assert [(e.currency, e.total) for e in summary.entries] == [("GBP", 2000)]
    ((field, kind, _),) = summary.kinds
    assert (field, kind) == ("Currency", "the amount is written with GBP but the currency is "
                                         "another")
    euros = write_table(tmp_path / f"euros{suffix}", [
        "Identifier", "Amount Awarded (EUR)", "Award Date", "Funding Org:Identifier"],
        [["G-1", 700, "2020-01-02", "GB-1"]])
    assert [(e.currency, e.total) for e in giving360.collect([euros]).entries] == [("EUR", 700)]


@pytest.mark.parametrize(("value", "shown"), [([5000], "a list"), ({"amount": 5000},
                                                                   "an object")])
def test_an_amount_or_currency_in_a_container_is_not_a_number_not_missing(
        value: Any, shown: str) -> None:
    with pytest.raises(FieldProblem, match=f"not a number .*{shown}"):
        fields.read_amount(value)
    with pytest.raises(FieldProblem, match=f"not an ISO 4217 currency code .*{shown}"):
        fields.read_currency(value)


@pytest.mark.parametrize(("written", "said"), [
    ('{"grants": [{"id": "G-1", "title": "Caf\xe9"}]}'.encode("cp1252"),
     "not UTF-8, as JSON must be"),
    (b'{"id": "G-1"}\n{"id": "G-2"}\n', "JSON Lines"),
])
def test_json_that_cannot_be_read_says_why_in_words(tmp_path: Path, written: bytes,
                                                    said: str) -> None:
    data = tmp_path / "g.json"
    data.write_bytes(written)
    result = run("import", data, "--into", tmp_path / "r.yaml", "--dry-run")
    assert result.exit_code == 1
    assert said in result.stderr and "b'" not in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_currencies_must_be_iso_4217_and_agree_with_a_money_sign() -> None:
    assert fields.read_currency("gbp") == "GBP" and fields.read_currency("", "£") == "GBP"
    assert fields.read_currency("", "EUR") == "EUR" and fields.read_currency("eur", "EUR") == "EUR"
    assert fields.read_currency("£") == "GBP" and fields.read_currency(" £ ", "£") == "GBP"
    for bad, sign in (("GPB", ""), ("EUR", "£"), ("", "$"), ("", ""), ("GBP", "EUR"),
                      ("£", "€"), ("£", "USD"), ("$", "")):
        with pytest.raises(FieldProblem):
            fields.read_currency(bad, sign)


def test_zero_awards_are_not_disclosed_unless_kept(tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [grant("G-1", 0), grant("G-2", 100), grant("G-3", 300)])
    summary = giving360.collect([data])
    assert summary.entries[0].amount == giving360.Spread(100, 200, 300, 2, quantiles.of([100, 300]))
    assert [(k[1], t.count) for k, t in summary.kinds.items()] == [
        ("amount not disclosed (0)", 1)]
    kept = giving360.collect([data], keep_zero=True)
    assert kept.entries[0].amount == giving360.Spread(0, 100, 300, 3,
                                                      quantiles.of([0, 100, 300]))
    assert not kept.kinds


@pytest.mark.parametrize(("delimiter", "title_row"), [
    (";", "Test Trust grants, 2019-2020;;;;;"), ("\t", "Grants, as published"),
    (";", "Our grants"), (",", "Grants; all of them"),
])
def test_the_separator_is_the_header_rows_not_a_title_rows(
        tmp_path: Path, delimiter: str, title_row: str) -> None:
    """A title row above the header may hold any separator, or none."""
    header = ["Identifier", "Amount Awarded", "Currency", "Award Date",
              "Funding Org:Identifier", "Grant Programme:Title"]
    data = tmp_path / "g.csv"
    data.write_text("\n".join([title_row, delimiter.join(header),
                               delimiter.join(["G-1", "100", "GBP", "2020-01-02", "GB-1",
                                               "Main"])]) + "\n", encoding="utf-8")
    summary = giving360.collect([data])
    assert [(e.programme_title, e.total) for e in summary.entries] == [("Main", 100)]


def test_a_long_cell_is_read_and_a_quote_left_open_to_the_end_is_named_by_its_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A description of 200,000 characters is a cell like any other; a cell that runs on
    past any description's length is a quote left open, named by the line it starts on."""
    from fundcmp.giving360 import read_csv

    header = "Identifier,Amount Awarded,Currency,Award Date,Funding Org:Identifier," \
        "Grant Programme:Title,Description\n"
    rows = "".join(f"G-{i},100,GBP,2020-01-02,GB-1,Main,plain\n" for i in range(40))
    data = tmp_path / "g.csv"
    data.write_text(header + "L-1,100,GBP,2020-01-02,GB-1,Main,\"" + "x" * 200_000 + "\"\n"
                    + rows, encoding="utf-8")
    assert giving360.collect([data]).entries[0].grants == 41
    monkeypatch.setattr(read_csv, "FIELD_CHARS", 1000)
    data.write_text(header + rows + 'Q-1,100,GBP,2020-01-02,GB-1,"Main,open\n' + rows * 3,
                    encoding="utf-8")
    with pytest.raises(giving360.ImportDataError) as refused:
        giving360.collect([data])
    assert str(refused.value) == (f"{data}: not valid CSV: the cell that starts on line 42 "
                                  "runs on past 1,000 characters (a quote left open?)")


def test_a_windows_1252_csv_is_read_with_one_note(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "g.csv", ["Identifier", "Amount Awarded", "Currency",
                                          "Award Date", "Funding Org:Identifier",
                                          "Grant Programme:Title"],
                     [["G-1", "£1,000", "GBP", "2020-01-01", "GB-1", "Café Fund"]], "cp1252")
    summary = giving360.collect([data])
    assert summary.entries[0].programme_title == "Café Fund"
    assert [n for n in summary.notes if "Windows-1252" in n] == [
        f"{data}: not UTF-8: read as Windows-1252 (save it as CSV UTF-8 to be sure of every "
        "character)"]



@pytest.mark.parametrize(("data", "note"), [
    (b"abc" + b"d\xc3" + b"\xa9", ""),  # a character across two chunks
    (b"ab\xc3" + b"def" + b"\xa9", "not UTF-8"),  # an ASCII chunk inside a begun character
    (b"abc" + b"def" + b"\xe9", "not UTF-8"),
    (b"ab\xc3" + b"\xa9\xa3" + b"def", "not all UTF-8: 1 byte"),
])
def test_the_encoding_is_told_from_every_byte_however_the_chunks_fall(
        monkeypatch: pytest.MonkeyPatch, data: bytes, note: str) -> None:
    import io

    from fundcmp.giving360 import read_csv

    monkeypatch.setattr(read_csv, "CHECK_BYTES", 3)
    found = read_csv.encoding_of(io.BytesIO(data))
    assert found[0] == "utf-8-sig" and found[1].startswith(note) and bool(found[1]) == bool(note)


def test_a_utf8_csv_with_one_stray_byte_stays_utf8_and_names_its_line(tmp_path: Path) -> None:
    """One byte that is not UTF-8 in a file of UTF-8 pound signs and accents: read as
    Windows-1252, every £ became "Â£" and every amount was lost."""
    data = tmp_path / "g.csv"
    rows = "".join(f'G-{i},"\u00a31,000",GBP,2020-01-02,GB-1,Caf\u00e9 fund,Org\n'
                   for i in range(5))
    data.write_bytes(b"Identifier,Amount Awarded,Currency,Award Date,Funding Org:Identifier,"
                     b"Grant Programme:Title,Recipient Org:Name\n" + rows.encode()
                     + b'G-9,"\xc2\xa3500",GBP,2020-01-02,GB-1,Caf\xc3\xa9 fund,Ren\xe9\n')
    summary = giving360.collect([data])
    assert [(e.programme_title, e.total) for e in summary.entries] == [("Caf\u00e9 fund", 5500)]
    assert [n for n in summary.notes if "UTF-8" in n] == [
        f"{data}: not all UTF-8: 1 byte that is not (the first on line 7) read as "
        "Windows-1252, the rest as UTF-8"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_a_utf16_csv_without_its_byte_order_mark_is_read(tmp_path: Path, codec: str) -> None:
    """Some tools write UTF-16 with no mark to say so: every other byte is 0. It was read
    as Windows-1252 and refused for lacking every column."""
    data = tmp_path / "g.csv"
    data.write_bytes("Identifier\tAmount Awarded\tCurrency\tAward Date\tFunding Org:Identifier"
                     "\tGrant Programme:Title\r\nG-1\t1000\tGBP\t2020-01-02\tGB-1\tCaf\u00e9"
                     "\r\n".encode(codec))
    summary = giving360.collect([data])
    assert [(e.programme_title, e.total) for e in summary.entries] == [("Caf\u00e9", 1000)]
    assert [n for n in summary.notes if "UTF-16" in n] == [
        f"{data}: UTF-16 without a byte-order mark: read as {codec.upper()}"]


def test_a_utf8_csv_with_more_stray_bytes_than_characters_keeps_both(tmp_path: Path) -> None:
    """A file edited in two programs: its UTF-8 accents stay accents, and its Windows-1252
    pound signs pound signs, however many more there are of one than of the other."""
    data = tmp_path / "g.csv"
    rows = b"".join(b'G-%d,"\xa31,000",GBP,2020-01-02,GB-1,Main,Org\n' % i for i in range(6))
    data.write_bytes(b"Identifier,Amount Awarded,Currency,Award Date,Funding Org:Identifier,"
                     b"Grant Programme:Title,Recipient Org:Name\n" + rows
                     + b'G-9,"\xc2\xa3500",GBP,2020-01-02,GB-1,Caf\xc3\xa9 fund,Org\n')
    summary = giving360.collect([data])
    assert [(e.programme_title, e.total) for e in summary.entries] == [
        ("Caf\u00e9 fund", 500), ("Main", 6000)]
    assert summary.kinds == {}
    assert [n for n in summary.notes if "UTF-8" in n] == [
        f"{data}: not all UTF-8: 6 bytes that are not (the first on line 2) read as "
        "Windows-1252, the rest as UTF-8"]


def test_an_amount_past_the_ceiling_skips_that_grant_not_the_file(tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [grant("G-1", 2e15), grant("G-2", 100)])
    result = run("import", data, "--into", tmp_path / "r.yaml")
    assert result.exit_code == 3
    assert "past the registry's ceiling" in result.stderr
    assert [p.teams.high for p in load(tmp_path / "r.yaml", use_cache=False).programmes] == [1]


# 7. A summary, not a flood ----------------------------------------------------------------

def test_serial_dates_are_one_kind_and_lost_money_is_said_first(tmp_path: Path) -> None:
    """Award dates typed as spreadsheet serial numbers are one kind of problem, whatever the
    date; and a kind that left money out is never crowded off by ones that did not."""
    grants = [grant(f"G-{i}", award=str(43831 + i)) for i in range(60)]
    grants += [grant(f"D-{i}", duration=f"x{i}") for i in range(30)]
    data = package(tmp_path / "g.json", [*grants, grant("G-X", currency="GPB")])
    lines = run("import", data, "--into", tmp_path / "r.yaml", "--dry-run").stderr.splitlines()
    assert lines[0].startswith("fundcmp: 1 grant (GPB 10,000): currency: not an ISO 4217"), lines
    serial = [line for line in lines if "serial number" in line]
    assert len(serial) == 1 and serial[0].startswith("fundcmp: 60 grants"), serial


def test_thousands_of_problems_make_a_few_lines_and_a_full_report(tmp_path: Path) -> None:
    grants = [grant(f"G-{i}", "tbc" if i % 2 else 100, award="someday", duration=i % 3 - 1)
              for i in range(3000)]
    data = package(tmp_path / "g.json", grants)
    report = tmp_path / "problems.csv"
    result = run("import", data, "--into", tmp_path / "r.yaml", "--report", report)
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert len(lines) <= 40
    assert "fundcmp: 3000 grants (£150,000): awardDate: not a date; amount kept, award date " \
           "unknown: G-0, G-1, G-2 and 2997 more" in lines
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert len(rows) == 3000 + 1500 + 2000  # every problem of every grant
    assert {r["grant_id"] for r in rows if r["field"] == "amountAwarded"} == \
        {f"G-{i}" for i in range(1, 3000, 2)}


# 9. Observed per year ---------------------------------------------------------------------

def test_per_year_is_the_spread_of_each_grants_own_rate(tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [grant("G-1", 15000, duration=6),
                                         grant("G-2", 80000, duration=24),
                                         grant("G-3", 30000, duration=9)])
    into = tmp_path / "r.yaml"
    assert run("import", data, "--into", into).exit_code == 0
    (programme,) = load(into, use_cache=False).programmes
    q = programme.funding_per_year
    assert (q.low, q.mid, q.high, q.n) == (30000, 40000, 40000, 3)
    explained = run("--registry", into, "explain", programme.slug, "--format", "tsv")
    (row,) = [line.split("\t") for line in explained.stdout.splitlines()
              if line.startswith("Funding per team per year\t")]
    assert row[1:3] == ["30000-40000", "observed"]
    assert row[3].startswith("observed: each grant's own amountAwarded / its own planned "
                             "duration x 12, over the 3 of 3 grants stating both")


# 10. Source date --------------------------------------------------------------------------

def test_the_source_date_is_the_datas_own(tmp_path: Path) -> None:
    plain = package(tmp_path / "a.json", [grant("G-1", award="2019-03-01"),
                                          grant("G-2", award="2021-07-09T00:00:00Z")])
    assert giving360.collect([plain]).source_date == "2021-07-09"
    dated = package(tmp_path / "b.json", [grant("G-1")], issued="2022-01-31",
                    modified="2022-02-01T10:00:00Z")
    assert giving360.collect([dated]).source_date == "2022-02-01"
    into = tmp_path / "r.yaml"
    run("import", plain, "--into", into)
    assert load(into, use_cache=False).sources[0].date == "2021-07-09"


# The arithmetic of the field rules, explored --------------------------------------------

@given(st.integers(1, 28), st.integers(1, 12), st.integers(1900, 2100))
@example(12, 12, 2020)
def test_a_day_first_date_reads_back_as_written(day: int, month: int, year: int) -> None:
    assert fields.read_date(f"{day:02d}/{month:02d}/{year}")[0] == f"{year}-{month:02d}-{day:02d}"


@given(st.integers(0, 10**12), st.integers(0, 99))
@example(26000, 0)
def test_a_money_string_reads_as_its_number(pounds: int, pence: int) -> None:
    assert fields.read_amount(f"£{pounds:,}.{pence:02d}") == (pounds + pence / 100, "£")


# The shortcut for plain grants agrees with the full check --------------------------------

def quick(raw: dict[str, Any]) -> Any:
    """The shortcut on facts keyed by name, as a reader gives them in FACT_KEYS order."""
    from fundcmp.giving360.check import quick_facts
    from fundcmp.giving360.reading import FACT_KEYS

    return quick_facts(tuple(map(raw.get, FACT_KEYS)))


texts = st.one_of(st.none(), st.sampled_from(["", " x", "x ", "a  b", "a\tb", "\xa0x", "GB-1",
                                              "Main", "N.A", "gbp", "GBP", "EUR", "GPB"]),
                  st.text(max_size=8))
dates = st.one_of(st.none(), st.sampled_from(["", "2020-01-31", "2020-02-30", "0001-01-01",
                                              "2021-06-01T10:00:00Z", "2020-01-31 10:00",
                                              "2020-01-31X", "31/01/2020", "2020", "2020-06",
                                              "2015-02-28T25:99:00", "1900-01-01"]),
                  st.text(max_size=12))
numbers = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**16),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from(["100", "£5", "12 months", "", "\u0661\u0660\u0660", "1_000",
                                     "0.01", "1300", "12.\u0665"]))


raw_grants = st.fixed_dictionaries({
    "id": texts, "amount": numbers, "currency": texts, "award_date": dates,
    "funder_id": texts, "funder_name": texts, "programme_code": texts,
    "programme_title": texts, "start": dates, "end": dates, "duration": numbers,
    "recipient_id": texts, "recipient_name": texts, "recipient_ind_id": texts,
    "recipient_ind_name": texts})


@given(raw_grants)
@example({"id": "G", "amount": 5, "currency": "GBP", "award_date": "2020-01-01",
          "funder_id": "F", "funder_name": None, "programme_code": None,
          "programme_title": "a\u2003b", "start": None, "end": None, "duration": None,
          "recipient_id": None, "recipient_name": None})
@example({"id": "G", "amount": "\u0661\u0660\u0660", "currency": "GBP",
          "award_date": "2020-01-01T25:99:00", "funder_id": "F", "funder_name": None,
          "programme_code": None, "programme_title": "T", "start": "2020-01-01",
          "end": "2300-01-01", "duration": "0.01", "recipient_id": None, "recipient_name": None})
def test_the_shortcut_gives_what_the_full_check_gives(raw: dict[str, Any]) -> None:
    from fundcmp.giving360.check import check
    from fundcmp.giving360.reading import JSON_NAMES

    shortcut = quick(raw)
    if shortcut is not None:
        assert check(raw, JSON_NAMES, "w") == (shortcut, [])


def test_a_plain_grant_takes_the_shortcut_to_the_same_grant() -> None:
    from fundcmp.giving360.check import check
    from fundcmp.giving360.reading import JSON_NAMES

    raw = {"id": "G-1", "amount": 1500.5, "currency": "GBP", "award_date": "2020-01-01",
           "funder_id": "GB-1", "funder_name": "Fund", "programme_code": "R1",
           "programme_title": "Main Grants", "start": "2020-02-01T00:00:00+00:00",
           "end": "2021-01-31", "duration": None, "recipient_id": "", "recipient_name": "Org"}
    shortcut = quick(raw)
    assert shortcut is not None and shortcut.duration_months == (12.0, 12.0)
    assert check(raw, JSON_NAMES, "w") == (shortcut, [])
    assert quick({**raw, "duration": 11}) == check({**raw, "duration": 11}, JSON_NAMES, "w")[0]
    assert quick({**raw, "duration": 11}).duration_months == (11.0, 11.0)
    far = {**raw, "duration": 52}  # weeks in the months column: which is right cannot be told
    assert quick(far) is None and check(far, JSON_NAMES, "w")[0].duration_months is None


# Grants that are mostly plain, as a file's are, each value now and then not: a batch of
# them takes the column-wise way.
PLAIN = {"id": "G-1", "amount": "1500.50", "currency": "GBP", "award_date": "2020-01-31",
         "funder_id": "GB-1", "funder_name": "Fund", "programme_code": "P1",
         "programme_title": "Main", "start": "2020-02-01", "end": "2021-01-31",
         "duration": "12", "recipient_id": "GB-CHC-1", "recipient_name": "Org"}
plain_grants = st.fixed_dictionaries({}, optional={
    "id": st.sampled_from(["G-2", " G", "G\x07", "", 5]),
    "amount": st.sampled_from(["100", "25.000", "0", "1e3", 250, 99.5, 10**16, 10**400, True,
                               float("nan")]),
    "currency": st.sampled_from(["EUR", "gbp", 5]),
    "award_date": st.sampled_from(["2021-06-01T10:00:00Z", "31/01/2020", "", None]),
    "funder_id": st.sampled_from(["GB-2", "", None]),
    "funder_name": st.sampled_from([None, " Fund", "Fund  A"]),
    "programme_code": st.sampled_from([None, "", 7]),
    "programme_title": st.sampled_from([None, "a  b", "Other"]),
    "start": st.sampled_from([None, "", [1], "2021-01-31"]),
    "end": st.sampled_from([None, "2020-02-01", "2022-01-31"]),
    "duration": st.sampled_from([None, "", 12, 11.5, True, "0.01", "99"]),
    "recipient_id": st.sampled_from([" Org", None, "", 5, "GB-CHC-2"]),
    "recipient_name": st.sampled_from([None, "Org B"])}).map(lambda over: {**PLAIN, **over})


@given(st.lists(st.one_of(raw_grants, plain_grants), max_size=6)
       | st.lists(plain_grants, max_size=6))
def test_the_shortcut_of_a_batch_is_the_shortcut_of_each(raws: list[dict[str, Any]]) -> None:
    """A batch's grants are taken a column at a time only when the shortcut takes each, and
    then as it takes each."""
    from fundcmp.giving360.check import plain_batch, quick_facts
    from fundcmp.giving360.reading import FACT_KEYS

    batch = [tuple(map(raw.get, FACT_KEYS)) for raw in raws]
    each = list(map(quick_facts, batch))
    plain = plain_batch(tuple(zip(*batch, strict=True)) or ((),) * len(FACT_KEYS))
    if plain is not None:
        assert plain.grants() == each and None not in each
        assert [plain.grant(at) for at in range(len(batch))] == each
    if raws and all(raw == PLAIN for raw in raws):
        assert plain is not None


def test_a_plain_batch_takes_the_shortcut_a_column_at_a_time() -> None:
    from fundcmp.giving360 import check
    from fundcmp.giving360.reading import FACT_KEYS

    raw = {"id": "G-1", "amount": "1500.50", "currency": "GBP", "award_date": "2020-01-01",
           "funder_id": "GB-1", "funder_name": "Fund", "programme_code": "R1",
           "programme_title": "Main Grants", "start": "2020-02-01", "end": "2021-01-31",
           "duration": "12", "recipient_id": "GB-CHC-1"}
    batch = [tuple(map({**raw, "id": f"G-{i}"}.get, FACT_KEYS)) for i in range(3)]
    plain = check.plain_batch(tuple(zip(*batch, strict=True)))
    assert plain is not None and list(plain.ids) == ["G-0", "G-1", "G-2"]
    assert plain.grants() == list(map(check.quick_facts, batch))
    odd = [*batch, tuple(map({**raw, "amount": "25.000"}.get, FACT_KEYS))]
    assert check.plain_batch(tuple(zip(*odd, strict=True))) is None


@pytest.mark.parametrize("recipient", ["Org  Two", "Org\x07", "x" * 400, "", " Org", "Org\n"])
def test_the_shortcut_keeps_a_recipient_as_the_full_check_does(recipient: str) -> None:
    """A recipient is only counted: stripped, and nothing more, by either way."""
    from fundcmp.giving360.check import check
    from fundcmp.giving360.reading import JSON_NAMES

    raw = {"id": "G-1", "amount": 100, "currency": "GBP", "award_date": "2020-01-01",
           "funder_id": "GB-1", "funder_name": "Fund", "programme_code": None,
           "programme_title": "Main", "start": None, "end": None, "duration": 1,
           "recipient_id": recipient, "recipient_name": None}
    shortcut = quick(raw)
    full, problems = check(raw, JSON_NAMES, "w")
    assert full is not None and full.recipient == recipient.strip() and not problems
    assert shortcut == (full if recipient == recipient.strip() else None)


def test_the_shortcut_gives_no_remembered_answer_to_a_value_that_only_equals_another() -> None:
    from fundcmp.giving360.check import check
    from fundcmp.giving360.reading import JSON_NAMES

    raw = {"id": "G-1", "amount": 100, "currency": "GBP", "award_date": "2020-01-01",
           "funder_id": "GB-1", "funder_name": "Fund", "programme_code": None,
           "programme_title": "Main", "start": None, "end": None, "duration": 1,
           "recipient_id": "GB-2", "recipient_name": None}
    remembered = quick(raw)
    assert remembered is not None and remembered.duration_months == (1.0, 1.0)
    assert quick({**raw, "duration": 1.0}) == remembered
    assert quick({**raw, "duration": True}) is None  # True == 1, but it is no duration
    assert check({**raw, "duration": True}, JSON_NAMES, "w")[1]
    assert quick({**raw, "start": ["2020-01-01"]}) is None  # no key to remember it by


# The depth guard in front of ijson -------------------------------------------------------

def _true_depth(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (c == "\\", c != '"')
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


JSON_KEYS = st.sampled_from(["k", "[", "]", "\\", '"'])


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(children, max_size=3),
                     st.dictionaries(JSON_KEYS, children, max_size=3))


json_values = st.recursive(st.sampled_from(['a"b', "x\\", "[[[", "]]}", '\\"', "ok", 1, None]),
                           _containers, max_leaves=30)


@given(json_values, st.lists(st.integers(0, 10_000), max_size=4))
def test_the_depth_guard_never_misses_and_never_doubles(value: Any, cuts: list[int]) -> None:
    from fundcmp.giving360 import read_json

    text = json.dumps(value).encode()
    depth = _true_depth(text.decode())
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]

    def refused(limit: int) -> bool:
        guard = read_json._Depth()
        try:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(read_json, "MAX_DEPTH", limit)
                for piece in pieces:
                    guard.check(piece)
        except read_json.TooDeep:
            return True
        return False

    assert not refused(2 * depth)
    assert depth == 0 or refused(depth - 1)


@given(st.binary(max_size=300), st.lists(st.integers(0, 120), min_size=1, max_size=12),
       st.integers(1, 100))
def test_the_stream_keeps_the_last_bytes_read_whatever_the_reads(
        data: bytes, sizes: list[int], tail_bytes: int) -> None:
    import io

    from fundcmp.giving360 import read_json

    data = data.replace(b"[", b"").replace(b"{", b"")  # no nesting for the depth guard
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(read_json, "TAIL_BYTES", tail_bytes)
        stream = read_json._Tail(io.BytesIO(data), None)
        read = b""
        for size in sizes:
            read += stream.read(size)
            assert stream.tail == read[-tail_bytes:]
        read += stream.read()
        assert stream.tail == read[-tail_bytes:] and stream.read_bytes == len(read)


def test_an_identifier_with_invisible_marks_is_the_same_grant(tmp_path: Path) -> None:
    """A zero-width space or a byte-order mark in an identifier (files joined, text pasted)
    is invisible: counted as another grant, one grant's money was counted three times."""
    data = write_csv(tmp_path / "g.csv", ["Identifier", "Amount Awarded", "Currency",
                                          "Award Date", "Funding Org:Identifier",
                                          "Grant Programme:Title"],
                     [[gid, "1000", "GBP", "2020-01-02", "GB-1", "Main"]
                      for gid in ("360G-x-1", "360G-x-1\u200b", "\ufeff360G-x-1", "360G-x-2")])
    summary = giving360.collect([data])
    assert (summary.entries[0].grants, summary.entries[0].total) == (2, 2000)
    kinds = {(field, kind): tally.count for (field, kind, _), tally in summary.kinds.items()}
    assert kinds[("Identifier", "invisible characters, removed")] == 2
    assert any("duplicate" in kind for _, kind in kinds)


def test_one_programme_however_its_title_and_funder_are_typed(tmp_path: Path) -> None:
    """An accent typed as one character or two, a funder identifier in other case, a
    zero-width space pasted in, a dash or an apostrophe as a word processor writes it: the
    same programme of the same funder, one entry."""
    rows = [["G-1", "Caf\u00e9 Fund", "GB-CHC-1"], ["G-2", "Cafe\u0301 Fund", "GB-CHC-1"],
            ["G-3", "Caf\u00e9 Fund", "gb-chc-1"], ["G-4", "Caf\u00e9 Fund\u200b", "GB-CHC-1"],
            ["G-5", "Caf\u00e9 \u2013 Fund", "GB-CHC-1"], ["G-6", "Caf\u00e9 - Fund", "GB-CHC-1"],
            ["G-7", "Caf\u00e9\u2019s Fund", "GB-CHC-1"], ["G-8", "Caf\u00e9's Fund", "GB-CHC-1"]]
    data = write_csv(tmp_path / "g.csv", ["Identifier", "Amount Awarded", "Currency",
                                          "Award Date", "Funding Org:Identifier",
                                          "Grant Programme:Title"],
                     [[gid, "1000", "GBP", "2020-01-02", funder, title]
                      for gid, title, funder in rows])
    summary = giving360.collect([data])
    assert [(e.programme_title, e.funder_id, e.grants) for e in summary.entries] == [
        ("Caf\u00e9 Fund", "GB-CHC-1", 4), ("Caf\u00e9 \u2013 Fund", "GB-CHC-1", 2),
        ("Caf\u00e9\u2019s Fund", "GB-CHC-1", 2)]
    assert [(kind, tally.count) for (_, kind, _), tally in summary.kinds.items()] == [
        ("invisible characters, removed", 1)]


def test_explain_shows_no_inputs_under_a_total_summed_from_grants(tmp_path: Path) -> None:
    """An imported total is the sum of the grants, not teams x funding per team: rows
    under it calling those its inputs could not reproduce it."""
    data = package(tmp_path / "g.json", [grant("G-1", 100), grant("G-2", 300),
                                         grant("G-3", 350)])
    into = tmp_path / "r.yaml"
    assert run("import", data, "--into", into).exit_code == 0
    (slug,) = [p.slug for p in load(into, use_cache=False).programmes]
    shown = run("--registry", into, "explain", slug, "--format", "tsv").stdout
    lines = shown.splitlines()
    (total,) = [i for i, line in enumerate(lines) if line.startswith("Total funding")]
    assert "sum of amountAwarded" in lines[total]
    assert not lines[total + 1].startswith("input:"), shown


def test_an_imported_programmes_price_year_says_it_is_its_median_award_year(
        tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [grant("G-1", award="2018-05-01"),
                                         grant("G-2", award="2019-05-01"),
                                         grant("G-3", award="2021-05-01")])
    into = tmp_path / "r.yaml"
    assert run("import", data, "--into", into).exit_code == 0
    (slug,) = [p.slug for p in load(into, use_cache=False).programmes]
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in
            run("--registry", into, "explain", slug, "--format", "tsv").stdout.splitlines()}
    assert rows["Price year"][:3] == ["2019", "chosen", "the median award year of its grants"]


def test_show_calls_an_observed_figure_observed(tmp_path: Path) -> None:
    """Funding per team of an imported programme is observed over its grants, as explain
    and --format json say; show called it derived (and its yearly figure "derived:
    observed:")."""
    data = package(tmp_path / "g.json", [grant("G-1", 100, duration=12),
                                         grant("G-2", 300, duration=6)])
    into = tmp_path / "r.yaml"
    assert run("import", data, "--into", into).exit_code == 0
    (slug,) = [p.slug for p in load(into, use_cache=False).programmes]
    rows = {line.split("\t")[0]: line.split("\t")[2] for line in
            run("--registry", into, "show", slug, "--format", "tsv").stdout.splitlines()}
    assert rows["Funding per team"].startswith("observed: amountAwarded of each of 2 grants")
    assert rows["Funding per team per year"].startswith("observed: each grant's own")
    assert rows["Total funding"].startswith("derived: sum of amountAwarded")


def test_a_control_character_in_a_name_is_replaced_and_reported_not_fatal(
        tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [grant("G-1", title="Main\u202e"),
                                         grant("G-2", title="Main\u202e")])
    into = tmp_path / "r.yaml"
    result = run("import", data, "--into", into)
    assert result.exit_code == 0
    assert "2 grants (£20,000): grantProgramme.title: control characters, shown as U+FFFD; " \
           "amount kept, read as said: G-1, G-2" in result.stderr
    assert [p.name for p in load(into, use_cache=False).programmes] == ["Main\ufffd"]


HEADER = ["Identifier", "Amount Awarded", "Currency", "Award Date", "Funding Org:Identifier",
          "Grant Programme:Title"]


@pytest.mark.parametrize(("encoding", "delimiter", "above"), [
    ("utf-8", ";", []), ("utf-16", "\t", []), ("utf-8-sig", ",", [["Grants awarded 2020"], []])])
def test_csv_as_spreadsheets_save_it(tmp_path: Path, encoding: str, delimiter: str,
                                     above: list[list[str]]) -> None:
    path = tmp_path / "g.csv"
    with path.open("w", newline="", encoding=encoding) as out:
        csv.writer(out, delimiter=delimiter).writerows(
            [*above, HEADER, ["G-1", "1000", "GBP", "20200131", "GB-1", "Main"]])
    summary = giving360.collect([path])
    (entry,) = summary.entries
    assert (entry.total, entry.first_award) == (1000, "2020-01-31")
    assert not summary.kinds


def test_an_unwritable_report_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [grant("G-1", "tbc"), grant("G-2")])
    report = tmp_path / "no-such-dir" / "problems.csv"
    result = run("import", data, "--into", tmp_path / "r.yaml", "--report", report)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (f"fundcmp: {report}: cannot write the report: "
                                              "No such file or directory")
    assert not (tmp_path / "r.yaml").exists()


@pytest.mark.parametrize("option", ["--report", "--into"])
def test_a_report_or_registry_that_is_one_of_the_grants_files_is_refused(
        tmp_path: Path, option: str) -> None:
    """Writing the report or registry over a file being imported would lose the data it is
    read from, with --dry-run too: refused before anything is read."""
    data = package(tmp_path / "g.json", [grant("G-1"), grant("G-2")])
    before = data.read_bytes()
    (tmp_path / "link.json").symlink_to(data)
    args = {"--report": ["--into", tmp_path / "r.yaml", "--report", tmp_path / "link.json"],
            "--into": ["--into", tmp_path / "link.json"]}[option]
    result = run("import", data, *args, "--dry-run")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].endswith(
        f"{option} {tmp_path / 'link.json'} is {data}, one of the files to import: give "
        "another path")
    assert data.read_bytes() == before


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_a_nan_in_json_is_named_in_the_one_line_refusal(tmp_path: Path, token: str) -> None:
    """Python's json.dump writes NaN for a missing number: not JSON, so the file is refused,
    and the message says what the problem is and what to write instead."""
    data = tmp_path / "g.json"
    data.write_text('{"grants": [{"id": "G-1", "amountAwarded": ' + token + "}]}", "utf-8")
    result = run("import", data, "--into", tmp_path / "r.yaml")
    assert result.exit_code == 1
    assert result.stderr == (f"fundcmp: {data}: not a 360Giving JSON data package: not valid "
                             f"JSON: {token} is no JSON number (write null for a number not "
                             f"known) (character {len(str(data.read_text()))})\n")


def test_a_report_at_the_registrys_path_is_refused(tmp_path: Path) -> None:
    data = package(tmp_path / "g.json", [grant("G-1")])
    registry = tmp_path / "r.yaml"
    registry.write_text("programmes: []\n", "utf-8")
    result = run("import", data, "--into", registry, "--report", registry, "--dry-run")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].endswith(
        f"--report {registry} is the registry --into names: give another path")
    assert registry.read_text("utf-8") == "programmes: []\n"


def test_without_ijsons_c_backend_the_python_one_reads_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ijson

    from fundcmp.giving360 import read_json

    data = package(tmp_path / "g.json", [grant("G-1", award="05/06/2014"), grant("G-2", 5)],
                   publisher={"name": "Fund"}, modified="2021-01-01")
    with_c = giving360.collect([data])
    real = ijson.get_backend

    def no_c(name: str) -> Any:
        if name == "yajl2_c":
            raise ImportError("no C backend here")
        return real(name)

    monkeypatch.setattr(ijson, "get_backend", no_c)
    assert read_json.backend().__name__.endswith(".python")
    assert giving360.collect([data]) == with_c
    assert with_c.publishers == ["Fund"] and with_c.source_date == "2021-01-01"


# Grants to individuals (the standard's recipientIndividual, "Recipient Ind:" columns) -------

def test_grants_to_individuals_count_their_recipients_in_json(tmp_path: Path) -> None:
    """A grant to a person names its recipient in recipientIndividual (an object, not an
    array); such grants must not be counted as naming no recipient."""
    to_people = [dict(grant(f"G-{i}"), recipientIndividual={"id": f"360G-ind-{i % 3}",
                                                             "name": f"Person {i % 3}"})
                 for i in range(6)]
    to_org = dict(grant("G-org"), recipientOrganization=[{"id": "GB-CHC-1", "name": "Org"}])
    (entry,) = giving360.collect([package(tmp_path / "g.json", [*to_people, to_org])]).entries
    assert (entry.recipients, entry.grants_without_recipient) == (4, 0)


def test_grants_to_individuals_count_their_recipients_in_a_spreadsheet(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "g.csv", [
        "Identifier", "Amount Awarded", "Currency", "Award Date", "Funding Org:Identifier",
        "Grant Programme:Title", "Recipient Org:Identifier", "Recipient Org:Name",
        "Recipient Ind:Identifier", "Recipient Ind:Name"], [
        ["G-1", "100", "GBP", "2020-04-01", "GB-1", "Main", "GB-CHC-1", "Org", "", ""],
        ["G-2", "100", "GBP", "2020-04-01", "GB-1", "Main", "", "", "360G-ind-1", "Person"],
        ["G-3", "100", "GBP", "2020-04-01", "GB-1", "Main", "", "", "360G-ind-1", "Person"],
        ["G-4", "100", "GBP", "2020-04-01", "GB-1", "Main", "", "", "", "Someone"],
        ["G-5", "100", "GBP", "2020-04-01", "GB-1", "Main", "", "", "", ""]])
    (entry,) = giving360.collect([data]).entries
    assert (entry.recipients, entry.grants_without_recipient) == (3, 1)


def test_a_workbook_with_a_broken_sheet_is_refused_in_one_line(tmp_path: Path) -> None:
    """A sheet's XML cut short inside a sound zip: one line naming the file, no traceback."""
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Identifier", "Amount Awarded", "Currency", "Award Date",
                        "Funding Org:Identifier", "Grant Programme:Title"])
    for i in range(50):
        book.active.append([f"G-{i}", 100, "GBP", "2020-01-01", "GB-1", "Main"])
    whole = tmp_path / "whole.xlsx"
    book.save(whole)
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(broken, "w") as out:
        for item in source.infolist():
            data = source.read(item)
            out.writestr(item, data[:len(data) // 2] if item.filename.endswith("sheet1.xml")
                         else data)
    result = run("import", broken, "--into", tmp_path / "out.jsonl")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"fundcmp: {broken}: ")
