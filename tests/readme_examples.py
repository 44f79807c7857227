"""Rewrite the example outputs in README.md from the commands themselves, as cog does.

A block in README.md is an HTML comment naming the commands, then a fenced block
that this script owns:

    <!-- output: fundcmp compare a b --format table -->     (the output alone)
    <!-- session: fundcmp rank --by funding ;; fundcmp ... -->  ($ prompt, command, output)

`python tests/readme_examples.py` rewrites README.md; `--check` changes nothing
and exits 1 if README.md differs from what it would write (the test suite runs
it, so the examples cannot drift from what fundcmp prints). Commands run in
bash with `fundcmp` meaning this Python's `-m fundcmp`, 100 columns wide,
without colour, on the shipped registry.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
WIDTH = "100"
BLOCK = re.compile(r"(?P<marker><!-- (?P<kind>output|session): (?P<commands>.+?) -->\n)"
                   r"(?P<fence>```[^\n]*\n)(?P<body>.*?)```\n", re.DOTALL)


def run(command: str, cache: str) -> str:
    """What `command` prints to stdout, run as a person would type it."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FUNDCMP_", "FORCE_COLOR", "NO_COLOR"))}
    env.update({"COLUMNS": WIDTH, "NO_COLOR": "1", "XDG_CACHE_HOME": cache,
                "PY": sys.executable, "PYTHONPATH": str(README.parent)})
    script = f'fundcmp() {{ "$PY" -m fundcmp "$@"; }}\nset -o pipefail\n{command}\n'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                          cwd=README.parent, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"readme_examples: `{command}` failed: {done.stderr.strip()}")
    return "\n".join(line.rstrip() for line in done.stdout.splitlines()) + "\n"


def render(text: str) -> str:
    """README text with every marked block's output regenerated."""
    with tempfile.TemporaryDirectory(prefix="fundcmp-readme-") as cache:
        def replace(match: re.Match[str]) -> str:
            commands = [c.strip() for c in match["commands"].split(";;")]
            if match["kind"] == "output":
                body = "".join(run(c, cache) for c in commands)
            else:
                body = "".join(f"$ {c}\n{run(c, cache)}" for c in commands)
            return f"{match['marker']}{match['fence']}{body}```\n"

        return BLOCK.sub(replace, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if README.md is out of date")
    args = parser.parse_args()
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if wanted != current:
            print("README.md examples are out of date: run python tests/readme_examples.py",
                  file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
