"""Time fundcmp against the floors it cannot beat, in one run, and say whether the targets hold.

    python benchmarks/run.py                    # everything: shipped, 1k and 100k registries
    python benchmarks/run.py --sizes 1000       # a quick run

Each generated size is measured as YAML (what people write) and as JSON Lines
(what `fundcmp import` writes). "Cold" is the first run with an empty cache
directory: the registry is parsed, validated and indexed. "Warm" reads the
index. "After import" is the first run after `fundcmp import` of 1,000 grants
wrote the registry (the import derives the new index from the old one); "after
import made it", the first run after `fundcmp import` made a new registry of as
many programmes from 2 grants a programme (the import writes its index).
"List on a terminal" runs under a pseudo-terminal, as a person sees it.

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
import pty
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
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
    """One command line, timed as a fresh process each round (after `before`, untimed)."""

    name: str
    registry: str
    argv: list[str]
    rounds: int
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)
    tree_peak_kb: list[int] = field(default_factory=list)
    before: Callable[[], None] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    terminal: bool = False

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mb(self) -> float:
        """The median over rounds of the peak summed over the processes running at once."""
        return statistics.median(self.tree_peak_kb) / 1024


@dataclass
class Run:
    """One child's wall and CPU seconds (user + sys, its waited-for descendants included),
    its own peak resident KB, and the peak of the sum over it and its descendants."""

    seconds: float
    cpu_seconds: float
    peak_kb: int
    tree_peak_kb: int


class TreeMemory:
    """Samples the resident memory summed over a process and its descendants (Linux /proc)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
        self._thread.start()

    def _tree(self, pid: int) -> list[int]:
        found = [pid]
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    for child in children.read().split():
                        found += self._tree(int(child))
        except OSError:
            pass
        return found

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            total = 0
            for pid in self._tree(self.pid):
                try:
                    with open(f"/proc/{pid}/statm") as statm:
                        total += int(statm.read().split()[1]) * self._page_kb
                except (OSError, ValueError, IndexError):
                    pass
            self.peak_kb = max(self.peak_kb, total)

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak_kb


def run_once(argv: list[str], env: dict[str, str], terminal: bool = False,
             ok: tuple[int, ...] = (0,)) -> Run:
    """Time and memory of one child process (see Run); a failing command stops the run.

    With `terminal`, stdout is a pseudo-terminal whose output is read (and dropped) as it comes.
    """
    drain = None
    if terminal:
        leader, follower = pty.openpty()
        drain = threading.Thread(target=_drain, args=(leader,), daemon=True)
        drain.start()
        stdout: int = follower
    else:
        stdout = subprocess.DEVNULL
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, env=env)
    tree = TreeMemory(child.pid)
    if terminal:
        os.close(follower)
    assert child.stderr is not None
    try:
        stderr = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
    except BaseException:  # interrupted: leave no child running behind
        child.kill()
        child.wait()
        raise
    finally:
        tree_peak = tree.stop()
    elapsed = time.perf_counter() - start
    if drain is not None:
        drain.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in ok:
        sys.exit(f"benchmark: {' '.join(argv)} failed ({child.returncode}):\n"
                 f"{stderr.decode(errors='replace')}")
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
               max(tree_peak, usage.ru_maxrss))


