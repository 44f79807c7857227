"""Standard streams and temporary space that misbehave (issue 10, items 10, 11, 15).

A full temporary directory during an import, a closed stderr, and a reader
that stops early (`| head -1`) each get a deterministic exit and no traceback.
Run as real processes: the streams are the point.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fundcmp.registry import load

from .test_import import grant, write_json

PARALLEL_PIPELINES = 10


def fundcmp(*args: str) -> list[str]:
    return [sys.executable, "-m", "fundcmp", *args]


def _small_file_limit() -> None:
    """In the child: files may not grow past 64 KiB, and writing past it fails with EFBIG
    (as on a full disk) instead of killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, 1 << 16))


def test_a_full_temporary_directory_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    # 12 MB of grants: more than SQLite keeps in memory, so its temporary table spills to disk
    grants = [{"id": f"360G-FULL-{i:08d}", "amountAwarded": 1000 + i, "currency": "GBP",
               "awardDate": "2020-01-01", "fundingOrganization": [{"id": "GB-1", "name": "F"}],
               "grantProgramme": [{"code": "P", "title": "T"}],
               "recipientOrganization": [{"id": f"GB-R-{i:08d}-" + "x" * 1000}]}
              for i in range(12_000)]
    data = tmp_path / "big.json"
    data.write_text(json.dumps({"grants": grants}), "utf-8")
    target = tmp_path / "r.yaml"
    done = subprocess.run(fundcmp("import", str(data), "--into", str(target)),
                          capture_output=True, text=True, timeout=120, check=False,
                          preexec_fn=_small_file_limit)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("fundcmp: cannot keep the grants in a temporary file in ")
    assert done.stderr.endswith("; nothing was written (set TMPDIR to a directory with more "
                                "room)\n")
    assert not target.exists()


def _closed_stderr() -> None:
    os.close(2)


def test_an_import_with_stderr_closed_still_imports(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [grant("G-1"), grant("G-2", amount="bad")])
    target = tmp_path / "r.yaml"
    done = subprocess.run(fundcmp("import", str(data), "--into", str(target)),
                          stdout=subprocess.PIPE, text=True, timeout=60, check=False,
                          preexec_fn=_closed_stderr)
    assert done.returncode == 3  # one bad grant skipped: the warning had nowhere to go
    assert f"wrote {target}" in done.stdout
    assert [p.slug for p in load(target, use_cache=False).programmes] == \
        ["small-grants-gb-chc-1000001"]


def test_warnings_with_stderr_closed_leave_the_output_and_status_alone(tmp_path: Path) -> None:
    registry = tmp_path / "r.yaml"
    registry.write_text(
        'sources:\n  - {id: s, publisher: P, title: T, date: "2020"}\nprogrammes:\n'
        "  - slug: a\n    name: A\n    funders: [F]\n"
        '    start: {date: "2015-06", source: s, quote: q}\n'
        '    end: {date: "2014-01", source: s, quote: q}\n', "utf-8")
    done = subprocess.run(fundcmp("--registry", str(registry), "list", "--fields", "slug"),
                          stdout=subprocess.PIPE, text=True, timeout=60, check=False,
                          preexec_fn=_closed_stderr)
    assert (done.returncode, done.stdout) == (0, "a\n")


def test_head_1_of_rank_succeeds_every_time_whatever_pythonunbuffered_says() -> None:
    """With `set -o pipefail`, `fundcmp rank --by funding | head -1` must not fail at random:
    piped output is written in one piece at exit, before head can go away."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = ("set -o pipefail; " + " ".join(fundcmp("rank", "--by", "funding"))
               + " | head -1")
    runs = [subprocess.Popen(["bash", "-c", command], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(PARALLEL_PIPELINES)]
    results = [(run.communicate(timeout=120), run.returncode) for run in runs]
    assert [code for _, code in results] == [0] * PARALLEL_PIPELINES, results
    assert {out for (out, _), _ in results} == {"shared-purpose\tShared Purpose\t420000\t"
                                                 "420000\t\n"}
    assert {err for (_, err), _ in results} == {""}


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_piped_output_reaches_the_pipe_in_one_write(tmp_path: Path, unbuffered: str) -> None:
    trace = tmp_path / "trace"
    env = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
    done = subprocess.run(["strace", "-f", "-e", "trace=write", "-o", str(trace),
                           *fundcmp("list", "--fields", "slug")], capture_output=True,
                          text=True, env=env, timeout=60, check=False)
    if done.returncode != 0 and "ptrace" in done.stderr:
        pytest.skip("strace may not trace here")
    assert done.stdout.count("\n") == 4
    writes = [line for line in trace.read_text().splitlines() if "write(1," in line]
    assert len(writes) == 1, writes
