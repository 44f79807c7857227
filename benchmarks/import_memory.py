"""Peak memory of `fundcmp import` at 100,000 and 1,000,000 grants.

Writes two 360Giving JSON data packages (streamed, one grant a line) with the
same 60 programmes of 6 funders, imports each in a fresh child process
(`python -m fundcmp import FILE --into NEW.yaml`) and reads that child's peak
resident set size from os.wait4. The import should not grow with the file: the
two peaks should be within 1.2x of each other.

    python benchmarks/import_memory.py            # 100,000 and 1,000,000 grants
    python benchmarks/import_memory.py 1000 10000 # other sizes (a quick check)
    python benchmarks/import_memory.py --csv      # the same grants as CSV

Files go to a temporary directory that is removed afterwards (about 0.5 GB for
a million grants).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FUNDERS = 6
PROGRAMMES_EACH = 10
COLUMNS = ["Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
           "Planned Dates:Start Date", "Planned Dates:End Date",
           "Planned Dates:Duration (months)", "Recipient Org:Identifier", "Recipient Org:Name",
           "Funding Org:Identifier", "Funding Org:Name", "Grant Programme:Code",
           "Grant Programme:Title"]


def grants(count: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """count grant objects, made one at a time."""
    rng = random.Random(seed)
    for i in range(count):
        funder = rng.randrange(FUNDERS)
        programme = rng.randrange(PROGRAMMES_EACH)
        year = rng.randint(2010, 2024)
        yield {
            "id": f"360G-BENCH-{i}", "title": f"Grant {i}", "description": "A grant.",
            "currency": "GBP", "amountAwarded": round(rng.uniform(500, 500000), 2),
            "awardDate": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "plannedDates": [{"startDate": f"{year}-{rng.randint(1, 12):02d}",
                              "endDate": f"{year + rng.randint(1, 4)}",
                              **({"duration": rng.randint(6, 48)} if i % 3 else {})}],
            "recipientOrganization": [{"id": f"GB-CHC-{rng.randrange(count // 2 + 1)}",
                                       "name": "A recipient"}],
            "fundingOrganization": [{"id": f"GB-CHC-99{funder:04d}",
                                     "name": f"Funder {funder}"}],
            "grantProgramme": [{"code": f"F{funder}P{programme}",
                                "title": f"Programme {programme}"}],
        }


def write_json(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write('{"publisher": {"name": "Benchmark"}, "grants": [\n')
        for i, grant in enumerate(grants(count)):
            out.write((",\n" if i else "") + json.dumps(grant))
        out.write("\n]}\n")


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for g in grants(count):
            planned, funder = g["plannedDates"][0], g["fundingOrganization"][0]
            writer.writerow([
                g["id"], g["title"], g["description"], g["currency"], g["amountAwarded"],
                g["awardDate"], planned["startDate"], planned["endDate"],
                planned.get("duration", ""), g["recipientOrganization"][0]["id"], "A recipient",
                funder["id"], funder["name"], g["grantProgramme"][0]["code"],
                g["grantProgramme"][0]["title"],
            ])


def peak_rss_mib(data: Path, into: Path) -> tuple[float, float, int]:
    """(peak RSS in MiB, seconds, exit status) of one import in a fresh process."""
    began = time.monotonic()
    child = subprocess.Popen([sys.executable, "-m", "fundcmp", "import", str(data), "--into",
                              str(into)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 3):
        sys.exit(f"import of {data} failed: {child.stderr.read().decode() if child.stderr else ''}")
    rss_kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss / 1024
    return rss_kib / 1024, seconds, child.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--csv", action="store_true", help="CSV files instead of JSON")
    args = parser.parse_args()
    peaks = []
    with tempfile.TemporaryDirectory(prefix="fundcmp-bench-") as tmp:
        for size in args.sizes:
            data = Path(tmp) / f"grants-{size}.{'csv' if args.csv else 'json'}"
            began = time.monotonic()
            (write_csv if args.csv else write_json)(data, size)
            made = time.monotonic() - began
            rss, seconds, status = peak_rss_mib(data, Path(tmp) / f"registry-{size}.yaml")
            peaks.append(rss)
            print(f"{size:>9,} grants  file {data.stat().st_size / 2**20:8.1f} MiB "
                  f"(made in {made:5.1f} s)  import {seconds:6.1f} s  peak RSS {rss:6.1f} MiB"
                  f"  exit {status}")
            data.unlink()
    ratio = max(peaks) / min(peaks)
    verdict = "within" if ratio <= 1.2 else "NOT within"
    print(f"largest / smallest peak RSS = {ratio:.3f}: {verdict} 1.2x")


if __name__ == "__main__":
    main()
