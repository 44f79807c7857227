"""A terminal shows a page of `list` and `rank`, and says how to see the rest; a pipe gets all."""

from __future__ import annotations

import importlib.util
import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from fundcmp import cli as cli_module
from fundcmp.cli import PAGE, cli

ROOT = Path(__file__).resolve().parent.parent


def _generated(count: int) -> str:
    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.generate(count, 11)
    return text


COUNT = PAGE + 23


@pytest.fixture
def big(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "big.yaml"
    path.write_text(_generated(COUNT), encoding="utf-8")
    return path


def _on_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_module, "_terminal", lambda: True)


MORE = f"fundcmp: showing {PAGE} of {COUNT} programmes; --limit N shows N, --limit 0 shows all\n"


@pytest.mark.parametrize("command", [["list"], ["rank", "--by", "funding"],
                                     ["rank", "--by", "duration,teams", "--basis", "low"]])
@pytest.mark.parametrize("cached", [True, False], ids=["cached", "uncached"])
def test_a_terminal_gets_a_page_and_is_told_how_to_see_the_rest(
        command: list[str], cached: bool, big: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _on_terminal(monkeypatch)
    base = ["--registry", str(big)] + ([] if cached else ["--no-cache"])
    runner = CliRunner()
    page = runner.invoke(cli, [*base, *command, "--format", "jsonl"])
    assert page.exit_code == 0, page.stderr
    rows = [json.loads(line) for line in page.stdout.splitlines()]
    assert len(rows) == PAGE
    assert page.stderr.endswith(MORE)
    everything = runner.invoke(cli, [*base, *command, "--format", "jsonl", "--limit", "0"])
    every_row = [json.loads(line) for line in everything.stdout.splitlines()]
    assert len(every_row) == COUNT and every_row[:PAGE] == rows  # the page is the first rows
    assert "showing" not in everything.stderr
    three = runner.invoke(cli, [*base, *command, "--format", "jsonl", "--limit", "3"])
    assert [json.loads(line) for line in three.stdout.splitlines()] == rows[:3]
    assert f"showing 3 of {COUNT} programmes" in three.stderr


@pytest.mark.parametrize("command", [["list"], ["rank", "--by", "funding"]])
def test_piped_output_stays_complete(command: list[str], big: Path) -> None:
    result = CliRunner().invoke(cli, ["--registry", str(big), *command])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == COUNT
    assert "showing" not in result.stderr
    limited = CliRunner().invoke(cli, ["--registry", str(big), *command, "--limit", "7"])
    assert limited.stdout.splitlines() == result.stdout.splitlines()[:7]


def test_a_short_registry_says_nothing_more(monkeypatch: pytest.MonkeyPatch) -> None:
    _on_terminal(monkeypatch)
    result = CliRunner().invoke(cli, ["list", "--format", "tsv"])
    assert result.exit_code == 0 and result.stderr == ""


def test_a_negative_limit_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["list", "--limit", "-1"])
    assert result.exit_code == 2 and "--limit" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_real_terminal_shows_a_page(big: Path) -> None:
    """The installed command under a pseudo-terminal, as a person runs it."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    chunks: list[bytes] = []

    def drain() -> None:  # read as it is written, so a full terminal buffer cannot block it
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    done = subprocess.run([sys.executable, "-m", "fundcmp", "--registry", str(big), "rank",
                           "--by", "funding"], stdout=follower, stderr=subprocess.PIPE,
                          env=env, timeout=120, check=False)
    os.close(follower)
    reader.join(timeout=30)
    os.close(leader)
    shown = b"".join(chunks)
    assert done.returncode == 0
    body = shown.decode()
    assert body.count("\n") < COUNT  # a page, not every programme
    assert done.stderr.decode().endswith(MORE)


@pytest.mark.parametrize("command", [["list"], ["rank", "--by", "total", "--reverse"],
                                     ["rank", "--by", "odds,funding", "--basis", "high"]])
def test_the_cached_page_is_the_uncached_page(command: list[str], big: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _on_terminal(monkeypatch)
    runner = CliRunner()
    args = [*command, "--format", "table", "--color", "never"]
    uncached = runner.invoke(cli, ["--no-cache", "--registry", str(big), *args])
    runner.invoke(cli, ["--registry", str(big), *args])
    cached = runner.invoke(cli, ["--registry", str(big), *args])
    assert uncached.exit_code == cached.exit_code == 0
    assert cached.stdout == uncached.stdout and cached.stderr == uncached.stderr
