"""The reader in a child process (giving360.reader_process) imports exactly what the reader in
this process imports: the registry, the summary on stderr, stdout and the --report CSV, byte
for byte, on real and generated files, refused ones included; and the child never outlives
the import, never prints a traceback, and its errors surface here."""

from __future__ import annotations

import csv
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fundcmp import giving360
from fundcmp.cli import cli
from fundcmp.giving360 import reader_process
from fundcmp.giving360.reading import BATCH, CHUNK, FACT_KEYS, FileInfo
from tests.test_import import FUND_ONE, FUND_TWO, grant, write_csv, write_json
from tests.test_import_kill import OLD
from tests.test_real360 import HERE, SHARED


def outcome(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, child: bool,
            files: list[Path], *options: str) -> tuple[Any, ...]:
    """Everything one import shows and writes, with the reader in a child or not."""
    monkeypatch.setattr(reader_process, "CHILD_BYTES", 0 if child else 1 << 62)
    started = _starts(monkeypatch)
    into, report = tmp_path / "registry.yaml", tmp_path / "report.csv"
    into.write_text(OLD, encoding="utf-8")
    report.unlink(missing_ok=True)
    result = CliRunner().invoke(cli, ["import", *map(str, files), "--into", str(into),
                                      "--report", str(report), *options])
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    assert bool(started) == (child and any(f.exists() for f in files))
    written = report.read_bytes() if report.exists() else None
    return result.exit_code, result.stdout, result.stderr, into.read_bytes(), written


