"""Time fundcmp against the floors it cannot beat, in one run, and say whether the targets hold.

    python benchmarks/run.py                    # everything: shipped, 1k, 10k, 100k registries
    python benchmarks/run.py --sizes 1000       # a quick run

Floors and fundcmp commands run as fresh processes, interleaved (one round
runs every case once, in an order rotated each round), several rounds; the
table shows medians, peak memory (each child's own maxrss, from wait4) and
the ratio of each fundcmp command to its floor. The same numbers go to JSON.
Only public tools are used: the Python running this script, and fundcmp's
console script installed beside it.

fundcmp is byte-compiled first, as an installed package is.

Peak memory: Linux starts a child's maxrss at its parent's resident size, so
this script stays small (registries are generated in a child process) and
reports its own size; a figure at or below it means "no more than that".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHIPPED = HERE.parent / "fundcmp" / "programmes.yaml"
PARSE = ("import sys, yaml; "
         "yaml.load(open(sys.argv[1], 'rb'), Loader=yaml.CSafeLoader)")
PARSE_NO_GC = "import gc; gc.disable(); " + PARSE
SLUG_LINE = re.compile(r"^  - slug: (\S+)$", re.MULTILINE)


@dataclass
class Case:
    """One command line, timed as a fresh process each round."""

    name: str
    registry: str
    argv: list[str]
    rounds: int
    seconds: list[float] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak resident KB of one child process; a failing command stops the run."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert child.stderr is not None
    try:
        stderr = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
    except BaseException:  # interrupted: leave no child running behind
        child.kill()
        child.wait()
        raise
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"benchmark: {' '.join(argv)} failed ({child.returncode}):\n"
                 f"{stderr.decode(errors='replace')}")
    return elapsed, usage.ru_maxrss


def first_slugs(path: Path) -> list[str]:
    """The first two programmes' slugs, reading no more of the file than needed."""
    slugs: list[str] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            match = SLUG_LINE.match(line.rstrip("\n"))
            if match:
                slugs.append(match.group(1))
                if len(slugs) == 2:
                    return slugs
    raise SystemExit(f"benchmark: fewer than two programmes in {path}")


def compile_package(python: str) -> None:
    """Byte-compile fundcmp, as `pip install` does, so runs time the program, not the compiler.

    An editable install under PYTHONDONTWRITEBYTECODE=1 would otherwise recompile
    every module on every run, while click, yaml and rich load their .pyc files.
    """
    where = subprocess.run([python, "-c", "import fundcmp, os; print(os.path.dirname("
                            "fundcmp.__file__))"], capture_output=True, text=True, check=True)
    subprocess.run([python, "-m", "compileall", "-q", where.stdout.strip()], check=True)


def fundcmp_command(python: str) -> list[str]:
    """The console script installed beside this Python, as a user runs it; else -m."""
    script = Path(python).parent / "fundcmp"
    return [str(script)] if script.exists() else [python, "-m", "fundcmp"]


