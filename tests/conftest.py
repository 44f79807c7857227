"""Shared fixtures: a CLI runner and a way to write a registry to disk."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

# Hypothesis in the ordinary suite (and CI) runs derandomized: the same examples every run, so
# a red build always means the change under test. Random exploration is the long fuzz profile
# (FUNDCMP_FUZZ=long, tests/test_fuzz.py) or HYPOTHESIS_PROFILE=explore.
settings.register_profile("ci", derandomize=True, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "programmes.yaml"

MINIMAL = """\
sources:
  - id: src
    publisher: Test Publisher
    title: Test document
    date: "2020-01-01"
programmes:
  - slug: alpha
    name: Alpha
    funders: [Funder A]
    funding_per_team: {amount: 100000, source: src, quote: "£100,000"}
    duration: {amount: 12, source: src, quote: "12 months"}
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def write_registry(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str, name: str = "registry.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write



def pytest_configure(config: pytest.Config) -> None:
    """The registry cache goes to a temporary XDG_CACHE_HOME, never the real home.

    Set here, before collection, because some test modules load registries at import.
    """
    home = tempfile.mkdtemp(prefix="fundcmp-test-cache-")
    saved = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "FUNDCMP_NO_CACHE")}
    os.environ["XDG_CACHE_HOME"] = home
    os.environ.pop("FUNDCMP_NO_CACHE", None)

    def restore() -> None:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(home, ignore_errors=True)

    config.add_cleanup(restore)
