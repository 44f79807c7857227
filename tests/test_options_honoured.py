"""Options that were silently ignored or data-dependent (issue 11, items 6, 7 and 12)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from fundcmp.cli import cli

CLEAN = """\
sources:
  - id: s
    publisher: P
    title: T
    date: "2020"
programmes:
  - slug: alpha
    name: Alpha
    funders: [F]
"""


@pytest.mark.parametrize("command", [["list"], ["show", "shared-purpose"], ["explain",
                         "shared-purpose"], ["compare", "shared-purpose", "common-ambition"],
                         ["rank", "--by", "funding"], ["check"], ["indices"]])
def test_every_command_refuses_an_unknown_field_before_any_work(
        runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(cli, [*command, "--fields", "bogus"],
                           env={"FUNDCMP_REGISTRY": "/nonexistent/registry.yaml"})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("fundcmp: Unknown field 'bogus'")
    assert "available fields:" in result.stderr
    assert "registry.yaml" not in result.stderr  # refused before the registry was read


def test_check_refuses_a_bad_field_on_a_clean_registry_too(
        runner: CliRunner, write_registry: Callable[..., Path]) -> None:
    clean = write_registry(CLEAN)
    result = runner.invoke(cli, ["--registry", str(clean), "check", "--fields", "bogus"])
    assert result.exit_code == 2 and "Unknown field 'bogus'" in result.stderr


def test_show_honours_fields(runner: CliRunner) -> None:
    out = runner.invoke(cli, ["show", "shared-purpose", "--fields", "fact,how",
                              "--format", "tsv", "--no-header"]).stdout
    assert all(len(line.split("\t")) == 2 for line in out.splitlines())
    assert "Funding per team\tstated" in out


@pytest.mark.parametrize("fmt", [None, "tsv", "json", "csv"])
def test_an_export_is_the_table_as_a_person_sees_it(runner: CliRunner, tmp_path: Path,
                                                    fmt: str | None) -> None:
    path = tmp_path / "r.html"
    args = ["rank", "--by", "funding", "--export", str(path)]
    runner.invoke(cli, args + (["--format", fmt] if fmt else []))
    page = html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))
    assert "Programmes by funding per team" in page and "£300,000" in page
    assert "300000-500000" not in page and "\t" not in page


def test_help_command_and_bare_fundcmp(runner: CliRunner) -> None:
    bare = runner.invoke(cli, [], prog_name="fundcmp")
    assert bare.exit_code == 0 and bare.stdout.startswith("Usage: fundcmp")
    assert "rank" in bare.stdout
    helped = runner.invoke(cli, ["help", "rank"])
    assert helped.exit_code == 0
    assert helped.stdout == runner.invoke(cli, ["rank", "--help"]).stdout.replace(
        "Usage: cli rank", "Usage: fundcmp rank")
    assert runner.invoke(cli, ["help", "nope"]).exit_code == 2


def test_by_suggests_the_key_meant(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rank", "--by", "fundin"])
    assert result.exit_code == 2
    assert "did you mean funding?" in result.stderr


def test_by_completes_keys_comma_by_comma() -> None:
    env = {"COMP_WORDS": "fundcmp rank --by duration,fu", "COMP_CWORD": "3",
           "_FUNDCMP_COMPLETE": "bash_complete"}
    out = CliRunner().invoke(cli, [], env=env, prog_name="fundcmp").stdout
    assert "plain,duration,funding\n" in out and "plain,duration,funding-per-year" in out


def test_markdown_is_github(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["list", "--format", "markdown"]).stdout == \
        runner.invoke(cli, ["list", "--format", "github"]).stdout
