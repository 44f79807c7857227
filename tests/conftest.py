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

# Property tests are reproducible by default: the same examples on every run and in CI, so a
# red CI means the change, not the dice. FUNDCMP_FUZZ=long is the random, longer exploration.
settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz-long", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
LONG_FUZZ = os.environ.get("FUNDCMP_FUZZ") == "long"
settings.load_profile("fuzz-long" if LONG_FUZZ else "ci")

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
