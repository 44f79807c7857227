"""Imports into one registry never lose data (issue 10, items 1-4).

Five imports at once, a hand edit made while an import runs, a registry reached
through a symbolic or hard link or owned by someone else, and Ctrl-C around
the rename.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fundcmp import atomic, registry_merge
from fundcmp.cli import cli
from fundcmp.registry import load

from .test_import import grant, write_json

HAND = """\
# written by hand
sources:
  - {id: mine, publisher: Me, title: Notes, date: "2024"}
programmes:
  - slug: mine
    name: Mine
    funders: [Me]
"""
EDIT = """  - slug: edited-meanwhile
    name: Edited while the import ran
    funders: [Me]
"""
IMPORTERS = 5
TRIALS = 20


def programme_file(path: Path, label: str) -> Path:
    return write_json(path, [grant(f"G-{label}-{i}", code=f"C{label}", title=f"Programme {label}")
                             for i in range(3)])


def slugs(path: Path) -> set[str]:
    return {p.slug for p in load(path, use_cache=False).programmes}


def _importer(files: list[Path], tmp_path: Path, label: int, start: Any, results: Any,
              suffix: str) -> None:
    """One importing process: at each trial, waits for the others, then imports its file."""
    for trial in range(TRIALS):
        start.wait(timeout=60)
        result = CliRunner().invoke(cli, ["import", str(files[label]), "--into",
                                          str(tmp_path / f"r{trial}{suffix}")])
        results.put((trial, label, result.exit_code, result.stderr))


@pytest.mark.slow  # 100 imports in five processes, twenty rounds: 5 to 9 s on 2 busy cores
@pytest.mark.parametrize("suffix", [".yaml", ".jsonl"])
def test_five_imports_at_once_lose_no_programme(tmp_path: Path, suffix: str) -> None:
    """Five processes import into one registry at the same moment, twenty times over.

    Each process imports in a loop (started once, so the test takes seconds, not the
    minute a hundred interpreter start-ups would take); a barrier starts each round.
    """
    import multiprocessing

    files = [programme_file(tmp_path / f"in{i}.json", str(i)) for i in range(IMPORTERS)]
    if suffix == ".yaml":  # a hand-written registry to begin with; JSON Lines ones start new
        for trial in range(TRIALS):
            (tmp_path / f"r{trial}.yaml").write_text(HAND, "utf-8")
    fork = multiprocessing.get_context("fork")
    start, results = fork.Barrier(IMPORTERS), fork.Queue()
    workers = [fork.Process(target=_importer, args=(files, tmp_path, i, start, results, suffix))
               for i in range(IMPORTERS)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in range(IMPORTERS * TRIALS)]
    for worker in workers:
        worker.join(timeout=60)
    assert [(t, i, err) for t, i, code, err in outcomes if code != 0] == []
    lost = [(trial, i) for trial in range(TRIALS) for i in range(IMPORTERS)
            if f"programme-{i}-gb-chc-1000001" not in slugs(tmp_path / f"r{trial}{suffix}")]
    assert lost == []
    if suffix == ".yaml":
        assert all("mine" in slugs(tmp_path / f"r{trial}.yaml") for trial in range(TRIALS))
    assert not list(tmp_path.glob("*.lock"))


def _import(target: Path, data: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, ["import", str(data), "--into", str(target), *extra],
                              env=env or {})


def test_a_hand_edit_made_while_grants_are_read_survives(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.yaml"
    target.write_text(HAND, "utf-8")
    data = programme_file(tmp_path / "in.json", "1")
    from fundcmp import giving360

    collect = giving360.collect

    def collect_while_someone_edits(*args: Any, **kwargs: Any) -> Any:
        with target.open("a", encoding="utf-8") as out:
            out.write(EDIT)
        return collect(*args, **kwargs)

    monkeypatch.setattr(giving360, "collect", collect_while_someone_edits)
    result = _import(target, data)
    assert result.exit_code == 0, result.output
    assert slugs(target) == {"mine", "edited-meanwhile", "programme-1-gb-chc-1000001"}


def test_an_edit_during_the_merge_stops_the_import_and_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.yaml"
    target.write_text(HAND, "utf-8")
    data = programme_file(tmp_path / "in.json", "1")
    merge = registry_merge.merge

    def merge_while_someone_edits(*args: Any, **kwargs: Any) -> Any:
        merged = merge(*args, **kwargs)
        target.write_text(HAND + EDIT, "utf-8")
        return merged

    monkeypatch.setattr(registry_merge, "merge", merge_while_someone_edits)
    result = _import(target, data)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"fundcmp: {target}: changed by another program while "
                                    "the import ran; nothing was written")
    assert target.read_text("utf-8") == HAND + EDIT
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_import_waits_a_bounded_time_for_the_lock_then_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "r.yaml"
    target.write_text(HAND, "utf-8")
    data = programme_file(tmp_path / "in.json", "1")
    with open(tmp_path / "r.yaml.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = _import(target, data, env={"FUNDCMP_LOCK_WAIT": "0.3"})
    assert result.exit_code == 1
    assert target.read_text("utf-8") == HAND
    lines = result.stderr.splitlines()
    assert lines[0] == f"fundcmp: waiting for another import into {target} to finish"
    assert lines[1] == (f"fundcmp: {target}: another import still holds {target}.lock after "
                        "0.3 s; nothing was written (FUNDCMP_LOCK_WAIT=SECONDS waits longer)")


@pytest.mark.parametrize("setting", ["soon", "-1", "nan"])
def test_a_bad_lock_wait_setting_is_one_line(tmp_path: Path, setting: str) -> None:
    target = tmp_path / "r.yaml"
    data = programme_file(tmp_path / "in.json", "1")
    result = _import(target, data, env={"FUNDCMP_LOCK_WAIT": setting})
    assert result.exit_code == 1
    assert result.stderr.endswith("FUNDCMP_LOCK_WAIT must be a number of seconds (0 or more), "
                                  f"not '{setting}'\n")
    assert not target.exists()


def test_importing_into_a_symlink_writes_through_it(tmp_path: Path) -> None:
    real = tmp_path / "real" / "registry.yaml"
    real.parent.mkdir()
    real.write_text(HAND, "utf-8")
    real.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    result = _import(link, programme_file(tmp_path / "in.json", "1"))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert "programme-1-gb-chc-1000001" in slugs(real)
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert f"wrote {link}" in result.stdout
    assert sorted(p.name for p in real.parent.iterdir()) == ["registry.yaml"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another user")
def test_a_registry_owned_by_another_user_keeps_its_owner(tmp_path: Path) -> None:
    target = tmp_path / "r.yaml"
    target.write_text(HAND, "utf-8")
    os.chown(target, 4321, 4321)
    result = _import(target, programme_file(tmp_path / "in.json", "1"))
    assert result.exit_code == 0, result.output
    assert (target.stat().st_uid, target.stat().st_gid) == (4321, 4321)
    assert "programme-1-gb-chc-1000001" in slugs(target)


def test_a_hard_linked_registry_is_not_split(tmp_path: Path) -> None:
    target = tmp_path / "r.yaml"
    target.write_text(HAND, "utf-8")
    other = tmp_path / "other-name.yaml"
    os.link(target, other)
    result = _import(target, programme_file(tmp_path / "in.json", "1"))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "has 2 hard links" in result.stderr and "nothing was changed" in result.stderr
    assert target.read_text("utf-8") == HAND and os.path.samefile(target, other)


def test_ctrl_c_after_the_rename_says_the_import_is_complete(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.yaml"
    target.write_text(HAND, "utf-8")

    def interrupted(directory: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "_sync_directory", interrupted)
    result = _import(target, programme_file(tmp_path / "in.json", "1"))
    assert result.exit_code == 130
    assert result.stderr == (f"fundcmp: interrupted after {target} was written: the import "
                             "is complete\n")
    assert "programme-1-gb-chc-1000001" in slugs(target)


def test_ctrl_c_before_the_rename_says_nothing_was_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.yaml"
    target.write_text(HAND, "utf-8")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", interrupted)
    result = _import(target, programme_file(tmp_path / "in.json", "1"))
    assert result.exit_code == 130
    assert result.stderr == f"fundcmp: interrupted: nothing was written to {target}\n"
    assert target.read_text("utf-8") == HAND
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.json", "r.yaml"]


def test_a_lock_file_left_by_a_killed_import_does_not_block(tmp_path: Path) -> None:
    target = tmp_path / "r.yaml"
    target.write_text(HAND, "utf-8")
    (tmp_path / "r.yaml.lock").write_text("", "utf-8")  # no process holds it
    result = _import(target, programme_file(tmp_path / "in.json", "1"),
                     env={"FUNDCMP_LOCK_WAIT": "0"})
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "r.yaml.lock").exists()


def test_the_lock_is_beside_the_link_target(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "registry.yaml").write_text(HAND, "utf-8")
    link = tmp_path / "link.yaml"
    link.symlink_to(real / "registry.yaml")
    with open(real / "registry.yaml.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = _import(link, programme_file(tmp_path / "in.json", "1"),
                         env={"FUNDCMP_LOCK_WAIT": "0"})
    assert result.exit_code == 1
    assert "another import still holds" in result.stderr
    assert json.dumps(HAND) == json.dumps((real / "registry.yaml").read_text("utf-8"))
