"""Time `fundcmp import` on generated 360Giving files against the floors it cannot beat.

    python benchmarks/import_360.py                   # 1,000,000 grants (JSON, CSV), 100,000 (XLSX)
    python benchmarks/import_360.py --grants 100000   # a quicker run
    python benchmarks/import_360.py --repeat 3        # medians of 3 interleaved runs

Each case runs as a fresh process; the table shows wall seconds, CPU seconds (user +
system, from wait4's rusage, which counts the processes that case's process started and
waited for: fundcmp reads a large file in a child process, so its import uses two cores)
and peak memory (maxrss, from wait4). For fundcmp the peaks of the importing process and
of its reader child are shown apart and summed, as both run at once: the importer reports
its own (RUSAGE_SELF) and its child's (RUSAGE_CHILDREN) from a small wrapper; the child's
may count the importer's size when it started it, as Linux starts a child's maxrss there,
so the sum is an upper bound. Floors: ijson's bare iteration of the same JSON
(`ijson.items(f, "grants.item")`, C backend) and csv.reader's bare iteration of
the same CSV. Beside them, what an analyst would run instead (pandas
json_normalize + groupby, duckdb read_json/read_csv + GROUP BY, polars), when
those are installed in the Python named by --tools-python (default: the running
one); they are never fundcmp dependencies, and a missing one is reported as
skipped. For example:

    python3 -m venv /tmp/analyst && /tmp/analyst/bin/pip install pandas duckdb polars
    python benchmarks/import_360.py --tools-python /tmp/analyst/bin/python
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

COLUMNS = ["Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
           "Planned Dates:Start Date", "Planned Dates:End Date",
           "Planned Dates:Duration (months)", "Recipient Org:Identifier", "Recipient Org:Name",
           "Recipient Org:Charity Number", "Recipient Org:Street Address",
           "Recipient Org:City", "Recipient Org:Postal Code", "Recipient Org:Country",
           "Beneficiary Location:Name", "Beneficiary Location:Geographic Code",
           "Funding Org:Identifier", "Funding Org:Name", "Grant Programme:Code",
           "Grant Programme:Title", "From an open call?", "Data Source", "Last modified"]
WORDS = ("community", "project", "support", "young", "people", "local", "charity", "costs",
         "core", "funding", "volunteers", "training", "health", "wellbeing", "advice",
         "services", "families", "towards", "salary", "running", "two", "years",
         "development", "work", "rural", "isolated", "older")


def grants(n: int, seed: int = 14) -> Iterator[list[object]]:
    """Real-shaped grants (about 900 bytes each as JSON, as the Lloyds Bank Foundation's
    are): 40 programmes of 8 funders, amounts, dates, durations, a description and an
    address, as the rows of the CSV and XLSX."""
    rng = random.Random(seed)
    for i in range(n):
        funder = rng.randrange(8)
        programme = rng.randrange(40)
        year = 2010 + rng.randrange(12)
        months = rng.choice([6, 12, 12, 24, 36])
        end_month = 5 + months
        org = i % 5000
        yield [f"360G-bench-{i}", f"Grant to Organisation Number {org}",
               " ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 45))).capitalize(),
               "GBP", round(rng.lognormvariate(9.5, 1.0), 2), f"{year}-{rng.randint(1, 12):02d}-15",
               f"{year}-06-01", f"{year + end_month // 12}-{end_month % 12 + 1:02d}-01", months,
               f"GB-CHC-{1100000 + org}", f"Organisation Number {org}", str(1100000 + org),
               f"{rng.randint(1, 300)} High Street", "Leicester", f"LE{org % 20} {org % 9}AA",
               "United Kingdom", "Leicester", f"E0800{org % 100:04d}", f"GB-CHC-{100 + funder}",
               f"Funder Number {funder} Foundation", f"P{programme}",
               f"Programme {programme} of funder {funder}", "Yes",
               f"https://funder{funder}.example.org/grants", f"{year + 1}-01-31T00:00:00+00:00"]


def _json(r: list[object]) -> dict[str, object]:
    return {
        "id": r[0], "title": r[1], "description": r[2], "currency": r[3],
        "amountAwarded": r[4], "awardDate": r[5],
        "plannedDates": [{"startDate": r[6], "endDate": r[7], "duration": r[8]}],
        "recipientOrganization": [{"id": r[9], "name": r[10], "charityNumber": r[11],
                                   "streetAddress": r[12], "addressLocality": r[13],
                                   "postalCode": r[14], "addressCountry": r[15]}],
        "beneficiaryLocation": [{"name": r[16], "geoCode": r[17], "geoCodeType": "LAD"}],
        "fundingOrganization": [{"id": r[18], "name": r[19]}],
        "grantProgramme": [{"code": r[20], "title": r[21]}],
        "fromOpenCall": r[22], "dataSource": r[23], "dateModified": r[24]}


def write_files(n: int, xlsx_rows: int, folder: Path) -> dict[str, Path]:
    """The same grants as JSON and CSV (n) and XLSX (the first xlsx_rows), streamed."""
    paths = {"json": folder / "grants.json", "csv": folder / "grants.csv",
             "xlsx": folder / "grants.xlsx"}
    with paths["csv"].open("w", newline="", encoding="utf-8") as table, \
            paths["json"].open("w", encoding="utf-8") as package:
        writer = csv.writer(table)
        writer.writerow(COLUMNS)
        package.write('{"grants": [\n')
        for i, row in enumerate(grants(n)):
            writer.writerow(row)
            package.write((",\n" if i else "") + json.dumps(_json(row)))
        package.write("\n]}\n")
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("grants")
    sheet.append(COLUMNS)
    for row in grants(xlsx_rows):
        sheet.append(row)
    book.save(paths["xlsx"])
    return paths


FLOORS = {
    "ijson bare iteration": "import ijson, sys; b = ijson.get_backend('yajl2_c')\n"
                            "for _ in b.items(open(sys.argv[1], 'rb'), 'grants.item', "
                            "use_float=True): pass",
    "csv.reader bare iteration": "import csv, sys\n"
                                 "for _ in csv.reader(open(sys.argv[1], newline='')): pass",
    "openpyxl read-only iteration": "import openpyxl, sys\n"
                                    "b = openpyxl.load_workbook(sys.argv[1], read_only=True)\n"
                                    "for _ in b.worksheets[0].iter_rows(values_only=True): pass",
    "pandas json_normalize + groupby": (
        "import json, sys, pandas as pd\n"
        "g = pd.json_normalize(json.load(open(sys.argv[1]))['grants'], "
        "meta=['amountAwarded'], record_path=None)\n"
        "g['f'] = g['fundingOrganization'].str[0].str['id']\n"
        "g['p'] = g['grantProgramme'].str[0].str['title']\n"
        "g.groupby(['f', 'p', 'currency'])['amountAwarded'].agg(['count', 'min', 'median', "
        "'max', 'sum'])"),
    "duckdb read_json + GROUP BY": (
        "import duckdb, sys\n"
        "duckdb.sql(f\"SELECT fundingOrganization[1].id, grantProgramme[1].title, currency, "
        "count(*), min(amountAwarded), median(amountAwarded), max(amountAwarded), "
        "sum(amountAwarded) FROM (SELECT unnest(grants, max_depth := 2) FROM "
        "read_json('{sys.argv[1]}', maximum_object_size=2000000000)) GROUP BY ALL\").fetchall()"),
    "duckdb read_csv + GROUP BY": (
        "import duckdb, sys\n"
        "duckdb.sql(f\"SELECT \\\"Funding Org:Identifier\\\", \\\"Grant Programme:Title\\\", "
        "Currency, count(*), min(\\\"Amount Awarded\\\"), median(\\\"Amount Awarded\\\"), "
        "max(\\\"Amount Awarded\\\"), sum(\\\"Amount Awarded\\\") FROM "
        "read_csv('{sys.argv[1]}') GROUP BY ALL\").fetchall()"),
    "polars read_csv + group_by": (
        "import polars as pl, sys\n"
        "pl.read_csv(sys.argv[1]).group_by(['Funding Org:Identifier', 'Grant Programme:Title', "
        "'Currency']).agg(pl.col('Amount Awarded').median())"),
}
CASES = [("json", "ijson bare iteration"), ("json", "pandas json_normalize + groupby"),
         ("json", "duckdb read_json + GROUP BY"), ("json", "fundcmp import"),
         ("csv", "csv.reader bare iteration"), ("csv", "duckdb read_csv + GROUP BY"),
         ("csv", "polars read_csv + group_by"), ("csv", "fundcmp import"),
         ("xlsx", "openpyxl read-only iteration"), ("xlsx", "fundcmp import")]
NEEDS = {"pandas": "pandas", "duckdb": "duckdb", "polars": "polars"}


# `fundcmp` run in-process by a wrapper that writes, as it ends, the peaks (KB) of the
# importing process and of the largest child it waited for (its reader) to argv[1].
IMPORTER = ("import resource, sys\n"
            "peaks = sys.argv.pop(1)\n"
            "sys.argv[0] = 'fundcmp'\n"
            "try:\n"
            "    from fundcmp.__main__ import main\n"
            "    main()\n"
            "finally:\n"
            "    with open(peaks, 'w') as out:\n"
            "        out.write(f'{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} '\n"
            "                  f'{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}')\n")


class Run(NamedTuple):
    seconds: float
    cpu: float  # user + system, the process's and its waited-for children's
    peak: int  # MB: the process's maxrss (wait4), or, for fundcmp, its own plus its child's
    status: int
    peaks: tuple[int, int] | None  # MB: fundcmp's importing process and its reader child


def timed(argv: list[str], peaks: Path | None = None) -> Run:
    """Seconds, CPU seconds, peak memory in MB and exit status of one fresh process."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    apart = None
    if peaks is not None and peaks.exists():
        own, reader = (int(kb) // 1024 for kb in peaks.read_text().split())
        apart = (own, reader)
    peak = sum(apart) if apart else usage.ru_maxrss // 1024
    return Run(seconds, cpu, peak, os.waitstatus_to_exitcode(status), apart)


def installed(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"],
                          capture_output=True).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each case; the table shows the median time, the top peak")
    parser.add_argument("--tools-python", metavar="PYTHON", default=sys.executable,
                        help="the Python with pandas, duckdb and polars installed")
    parser.add_argument("--write", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        write_files(args.grants, args.xlsx_rows, Path(args.write))
        return
    with tempfile.TemporaryDirectory() as folder:
        # Written by a child process: Linux starts a child's maxrss at its parent's size, so
        # this process stays small and the peaks below are the children's own.
        subprocess.run([sys.executable, __file__, "--write", folder, "--grants",
                        str(args.grants), "--xlsx-rows", str(args.xlsx_rows)], check=True)
        paths = {fmt: Path(folder) / f"grants.{fmt}" for fmt in ("json", "csv", "xlsx")}
        runs: dict[tuple[str, str], list[Run]] = {}
        peaks = Path(folder) / "peaks"
        skipped: dict[tuple[str, str], str] = {}
        for _ in range(args.repeat):  # interleaved: a slow spell of the machine hits every case
            for fmt, name in CASES:
                tool = next((m for word, m in NEEDS.items() if word in name), None)
                if tool and not installed(args.tools_python, tool):
                    skipped[(fmt, name)] = f"skipped: {tool} not installed"
                    continue
                peaks.unlink(missing_ok=True)
                if name == "fundcmp import":
                    argv = [sys.executable, "-c", IMPORTER, str(peaks), "import",
                            str(paths[fmt]), "--into", str(Path(folder) / "r.yaml"), "--dry-run"]
                else:
                    python = args.tools_python if tool else sys.executable
                    argv = [python, "-c", FLOORS[name], str(paths[fmt])]
                runs.setdefault((fmt, name), []).append(
                    timed(argv, peaks if name == "fundcmp import" else None))
        results: list[tuple[str, str, Run | None, str]] = []
        for fmt, name in CASES:
            if (fmt, name) in skipped:
                results.append((fmt, name, None, skipped[(fmt, name)]))
                continue
            measured = runs[(fmt, name)]
            failed = [run.status for run in measured if run.status != 0]
            top = max(measured, key=lambda run: run.peak)
            results.append((fmt, name, Run(statistics.median(run.seconds for run in measured),
                                           statistics.median(run.cpu for run in measured),
                                           top.peak, failed[0] if failed else 0, top.peaks),
                            f"exit {failed[0]}" if failed else ""))
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    rows = f"{args.grants:,} grants (JSON, CSV), {args.xlsx_rows:,} rows (XLSX), " \
        f"median of {args.repeat} run{'s' if args.repeat != 1 else ''}"
    print(f"{rows}; this script's own peak {own} MB (a child's peak at or below it means "
          "no more than that)")
    print("| format | what | seconds | CPU seconds | peak MB | note |")
    print("| --- | --- | --- | --- | --- | --- |")
    floor: dict[str, float] = {}
    for fmt, name, run, note in results:
        if run is None:
            print(f"| {fmt} | {name} | - | - | - | {note} |")
            continue
        if "iteration" in name:
            floor[fmt] = run.seconds
        if name == "fundcmp import" and fmt in floor:
            note = f"{run.seconds / floor[fmt]:.2f}x the bare iteration " + note
        peak = f"{run.peak}" if run.peaks is None else \
            f"{run.peak} ({run.peaks[0]} importing + {run.peaks[1]} reader child)"
        print(f"| {fmt} | {name} | {run.seconds:.2f} | {run.cpu:.2f} | {peak} | {note} |")

if __name__ == "__main__":
    main()