def _starts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The child processes started, counted."""
    started: list[int] = []
    start = reader_process._start

    def counted(*args: Any) -> Any:
        started.append(1)
        return start(*args)

    monkeypatch.setattr(reader_process, "_start", counted)
    return started


def assert_same_both_ways(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, files: list[Path],
                          *options: str) -> tuple[Any, ...]:
    here = outcome(monkeypatch, tmp_path, False, files, *options)
    there = outcome(monkeypatch, tmp_path, True, files, *options)
    assert there == here
    return here


REAL = sorted(p.name for p in HERE.iterdir() if p.suffix in (".json", ".csv", ".xlsx"))
SHARED_REAL = sorted(p.name for p in SHARED.iterdir()
                     if p.suffix in (".json", ".csv", ".xlsx")) if SHARED.is_dir() else []


@pytest.mark.parametrize("name", REAL)
def test_a_copied_real_file_imports_the_same_in_a_child(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> None:
    assert_same_both_ways(monkeypatch, tmp_path, [HERE / name])


@pytest.mark.skipif(not SHARED_REAL, reason=f"{SHARED} is not here")
@pytest.mark.parametrize("name", SHARED_REAL)
def test_every_shared_real_file_imports_the_same_in_a_child(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> None:
    assert_same_both_ways(monkeypatch, tmp_path, [SHARED / name])


def test_all_shared_real_files_at_once_import_the_same_in_a_child(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    files = [SHARED / n for n in SHARED_REAL if n != "grantnav-test_data-data.json"] or \
        [HERE / n for n in REAL if n != "grantnav-test_data-data.json"]
    code, _, stderr, _, _ = assert_same_both_ways(monkeypatch, tmp_path, files, "--replace")
    assert code in (0, 3), stderr


def mixed(count: int) -> list[dict[str, Any]]:
    """Grants of two funders, some with problems, a duplicate, UK dates and a £0 award."""
    grants = []
    for i in range(count):
        g = grant(f"G-{i}", 1000 + 37 * i, funder=FUND_TWO if i % 3 else FUND_ONE,
                  title=f"Programme {i % 4}", start="2020-01-01", end=f"202{1 + i % 3}-06-30")
        if i % 17 == 5:
            g["amountAwarded"] = "lots"
        if i % 23 == 7:
            g["awardDate"] = f"{1 + i % 28:02d}/0{1 + i % 9}/2019"
        grants.append(g)
    grants += [grant("G-3", 5), grant("G-zero", 0)]
    return grants


def test_generated_json_imports_the_same_in_a_child(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", mixed(2500))  # several batches
    code, _, stderr, _, report = assert_same_both_ways(monkeypatch, tmp_path, [data])
    assert code == 3 and "duplicate identifier" in stderr and report


def test_generated_csv_with_day_first_dates_imports_the_same_in_a_child(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "g.csv", mixed(2500))
    code, _, stderr, _, _ = assert_same_both_ways(monkeypatch, tmp_path, [data])
    assert code == 3 and "not a number" in stderr


def test_plain_grants_waiting_on_an_undecided_date_order_import_the_same_in_a_child(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    grants = [grant("G-0", award="03/04/2019"), *(grant(f"G-{i}", 100 + i) for i in range(1, 60)),
              grant("G-1", 7), grant("G-60", award="04/03/2019"),
              grant("G-61", award="25/12/2019"), *(grant(f"G-{i}", i) for i in range(62, 90))]
    data = write_csv(tmp_path / "g.csv", grants)
    code, _, stderr, registry, _ = assert_same_both_ways(monkeypatch, tmp_path, [data])
    assert code == 3 and "duplicate identifier" in stderr and b"90 grants" in registry


@pytest.mark.parametrize("amounts", [
    ["25.000", "1.250.000", "2.500.000", "1003.50", "1004.50", "1005.50"],
    ["1003.50", "1004.50", "1005.50", "25.000", "1.250.000", "2.500.000"],
    ["1003.50", "1004.50", "1005.50", "25.000"]])
def test_a_lone_dot_is_read_the_same_in_a_child_whatever_the_order(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, amounts: list[str]) -> None:
    """Plain amounts (1003.50) may be taken by the shortcut, in the child or not, before
    they could vote on the column's dots: so they never vote, and 25.000 is read by the
    same votes (or reported) wherever the file is read and wherever it stands."""
    data = write_csv(tmp_path / "g.csv", [grant(f"G-{i}", a) for i, a in enumerate(amounts)])
    code, _, stderr, _, _ = assert_same_both_ways(monkeypatch, tmp_path, [data])
    if "1.250.000" in amounts:
        assert code == 0 and "'25.000' read with dots between thousands" in stderr
    else:
        assert code == 3 and "a dot before three digits" in stderr


@pytest.mark.parametrize("write", [write_csv, write_json])
def test_grants_come_in_the_same_batches_from_a_child_and_from_here(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        write: Callable[[Path, list[dict[str, Any]]], Path]) -> None:
    data = write(tmp_path / ("g.csv" if write is write_csv else "g.json"), mixed(2500))
    monkeypatch.setattr(reader_process, "CHILD_BYTES", 0)
    there = list(reader_process.grants(data, FileInfo(str(data)), None))
    monkeypatch.setattr(reader_process, "CHILD_BYTES", 1 << 40)
    here = list(reader_process.grants(data, FileInfo(str(data)), None))
    assert [len(batch) for batch in there] == [len(batch) for batch in here] == \
        [BATCH, BATCH, 2502 - 2 * BATCH]
    assert [grant for batch in there for grant in batch.grants()] == \
        [grant for batch in here for grant in batch.grants()]
    assert {len(facts) for batch in there for _, facts in batch.grants()} == {len(FACT_KEYS)}


@pytest.mark.parametrize(("write", "funder"), [(write_json, FUND_ONE[0]),
                                               (write_csv, FUND_TWO[0])])
def test_the_funder_option_imports_the_same_in_a_child(
        write: Any, funder: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = write(tmp_path / ("g.json" if write is write_json else "g.csv"), mixed(300))
    code, stdout, _, _, _ = assert_same_both_ways(monkeypatch, tmp_path, [data], "--funder",
                                                  funder)
    assert code == 3 and "4 programme entries" in stdout


def test_publisher_and_issued_after_the_grants_reach_the_source_record(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = tmp_path / "late.json"
    data.write_text('{"grants": ' + json.dumps(mixed(40)) + ', "publisher": {"name": '
                    '"Late Publisher"}, "issued": "2023-05-06"}', encoding="utf-8")
    _, _, _, registry, _ = assert_same_both_ways(monkeypatch, tmp_path, [data])
    assert b"Late Publisher" in registry and b"2023-05-06" in registry


def test_a_windows_1252_csv_is_noted_the_same_in_a_child(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "g.csv", [grant(f"G-{i}", title="Caf\u00e9 fund \u00a3")
                                          for i in range(50)])
    data.write_bytes(data.read_text(encoding="utf-8-sig").encode("cp1252"))
    _, _, stderr, registry, _ = assert_same_both_ways(monkeypatch, tmp_path, [data])
    assert "Windows-1252" in stderr and "Café fund £".encode() in registry


def test_an_xlsx_of_several_sheets_with_other_titles_imports_the_same_in_a_child(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.title = "Read me"
    book.active.append(["This workbook lists grants"])
    for sheet_number, (amount_title, id_title) in enumerate(
            [("Amount Awarded", "Identifier"), ("amount  awarded", "identifier ")]):
        sheet = book.create_sheet(f"Grants {sheet_number}")
        sheet.append(["A title row above the header"])
        sheet.append([id_title, amount_title, "Currency", "Award Date", "Funding Org:Identifier",
                      "Funding Org:Name", "Grant Programme:Title"])
        for i in range(1200):
            sheet.append([f"X-{i % 1150}", "lots" if i % 50 == 3 else 100 + i, "GBP",
                          "2021-02-03", FUND_ONE[0], FUND_ONE[1], f"Fund {sheet_number}"])
    data = tmp_path / "book.xlsx"
    book.save(data)
    code, _, stderr, _, report = assert_same_both_ways(monkeypatch, tmp_path, [data])
    assert code == 3 and "3 sheets" not in stderr and "2 sheets" in stderr
    assert report is not None and b"identifier " in report and b"amount  awarded" in report


def test_openpyxl_warnings_are_the_same_note_in_a_child(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Identifier", "Amount Awarded", "Currency", "Award Date",
                  "Funding Org:Identifier", "Funding Org:Name", "Grant Programme:Title"])
    for i in range(20):
        sheet.append([f"X-{i}", 100 + i, "GBP", 99_999_999 if i % 4 else 44_000, FUND_ONE[0],
                      FUND_ONE[1], "Fund"])
        sheet.cell(row=i + 2, column=4).number_format = "yyyy-mm-dd"
    data = tmp_path / "book.xlsx"
    book.save(data)
    _, _, stderr, _, _ = assert_same_both_ways(monkeypatch, tmp_path, [data])
    assert "15 cells formatted as dates hold serial numbers past any date (D3 (99999999)" \
        in stderr and "UserWarning" not in stderr


def test_two_files_import_the_same_in_a_child(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    files = [write_json(tmp_path / "a.json", mixed(200)),
             write_csv(tmp_path / "b.csv", mixed(150)[100:])]
    assert_same_both_ways(monkeypatch, tmp_path, files)


@pytest.mark.parametrize(("name", "text"), [
    ("list.json", '[{"id": "G-1"}]'),
    ("empty.csv", ""),
    ("columns.csv", "Identifier,Title\nG-1,t\n"),
    ("broken.json", '{"grants": [' + json.dumps(grant("G-1")) + ', {"id": ]}'),
    ("sheet.xls", "not a spreadsheet"),
    ("book.xlsx", "not a zip"),
    ("notes.txt", "plain words"),
])
def test_a_refused_file_is_the_same_one_line_error_in_a_child(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, text: str) -> None:
    data = tmp_path / name
    data.write_text(text, encoding="utf-8")
    code, stdout, stderr, registry, report = assert_same_both_ways(monkeypatch, tmp_path, [data])
    assert code == 1 and stderr.count("\n") == 1 and registry == OLD.encode()
    assert stdout == "" and report is None


def test_a_missing_file_is_refused_the_same_way(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(reader_process, "CHILD_BYTES", 0)
    result = CliRunner().invoke(cli, ["import", str(tmp_path / "none.json"), "--into",
                                      str(tmp_path / "r.yaml")])
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def test_progress_hears_the_same_bytes_at_the_end(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", mixed(3000))
    heard: dict[int, list[int]] = {}
    for threshold in (1 << 62, 0):
        monkeypatch.setattr(reader_process, "CHILD_BYTES", threshold)
        heard[threshold] = []
        giving360.collect([data], on_bytes=heard[threshold].append)
    assert heard[0][-1] == heard[1 << 62][-1] == data.stat().st_size
    assert len(heard[0]) > 1 and heard[0] == sorted(heard[0])
    assert set(heard[0]) <= set(heard[1 << 62])  # fewer, as each batch arrives


# ---- errors and endings ---------------------------------------------------------------------

def replayed(monkeypatch: pytest.MonkeyPatch, stream: bytes) -> None:
    """The parent reads `stream` as if a child had written it."""
    class Sent:
        stdout = io.BytesIO(stream)

        def poll(self) -> int:
            return 0

        def wait(self, timeout: float | None = None) -> int:
            return 0

    monkeypatch.setattr(reader_process, "_start", lambda *args: Sent())


def test_an_unexpected_error_in_the_child_is_raised_here_with_its_traceback(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", mixed(1500))

    def failing(path: Path, info: FileInfo, on_bytes: Any) -> Iterator[Any]:
        yield from list(giving360.reading.read(path, info, on_bytes))[:1200 // CHUNK]
        raise ZeroDivisionError("the reader's own bug")

    sent = io.BytesIO()
    monkeypatch.setattr(reader_process, "read", failing)
    reader_process._send_grants(data, str(data), False, sent)
    replayed(monkeypatch, sent.getvalue())
    monkeypatch.setattr(reader_process, "CHILD_BYTES", 0)
    raws = reader_process.grants(data, FileInfo(str(data)), None)
    got = 0
    with pytest.raises(ZeroDivisionError, match="the reader's own bug") as raised:
        for batch in raws:
            got += len(batch)
    assert got == 1200 // CHUNK * CHUNK  # every grant read before the error
    assert isinstance(raised.value.__cause__, reader_process.ChildTraceback)
    assert "failing" in str(raised.value.__cause__)


def test_an_error_that_does_not_pickle_still_surfaces(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", mixed(10))

    class Odd(Exception):
        def __reduce__(self) -> Any:
            raise TypeError("not picklable")

    def failing(path: Path, info: FileInfo, on_bytes: Any) -> Iterator[Any]:
        raise Odd("strange")
        yield

    sent = io.BytesIO()
    monkeypatch.setattr(reader_process, "read", failing)
    reader_process._send_grants(data, str(data), False, sent)
    replayed(monkeypatch, sent.getvalue())
    monkeypatch.setattr(reader_process, "CHILD_BYTES", 0)
    with pytest.raises(reader_process.ReaderProcessError, match="Odd: strange"):
        list(reader_process.grants(data, FileInfo(str(data)), None))


def big_csv(path: Path, rows: int = 60_000) -> Path:
    """A CSV past CHILD_BYTES, quick to write and a second or two to import."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Identifier", "Amount Awarded", "Currency", "Award Date",
                         "Funding Org:Identifier", "Funding Org:Name", "Grant Programme:Title",
                         "Description"])
        for i in range(rows):
            writer.writerow([f"B-{i}", 100 + i, "GBP", "2020-01-02", "GB-CHC-1", "Funder",
                             f"Programme {i % 7}", "words " * 8])
    assert path.stat().st_size > reader_process.CHILD_BYTES
    return path


