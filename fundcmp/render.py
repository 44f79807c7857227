"""Writing a Table in the chosen format: the only module that touches rich or tabulate.

Machine formats (tsv, csv, json, jsonl, yaml) print raw numbers, are never
coloured, wrapped or truncated. People formats (the rich table and tabulate's
formats) print pounds, months and markers. Both read the same typed cells.
"""

from __future__ import annotations

import io
import itertools
import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from fundcmp import escaping
from fundcmp.display import amount, as_json, cut_values, number, raw, text
from fundcmp.errors import FundcmpError
from fundcmp.model import Kind, Quantity, Support
from fundcmp.views import (
    FIGURE_TEXT_KEYS,
    UNKNOWN_IF_EMPTY,
    Bound,
    Cell,
    Distribution,
    Record,
    Table,
)

MACHINE_FORMATS = ("tsv", "csv", "json", "jsonl", "yaml")
# tabulate's own formats, passed straight through (kept in step with tabulate by a test).
TABULATE_FORMATS = (
    "asciidoc", "double_grid", "double_outline", "fancy_grid", "fancy_outline", "github",
    "grid", "heavy_grid", "heavy_outline", "html", "jira", "latex", "latex_booktabs",
    "latex_longtable", "mediawiki", "mixed_grid", "mixed_outline", "moinmoin",
    "orgtbl", "outline", "pipe", "plain", "presto", "pretty", "psql", "rounded_grid",
    "rounded_outline", "rst", "simple", "simple_grid", "simple_outline", "textile", "youtrack",
)  # latex_raw and unsafehtml are left out: they pass text through as markup
ALIASES = {"markdown": "github"}
FORMATS = ("table", *MACHINE_FORMATS, *TABULATE_FORMATS, *ALIASES)
EXPORT_SUFFIXES = (".svg", ".html")
DERIVED_MARK = " *"
BEST_MARK = "★ "


def _support_human(s: Support) -> str:
    if s.value.known:
        return human(s.value)
    if s.days.known:
        return human(s.days)
    return "unknown"


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
        return "unknown" if cell.value is None else amount(cell.value, cell.unit)
    if isinstance(cell, Distribution):
        from fundcmp import boxplot

        return boxplot.shown(cell.quantity, cell.top)
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
    if isinstance(cell, Distribution):
        return " ".join(f"{k}={number(v)}" for k, v in cut_values(cell.quantity))
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
    if isinstance(cell, Distribution):
        return as_json(cell.quantity)
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


def _grid(table: Table, to_text: Any, header: bool) -> list[list[str]]:
    """Rows of strings, turned so that compare has programmes as columns."""
    keys = [c.key for c in table.columns]

    def cell(value: Cell, key: str) -> str:
        return "unknown" if value is None and key in UNKNOWN_IF_EMPTY else to_text(value)

    if table.transpose:
        rows = [[c.key, *(cell(r[c.key], c.key) for r in table.records)] for c in table.columns
                if c.key != "slug"]
        head = ["field", *(str(r.get("slug", "")) for r in table.records)]
    else:
        rows = [[cell(r[k], k) for k in keys] for r in table.records]
        head = keys
    return [head, *rows] if header else rows


def write(table: Table, fmt: str, out: IO[str], header: bool = True, color: str = "auto",
          width: int | None = None, export: str | None = None, raw_text: bool = False) -> None:
    """Write the table to `out` in `fmt`; with `export`, also save the table as a person
    sees it on a terminal (whatever format went to `out`).

    `raw_text` writes csv text cells as they are, without the ' that stops a formula.
    """
    fmt = ALIASES.get(fmt, fmt)
    if fmt == "table":
        _rich(table, out, color, width, export)
        return
    _text(table, fmt, out, header, raw_text)
    if export is not None:
        _rich(table, io.StringIO(), color, width, export)


CELL_FORMATS = ("tsv", "csv")


def write_lines(lines: list[str], fmt: str, out: IO[str], raw_text: bool = False) -> None:
    """write_cells of rows given as tab-separated lines (as the cache's index keeps them):
    tsv in one piece when no cell holds a line break or a hidden character, so there is
    nothing to escape, else cell by cell."""
    if fmt == "tsv":
        text = "\n".join([*lines, ""]) if lines else ""
        if text.count("\n") == len(lines) and \
                text.replace("\t", "").replace("\n", "").isprintable():
            out.write(text)
            return
    write_cells([line.split("\t") for line in lines], fmt, out, raw_text)


