"""The index built by worker processes is the serial build's, byte for byte, or is not built.

Every test forces the parallel path on a small file (parallel_index.MIN_BYTES and
PART_BYTES patched), so a registry of a few hundred programmes is cut into several parts.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from fundcmp import cache, cache_dir, parallel_index, registry
from fundcmp.errors import RegistryError
from tests.test_jsonl import GENERATE
from tests.test_reader_process import shadowing

ROOT = Path(__file__).resolve().parent.parent




def _with_warnings(text: str) -> str:
    """Every fifth stated end date moved to 1990, before its start: a warning each."""
    ends = iter(range(10**6))
    return re.sub(r'(    end: \{date: )"[0-9-]+"(, source: \S+, quote: )"on [0-9-]+"',
                  lambda m: f'{m[1]}"1990"{m[2]}"on 1990"' if next(ends) % 5 == 0 else m[0],
                  text)


YAML_TEXT: str = _with_warnings(GENERATE.generate(300, 5))
JSONL_TEXT: str = GENERATE.as_jsonl(YAML_TEXT)


@pytest.fixture
def forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Workers for any file, in parts of about 30 KB; the cache directory to use."""
    monkeypatch.setattr(parallel_index, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel_index, "PART_BYTES", 30_000)
    monkeypatch.setattr(parallel_index, "_cpus", lambda: 2)
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("FUNDCMP_NO_CACHE", raising=False)
    folder = home / "fundcmp"
    folder.mkdir(parents=True, mode=0o700)
    return folder


def _serial(path: Path, folder: Path) -> bytes:
    target = folder / "serial.sqlite"
    cache._write(target, "key", registry.records(path))
    built = target.read_bytes()
    target.unlink()
    return built


def _parallel(path: Path, folder: Path) -> tuple[bool, bytes]:
    target = folder / "parallel.sqlite"
    target.touch()
    done = parallel_index.write(str(path), target, "key")
    built = target.read_bytes()
    target.unlink()
    return done, built


def _outcome(path: Path, use_cache: bool) -> registry.Registry | str:
    try:
        return registry.load(path, use_cache=use_cache)
    except RegistryError as exc:
        return str(exc)


def _parts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many parts each parallel build cut its file into."""
    counts: list[int] = []
    merge = parallel_index._merge

    def counted(target: Path, key: str, built: Any, tasks: Any) -> bool:
        counts.append(len(tasks))
        return merge(target, key, built, tasks)

    monkeypatch.setattr(parallel_index, "_merge", counted)
    return counts


@pytest.mark.parametrize("name, text", [("big.yaml", YAML_TEXT), ("big.jsonl", JSONL_TEXT)])
def test_the_parallel_entry_is_the_serial_entry_byte_for_byte(
        name: str, text: str, tmp_path: Path, forced: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    parts = _parts(monkeypatch)
    done, built = _parallel(path, forced)
    assert done and parts[0] >= 5
    assert built == _serial(path, forced)
    store = registry.indexed(path)
    assert store is not None and len(store.findings()) >= 5  # the warnings, kept


def test_jsonl_sources_between_programmes_reach_the_parts_after_them(
        tmp_path: Path, forced: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = JSONL_TEXT.splitlines()
    first = next(i for i, line in enumerate(lines) if '"slug"' in line)
    late = {"source": {"id": "late-src", "publisher": "P", "title": "T", "date": "2020"}}
    middle = (first + len(lines)) // 2
    cited = json.loads(lines[-1])
    cited["duration"] = {"amount": 12, "source": "late-src", "quote": "12 months"}
    lines[-1] = json.dumps(cited)
    lines[middle:middle] = [json.dumps(late), ""]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parts = _parts(monkeypatch)
    done, built = _parallel(path, forced)
    assert done and parts[0] >= 5
    assert built == _serial(path, forced)


def test_a_source_line_the_scan_misses_falls_back(tmp_path: Path, forced: Path) -> None:
    lines = JSONL_TEXT.splitlines()
    late = {"source": {"id": "late-src", "publisher": "slug", "title": "T", "date": "2020"}}
    lines.insert(len(lines) // 2, json.dumps(late))  # contains "slug": not read ahead
    path = tmp_path / "hidden.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done, built = _parallel(path, forced)
    assert not done and built == b""
    assert _outcome(path, use_cache=True) == _outcome(path, use_cache=False)


def _late_error(text: str, jsonl: bool) -> str:
    """The registry with an invalid funder in its second-to-last programme."""
    if jsonl:
        lines = text.splitlines()
        broken = json.loads(lines[-2])
        broken["funders"] = ["ok", 5]
        lines[-2] = json.dumps(broken)
        return "\n".join(lines) + "\n"
    at = text.rindex("  - slug:", 0, text.rindex("  - slug:"))
    funders = text.index("    funders:", at)
    end = text.index("\n", funders)
    return text[:funders] + "    funders: [ok, 5]" + text[end:]


def _duplicate_slug(text: str, jsonl: bool) -> str:
    """The registry with its last programme given the first programme's slug."""
    if jsonl:
        lines = text.splitlines()
        first = next(json.loads(line) for line in lines if '"slug"' in line)
        last = json.loads(lines[-1])
        last["slug"] = first["slug"]
        lines[-1] = json.dumps(last)
        return "\n".join(lines) + "\n"
    first = text[text.index("  - slug: ") + 10:].split("\n", 1)[0]
    at = text.rindex("  - slug: ")
    end = text.index("\n", at)
    return text[:at] + f"  - slug: {first}" + text[end:]


