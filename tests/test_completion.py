"""Shell completion through click's protocol, as bash, zsh and fish call it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from fundcmp.cli import cli
from fundcmp.completion import fields


def complete(words: str, shell: str = "bash", **env: str) -> subprocess.CompletedProcess[str]:
    """What the shell gets back when Tab is pressed after `words` (the last word partial).
    Fish passes the partial word itself where bash and zsh pass its index."""
    index = len(words.split()) - (0 if words.endswith(" ") else 1)
    cword = words.split()[-1] if shell == "fish" else str(index)
    environ = {k: v for k, v in os.environ.items() if k != "FUNDCMP_REGISTRY"}
    environ.update({"COMP_WORDS": words, "COMP_CWORD": cword,
                    "_FUNDCMP_COMPLETE": f"{shell}_complete", **env})
    return subprocess.run([sys.executable, "-m", "fundcmp"], capture_output=True, text=True,
                          env=environ)


def offered(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split(",", 1)[1] for line in done.stdout.splitlines()]


def test_compare_sha_offers_shared_purpose() -> None:
    done = complete("fundcmp compare sha")
    assert done.returncode == 0
    assert offered(done) == ["shared-purpose"]
    assert done.stderr == ""


def test_every_slug_is_offered_after_a_space() -> None:
    assert set(offered(complete("fundcmp compare shared-purpose "))) == {
        "shared-purpose", "common-ambition", "people-powered-health",
        "building-health-partnerships"}


def test_show_completes_slugs_too() -> None:
    assert offered(complete("fundcmp show peo")) == ["people-powered-health"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_get_slugs(shell: str) -> None:
    done = complete("fundcmp compare sha", shell)
    assert "shared-purpose" in done.stdout


def test_slugs_come_from_the_chosen_registry(tmp_path: Path) -> None:
    shipped = Path(__file__).parents[1] / "fundcmp" / "programmes.yaml"
    renamed = tmp_path / "r.yaml"
    renamed.write_text(shipped.read_text(encoding="utf-8").replace(
        "slug: shared-purpose", "slug: shared-purpose-two"), encoding="utf-8")
    by_option = complete(f"fundcmp --registry {renamed} compare sha")
    by_env = complete("fundcmp compare sha", FUNDCMP_REGISTRY=str(renamed))
    assert offered(by_option) == ["shared-purpose-two"]
    assert offered(by_env) == ["shared-purpose-two"]


@pytest.mark.parametrize("content", [None, "programmes: [", "sources: 3\n"])
def test_a_bad_registry_offers_nothing_and_never_crashes(tmp_path: Path,
                                                         content: str | None) -> None:
    path = tmp_path / "bad.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    done = complete("fundcmp compare sha", FUNDCMP_REGISTRY=str(path))
    assert done.returncode == 0
    assert done.stdout.strip() == ""
    assert done.stderr == ""


def test_fields_complete_after_a_comma() -> None:
    cuts = ["q1", "q3", *(f"d{i}" for i in range(1, 10))]
    assert offered(complete("fundcmp list --fields slug,dur")) == [
        "slug,duration", "slug,duration_low", "slug,duration_mid", "slug,duration_high",
        "slug,duration_spread", *(f"slug,duration_{cut}" for cut in cuts)]


def test_fields_already_chosen_are_not_offered_again() -> None:
    ctx = click.Context(cli)
    names = [item.value for item in fields(ctx, cli.params[0], "slug,name,")]
    assert "slug,name,funder" in names
    assert not any(n in ("slug,name,slug", "slug,name,name") for n in names)


def test_bash_source_is_the_one_line_to_enable_it() -> None:
    environ = {**os.environ, "_FUNDCMP_COMPLETE": "bash_source"}
    done = subprocess.run([sys.executable, "-m", "fundcmp"], capture_output=True, text=True,
                          env=environ)
    assert "complete -o nosort -F _fundcmp_completion fundcmp" in done.stdout


def test_explain_completes_slugs() -> None:
    assert offered(complete("fundcmp explain comm")) == ["common-ambition"]