def write_cells(rows: list[list[str]], fmt: str, out: IO[str], raw_text: bool = False) -> None:
    """Rows of machine cells as tsv or csv: hidden characters escaped, and a csv cell never
    starts a formula (unless `raw_text`)."""
    if fmt == "tsv":
        out.write("".join("\t".join(map(escaping.single_line, row)) + "\n" for row in rows))
    else:
        import csv

        csv.writer(out, lineterminator="\n").writerows(
            [escaping.csv_cell(c, raw_text) for c in row] for row in rows)


def _text(table: Table, fmt: str, out: IO[str], header: bool, raw_text: bool = False) -> None:
    """Every format but the rich table: plain characters, never styled."""
    if fmt in CELL_FORMATS:
        write_cells(_grid(table, machine, header), fmt, out, raw_text)
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
    head, rows = _people(table)
    return [h for h, _ in head], [[c for c, _ in row] for row in rows]


def _people(table: Table) -> tuple[list[tuple[str, bool]], list[list[tuple[str, bool]]]]:
    """Headers and cells for people as (text, prose) pairs, best values marked.

    Prose (names, notes, quotes) may wrap between words; anything else is a
    figure, a slug or a date and is never broken inside.
    """
    def mark(i: int, key: str, record: Record) -> tuple[str, bool]:
        cell = record[key]
        shown = "unknown" if cell is None and key in UNKNOWN_IF_EMPTY else human(cell)
        prose = isinstance(cell, (str, tuple)) and key not in FIGURE_TEXT_KEYS
        return (BEST_MARK + shown if (i, key) in table.best else shown), prose

    if table.transpose:
        head = [("", True), *((str(r.get("name") or r.get("slug")), True)
                             for r in table.records)]
        rows = [[(c.title, True), *(mark(i, c.key, r) for i, r in enumerate(table.records))]
                for c in table.columns if c.key != "name"]
        return head, rows
    head = [(c.title, True) for c in table.columns]
    return head, [[mark(i, c.key, r) for c in table.columns]
                  for i, r in enumerate(table.records)]


MARKDOWN_FORMATS = ("github", "pipe")


def _legend(table: Table, fmt: str) -> str:
    """The notes under a pasted table, apart from it and written as the format reads them:
    in Markdown and reStructuredText a line starting `*` would become a bullet, and a
    line right under a table would become one of its rows."""
    if not table.notes:
        return ""
    if fmt == "html":
        import html

        return "".join(f"<p>{html.escape(note)}</p>\n" for note in table.notes)
    if fmt in (*MARKDOWN_FORMATS, "rst"):
        escaped = [note.replace("*", "\\*") for note in table.notes]
        if fmt == "rst":  # a literal is ``x`` there
            escaped = [note.replace("`", "``") for note in escaped]
        return "\n" + "".join(f"{note}\n\n" for note in escaped).rstrip("\n") + "\n"
    return "\n" + "".join(f"{note}\n" for note in table.notes)


def _tabulate(table: Table, fmt: str, out: IO[str]) -> None:
    from tabulate import tabulate

    head, rows = _titles(table)
    head = [escaping.table_cell(c, fmt) for c in head]
    rows = [[escaping.table_cell(c, fmt) for c in row] for row in rows]
    out.write(tabulate(rows, headers=head, tablefmt=fmt, disable_numparse=True) + "\n")
    out.write(_legend(replace(table, notes=tuple(map(escaping.single_line, table.notes))), fmt))


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
    """The table for a person, fitted to the screen by layout.fit: figures never cut."""
    from fundcmp import layout

    screen = console(out, color, width, record=export is not None)
    table = replace(table, title=escaping.single_line(table.title),
                    notes=tuple(map(escaping.single_line, table.notes)))
    head, rows = _people(table)
    head = [(escaping.terminal(text), prose) for text, prose in head]
    rows = [[(escaping.terminal(text), prose) for text, prose in row] for row in rows]
    position = {c.key: i for i, c in enumerate(table.columns)}
    optional = tuple(position[key] for key in table.optional if key in position)
    if table.transpose:
        _rich_across(table, screen, head, rows)
    else:
        fitted = layout.fit([head, *rows], screen.width, optional)
        if fitted is None:
            _stacked(table, screen, head, rows)
        else:
            _draw(screen, table.title, _notes(table, head, fitted), head, rows, fitted)
    if export is not None:
        save(screen, export, table.title)


