"""Your own registry beside the shipped one (issue 11, item 9)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from fundcmp.cli import cli
from fundcmp.registries import paths
from fundcmp.registry import SHIPPED

MINE = """\
sources:
  - id: s
    publisher: Me
    title: My notes
    date: "2024"
programmes:
  - slug: {slug}
    name: Mine
    funders: [Me]
    funding_per_team: {{amount: 50000, source: s, quote: "£50,000"}}
"""

Write = Callable[..., Path]


def _slugs(result: object) -> list[str]:
    return [line.split("\t")[0] for line in result.stdout.splitlines()]  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", [["list"], ["rank", "--by", "funding"], ["check"],
                                     ["show", "mine"], ["explain", "mine"],
                                     ["compare", "mine", "shared-purpose"]])
def test_every_command_takes_registry_after_its_name(runner: CliRunner, write_registry: Write,
                                                     command: list[str]) -> None:
    mine = write_registry(MINE.format(slug="mine"))
    result = runner.invoke(cli, [*command, "--registry", str(mine), "--registry", "shipped"])
    assert result.exit_code in (0, 1), result.stderr
    assert "No such option" not in result.stderr


def test_registries_combine_in_order_with_the_shipped_one_by_name(
        runner: CliRunner, write_registry: Write) -> None:
    mine = write_registry(MINE.format(slug="mine"))
    result = runner.invoke(cli, ["--registry", "shipped", "list", "--registry", str(mine)])
    assert _slugs(result) == ["common-ambition", "shared-purpose",
                              "building-health-partnerships", "people-powered-health", "mine"]
    out = runner.invoke(cli, ["compare", "mine", "shared-purpose", "--registry", str(mine),
                              "--registry", "shipped", "--format", "json"]).stdout
    assert [p["slug"] for p in json.loads(out)] == ["mine", "shared-purpose"]


def test_the_environment_takes_a_path_like_list(runner: CliRunner,
                                                write_registry: Write) -> None:
    a = write_registry(MINE.format(slug="aye"), "a.yaml")
    b = write_registry(MINE.format(slug="bee"), "b.yaml")
    result = runner.invoke(cli, ["list"], env={"FUNDCMP_REGISTRY": f"{a}{os.pathsep}{b}"})
    assert _slugs(result) == ["aye", "bee"]
    assert paths([], {"FUNDCMP_REGISTRY": f"shipped{os.pathsep}{a}"}) == [SHIPPED, a]
    assert paths([str(a)], {"FUNDCMP_REGISTRY": str(b)}) == [a]


def test_a_slug_defined_twice_names_both_files_and_lines(runner: CliRunner,
                                                         write_registry: Write) -> None:
    a = write_registry(MINE.format(slug="shared-purpose"), "a.yaml")
    result = runner.invoke(cli, ["list", "--registry", "shipped", "--registry", str(a)])
    assert result.exit_code == 1 and result.stdout == ""
    shipped_line = next(n for n, line in enumerate(SHIPPED.read_text().splitlines(), 1)
                        if "slug: shared-purpose" in line)
    assert result.stderr == (f"fundcmp: {a}:7: shared-purpose: slug: defined twice: here and "
                             f"in {SHIPPED}:{shipped_line}\n")


def test_the_same_file_twice_is_read_once(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["list", "--registry", "shipped", "--registry", str(SHIPPED)])
    assert result.exit_code == 0 and len(_slugs(result)) == 4


def test_registry_path_prints_where_the_shipped_registry_is(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["registry", "path"])
    assert result.stdout == f"{SHIPPED}\n"
    assert Path(result.stdout.strip()).read_text(encoding="utf-8").startswith("# fundcmp")


def test_slugs_complete_from_a_registry_given_after_the_command(
        write_registry: Write) -> None:
    mine = write_registry(MINE.format(slug="zeta"))
    env = {"COMP_WORDS": f"fundcmp show --registry {mine} ze", "COMP_CWORD": "4",
           "_FUNDCMP_COMPLETE": "bash_complete"}
    result = CliRunner().invoke(cli, [], env=env, prog_name="fundcmp")
    assert "zeta" in result.stdout
