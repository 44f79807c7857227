"""The benchmark's generated registries: valid, varied, repeatable, and every command copes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner

from fundcmp.cli import cli
from fundcmp.model import Kind
from fundcmp.registry import load

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
assert _spec is not None and _spec.loader is not None
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("generated") / "registry.yaml"
    path.write_text(generate.generate(300, 3), encoding="utf-8")
    return path


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    assert generate.generate(50, 1) == generate.generate(50, 1)
    assert generate.generate(50, 1) != generate.generate(50, 2)


def test_a_generated_registry_loads_with_every_quantity_shape(generated: Path) -> None:
    registry = load(generated, use_cache=False)
    assert len(registry.programmes) == 300
    quantities = [q for p in registry.programmes
                  for q in (p.teams, p.funding_per_team, p.total_funding, p.duration,
                            p.support.value, p.support.days, p.applications)]
    assert {q.kind for q in quantities} == {Kind.EXACT, Kind.RANGE, Kind.CEILING,
                                            Kind.DERIVED, Kind.UNKNOWN}
    assert {len(p.start.text) for p in registry.programmes if p.start} == {7}
    assert {len(p.announced.text) for p in registry.programmes if p.announced} == {4, 7, 10}
    assert any(p.support.components for p in registry.programmes)


@pytest.mark.parametrize("by", ["funding", "funding-per-year", "duration", "support", "teams",
                                "total", "value", "odds"])
def test_rank_by_every_key_handles_every_shape(generated: Path, by: str) -> None:
    result = CliRunner().invoke(cli, ["--registry", str(generated), "rank", "--by", by,
                                      "--format", "tsv"])
    assert result.exception is None, result.exception
    assert result.stderr == ""  # the generated facts agree with each other: no warnings
    assert len(result.stdout.splitlines()) == 301


def test_show_explain_and_compare_every_programme(generated: Path) -> None:
    runner = CliRunner()
    slugs = [p.slug for p in load(generated).programmes]
    for slug in slugs:
        for command in (["show", slug, "--format", "tsv"], ["explain", slug]):
            result = runner.invoke(cli, ["--registry", str(generated), *command])
            assert result.exception is None, (command, result.exception)
            assert result.exit_code == 0 and "Price year" in result.stdout, command
    result = runner.invoke(cli, ["--registry", str(generated), "compare", *slugs[:20],
                                 "--format", "json"])
    assert result.exception is None, result.exception
    assert result.stdout.count('"slug"') == 20


def test_each_programme_lists_the_sources_it_cites_in_registry_order(generated: Path) -> None:
    registry = load(generated, use_cache=False)
    position = {s.id: i for i, s in enumerate(registry.sources)}
    cited = [[s.id for s in p.sources] for p in registry.programmes]
    assert any(len(ids) >= 3 for ids in cited)
    for ids in cited:
        assert ids == sorted(ids, key=position.__getitem__)
        assert len(set(ids)) == len(ids)
