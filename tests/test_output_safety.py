"""Output that cannot be written: `| head`, a closed stdout, a full disk. Run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fundcmp.registry import SHIPPED

FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full (Linux)")


def fundcmp(*args: str) -> list[str]:
    return [sys.executable, "-m", "fundcmp", *args]


@pytest.fixture(scope="module")
def big_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped registry with its programmes repeated: megabytes of output, more than a pipe
    holds, so the writer is still writing when the reader goes away."""
    text = SHIPPED.read_text("utf-8")
    head, body = text.split("\nprogrammes:\n", 1)
    copies = [body.replace("  - slug: ", f"  - slug: copy{i}-") for i in range(300)]
    path = tmp_path_factory.mktemp("big") / "big.yaml"
    path.write_text(head + "\nprogrammes:\n" + "\n".join(copies), "utf-8")
    return path


@pytest.mark.parametrize(("fmt", "unbuffered"), [("json", ""), ("json", "1"), ("tsv", ""),
                                                 ("table", "1")])
def test_head_closing_the_pipe_is_silent_and_exits_1(big_registry: Path, fmt: str,
                                                     unbuffered: str) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
    with subprocess.Popen(fundcmp("--registry", str(big_registry), "list", "--format", fmt),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()
        status = proc.wait(timeout=60)
        errors = proc.stderr.read().decode()
    assert first.strip()
    assert status == 1
    assert errors == ""


def _closed_stdout() -> None:
    os.close(1)


@pytest.mark.parametrize("args", [["list"], ["show", "shared-purpose"], ["--help"],
                                  ["--version"]])
def test_a_closed_stdout_gives_one_line_and_exit_1(args: list[str]) -> None:
    done = subprocess.run(fundcmp(*args), stderr=subprocess.PIPE, text=True, timeout=60,
                          preexec_fn=_closed_stdout, check=False)
    assert done.returncode == 1
    assert done.stderr == "fundcmp: cannot write output: standard output is closed\n"


@needs_dev_full
@pytest.mark.parametrize("fmt", ["tsv", "json", "csv", "table", "github"])
def test_a_full_disk_gives_one_line_and_exit_1(fmt: str) -> None:
    with FULL.open("w") as full:
        done = subprocess.run(fundcmp("list", "--format", fmt), stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr == "fundcmp: cannot write output: No space left on device\n"


@needs_dev_full
def test_a_data_error_with_stderr_on_a_full_disk_still_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("programmes: [\n", "utf-8")
    kwargs: dict[str, Any] = {"stdout": subprocess.PIPE, "timeout": 60, "check": False}
    with FULL.open("w") as full:
        done = subprocess.run(fundcmp("--registry", str(bad), "list"), stderr=full, **kwargs)
    assert done.returncode == 1
    assert done.stdout == b""


def test_output_that_fits_is_written_whole_and_exits_0() -> None:
    done = subprocess.run(fundcmp("list", "--fields", "slug"), capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0
    assert done.stdout.split() == ["common-ambition", "shared-purpose",
                                   "building-health-partnerships", "people-powered-health"]
    assert done.stderr == ""


@pytest.mark.parametrize("target", ["missing-dir/chart.svg", "a-directory.svg"])
def test_an_unwritable_export_path_gives_one_line_and_exit_1(tmp_path: Path,
                                                             target: str) -> None:
    (tmp_path / "a-directory.svg").mkdir()
    path = tmp_path / target
    done = subprocess.run(fundcmp("rank", "--by", "funding", "--export", str(path)),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith(f"fundcmp: cannot write {path}: ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
