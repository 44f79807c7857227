"""The console script and `python -m fundcmp`: the command line, started quickly.

Importing click and fundcmp makes tens of thousands of objects and no garbage,
so the collector's passes over them at start-up find nothing and only cost
time: it is paused while the modules load, and what they made is then frozen
out of its later passes, as the loaded registry is (see README, "Performance").
"""

from __future__ import annotations

import gc


def main() -> None:
    collecting = gc.isenabled()
    gc.disable()
    try:
        from fundcmp.cli import main as command_line
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    command_line()


if __name__ == "__main__":
    main()
