"""A writer killed at any moment leaves the old registry or the complete new one (issue 6, item 4).

The import runs in a child process (`python -m fundcmp import ...`) that is
SIGKILLed after delays spread over the time an uninterrupted import takes,
half of them packed around its end, where the registry is written. After
every kill the target must be byte for byte either the registry as it was or
the registry a complete import writes.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

OLD = """\
# hand-written, must never be half-overwritten
sources:
  - {id: mine, publisher: Me, title: Notes, date: "2024"}
programmes:
  - slug: mine
    name: Mine
    funders: [Me]
"""
PROGRAMMES = 400
GRANTS_EACH = 10
KILLS = 24


def big_package(path: Path) -> None:
    grants = [{
        "id": f"360G-K-{p}-{g}", "title": "t", "description": "d", "currency": "GBP",
        "amountAwarded": 1000 + 37 * g + p, "awardDate": f"20{10 + g}-0{1 + p % 9}-15",
        "fundingOrganization": [{"id": f"GB-CHC-{p % 7}", "name": f"Funder {p % 7}"}],
        "recipientOrganization": [{"id": f"GB-COH-{g}", "name": "R"}],
        "grantProgramme": [{"code": f"K{p}", "title": f"Programme number {p}"}],
        "plannedDates": [{"startDate": "2020-01", "endDate": f"202{1 + g % 5}"}],
    } for p in range(PROGRAMMES) for g in range(GRANTS_EACH)]
    path.write_text(json.dumps({"grants": grants}), encoding="utf-8")


def start_import(data: Path, target: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "fundcmp", "import", str(data), "--into",
                             str(target)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_a_killed_import_leaves_the_old_or_the_complete_new_registry(tmp_path: Path) -> None:
    data = tmp_path / "grants.json"
    big_package(data)
    reference = tmp_path / "reference" / "registry.yaml"
    reference.parent.mkdir()
    reference.write_text(OLD, encoding="utf-8")
    began = time.monotonic()
    assert start_import(data, reference).wait() == 0
    full_seconds = time.monotonic() - began
    new = reference.read_bytes()
    old = OLD.encode()
    assert new != old and new.startswith(old[: old.index(b"programmes:")])

    work = tmp_path / "work"
    work.mkdir()
    target = work / "registry.yaml"
    outcomes = {"old": 0, "new": 0}
    half = KILLS // 2
    fractions = [0.05 + 0.95 * i / half for i in range(half)]
    fractions += [0.85 + 0.3 * i / (KILLS - half) for i in range(KILLS - half)]
    for i, fraction in enumerate(fractions):
        target.write_bytes(old)
        process = start_import(data, target)
        time.sleep(full_seconds * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait()
        found = target.read_bytes()
        assert found in (old, new), f"partial registry after a kill at step {i}"
        outcomes["old" if found == old else "new"] += 1
        for leftover in work.glob(".registry.yaml.*.tmp"):
            leftover.unlink()
    assert sum(outcomes.values()) == KILLS


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_a_writer_killed_mid_write_leaves_the_old_or_the_whole_new_file(tmp_path: Path) -> None:
    """The write itself is brief in an import, so here it is 64 MiB and killed throughout."""
    target = tmp_path / "registry.yaml"
    old, size = b"old registry\n", 64 << 20
    code = f"from fundcmp.atomic import write_text; write_text({str(target)!r}, 'y' * {size})"
    target.write_bytes(old)
    began = time.monotonic()
    subprocess.run([sys.executable, "-c", code], check=True)
    full_seconds = time.monotonic() - began
    new = target.read_bytes()
    assert len(new) == size
    for i in range(KILLS):
        target.write_bytes(old)
        process = subprocess.Popen([sys.executable, "-c", code])
        time.sleep(full_seconds * (0.05 + i / KILLS))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert target.read_bytes() in (old, new), f"partial file after a kill at step {i}"
        for leftover in tmp_path.glob(".registry.yaml.*.tmp"):
            leftover.unlink()
