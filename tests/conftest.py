"""Shared fixtures: a CLI runner and a way to write a registry to disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

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