def _notes(table: Table, head: list[tuple[str, bool]], fitted: Any) -> tuple[str, ...]:
    left_out = [head[i][0] for i in range(len(head)) if i not in fitted.keep]
    if not left_out:
        return table.notes
    return (*table.notes, f"left out to fit the screen: {', '.join(left_out)} (a wider "
                          "terminal or --fields shows them)")


def _rich_across(table: Table, screen: Any, head: list[tuple[str, bool]],
                 rows: list[list[tuple[str, bool]]]) -> None:
    """Programmes as columns: as many side by side as fit, the rest in further tables
    (each with the labels again), or stacked when not even one fits beside the labels."""
    from fundcmp import layout

    columns = len(head) - 1
    for tables in range(1, columns + 1):
        fits = []
        bounds = [round(n * columns / tables) for n in range(tables + 1)]
        for start, stop in itertools.pairwise(bounds):
            chosen = [0, *range(start + 1, stop + 1)]
            grid = [[row[i] for i in chosen] for row in [head, *rows]]
            fitted = layout.fit(grid, screen.width)
            if fitted is None:
                break
            fits.append((grid, fitted))
        else:
            for n, (grid, fitted) in enumerate(fits):
                title = table.title if n == 0 else ""
                notes = table.notes if n == len(fits) - 1 else ()
                _draw(screen, title, notes, grid[0], grid[1:], fitted)
            return
    _stacked(table, screen, head, rows)


def _draw(screen: Any, title: str, notes: tuple[str, ...], head: list[tuple[str, bool]],
          rows: list[list[tuple[str, bool]]], fitted: Any) -> None:
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    from fundcmp import layout

    bordered = fitted.style is layout.BORDERED
    grid = RichTable(title=Text(title) if title else None, title_justify="left",
                     caption_justify="left", caption=Text("\n".join(notes)) if notes else None,
                     box=box.HEAVY_HEAD if bordered else box.SIMPLE_HEAD,
                     show_edge=bordered, pad_edge=bordered,
                     padding=(0, 1) if bordered else (0, layout.GAP - 1, 0, 0))
    for i, chars in zip(fitted.keep, fitted.widths, strict=True):
        text, prose = head[i]
        grid.add_column(Text("\n".join(layout.wrap(text, chars, prose))), width=chars,
                        overflow="fold", style="bold" if i == 0 and not prose else None)
    for row in rows:
        cells = []
        for i, chars in zip(fitted.keep, fitted.widths, strict=True):
            text, prose = row[i]
            shown = "\n".join(layout.wrap(text, chars, prose))
            cells.append(Text(shown, style="bold green" if text.startswith(BEST_MARK) else ""))
        grid.add_row(*cells)
    screen.print(grid)


def _stacked(table: Table, screen: Any, head: list[tuple[str, bool]],
             rows: list[list[tuple[str, bool]]]) -> None:
    """One record after another, "Title: value" lines, for screens no table fits."""
    from fundcmp import layout

    if table.transpose:
        columns = [[row[j] for row in rows] for j in range(1, len(head))]
        records = [(head[j + 1][0], [(label, value, prose) for (label, _), (value, prose)
                                     in zip([row[0] for row in rows], column, strict=True)])
                   for j, column in enumerate(columns)]
    else:
        records = [(row[0][0], [(title, value, prose) for (title, _), (value, prose)
                                in zip(head[1:], row[1:], strict=True)]) for row in rows]
    if table.title:
        for line in layout.wrap(table.title, screen.width, True):
            screen.print(line, markup=False, highlight=False, overflow="fold")
    for line in layout.stacked(records, screen.width):
        screen.print(line, markup=False, highlight=False, overflow="fold", crop=False,
                     style="bold" if line and not line.startswith(" ") else None)
    for note in table.notes:
        screen.print(note, markup=False, highlight=False)