def _children(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    """The child processes started, kept to be looked at."""
    children: list[subprocess.Popen[bytes]] = []
    start = reader_process._start
    monkeypatch.setattr(reader_process, "_start",
                        lambda *args: children.append(start(*args)) or children[-1])
    return children


def test_a_child_that_dies_is_an_error_not_a_hang(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = big_csv(tmp_path / "big.csv")
    children = _children(monkeypatch)
    raws = reader_process.grants(data, FileInfo(str(data)), None)
    next(raws)
    children[0].kill()
    with pytest.raises(reader_process.ReaderProcessError, match="ended unexpectedly"):
        for _ in raws:
            pass


def test_stopping_early_ends_the_child(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = big_csv(tmp_path / "big.csv")
    children = _children(monkeypatch)
    raws = reader_process.grants(data, FileInfo(str(data)), None)
    next(raws)
    raws.close()
    assert children[0].returncode is not None


def group_members(group: int) -> list[int]:
    """The processes of a process group (Linux: read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def started_import(data: Path, into: Path) -> subprocess.Popen[bytes]:
    """`fundcmp import` in a process group of its own, once its reader child is running."""
    importer = subprocess.Popen([sys.executable, "-m", "fundcmp", "import", str(data), "--into",
                                 str(into)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
    deadline = time.monotonic() + 30
    while len(group_members(importer.pid)) < 2:
        assert importer.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)  # the child reading
    return importer


def gone(group: int) -> bool:
    deadline = time.monotonic() + 10
    while group_members(group):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_ends_the_child_with_no_traceback(tmp_path: Path) -> None:
    into = tmp_path / "r.yaml"
    importer = started_import(big_csv(tmp_path / "big.csv"), into)
    os.killpg(importer.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
    _, stderr = importer.communicate(timeout=30)
    assert importer.returncode == 130
    assert b"Traceback" not in stderr and b"KeyboardInterrupt" not in stderr
    assert gone(importer.pid) and not into.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_parent_killed_leaves_no_child_running(tmp_path: Path) -> None:
    importer = started_import(big_csv(tmp_path / "big.csv"), tmp_path / "r.yaml")
    importer.kill()
    importer.communicate(timeout=30)
    assert gone(importer.pid)


def test_a_batch_holds_no_more_than_batch_grants(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", mixed(2500))
    sent = io.BytesIO()
    reader_process._send_grants(data, str(data), True, sent)
    sent.seek(0)
    sizes = []
    while True:
        message = pickle.load(sent)
        if message[0] != "grants":
            break
        sizes.append(len(message[2]))
    assert max(sizes) == BATCH and sum(sizes) == 2502


def test_a_script_with_no_main_guard_can_import_with_a_child(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", mixed(30))
    script = tmp_path / "plain.py"
    script.write_text("import sys\n"
                      "from pathlib import Path\n"
                      "from fundcmp.giving360 import collect, reader_process\n"
                      "reader_process.CHILD_BYTES = 0\n"
                      "started = reader_process._start\n"
                      "reader_process._start = lambda *a: print('child') or started(*a)\n"
                      f"print(len(collect([Path({str(data)!r})]).entries))\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "child\n8\n", "")


def test_the_fact_keys_are_every_column_and_the_not_a_grant_mark() -> None:
    from fundcmp.giving360.fields import COLUMN_TITLES
    from fundcmp.giving360.reading import FACT_KEYS, NOT_A_GRANT, as_dict

    assert sorted(FACT_KEYS) == sorted([*COLUMN_TITLES, NOT_A_GRANT])
    raw = {"id": "G-1", "amount": "5", NOT_A_GRANT: None, "start": ""}
    assert as_dict(tuple(map(raw.get, FACT_KEYS))) == {"id": "G-1", "amount": "5", "start": ""}


def test_a_killed_child_is_one_line_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A reader killed from outside (the out-of-memory killer, say) is said in one line, and
    the registry is left as it was."""
    monkeypatch.setattr(reader_process, "CHILD_BYTES", 0)
    monkeypatch.setattr(reader_process, "_CHILD_CODE",
                        "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    into = tmp_path / "registry.yaml"
    into.write_text(OLD, encoding="utf-8")
    data = write_json(tmp_path / "g.json", [grant("G-1")])
    result = CliRunner().invoke(cli, ["import", str(data), "--into", str(into)])
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert "g.json" in result.stderr and "killed by signal 9" in result.stderr
    assert into.read_text(encoding="utf-8") == OLD


def test_a_child_that_cannot_start_leaves_the_reading_here(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No process to spare (fork refused: EAGAIN): the file is read in this process."""
    files = [write_json(tmp_path / "g.json", [grant("G-1"), grant("G-2", amount=5)])]
    here = outcome(monkeypatch, tmp_path, False, files)

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(reader_process.subprocess, "Popen", refused)
    monkeypatch.setattr(reader_process, "CHILD_BYTES", 0)
    into = tmp_path / "registry.yaml"
    into.write_text(OLD, encoding="utf-8")
    (tmp_path / "report.csv").unlink(missing_ok=True)
    result = CliRunner().invoke(cli, ["import", *map(str, files), "--into", str(into),
                                      "--report", str(tmp_path / "report.csv")])
    assert (result.exit_code, result.stdout, result.stderr, into.read_bytes(),
            (tmp_path / "report.csv").read_bytes()) == here


def test_files_in_the_working_directory_never_run_in_the_child(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The child is `python -c`, which would put the working directory first on its path:
    a pickle.py there must not be imported (nothing is ever executed from the user's files)."""
    files = [write_json(tmp_path / "g.json", [grant("G-1"), grant("G-2", amount=5)])]
    here = outcome(monkeypatch, tmp_path, False, files)
    ran = shadowing(monkeypatch, tmp_path, ("pickle", "ijson", "csv", "openpyxl"))
    assert outcome(monkeypatch, tmp_path, True, files) == here
    assert not ran.exists()


def shadowing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, modules: tuple[str, ...]) -> Path:
    """Work in a new directory holding modules named as these, each of which, if imported,
    writes to the file returned."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    ran = tmp_path / "ran"
    for name in modules:
        (cwd / f"{name}.py").write_text(f"open({str(ran)!r}, 'a').write('{name}')\n",
                                        encoding="utf-8")
    monkeypatch.chdir(cwd)
    return ran


def test_a_child_that_fails_to_start_says_so_in_one_line_with_its_exit_status(
        tmp_path: Path) -> None:
    """A child that ends on its own, before sending anything, is not reported as killed, and
    prints no traceback of its own."""
    data = write_json(tmp_path / "g.json", [grant("G-1")])
    child = subprocess.run(
        [sys.executable, "-c", "import sys; from fundcmp.giving360 import reader_process as r;"
         "r.CHILD_BYTES = 0; r._CHILD_CODE = r._CHILD_CODE.replace("
         "'from fundcmp.giving360.reader_process', 'from no_such_module_here');"
         "from fundcmp.cli import main; sys.argv[0] = 'fundcmp'; main()",
         "import", str(data), "--into", str(tmp_path / "o.yaml")],
        capture_output=True, text=True, timeout=60)
    assert child.returncode == 1
    assert "Traceback" not in child.stderr and "signal" not in child.stderr, child.stderr
    assert "exit status 1" in child.stderr and len(child.stderr.splitlines()) <= 2


def test_an_xlsx_sheet_with_the_titles_and_no_rows_names_columns_the_same_in_a_child(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import openpyxl

    header = ["Identifier", "Title", "Amount Awarded", "Currency", "Award Date",
              "Funding Org:Identifier", "Funding Org:Name", "Grant Programme:Title",
              "Recipient Org:Identifier"]
    book = openpyxl.Workbook()
    first = book.active
    first.title = "A"
    first.append(header)
    for i in range(5):
        first.append([f"G-{i}", "t", "abc" if i == 0 else "100", "GBP", "01/02/2020",
                      "GB-1", "F", "P", "R"])
    book.create_sheet("B").append([h.upper() for h in header])
    path = tmp_path / "two.xlsx"
    book.save(path)
    assert_same_both_ways(monkeypatch, tmp_path, [path])


def test_a_csv_read_in_a_child_keeps_taken_amounts_out_of_the_vote_while_dates_wait(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # While the UK date waits for its column's order, the plain "4980.34"s are taken by the
    # shortcut and do not vote: the "1.250.000"s decide what the dot of "25.000" is.
    grants = [grant("G-0", 100, award="25/04/2019"),
              *(grant(f"G-{i}", "4980.34") for i in range(1, 41)),
              *(grant(f"G-{i}", "1.250.000") for i in range(41, 71)),
              *(grant(f"G-{i}", "25.000") for i in range(71, 74))]
    data = write_csv(tmp_path / "g.csv", grants)
    code, _, stderr, registry, _ = outcome(monkeypatch, tmp_path, True, [data])
    assert code == 0 and "3 values such as '25.000' read with dots between thousands" in stderr
    assert b"min: 100, " in registry