def _drain(fd: int) -> None:
    """Read a pseudo-terminal until its last writer closes it."""
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def first_slugs(path: Path) -> list[str]:
    """The first two programmes' slugs, reading no more of the file than needed."""
    slugs: list[str] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            match = SLUG_LINE.match(line.rstrip("\n"))
            if match:
                slugs.append(match.group(1))
            elif line.startswith('{"slug": '):
                slugs.append(json.loads(line)["slug"])
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
    parser.add_argument("--sizes", default="1000,100000",
                        help="generated registry sizes, comma-separated (default 1000,100000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--rounds", type=int, default=15,
                        help="rounds for the floors and the shipped registry (default 15); "
                             "generated registries under 100,000 get a third of that")
    parser.add_argument("--large-rounds", type=int, default=3,
                        help="rounds for registries of 100,000 or more (default 3; the cold "
                             "YAML cases, a minute or more each, get 2)")
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
    cases: list[Case] = [
        Case("python -c pass", "-", [python, "-c", "pass"], args.rounds),
        Case("import click, yaml", "-", [python, "-c", "import click, yaml"], args.rounds),
        Case("import click, yaml, rich", "-",
             [python, "-c", "import click, yaml, rich.console, rich.table"], args.rounds),
    ]
    shipped = [*fundcmp, "--registry", str(SHIPPED)]
    cases += [
        Case("rank tsv, warm", "shipped", [*shipped, "rank", "--by", "funding", "--format",
                                           "tsv"], args.rounds),
        Case("rank tsv, --no-cache", "shipped", [*fundcmp, "--no-cache", "--registry",
                                                 str(SHIPPED), "rank", "--by", "funding",
                                                 "--format", "tsv"], args.rounds),
        Case("list table, warm", "shipped", [*shipped, "list", "--format", "table"],
             args.rounds),
        Case("compare two, table", "shipped", [*shipped, "compare", *first_slugs(SHIPPED),
                                               "--format", "table"], args.rounds),
    ]
    counts = {"shipped": len(SLUG_LINE.findall(SHIPPED.read_text(encoding="utf-8")))}
    grants = work / "grants-1000.json"
    subprocess.run([python, str(HERE / "generate.py"), "1000", "--grants", "300", "--seed",
                    str(args.seed), "-o", str(grants)], check=True)
    warm_up: list[list[str]] = [[*shipped, "list"]]
    for size in sizes:
        big = size >= 100_000
        rounds = args.large_rounds if big else max(3, args.rounds // 3)
        label = f"{size:,}"
        counts[label] = size
        yaml_path = work / f"registry-{size}.yaml"
        jsonl_path = work / f"registry-{size}.jsonl"
        subprocess.run([python, str(HERE / "generate.py"), str(size), "--seed", str(args.seed),
                        "-o", str(yaml_path)], check=True)
        subprocess.run([python, str(HERE / "generate.py"), str(size), "--seed", str(args.seed),
                        "--jsonl", "-o", str(jsonl_path)], check=True)
        slugs = first_slugs(jsonl_path)
        empty = work / f"empty-cache-{size}"
        cold_env = {"XDG_CACHE_HOME": str(empty)}

        def emptied(folder: Path = empty) -> None:
            shutil.rmtree(folder, ignore_errors=True)

        imported = work / f"imported-{size}.jsonl"

        def restored(source: Path = jsonl_path, target: Path = imported) -> None:
            shutil.copyfile(source, target)

        # A registry an import made from nothing: the first run on it, after that import.
        making = work / f"grants-making-{size}.json"
        subprocess.run([python, str(HERE / "generate.py"), str(2 * size), "--grants",
                        str(size), "--seed", str(args.seed), "-o", str(making)], check=True)
        made = work / f"made-{size}.jsonl"
        made_env = {"XDG_CACHE_HOME": str(work / f"made-cache-{size}")}

        def made_by_import(grants: Path = making, target: Path = made,
                           cache_env: dict[str, str] = made_env) -> None:
            target.unlink(missing_ok=True)
            shutil.rmtree(cache_env["XDG_CACHE_HOME"], ignore_errors=True)
            run_once([*fundcmp, "import", str(grants), "--into", str(target)],
                     {**env, **cache_env}, ok=(0, 3))

        yaml_args = [*fundcmp, "--registry", str(yaml_path)]
        jsonl_args = [*fundcmp, "--registry", str(jsonl_path)]
        rank = ["rank", "--by", "funding", "--format", "tsv"]
        cases += [
            Case("bare parse, GC off", f"{label} yaml", [python, "-c", PARSE_NO_GC,
                                                         str(yaml_path)], 2 if big else rounds),
            Case("rank tsv, cold", f"{label} yaml", [*yaml_args, *rank], 2 if big else rounds,
                 before=emptied, extra_env=cold_env),
            Case("rank tsv, warm", f"{label} yaml", [*yaml_args, *rank], rounds),
            Case("rank tsv, cold", f"{label} jsonl", [*jsonl_args, *rank], rounds,
                 before=emptied, extra_env=cold_env),
            Case("rank tsv, warm", f"{label} jsonl", [*jsonl_args, *rank], rounds),
            Case("compare two, warm", f"{label} jsonl", [*jsonl_args, "compare", *slugs],
                 rounds),
            Case("list on a terminal, warm", f"{label} jsonl", [*jsonl_args, "list"], rounds,
                 terminal=True),
            Case("import 1,000 grants", f"{label} jsonl",
                 [*fundcmp, "import", str(grants), "--into", str(imported)], rounds,
                 before=restored),
            Case("rank tsv, after import", f"{label} jsonl",
                 [*fundcmp, "--registry", str(imported), *rank], rounds),
            Case("rank tsv, after import made it", f"{label} jsonl",
                 [*fundcmp, "--registry", str(made), *rank], 2 if big else rounds,
                 before=made_by_import, extra_env=made_env),
        ]
        # fill the cache, so "warm" means warm (the imported copy's from the original's)
        restored()
        warm_up += [[*yaml_args, *rank], [*jsonl_args, *rank],
                    [*fundcmp, "--registry", str(imported), *rank]]

    print(f"fundcmp: {' '.join(fundcmp)}\npython: {python}", flush=True)
    compile_package(python)
    for argv in warm_up:
        run_once(argv, env)

    total_rounds = max(c.rounds for c in cases)
    for r in range(total_rounds):
        due = [c for c in cases if len(c.seconds) < c.rounds]
        shift = r % len(due)
        # an import and the rank after it run in that order, so rotate only whole rounds
        ordered = due if any(c.before for c in due) else due[shift:] + due[:shift]
        for case in ordered:
            if case.before is not None:
                case.before()
            run = run_once(case.argv, {**env, **case.extra_env}, case.terminal,
                           ok=(0, 3) if case.name.startswith("import") else (0,))
            case.seconds.append(run.seconds)
            case.cpu_seconds.append(run.cpu_seconds)
            case.peak_kb.append(run.peak_kb)
            case.tree_peak_kb.append(run.tree_peak_kb)
        print(f"round {r + 1}/{total_rounds} done", file=sys.stderr, flush=True)

    tsv_cmd = [*shipped, "rank", "--by", "funding", "--format", "tsv"]
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
          f"{'cpu s':>9} {'peak MB':>8} {'sum MB':>8} {'n':>3}")
    for c in cases:
        print(f"{c.name:<30} {c.registry:>9} {c.median:>10.4f} {min(c.seconds):>9.4f} "
              f"{max(c.seconds):>9.4f} {statistics.median(c.cpu_seconds):>9.3f} "
              f"{statistics.median(c.peak_kb) / 1024:>8.1f} {c.peak_mb:>8.1f} "
              f"{len(c.seconds):>3}")

    targets = []

    def target(what: str, name: str, registry: str, floor: str, floor_registry: str,
               limit: float | None) -> None:
        value = ratio(name, registry, floor, floor_registry)
        targets.append({"what": what, "registry": registry, "floor": floor, "ratio": value,
                        "cpu_s": statistics.median(find[(name, registry)].cpu_seconds),
                        "limit": limit, "met": limit is None or value <= limit})

    def absolute(what: str, name: str, registry: str, seconds: float | None,
                 megabytes: float | None) -> None:
        case = find[(name, registry)]
        peak = case.peak_mb  # the processes running at once, summed (a cold build's workers)
        met = (seconds is None or case.median <= seconds) and \
            (megabytes is None or peak <= megabytes)
        targets.append({"what": what, "registry": registry, "floor": "-",
                        "ratio": case.median, "cpu_s": statistics.median(case.cpu_seconds),
                        "peak_mb": peak, "limit": seconds, "limit_mb": megabytes, "met": met})

    target("rank tsv, warm", "rank tsv, warm", "shipped", "import click, yaml", "-", 1.3)
    target("rank tsv, --no-cache", "rank tsv, --no-cache", "shipped", "import click, yaml",
           "-", 1.3)
    target("list table", "list table, warm", "shipped", "import click, yaml, rich", "-", 1.2)
    target("compare table", "compare two, table", "shipped", "import click, yaml, rich", "-",
           1.2)
    sized = [label for label in counts if label != "shipped"]
    for label in sized:
        big = counts[label] >= 100_000
        target("YAML rank tsv, cold", "rank tsv, cold", f"{label} yaml", "bare parse, GC off",
               f"{label} yaml", 1.0 if big else None)
        if not big:
            continue
        for name, registry, seconds in (
                ("rank tsv, warm", f"{label} jsonl", 1.0),
                ("rank tsv, warm", f"{label} yaml", 1.0),
                ("rank tsv, after import", f"{label} jsonl", 10.0),
                ("rank tsv, after import made it", f"{label} jsonl", 10.0),
                ("rank tsv, cold", f"{label} jsonl", 10.0),
                ("compare two, warm", f"{label} jsonl", 0.5),
                ("list on a terminal, warm", f"{label} jsonl", 1.0),
                ("import 1,000 grants", f"{label} jsonl", 10.0)):
            absolute(f"{name} <= {seconds} s, <= 300 MB", name, registry, seconds, 300)
    if len(sized) >= 2:
        first, last = sized[0], sized[-1]
        # Start-up is the same command on the shipped registry: parsing it for a cold run,
        # reading it from the small cache for a warm one.
        for name, start_case in (("rank tsv, cold", "rank tsv, --no-cache"),
                                 ("rank tsv, warm", "rank tsv, warm")):
            start = find[(start_case, "shipped")].median

            def per_programme(label: str, name: str = name, start: float = start) -> float:
                took = find[(name, f"{label} jsonl")].median
                return (took - start) / counts[label]

            if per_programme(first) <= 0:  # lost in the noise of start-up: no ratio to take
                print(f"{name}: the {first} registry is no slower than start-up")
                continue
            growth = per_programme(last) / per_programme(first)
            print(f"{name}, JSON Lines: seconds per programme beyond start-up: "
                  + ", ".join(f"{label}: {per_programme(label) * 1e6:.1f} us" for label in
                              (first, last)))
            targets.append({"what": f"{name} per programme, {last} / {first}",
                            "registry": f"{first}->{last}",
                            "floor": "same command on the smaller registry", "ratio": growth,
                            "limit": 1.2, "met": growth <= 1.2})
    no_rich = all(not (set(v) & {"rich", "tabulate"}) for v in imports.values())
    targets.append({"what": "rich or tabulate imported by rank tsv", "registry": "shipped",
                    "floor": "-", "ratio": None, "limit": None, "met": no_rich,
                    "imports": imports})

    print(f"\n{'ratio':<52} {'registry':>15} {'floor':<26} {'x':>7} {'target':>7}  ok")
    for t in targets:
        shown = "-" if t["ratio"] is None else f"{t['ratio']:.3f}"
        if "peak_mb" in t:
            shown += f"s {t['peak_mb']:.0f}MB"
        if "cpu_s" in t:
            shown += f" ({t['cpu_s']:.1f} s CPU)"
        limit = "-" if t["limit"] is None else f"<={t['limit']}"
        met = "yes" if t["met"] else "NO"
        if t["limit"] is None and t["ratio"] is not None:
            met = "(info)"
        print(f"{t['what']:<52} {t['registry']:>15} {t['floor']:<26} {shown:>7} {limit:>7}  "
              f"{met}")
    print(f"\nimports of rank tsv among rich/tabulate/yaml: {imports}")
    return {"cases": [{"name": c.name, "registry": c.registry, "argv": c.argv,
                       "seconds": c.seconds, "median_s": c.median,
                       "cpu_seconds": c.cpu_seconds,
                       "median_cpu_s": statistics.median(c.cpu_seconds),
                       "peak_rss_mb": statistics.median(c.peak_kb) / 1024,
                       "peak_rss_sum_mb": c.peak_mb} for c in cases],
            "programmes": counts, "targets": targets}


if __name__ == "__main__":
    sys.exit(main())
