"""The console script (fundcmp.__main__:main): the command line, with the collector paused only
while the modules load."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fundcmp import __version__

RUN = """\
import gc, sys
{before}
from fundcmp.__main__ import main
sys.argv = ["fundcmp", "--version"]
try:
    main()
except SystemExit as done:
    print(done.code, gc.isenabled(), "fundcmp.cli" in sys.modules, file=sys.stderr)
"""


@pytest.mark.parametrize(("before", "collecting"), [("", True), ("gc.disable()", False)])
def test_the_collector_is_left_as_it_was_found(before: str, collecting: bool) -> None:
    done = subprocess.run([sys.executable, "-c", RUN.format(before=before)],
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout == f"fundcmp, version {__version__}\n"
    assert done.stderr == f"0 {collecting} True\n"


def test_python_dash_m_runs_the_same_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "fundcmp", "--version"], capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout == f"fundcmp, version {__version__}\n"