@pytest.mark.parametrize("jsonl", [False, True], ids=["yaml", "jsonl"])
@pytest.mark.parametrize("change", [_late_error, _duplicate_slug], ids=["late-error", "duplicate"])
def test_a_late_error_is_the_serial_error(
        change: Any, jsonl: bool, tmp_path: Path, forced: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / ("bad.jsonl" if jsonl else "bad.yaml")
    path.write_text(change(JSONL_TEXT if jsonl else YAML_TEXT, jsonl), encoding="utf-8")
    parts = _parts(monkeypatch)
    done, built = _parallel(path, forced)
    assert parts and not done and built == b""
    serial = _outcome(path, use_cache=False)
    assert isinstance(serial, str) and str(path) in serial
    assert _outcome(path, use_cache=True) == serial
    assert list(forced.iterdir()) == []  # no part, no entry left behind


def _yaml_with(items: str) -> str:
    """The generated registry's head, then these programme items, then its own."""
    at = YAML_TEXT.index("programmes:\n") + len("programmes:\n")
    return YAML_TEXT[:at] + items + YAML_TEXT[at:]


FILLER = "".join(f"    # filler line {i}\n" for i in range(800))


def _quoted() -> str:
    """A registry whose first cut would fall inside a quoted scalar spanning lines, one of
    which looks like an item: comments pad the item to where the first cut is looked for
    (a tenth of the file, parallel_index.MAX_PARTS parts)."""
    item = ('  - slug: quoted\n    name: "Quoted\n' + "    text text text\n" * 20
            + '  - slug: fake"\n    funders: [F]\n')
    for pad in range(4000):
        text = _yaml_with("".join(f"  # pad {i:05d}\n" for i in range(pad)) + item)
        start = text.index("  - slug: quoted")
        step = len(text.encode()) / parallel_index.MAX_PARTS
        if start < step <= text.index("  - slug: fake"):
            return text
    raise AssertionError("no padding puts the cut in the quoted scalar")


UNSAFE_YAML = {
    # the only item start near the first cut is inside a quoted scalar
    "quoted": _quoted(),
    "anchor-across-parts": _yaml_with("  - slug: anchored\n    name: &a Name\n    funders: [F]\n"
                                      + FILLER + "  - slug: aliased\n    name: *a\n"
                                      "    funders: [F]\n"),
    "key-after": YAML_TEXT + "extra: 1\n",
    "second-document": YAML_TEXT + "---\nsources: []\n",
    "programmes-first": YAML_TEXT[YAML_TEXT.index("programmes:\n"):]
    + YAML_TEXT[:YAML_TEXT.index("programmes:\n")],
    "flow": YAML_TEXT.replace("programmes:\n", "programmes: [\n", 1).rstrip("\n") + "]\n",
    "crlf": YAML_TEXT.replace("\n", "\r\n"),
    "tag": _yaml_with("  - !!map\n    slug: tagged\n    name: N\n    funders: [F]\n"),
}


@pytest.mark.parametrize("name", sorted(UNSAFE_YAML))
def test_yaml_that_cannot_be_cut_safely_gives_the_serial_outcome(
        name: str, tmp_path: Path, forced: Path) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(UNSAFE_YAML[name], encoding="utf-8")
    assert _outcome(path, use_cache=True) == _outcome(path, use_cache=False)


def test_a_cut_inside_a_quoted_scalar_fails_its_part(
        tmp_path: Path, forced: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "quoted.yaml"
    path.write_text(UNSAFE_YAML["quoted"], encoding="utf-8")
    parts = _parts(monkeypatch)
    done, _ = _parallel(path, forced)
    assert parts and not done
    loaded = registry.load(path, use_cache=False)
    assert "- slug: fake" in loaded.by_slug()["quoted"].name


def test_small_registries_start_no_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker process was started")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(cache_dir, "MIN_BYTES", 0)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("FUNDCMP_NO_CACHE", raising=False)
    path = tmp_path / "big.yaml"
    path.write_text(YAML_TEXT, encoding="utf-8")
    assert os.path.getsize(path) < parallel_index.MIN_BYTES
    for registry_path in (path, ROOT / "programmes.yaml"):
        assert registry.indexed(registry_path) is not None  # built serially


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        found.update(int(n) for n in text.split())
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_ctrl_c_stops_the_workers_quietly(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text(GENERATE.as_jsonl(GENERATE.generate(4000, 2)), encoding="utf-8")
    code = ("import sys; from fundcmp import parallel_index as p; p.MIN_BYTES = 0; "
            "from fundcmp.cli import main; sys.argv[0] = 'fundcmp'; main()")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.pop("FUNDCMP_NO_CACHE", None)
    command = subprocess.Popen(
        [sys.executable, "-c", code, "--registry", str(path), "rank", "--by", "funding",
         "--format", "tsv"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    workers: set[int] = set()
    while command.poll() is None and len(workers) < 2:
        workers = _children(command.pid)
        time.sleep(0.01)
    assert len(workers) == 2, "the build ended before its workers could be seen"
    os.killpg(command.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
    _, stderr = command.communicate(timeout=30)
    assert command.returncode == 130
    assert stderr.strip() == b""  # no traceback, from this process or a worker
    for worker in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(worker, 0)
    assert not list((tmp_path / "xdg" / "fundcmp").glob(".*.tmp"))


def test_files_in_the_working_directory_never_run_in_a_worker(
        tmp_path: Path, forced: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker is `python -c`, which would put the working directory first on its path: a
    yaml.py there must not be imported (nothing is ever executed from the user's files)."""
    path = tmp_path / "big.yaml"
    path.write_text(YAML_TEXT, encoding="utf-8")
    ran = shadowing(monkeypatch, tmp_path, ("yaml", "pickle", "json", "sqlite3"))
    done, built = _parallel(path, forced)
    assert not ran.exists()
    assert done and built == _serial(path, forced)


def test_a_yaml_list_whose_items_start_at_column_0_is_cut_too(
        tmp_path: Path, forced: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`programmes:` then `- slug: ...` at the margin, a common style, is as safe to cut."""
    head, _, items = YAML_TEXT.partition("programmes:\n")
    flush = "\n".join(line[2:] if line.startswith("  ") else line
                      for line in items.split("\n"))
    path = tmp_path / "flush.yaml"
    path.write_text(head + "programmes:\n" + flush, encoding="utf-8")
    assert "\n- slug: " in path.read_text(encoding="utf-8")
    parts = _parts(monkeypatch)
    done, built = _parallel(path, forced)
    assert done and parts[0] >= 5
    assert built == _serial(path, forced)
