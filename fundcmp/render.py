"""Writing a Table in the chosen format: the only module that touches rich or tabulate.

Machine formats (tsv, csv, json, jsonl, yaml) print raw numbers, are never
coloured, wrapped or truncated. People formats (the rich table and tabulate's
formats) print pounds, months and markers. Both read the same typed cells.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from fundcmp import escaping
from fundcmp.display import amount, as_json, number, raw, text
from fundcmp.errors import FundcmpError
from fundcmp.model import Kind, Quantity, Support
from fundcmp.views import Bound, Cell, Record, Table

MACHINE_FORMATS = ("tsv", "csv", "json", "jsonl", "yaml")
# tabulate's own formats, passed straight through (kept in step with tabulate by a test).
TABULATE_FORMATS = (
    "asciidoc", "double_grid", "double_outline", "fancy_grid", "fancy_outline", "github",
    "grid", "heavy_grid", "heavy_outline", "html", "jira", "latex", "latex_booktabs",
    "latex_longtable", "mediawiki", "mixed_grid", "mixed_outline", "moinmoin",
    "orgtbl", "outline", "pipe", "plain", "presto", "pretty", "psql", "rounded_grid",
    "rounded_outline", "rst", "simple", "simple_grid", "simple_outline", "textile", "youtrack",
)  # latex_raw and unsafehtml are left out: they pass text through as markup
FORMATS = ("table", *MACHINE_FORMATS, *TABULATE_FORMATS)
EXPORT_SUFFIXES = (".svg", ".html")
DERIVED_MARK = " *"
BEST_MARK = "★ "


def _support_human(s: Support) -> str:
    if s.value.known:
        return human(s.value)
    if s.days.known:
        return human(s.days)
    return "not valued" if s.description or s.components else "not stated"


def human(cell: Cell) -> str:
    """A cell for people: £420,000, 24-36 months, up to 20 days, a list joined by commas."""
    if cell is None:
        return "-"
    if isinstance(cell, Quantity):
        shown = text(cell)
        return shown + DERIVED_MARK if cell.kind is Kind.DERIVED else shown
    if isinstance(cell, Support):
        return _support_human(cell)
    if isinstance(cell, Bound):
        return "-" if cell.value is None else amount(cell.value, cell.unit)
    if isinstance(cell, tuple):
        return ", ".join(cell) if cell else "-"
    if isinstance(cell, float):
        return amount(cell, "count")
    return str(cell)


def machine(cell: Cell) -> str:
    """A cell for scripts: raw numbers, no pound signs, empty for nothing."""
    if cell is None:
        return ""
    if isinstance(cell, Quantity):
        return raw(cell)
    if isinstance(cell, Support):
        return raw(cell.value)
    if isinstance(cell, Bound):
        return "" if cell.value is None else str(number(cell.value))
    if isinstance(cell, tuple):
        return "; ".join(cell)
    if isinstance(cell, (int, float)):
        return str(number(cell))
    return " ".join(str(cell).split())


def jsonable(cell: Cell) -> Any:
    if isinstance(cell, Quantity):
        return as_json(cell)
    if isinstance(cell, Support):
        return {"value": as_json(cell.value), "days": as_json(cell.days),
                "description": cell.description or None, "components": list(cell.components)}
    if isinstance(cell, tuple):
        return list(cell)
    if isinstance(cell, Bound):
        return None if cell.value is None else number(cell.value)
    if isinstance(cell, float):
        return number(cell)
    return cell


def _objects(table: Table) -> list[dict[str, Any]]:
    objects = []
    for i, record in enumerate(table.records):
        obj = {c.key: jsonable(record[c.key]) for c in table.columns}
        obj.update(table.stamp)
        if table.transpose:
            obj["best"] = [c.key for c in table.columns if (i, c.key) in table.best]
        objects.append(obj)
    return objects


def _grid(table: Table, cell: Any, header: bool) -> list[list[str]]:
    """Rows of strings, turned so that compare has programmes as columns."""
    keys = [c.key for c in table.columns]
    if table.transpose:
        rows = [[c.key, *(cell(r[c.key]) for r in table.records)] for c in table.columns
                if c.key != "slug"]
        head = ["field", *(str(r.get("slug", "")) for r in table.records)]
    else:
        rows = [[cell(r[k]) for k in keys] for r in table.records]
        head = keys
    return [head, *rows] if header else rows


def write(table: Table, fmt: str, out: IO[str], header: bool = True, color: str = "auto",
          width: int | None = None, export: str | None = None, raw_text: bool = False) -> None:
    """Write the table to `out` in `fmt`; with `export`, also save what was written there.

    `raw_text` writes csv text cells as they are, without the ' that stops a formula.
    """
    if fmt == "table":
        _rich(table, out, color, width, export)
        return
    if export is None:
        _text(table, fmt, out, header, raw_text)
        return
    written = io.StringIO()
    _text(table, fmt, written, header, raw_text)
    out.write(written.getvalue())
    lines = written.getvalue().splitlines() or [""]
    recorder = console(io.StringIO(), "never", max(len(line) for line in lines), record=True)
    recorder.out(written.getvalue(), end="")
    save(recorder, export, table.title)


def _text(table: Table, fmt: str, out: IO[str], header: bool, raw_text: bool = False) -> None:
    """Every format but the rich table: plain characters, never styled."""
    if fmt == "tsv":
        for row in _grid(table, machine, header):
            out.write("\t".join(map(escaping.single_line, row)) + "\n")
    elif fmt == "csv":
        import csv

        rows = _grid(table, machine, header)
        csv.writer(out, lineterminator="\n").writerows(
            [escaping.csv_cell(c, raw_text) for c in row] for row in rows)
    elif fmt == "json":
        out.write(escaping.json_text(json.dumps(_objects(table), indent=2,
                                                ensure_ascii=False)) + "\n")
    elif fmt == "jsonl":
        for obj in _objects(table):
            out.write(escaping.json_text(json.dumps(obj, ensure_ascii=False)) + "\n")
    elif fmt == "yaml":
        import yaml

        dumped = yaml.safe_dump(_objects(table), sort_keys=False, allow_unicode=True)
        if escaping.has_hidden(dumped):  # without allow_unicode, yaml escapes every one
            dumped = yaml.safe_dump(_objects(table), sort_keys=False, allow_unicode=False)
        out.write(dumped)
    else:
        _tabulate(table, fmt, out)


def _titles(table: Table) -> tuple[list[str], list[list[str]]]:
    """Headers and cells for people, with best values marked."""
    def mark(i: int, key: str, record: Record) -> str:
        shown = human(record[key])
        return BEST_MARK + shown if (i, key) in table.best else shown

    if table.transpose:
        head = ["", *(str(r.get("name") or r.get("slug")) for r in table.records)]
        rows = [[c.title, *(mark(i, c.key, r) for i, r in enumerate(table.records))]
                for c in table.columns if c.key not in ("slug", "name")]
        return head, rows
    head = [c.title for c in table.columns]
    return head, [[mark(i, c.key, r) for c in table.columns] for i, r in enumerate(table.records)]


def _tabulate(table: Table, fmt: str, out: IO[str]) -> None:
    from tabulate import tabulate

    head, rows = _titles(table)
    head = [escaping.table_cell(c, fmt) for c in head]
    rows = [[escaping.table_cell(c, fmt) for c in row] for row in rows]
    out.write(tabulate(rows, headers=head, tablefmt=fmt, disable_numparse=True) + "\n")
    for note in table.notes:
        out.write(f"{escaping.single_line(note)}\n")


def styled(color: str, environ: Mapping[str, str], isatty: bool) -> bool:
    """Whether to style output: --color always/never win, then NO_COLOR, TERM=dumb and
    FORCE_COLOR (https://no-color.org, https://force-color.org), then whether it is a terminal."""
    if color != "auto":
        return color == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("TERM", "").lower() == "dumb":
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return isatty


def console(out: IO[str], color: str = "auto", width: int | None = None,
            record: bool = False) -> Any:
    """A rich Console made per call, so the environment and --color are read each time.

    Unstyled means no escape codes at all (rich's own NO_COLOR handling keeps bold);
    the width is `width`, else $COLUMNS, else the terminal's.
    """
    from rich.console import Console

    isatty = getattr(out, "isatty", None)
    if not styled(color, os.environ, bool(isatty and isatty())):
        return Console(file=out, color_system=None, width=width, highlight=False,
                       record=record)
    dumb = os.environ.get("TERM", "").lower() == "dumb"
    return Console(file=out, force_terminal=True, no_color=False, width=width,
                   color_system="standard" if dumb else "auto", highlight=False,
                   record=record)


def _widths(head: list[str], rows: list[list[str]], screen_width: int) -> list[int | None]:
    """Column widths that keep every word whole when the screen allows it.

    Each column gets its longest word, then the spare width is shared in
    proportion to what each column would need to print on one line.
    """
    columns = range(len(head))
    longest = [max(len(w) for row in [head, *rows] for w in [*row[i].split(), ""]) or 1
               for i in columns]
    wanted = [max(len(row[i]) for row in [head, *rows]) or 1 for i in columns]
    room = screen_width - (3 * len(head) + 1)
    if sum(wanted) <= room:
        return [None] * len(head)
    if sum(longest) > room:
        return [None] * len(head)
    spare, extra = room - sum(longest), [w - m for w, m in zip(wanted, longest, strict=True)]
    total = sum(extra) or 1
    return [m + spare * e // total for m, e in zip(longest, extra, strict=True)]


def save(recorder: Any, path: str, title: str) -> None:
    """Save a recording console as SVG or HTML, via a temporary file renamed into place,
    so an interrupted export never leaves half a file."""
    target = Path(path)
    if target.suffix.lower() == ".svg":
        document = recorder.export_svg(title=title or "fundcmp")
    else:
        document = recorder.export_html(inline_styles=True)
    from fundcmp.atomic import write_text

    try:
        write_text(target, document)
    except OSError as exc:
        raise FundcmpError(f"cannot write {path}: {exc.strerror or exc}") from None


def _rich(table: Table, out: IO[str], color: str, width: int | None,
          export: str | None = None) -> None:
    from rich.table import Table as RichTable
    from rich.text import Text

    screen = console(out, color, width, record=export is not None)
    head, rows = _titles(table)
    head = [escaping.terminal(c) for c in head]
    rows = [[escaping.terminal(c) for c in row] for row in rows]
    notes = "\n".join(map(escaping.single_line, table.notes))
    grid = RichTable(title=Text(escaping.single_line(table.title)), title_justify="left",
                     caption_justify="left", caption=Text(notes) if notes else None)
    for i, (title, column_width) in enumerate(zip(head, _widths(head, rows, screen.width),
                                                  strict=True)):
        first = table.transpose and i == 0
        grid.add_column(Text(title), style="bold" if first else None, overflow="fold",
                        width=column_width)
    for row in rows:
        grid.add_row(*(Text(c, style="bold green") if c.startswith(BEST_MARK) else Text(c)
                       for c in row))
    screen.print(grid)
    if export is not None:
        save(screen, export, table.title)