def modules_imported(argv: list[str], env: dict[str, str]) -> set[str]:
    """Top-level packages a command imports, from Python's own -X importtime report."""
    done = subprocess.run(argv, env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
                          capture_output=True, text=True, check=True)
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def machine() -> dict[str, str | int]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count() or 0, "cpu_model": model, "python": platform.python_version(),
            "platform": platform.platform(),
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="generated registry sizes, comma-separated "
                             "(default 1000,10000,100000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--rounds", type=int, default=15,
                        help="rounds for the floors and the shipped registry (default 15); "
                             "generated registries under 100,000 get a third of that")
    parser.add_argument("--large-rounds", type=int, default=3,
                        help="rounds for registries of 100,000 or more (default 3)")
    parser.add_argument("--json", type=Path, default=HERE / "results.json",
                        help="where to write the numbers (default benchmarks/results.json)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]

    python = sys.executable
    fundcmp = fundcmp_command(python)
    work = Path(tempfile.mkdtemp(prefix="fundcmp-bench-"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("FUNDCMP_NO_CACHE", "FUNDCMP_REGISTRY", "PYTHONPROFILEIMPORTTIME")}
    env["XDG_CACHE_HOME"] = str(work / "cache")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still remove the work directory
    try:
        return measure(args, sizes, python, fundcmp, work, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(args: argparse.Namespace, sizes: list[int], python: str, fundcmp: list[str],
            work: Path, env: dict[str, str]) -> int:
    registries: list[tuple[str, Path, int]] = [("shipped", SHIPPED, 0)]
    for size in sizes:
        path = work / f"registry-{size}.yaml"
        subprocess.run([python, str(HERE / "generate.py"), str(size), "--seed", str(args.seed),
                        "-o", str(path)], check=True)
        registries.append((f"{size:,}", path, size))

    cases: list[Case] = [
        Case("python -c pass", "-", [python, "-c", "pass"], args.rounds),
        Case("import click, yaml", "-", [python, "-c", "import click, yaml"], args.rounds),
        Case("import click, yaml, rich", "-",
             [python, "-c", "import click, yaml, rich.console, rich.table"], args.rounds),
    ]
    counts = {}
    for label, path, size in registries:
        if size >= 100_000:
            rounds = args.large_rounds
        else:
            rounds = args.rounds if not size else max(3, args.rounds // 3)
        slugs = first_slugs(path)
        counts[label] = size or len(SLUG_LINE.findall(path.read_text(encoding="utf-8")))
        base = [*fundcmp, "--registry", str(path)]
        cases += [
            Case("bare CSafeLoader parse", label, [python, "-c", PARSE, str(path)], rounds),
            Case("bare parse, GC off", label, [python, "-c", PARSE_NO_GC, str(path)], rounds),
            Case("rank tsv, cold (--no-cache)", label,
                 [*fundcmp, "--no-cache", "--registry", str(path),
                  "rank", "--by", "funding", "--format", "tsv"], rounds),
            Case("rank tsv, warm (cached)", label,
                 [*base, "rank", "--by", "funding", "--format", "tsv"], rounds),
            Case("list --format table", label, [*base, "list", "--format", "table"], rounds),
            Case("compare two, table", label,
                 [*base, "compare", *slugs, "--format", "table"], rounds),
        ]

    print(f"fundcmp: {' '.join(fundcmp)}\npython: {python}", flush=True)
    compile_package(python)
    for _, path, _ in registries:  # fill the cache, so "warm" means warm
        run_once([*fundcmp, "--registry", str(path), "rank", "--by", "funding"], env)

    total_rounds = max(c.rounds for c in cases)
    for r in range(total_rounds):
        due = [c for c in cases if len(c.seconds) < c.rounds]
        shift = r % len(due)
        for case in due[shift:] + due[:shift]:
            seconds, peak = run_once(case.argv, env)
            case.seconds.append(seconds)
            case.peak_kb.append(peak)
        print(f"round {r + 1}/{total_rounds} done", file=sys.stderr, flush=True)

    tsv_cmd = [*fundcmp, "--registry", str(SHIPPED), "rank", "--by", "funding", "--format", "tsv"]
    imports = {
        "rank tsv, warm": sorted(modules_imported(tsv_cmd, env) & {"rich", "tabulate", "yaml"}),
        "rank tsv, cold": sorted(modules_imported([*tsv_cmd[:1], "--no-cache", *tsv_cmd[1:]],
                                                  env) & {"rich", "tabulate", "yaml"}),
    }
    own_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nthis script's own peak: {own_peak_mb:.1f} MB (memory figures at or below it are "
          "upper bounds)")
    results = report(cases, counts, imports)
    results["machine"] = machine()
    results["benchmark_own_peak_rss_mb"] = own_peak_mb
    results["fundcmp_command"] = fundcmp
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.json}")
    return 0 if all(t["met"] for t in results["targets"]) else 1


def report(cases: list[Case], counts: dict[str, int],
           imports: dict[str, list[str]]) -> dict[str, object]:
    """Print the tables and return the same numbers for JSON."""
    find = {(c.name, c.registry): c for c in cases}

    def ratio(name: str, registry: str, floor: str, floor_registry: str) -> float:
        return find[(name, registry)].median / find[(floor, floor_registry)].median

    print(f"\n{'case':<30} {'registry':>9} {'median s':>10} {'min s':>9} {'max s':>9} "
          f"{'peak MB':>8} {'n':>3}")
    for c in cases:
        print(f"{c.name:<30} {c.registry:>9} {c.median:>10.4f} {min(c.seconds):>9.4f} "
              f"{max(c.seconds):>9.4f} {statistics.median(c.peak_kb) / 1024:>8.1f} "
              f"{len(c.seconds):>3}")

    targets = []

    def target(what: str, name: str, registry: str, floor: str, floor_registry: str,
               limit: float | None) -> None:
        value = ratio(name, registry, floor, floor_registry)
        targets.append({"what": what, "registry": registry, "floor": floor, "ratio": value,
                        "limit": limit, "met": limit is None or value <= limit})

    target("rank tsv, warm", "rank tsv, warm (cached)", "shipped",
           "import click, yaml", "-", 1.3)
    target("rank tsv, cold", "rank tsv, cold (--no-cache)", "shipped",
           "import click, yaml", "-", 1.3)
    target("list table", "list --format table", "shipped", "import click, yaml, rich", "-", 1.2)
    target("compare table", "compare two, table", "shipped", "import click, yaml, rich", "-",
           1.2)
    sized = [label for label in counts if label != "shipped"]
    for label in sized:
        big = counts[label] >= 100_000
        for floor, strict in (("bare CSafeLoader parse", True), ("bare parse, GC off", False)):
            target("rank tsv, cold", "rank tsv, cold (--no-cache)", label, floor, label,
                   1.5 if big and strict else None)
            target("rank tsv, warm", "rank tsv, warm (cached)", label, floor, label,
                   0.3 if big and strict else None)
    if len(sized) >= 2:
        first, last = sized[0], sized[-1]
        start = find[("rank tsv, cold (--no-cache)", "shipped")].median

        def per_programme(label: str) -> float:
            cold = find[("rank tsv, cold (--no-cache)", label)].median
            return (cold - start) / counts[label]

        growth = per_programme(last) / per_programme(first)
        targets.append({"what": f"cold rank cost per programme, {last} / {first}",
                        "registry": f"{first}->{last}",
                        "floor": "same command on the smaller registry", "ratio": growth,
                        "limit": 1.5, "met": growth <= 1.5})
    no_rich = all(not (set(v) & {"rich", "tabulate"}) for v in imports.values())
    targets.append({"what": "rich or tabulate imported by rank tsv", "registry": "shipped",
                    "floor": "-", "ratio": None, "limit": None, "met": no_rich,
                    "imports": imports})

    print(f"\n{'ratio':<52} {'registry':>15} {'floor':<26} {'x':>7} {'target':>7}  ok")
    for t in targets:
        shown = "-" if t["ratio"] is None else f"{t['ratio']:.3f}"
        limit = "-" if t["limit"] is None else f"<={t['limit']}"
        met = "yes" if t["met"] else "NO"
        if t["limit"] is None and t["ratio"] is not None:
            met = "(info)"
        print(f"{t['what']:<52} {t['registry']:>15} {t['floor']:<26} {shown:>7} {limit:>7}  "
              f"{met}")
    print(f"\nimports of rank tsv among rich/tabulate/yaml: {imports}")
    return {"cases": [{"name": c.name, "registry": c.registry, "argv": c.argv,
                       "seconds": c.seconds, "median_s": c.median,
                       "peak_rss_mb": statistics.median(c.peak_kb) / 1024} for c in cases],
            "programmes": counts, "targets": targets}


if __name__ == "__main__":
    sys.exit(main())
