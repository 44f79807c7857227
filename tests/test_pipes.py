"""fundcmp inside shell pipelines: real pipes, slugs from stdin, clean exits, lean imports."""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import sys

import pytest
from click.testing import CliRunner

from fundcmp import cli as cli_module
from fundcmp.cli import cli
from fundcmp.slug_lines import expand, parse

FUNDCMP = f"{shlex.quote(sys.executable)} -m fundcmp"
TOP_THREE = ["Shared Purpose", "Common Ambition", "People Powered Health"]


def shell(pipeline: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", pipeline], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "200"})


def compared_names(tsv: str) -> list[str]:
    """The programme names on the `name` row of compare's headerless tsv."""
    rows = [line.split("\t") for line in tsv.splitlines()]
    return next(row[1:] for row in rows if row[0] == "name")


def test_rank_head_cut_compare_compares_the_top_three() -> None:
    done = shell(f"{FUNDCMP} rank --by funding | head -3 | cut -f1 | {FUNDCMP} compare -")
    assert done.returncode == 0, done.stderr
    assert compared_names(done.stdout) == TOP_THREE
    assert done.stderr == ""


def test_rank_tsv_with_its_header_feeds_compare() -> None:
    done = shell(f"{FUNDCMP} rank --by funding --format tsv | {FUNDCMP} compare -")
    assert done.returncode == 0, done.stderr
    assert compared_names(done.stdout) == [*TOP_THREE, "Building Health Partnerships"]


def test_list_head_one_prints_one_line_and_no_traceback() -> None:
    done = subprocess.run(["bash", "-c", f"{FUNDCMP} list | head -1"], capture_output=True,
                          text=True)
    assert len(done.stdout.splitlines()) == 1
    assert done.stderr == ""


@pytest.mark.parametrize("args", [["list"], ["list", "--format", "table"],
                                  ["rank", "--by", "funding", "--chart"]])
def test_a_closed_pipe_ends_quietly(args: list[str]) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # closed before fundcmp writes, so every write meets a broken pipe
    done = subprocess.run([sys.executable, "-m", "fundcmp", *args], stdout=writer,
                          stderr=subprocess.PIPE, text=True)
    os.close(writer)
    assert done.stderr == ""
    assert done.returncode == 1


def test_piped_output_defaults_to_headerless_tsv() -> None:
    done = shell(f"{FUNDCMP} list | cat")
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    assert len(rows) == 4
    assert rows[0][0] != "slug"
    assert all(len(row) == len(rows[0]) for row in rows)


def test_tsv_imports_neither_rich_nor_tabulate() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "fundcmp", "list",
                           "--format", "tsv"], capture_output=True, text=True)
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "fundcmp.render" in imported  # the check sees fundcmp's own imports
    assert not {m for m in imported if m.split(".")[0] in ("rich", "tabulate")}


def test_the_table_path_does_import_rich() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "fundcmp", "list",
                           "--format", "table"], capture_output=True, text=True)
    assert "rich.console" in done.stderr


def test_parse_skips_blank_lines_comments_and_a_header() -> None:
    lines = ["slug\tname\n", "\n", "# the top two\n", "shared-purpose\tShared Purpose\n",
             "  common-ambition  \n", "people-powered-health,People Powered Health\n"]
    assert parse(lines) == ["shared-purpose", "common-ambition", "people-powered-health"]


def test_a_header_is_only_skipped_before_the_first_slug() -> None:
    assert parse(["a\n", "slug\n"]) == ["a", "slug"]


def test_dash_is_replaced_in_place() -> None:
    assert expand(["a", "-", "d"], io.StringIO("b\nc\n")) == ["a", "b", "c", "d"]


def test_compare_dash_reads_stdin() -> None:
    result = CliRunner().invoke(cli, ["compare", "-", "--format", "json"],
                                input="# chosen\nshared-purpose\ncommon-ambition\n")
    assert result.exit_code == 0, result.stderr
    assert '"slug": "common-ambition"' in result.stdout


def test_compare_dash_with_one_slug_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["compare", "-"], input="shared-purpose\n")
    assert result.exit_code == 2
    assert "at least two" in result.stderr


def test_show_dash_with_nothing_on_stdin_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["show", "-"], input="# nothing\n\n")
    assert result.exit_code == 2
    assert "stdin held none" in result.stderr


def test_show_dash_reads_its_slug_from_stdin() -> None:
    result = CliRunner().invoke(cli, ["show", "-", "--format", "tsv"],
                                input="people-powered-health\n")
    assert result.exit_code == 0
    assert "People Powered Health" in result.stdout


def test_compare_dash_with_an_unknown_slug_names_it() -> None:
    result = CliRunner().invoke(cli, ["compare", "-"], input="shared-purpose\nshared-porpose\n")
    assert result.exit_code == 2
    assert "shared-porpose" in result.stderr
    assert "Traceback" not in result.stderr


class Interrupted(io.StringIO):
    """A stdin whose reader presses Ctrl-C."""

    def __iter__(self) -> Interrupted:
        raise KeyboardInterrupt

    def readline(self, size: int | None = -1) -> str:
        raise KeyboardInterrupt


def test_ctrl_c_exits_130_quietly(monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["fundcmp", "compare", "-"])
    monkeypatch.setattr(sys, "stdin", Interrupted())
    with pytest.raises(SystemExit) as exit_:
        cli_module.main()
    assert exit_.value.code == 130
    assert capsys.readouterr().err.strip() == ""


def test_exit_codes_are_in_help() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert "0 success" in result.stdout
    assert "1 a data error" in result.stdout
    assert "2 a usage error" in result.stdout
    assert "130" in result.stdout


def test_version() -> None:
    from fundcmp import __version__

    result = CliRunner().invoke(cli, ["--version"])
    assert result.stdout == f"fundcmp, version {__version__}\n"


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_help_has_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    example = result.stdout.split("Example")[1].split("Options:")[0]
    lines = [line.split() for line in example.splitlines() if line.strip()]
    assert any(words[0] == "fundcmp" and command in words for words in lines)
