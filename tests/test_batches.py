"""Grants in batches: a CSV read a column at a time is read as row by row, a batch packed
for the pipe comes back the same, and checking a grant makes no reference cycle."""

from __future__ import annotations

import csv
import gc
import io
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundcmp.giving360 import read_csv, reader_process
from fundcmp.giving360.check import check
from fundcmp.giving360.reading import CHUNK, FACT_KEYS, JSON_NAMES, Batch, FileInfo, joined

HEADER = ["Identifier", "Amount Awarded", "Currency", "Award Date", "Funding Org:Identifier",
          "Funding Org:Name", "Grant Programme:Title", "Recipient Org:Identifier"]
PLAIN = ["G-{}", "1500", "GBP", "2021-02-03", "GB-CHC-1", "Fund", "Main", "GB-CHC-9"]
# Rows that are not a plain one-line grant: each sends its chunk row by row.
ODD = {
    "blank": [],
    "spaces": ["  ", "", ""],
    "short": ["G-{}", "10"],
    "long": ["G-{}", "5", "000", "GBP", "2021-02-03", "GB-CHC-1", "Fund", "Main", "GB-CHC-9",
             "extra"],
    "padded": [*PLAIN, "", ""],
    "lines": ["G-{}", "20", "GBP", "2021-02-03", "GB-CHC-1", "Fund", "Two\nlines", "GB-CHC-9"],
    "header": HEADER,
    "reordered": [HEADER[1], HEADER[0], *HEADER[2:]],
    "title-like": ["Identifier of G-{}", *PLAIN[1:]],
    "comment": ["# G-{}", *PLAIN[1:]],
}


def grants_of(path: Path) -> tuple[list[tuple[str, Any]], list[str], list[dict[str, str]]]:
    info = FileInfo(str(path))
    batches = list(read_csv.grants(path, info, None))
    return ([grant for batch in batches for grant in batch.grants()], info.notes,
            [batch.names for batch in batches])


@given(st.lists(st.sampled_from(["plain"] * 6 + sorted(ODD)), max_size=3 * CHUNK))
def test_a_csv_read_a_column_at_a_time_is_read_as_row_by_row(
        tmp_path_factory: pytest.TempPathFactory, kinds: list[str]) -> None:
    path = tmp_path_factory.mktemp("csv") / "g.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i, kind in enumerate(kinds):
            writer.writerow([cell.format(i) for cell in (PLAIN if kind == "plain" else ODD[kind])])
    columns = grants_of(path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(read_csv._Header, "all_plain", lambda self, rows: False)
        rows = grants_of(path)
    assert columns == rows
    assert len(columns[0]) >= kinds.count("plain")


separated = reader_process._SEPARATOR
values = st.one_of(st.none(), st.integers(), st.text(max_size=3),
                   st.sampled_from(["", separated, f"a{separated}b", "£5"]))


@given(st.lists(st.lists(st.lists(values, min_size=len(FACT_KEYS), max_size=len(FACT_KEYS)),
                         min_size=1, max_size=4), min_size=1, max_size=4),
       st.booleans())
def test_batches_packed_for_the_pipe_come_back_the_same(
        chunks: list[list[list[Any]]], as_rows: bool) -> None:
    """Columns of texts are joined for the pipe where they can be: whatever the values (a
    separator among them, None, numbers, empty texts), the grants arrive as they were read."""
    names = dict(JSON_NAMES)
    batches = []
    line = 1
    for rows in chunks:
        places = range(line, line + len(rows))
        line += len(rows) + (len(rows) % 2)  # now and then a gap, as blank lines leave
        facts = [tuple(row) for row in rows]
        batches.append(Batch("f.csv:", places, None, names, facts) if as_rows else
                       Batch("f.csv:", places, tuple(zip(*facts, strict=True)), names))
    sent = reader_process._joined([reader_process._packed(batch) for batch in batches])
    arrived = reader_process._unpacked(pickle.loads(pickle.dumps(sent)))
    assert list(arrived.grants()) == [grant for batch in batches for grant in batch.grants()]
    assert [tuple(column) for column in arrived.columns] == \
        [tuple(column) for column in joined(batches).columns]


def test_a_clean_utf8_csv_is_read_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The whole-file check of its bytes runs only for a file with a stray byte."""
    path = tmp_path / "g.csv"
    path.write_text(",".join(HEADER) + "\n" + ",".join(PLAIN).format(1) + ",Café\n",
                    encoding="utf-8")
    monkeypatch.setattr(read_csv, "encoding_of", lambda stream: pytest.fail("scanned"))
    grants, notes, _ = grants_of(path)
    assert len(grants) == 1 and notes == []


def test_a_stray_byte_is_noted_first_as_the_whole_file_check_says(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    rows = [",".join(HEADER), ",".join(PLAIN).format(1), ",".join(HEADER),
            ",".join(PLAIN).format(2).replace("Fund", "Caf\u00e9 \u00a3")]
    path.write_bytes("\n".join(rows).encode("utf-8").replace(b"\xc2\xa3", b"\xa3") + b"\n")
    grants, notes, _ = grants_of(path)
    expected = read_csv.encoding_of(io.BytesIO(path.read_bytes()))[1]
    assert expected.startswith("not all UTF-8: 1 byte that is not (the first on line 4)")
    assert notes[0] == expected and "repeated once" in notes[1]
    assert grants[1][1][FACT_KEYS.index("funder_name")] == "Caf\u00e9 \u00a3"


def test_checking_a_grant_with_bad_planned_dates_makes_no_reference_cycle() -> None:
    """The import runs the cyclic collector rarely: a cycle a grant made would stay."""
    raw = {"id": "G-1", "amount": 100, "currency": "GBP", "award_date": "2020-01-01",
           "funder_id": "GB-1", "funder_name": "Fund", "programme_title": "Main",
           "start": "2021-05-01", "end": "2020-01-01", "duration": "twelve"}
    gc.collect()
    gc.disable()
    try:
        for start in ("2021-05-01", "2020-01-01", "31/02/2020"):
            grant, problems = check({**raw, "start": start}, JSON_NAMES, "w")
            assert grant is not None and problems
        assert gc.collect() == 0
    finally:
        gc.enable()


@pytest.mark.parametrize("child", [False, True])
def test_a_duplicate_is_reported_under_the_identifier_title_it_was_read_under(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, child: bool) -> None:
    """A header met again may title the identifier otherwise; a duplicate waiting in the
    store when it comes keeps the title of the rows it was read in."""
    from click.testing import CliRunner

    from fundcmp.cli import cli

    monkeypatch.setattr(reader_process, "CHILD_BYTES", 0 if child else 1 << 40)
    rows = [",".join(HEADER)] + [",".join(PLAIN).format(1 if i == 2 else i) for i in range(2048)]
    rows.append("Grant ID,Currency,Amount Awarded," + ",".join(HEADER[3:]))
    rows += [f"G-{5 if i == 7 else 5000 + i},GBP,1000,2020-01-02,GB-CHC-1,Fund,Main,GB-CHC-9"
             for i in range(1000)]
    data = tmp_path / "g.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = tmp_path / "report.csv"
    result = CliRunner().invoke(cli, ["import", str(data), "--into", str(tmp_path / "r.yaml"),
                                      "--report", str(report)])
    assert result.exit_code == 3, result.output
    found = {(row[0], row[2]) for row in csv.reader(io.StringIO(report.read_text("utf-8")))
             if "duplicate" in ",".join(row)}
    assert found == {(f"{data}:4", "Identifier"), (f"{data}:2058", "Grant ID")}
