"""The command line: parse options, call the library, hand rows to the renderer.

Exit status: 0 success, 1 a data error (a bad registry), 2 a usage error
(an unknown option, slug or field).
"""

from __future__ import annotations

import contextlib
import errno
import gc
import io
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from fundcmp import __version__
from fundcmp.arithmetic import MEASURES
from fundcmp.completion import fields as complete_fields
from fundcmp.completion import rank_keys as complete_keys
from fundcmp.completion import slugs as complete_slugs
from fundcmp.display import plural
from fundcmp.errors import FundcmpError, UnknownSlugError, escaped, one_line
from fundcmp.model import Programme
from fundcmp.registry import Registry, indexed, load

if TYPE_CHECKING:
    from fundcmp.cache import Store
    from fundcmp.prices import Prices

F = TypeVar("F", bound=Callable[..., Any])
PAGE = 50  # rows a terminal shows before saying how to see the rest

EXIT_CODES = """\b
Exit status: 0 success; 1 a data error (such as a bad registry), an
export that cannot be written, or facts that disagree (check);
2 a usage error (unknown option, slug or field); 3 import left some
grants out of the money; 130 interrupted (Ctrl-C).
"""


REGISTRIES_KEY = "fundcmp.registries"
NO_REGISTRY = frozenset({"import", "indices", "help"})  # commands that read no registry


def _remember_registries(ctx: click.Context, param: click.Parameter,
                         value: tuple[str, ...]) -> tuple[str, ...]:
    """--registry before the command and after it add up, in the order given."""
    ctx.meta.setdefault(REGISTRIES_KEY, []).extend(value)
    return value


def registry_option() -> click.Option:
    return click.Option(["--registry"], multiple=True, metavar="PATH", expose_value=False,
                        callback=_remember_registries,
                        help="Registry file to read; repeat to combine several ('shipped' is "
                             "the one fundcmp ships). Default: $FUNDCMP_REGISTRY (a "
                             "':'-separated list), else the shipped one.")


class FundcmpCommand(click.Command):
    """A command that also takes --registry after its name, as the group does before it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.name not in NO_REGISTRY:
            self.params.append(registry_option())


class FundcmpGroup(click.Group):
    """Maps fundcmp's own errors to one line on stderr and their exit status; bare
    `fundcmp` prints its help and succeeds, as `gh` does."""

    command_class = FundcmpCommand

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:
            click.echo(ctx.get_help())
            ctx.exit(0)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FundcmpError as exc:
            click.echo(f"fundcmp: {escaped(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except click.ClickException as exc:
            # It may quote an argument or a line of stdin; click types message as final.
            exc.__dict__["message"] = escaped(exc.message)
            raise


class State:
    def __init__(self, use_cache: bool = True) -> None:
        self.use_cache = use_cache
        self._registry: Registry | None = None
        self._store: Store | None = None
        self._store_opened = False
        self.warn = True
        self._warned = False

    def registry(self) -> Registry:
        if self._registry is None:
            from fundcmp.registries import load_all, paths

            store = self.store()
            given = click.get_current_context().meta.get(REGISTRIES_KEY, [])
            self._registry = store.registry() if store else \
                load_all(paths(given), self.use_cache)
            # The registry lives until the process ends: keep the collector from rescanning it.
            gc.freeze()
            if self.warn and not self._warned:
                self._warned = True
                _warn(self._registry)
        return self._registry

    def store(self) -> Store | None:
        """The registry's indexed store, to answer from without loading every programme."""
        if not self._store_opened:
            from fundcmp.registries import paths

            self._store_opened = True
            files = paths(click.get_current_context().meta.get(REGISTRIES_KEY, []))
            # one registry file has an index; several are combined from their loads
            self._store = indexed(files[0]) if self.use_cache and len(files) == 1 else None
            if self._store is not None:
                click.get_current_context().find_root().call_on_close(self._store.close)
            if self._store is not None and self.warn and not self._warned:
                self._warned = True
                for line in self._store.findings():
                    click.echo(f"fundcmp: warning: {line}", err=True)
        return self._store

    def programmes(self, slugs: Sequence[str] | None = None) -> list[Programme]:
        store = self.store()
        if slugs is None:
            return list(self.registry().programmes)
        from fundcmp.slug_lines import expand

        slugs = expand(slugs, sys.stdin)
        if not slugs:
            raise click.UsageError("no slugs given (stdin held none)",
                                   click.get_current_context())
        index = store.by_slugs(slugs) if store else self.registry().by_slug()
        chosen = []
        for slug in slugs:
            if slug not in index:
                import difflib

                every = store.slugs() if store else list(index)
                close = difflib.get_close_matches(slug, every, n=3)
                known = every if len(every) <= 20 else []
                raise click.UsageError(str(UnknownSlugError(slug, close, known)),
                                       click.get_current_context())
            chosen.append(index[slug])
        return chosen


def _warn(registry: Registry) -> None:
    """Facts that disagree go to stderr as warnings; they never change the exit status."""
    from fundcmp.small_cache import findings

    lines = findings(registry.programmes)
    if lines is None:
        from fundcmp.checks import check

        lines = [finding.line() for finding in check(registry.programmes)]
    for line in lines:
        click.echo(f"fundcmp: warning: {escaped(line)}", err=True)


def _comma_words(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    """A comma-separated list with no empty or repeated entry: a typo is refused, not dropped."""
    words = [w.strip() for w in value.split(",")]
    if not all(words):
        raise click.BadParameter(f"empty entry in '{value}'", ctx, param)
    repeated = sorted({w for w in words if words.count(w) > 1})
    if repeated:
        raise click.BadParameter(f"'{repeated[0]}' is given twice", ctx, param)
    return words


def _split_fields(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str]:
    """--fields checked against the command's own fields as it is parsed, before any work."""
    if value is None:
        return []
    words = _comma_words(ctx, param, value)
    from fundcmp.views import check_fields, fields_for

    available = fields_for(ctx.command.name or "")
    if available is not None:
        check_fields(words, available)
    return words


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Keep an option every output command shares without adding it to each signature."""
    assert param.name is not None
    ctx.meta[f"fundcmp.{param.name}"] = value


def output_options(f: F) -> F:
    """The output options every command that prints rows shares."""
    from fundcmp.render import FORMATS

    for option in reversed((
        click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                     metavar="FORMAT",
                     help="table (rich) on a terminal, tsv when piped; also csv, json, jsonl, "
                          "yaml and tabulate's formats (github, grid, rst, latex, ...; an "
                          "unknown FORMAT lists them all). Machine formats print raw numbers, "
                          "never coloured or cut."),
        click.option("--fields", callback=_split_fields, shell_complete=complete_fields,
                     metavar="FIELD,...",
                     help="Comma-separated fields to show, in order (e.g. slug,duration); "
                          "an unknown field lists the valid ones."),
        click.option("--no-header", is_flag=True, help="No header line in tsv or csv."),
        click.option("--raw-text", is_flag=True, expose_value=False, callback=_remember,
                     help="In csv, write text cells exactly as they are: no ' before a "
                          "cell starting with =, +, -, @ (which a spreadsheet would run)."),
        click.option("--color", type=click.Choice(["auto", "always", "never"]),
                     default="auto", show_default=True,
                     help="Colour in tables; auto honours NO_COLOR, FORCE_COLOR and "
                          "TERM=dumb."),
    )):
        f = option(f)
    return f


def _check_export(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from fundcmp.render import EXPORT_SUFFIXES

    if value is not None and not value.lower().endswith(EXPORT_SUFFIXES):
        raise click.BadParameter("must end in .svg or .html", ctx, param)
    return value


EXPORT = click.option("--export", metavar="FILE.svg|FILE.html", callback=_check_export,
                      help="Also save what is printed, as an SVG picture or an HTML page.")
SLUGS_HELP = "A SLUG of - reads slugs from stdin, one per line (first field; header, blank " \
             "and # lines skipped)."


def emit(table: Any, fmt: str | None, no_header: bool, color: str,
         export: str | None = None) -> None:
    from fundcmp.render import write

    out = sys.stdout
    if fmt is None:
        piped = not out.isatty()
        fmt = "tsv" if piped else "table"
        header = not piped and not no_header
    else:
        header = not no_header
    write(table, fmt, out, header=header, color=color, export=export, raw_text=_raw_text())


def _raw_text() -> bool:
    """--raw-text: csv text cells as written, without the ' that stops a formula."""
    return bool(click.get_current_context().meta.get("fundcmp.raw_text"))


LIMIT = click.option("--limit", type=click.IntRange(min=0), default=None, metavar="N",
                     help=f"Show the first N rows; 0 shows all (default: {PAGE} on a "
                          "terminal, all when piped).")


def _page(limit: int | None) -> int | None:
    """Rows to show: --limit N (0 for all), else a page on a terminal and everything piped."""
    if limit is None:
        return PAGE if _terminal() else None
    return limit or None


def _terminal() -> bool:
    return sys.stdout.isatty()


def _more(shown: int, total: int) -> None:
    """Say what a page left out and how to see it, as the GitHub CLI does."""
    if shown < total:
        sys.stdout.flush()
        click.echo(f"fundcmp: showing {shown:,} of {total:,} programmes; --limit N shows N, "
                   "--limit 0 shows all", err=True)


RANK_KEYS = tuple(MEASURES)


def _split_by(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    keys = _comma_words(ctx, param, value)
    for key in keys:
        if key not in RANK_KEYS:
            import difflib

            close = difflib.get_close_matches(key, RANK_KEYS, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise click.BadParameter(f"'{key}' is not one of {', '.join(RANK_KEYS)}{hint}")
    return keys


def price_options(f: F) -> F:
    """Options that restate money (--prices, --index) and value support days (--day-rate)."""
    from fundcmp.index_names import INDEX_NAMES

    for option in reversed((
        click.option("--prices", "prices_year", type=int, metavar="YEAR", default=None,
                     help="Restate money in YEAR's prices: amount x index(YEAR) / "
                          "index(programme's price year). See `fundcmp indices`."),
        click.option("--index", type=click.Choice(INDEX_NAMES), default=None,
                     help="Price index for --prices: cpi (ONS CPI D7BT, the default) or "
                          "gdp-deflator (HM Treasury, by financial year)."),
        click.option("--day-rate", "day_rate", metavar="GBP", default=None,
                     type=click.FloatRange(min=0, min_open=True, max=100_000),
                     callback=_finite,
                     help="Value support stated in days at GBP a day (no default: without it "
                          "days stay days). Read in the table's prices."),
    )):
        f = option(f)
    return f


def _finite(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """FloatRange lets nan through (every comparison with nan is false)."""
    if value is not None and value != value:
        raise click.BadParameter("must be a number of pounds, not nan", ctx, param)
    return value


def _prices(year: int | None, index: str | None) -> Prices | None:
    if year is None:
        if index is not None:
            raise click.UsageError("--index chooses the index for --prices YEAR; give --prices "
                                   "too", click.get_current_context())
        return None
    from fundcmp.prices import DEFAULT_INDEX, prices_for

    return prices_for(year, index or DEFAULT_INDEX)


def _adjusted(programmes: Sequence[Programme], prices: Prices | None,
              day_rate: float | None) -> list[Programme]:
    """Money restated at the chosen prices, then support days valued at the day rate."""
    from fundcmp.arithmetic import value_programme

    restated = list(programmes)
    if prices:
        from fundcmp.prices import at_prices

        restated = at_prices(programmes, prices)
    return [value_programme(p, day_rate) for p in restated]


@click.group(cls=FundcmpGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="fundcmp")
@click.option("--no-cache", is_flag=True,
              help="Parse the registry afresh; do not read or write the cache of parsed "
                   "registries in $XDG_CACHE_HOME/fundcmp (also FUNDCMP_NO_CACHE=1).")
@click.pass_context
def cli(ctx: click.Context, no_cache: bool) -> None:
    """Put grant programmes side by side: funding per team, duration and support.

    \b
    Example:
      fundcmp compare shared-purpose common-ambition
      fundcmp rank --by funding | head -3 | cut -f1 | fundcmp compare -
    \b
    Tab completion (bash; zsh_source and fish_source likewise):
      eval "$(_FUNDCMP_COMPLETE=bash_source fundcmp)"
    """
    ctx.obj = State(use_cache=not no_cache)


cli.params.insert(0, registry_option())


@cli.command("help")
@click.argument("command", nargs=-1)
@click.pass_context
def help_cmd(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Help on fundcmp or one of its commands.

    \b
    Example:
      fundcmp help rank
    """
    group: click.Command = cli
    words: list[str] = []
    for word in command:
        found = group.get_command(ctx, word) if isinstance(group, click.Group) else None
        if found is None:
            raise click.UsageError(f"no such command '{' '.join([*words, word])}'")
        words.append(word)
        group = found
    with click.Context(group, info_name=" ".join(["fundcmp", *words])) as help_ctx:
        click.echo(group.get_help(help_ctx))


@cli.group("registry", cls=click.Group, invoke_without_command=True)
@click.pass_context
def registry_group(ctx: click.Context) -> None:
    """Where the registry fundcmp ships is (name it `shipped` in --registry).

    \b
    Example:
      fundcmp registry path
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@registry_group.command("path")
def registry_path() -> None:
    """Print the path of the registry fundcmp ships, to copy or read beside your own.

    \b
    Example:
      fundcmp registry path
      cp "$(fundcmp registry path)" mine.yaml
    """
    from fundcmp.registry import SHIPPED

    click.echo(str(SHIPPED))


@cli.command("list")
@price_options
@output_options
@LIMIT
@click.pass_obj
def list_cmd(state: State, prices_year: int | None, index: str | None, day_rate: float | None,
             fmt: str | None, fields: list[str], no_header: bool, color: str,
             limit: int | None) -> None:
    """One row per programme: funder, teams, funding per team, duration, support.

    \b
    Example:
      fundcmp list
      fundcmp list --format json --fields slug,funding,duration
      fundcmp list --prices 2024
    """
    from fundcmp.views import list_table, priced

    prices = _prices(prices_year, index)
    page, store = _page(limit), state.store()
    if page and store:
        chosen, total = store.first(page), store.count()
    else:
        everything = state.programmes()
        chosen, total = everything[:page], len(everything)
    programmes = _adjusted(chosen, prices, day_rate)
    emit(priced(list_table(programmes, fields), prices), fmt, no_header, color)
    _more(len(programmes), total)


@cli.command()
@click.argument("slug", shell_complete=complete_slugs)
@output_options
@click.pass_obj
def show(state: State, slug: str, fmt: str | None, fields: list[str], no_header: bool,
         color: str) -> None:
    """Every fact of one programme, with the quote and source behind it.

    \b
    Example:
      fundcmp show people-powered-health
    """
    from fundcmp.views import select, show_table

    emit(select(show_table(state.programmes([slug])[0]), fields), fmt, no_header, color)


BASIS = click.option("--basis", type=click.Choice(["low", "mid", "high"]), default="mid",
                     show_default=True,
                     help="Which end of a range stands for it: low, mid(point) or high.")


@cli.command(epilog=SLUGS_HELP)
@click.argument("slugs", nargs=-1, required=True, shell_complete=complete_slugs)
@BASIS
@price_options
@output_options
@EXPORT
@click.pass_obj
def compare(state: State, slugs: tuple[str, ...], basis: str, prices_year: int | None,
            index: str | None, day_rate: float | None, fmt: str | None,
            fields: list[str], no_header: bool, color: str, export: str | None) -> None:
    """Programmes side by side, the best value in each row marked.

    \b
    Example:
      fundcmp compare shared-purpose common-ambition
      fundcmp compare people-powered-health common-ambition --prices 2024
      fundcmp rank --by funding | head -3 | cut -f1 | fundcmp compare -
      fundcmp compare shared-purpose common-ambition --export compare.svg
    """
    from fundcmp.views import compare_table, priced

    prices = _prices(prices_year, index)
    programmes = _adjusted(state.programmes(slugs), prices, day_rate)
    if len(programmes) < 2:
        raise click.UsageError("compare needs at least two programmes")
    repeated = sorted({p.slug for p in programmes if programmes.count(p) > 1})
    if repeated:
        raise click.UsageError(f"'{repeated[0]}' is given twice")
    emit(priced(compare_table(programmes, fields, basis), prices), fmt, no_header, color,
         export)


@cli.command()
@click.option("--by", "by", required=True, callback=_split_by, metavar="KEY[,KEY...]",
              shell_complete=complete_keys,
              help="What to rank by: " + ", ".join(RANK_KEYS) + ". Several keys, comma-"
                   "separated, sort like `sort -k`: ties on the first are broken by the next.")
@BASIS
@click.option("--reverse", is_flag=True, help="Smallest first (unknowns stay last).")
@click.option("--chart", is_flag=True,
              help="Draw bars of the first --by key instead of a table: ranges as whiskers, "
                   "ceilings open-ended, unknowns named but not drawn.")
@price_options
@output_options
@EXPORT
@LIMIT
@click.pass_obj
def rank(state: State, by: list[str], basis: str, reverse: bool, chart: bool,
         prices_year: int | None, index: str | None, day_rate: float | None, fmt: str | None,
         fields: list[str], no_header: bool, color: str, export: str | None,
         limit: int | None) -> None:
    """Programmes in order of one measure (or several); unknowns last, never read as zero.

    \b
    Example:
      fundcmp rank --by funding
      fundcmp rank --by funding-per-year --basis low | head -3 | cut -f1
      fundcmp rank --by support --day-rate 750
      fundcmp rank --by duration,funding --prices 2024
      fundcmp rank --by funding --chart --export rank.svg
    """
    from fundcmp.views import RANK_FIELD, priced, rank_table

    if chart and (fmt or fields):
        raise click.UsageError("--chart draws a picture; it takes no --format or --fields")
    prices = _prices(prices_year, index)
    page, store = _page(limit), state.store()
    if store and prices is None and day_rate is None and not chart:
        _rank_from_index(store, by, basis, reverse, page, fmt, fields, no_header, color, export)
        return
    programmes = _adjusted(state.programmes(), prices, day_rate)
    table = priced(rank_table(programmes, by, basis, reverse, fields, limit=page), prices)
    if chart:
        from fundcmp.chart import draw

        draw(table, RANK_FIELD[by[0]], basis, sys.stdout, color, export=export)
        return
    emit(table, fmt, no_header, color, export)
    _more(len(table.records), len(programmes))


def _rank_from_index(store: Store, by: list[str], basis: str, reverse: bool, page: int | None,
                     fmt: str | None, fields: list[str], no_header: bool, color: str,
                     export: str | None) -> None:
    """rank answered by the cache's index, whose figures arithmetic computed when it was built:
    tsv and csv of the default fields straight from stored rows, anything else from the
    programmes shown, revived."""
    from fundcmp.cache import COLUMN
    from fundcmp.render import CELL_FORMATS, write_lines
    from fundcmp.views import rank_fields, rank_table

    shown = fmt or ("table" if _terminal() else "tsv")
    if shown in CELL_FORMATS and not fields and not export:
        head = ["\t".join(rank_fields(by, basis))] if fmt and not no_header else []
        rows = store.rank_cells(by, basis, reverse, page)
        write_lines(head + rows, shown, sys.stdout, _raw_text())
        count = len(rows)
    else:
        units = [store.units[COLUMN[k]] for k in by]
        chosen = _adjusted(store.ranked(by, basis, reverse, page), None, None)
        table = rank_table(chosen, by, basis, reverse, fields, units=units)
        emit(table, fmt, no_header, color, export)
        count = len(table.records)
    _more(count, store.count() if page and count == page else count)


def _currency_code(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from fundcmp.matching import is_currency

    if not is_currency(value):
        raise click.BadParameter(f"must be an ISO 4217 code such as GBP or EUR, not {value!r}",
                                 ctx, param)
    return value


def _ask(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """A finite figure no larger than the registry allows (FloatRange lets nan and inf in)."""
    if value is not None and not 0 <= value <= 1e15:
        raise click.BadParameter(f"must be a number from 0 to 1e15, not {value}", ctx, param)
    return value


AMOUNT = click.FloatRange(min=0)


@cli.command()
@click.option("--amount", type=AMOUNT, callback=_ask, metavar="MONEY",
              help="The amount asked for, per team (grant), in --currency.")
@click.option("--months", type=AMOUNT, callback=_ask, metavar="N",
              help="How long the work runs, in months.")
@click.option("--per-year", "per_year", type=AMOUNT, callback=_ask, metavar="MONEY",
              help="The amount asked for a year, per team.")
@click.option("--currency", default="GBP", show_default=True, callback=_currency_code,
              metavar="CODE", help="Currency of --amount and --per-year; programmes in "
                                   "another currency are unknown (no exchange rate is assumed).")
@click.option("--words", metavar="TEXT", default=None,
              help="A phrase to find in each programme's name or focus (any case).")
@click.option("--funder", metavar="NAME", default=None,
              help="Only programmes of this funder: part of its name (any case), or the "
                   "360Giving identifier its grants are published under.")
@output_options
@click.pass_obj
def match(state: State, amount: float | None, months: float | None, per_year: float | None,
          currency: str, words: str | None, funder: str | None, fmt: str | None,
          fields: list[str], no_header: bool, color: str) -> None:
    """Which programmes fit an ask, and why, in the words of their evidence.

    Stated figures: inside a range or under a ceiling fits; below what a
    programme gives fits with a caveat; above the most it gives does not fit;
    an unknown figure is unknown, never a guess. Imported grants: the ask is
    placed among their deciles. Listed fits, then fits with a caveat, then
    unknown, then does not fit; exit status 0 whether or not anything fits.

    \b
    Example:
      fundcmp match --amount 250000 --months 24
      fundcmp match --per-year 100000 --words co-production
      fundcmp match --amount 50000 --funder "Health Foundation" --format json
    """
    from fundcmp.match_view import match_table
    from fundcmp.matching import Ask, match_all

    if amount is None and months is None and per_year is None and words is None:
        raise click.UsageError("say what you need: --amount, --months, --per-year or --words")
    if words is not None and not words.strip():
        raise click.UsageError("--words needs some words")
    ask = Ask(amount, months, per_year, currency, words)
    matches = match_all(state.programmes(), ask, funder)
    if not matches:
        click.echo(f"fundcmp: no programme's funder matches \u201c{funder}\u201d", err=True)
    emit(match_table(matches, ask, fields, funder), fmt, no_header, color)


@cli.command()
@click.argument("slug", shell_complete=complete_slugs)
@price_options
@output_options
@click.pass_obj
def explain(state: State, slug: str, prices_year: int | None, index: str | None,
            day_rate: float | None, fmt: str | None, fields: list[str], no_header: bool,
            color: str) -> None:
    """How every figure of one programme is known: quote and source, or formula and numbers.

    Derived figures (marked * in other views) show their formula with the numbers
    put in and the quotes behind each input; --prices adds the price step.

    \b
    Example:
      fundcmp explain shared-purpose
      fundcmp explain people-powered-health --prices 2024 --day-rate 750
    """
    from fundcmp.views import explain_table, select

    prices = _prices(prices_year, index)
    table = explain_table(state.programmes([slug])[0], prices, day_rate)
    emit(select(table, fields), fmt, no_header, color)


@cli.command("check")
@output_options
@click.pass_obj
def check_cmd(state: State, fmt: str | None, fields: list[str], no_header: bool,
              color: str) -> None:
    """Facts that disagree: durations the dates cannot give, totals teams x grants cannot make.

    Exit status 1 when any are found, so it can guard a registry in CI. Every
    other command prints the same findings on stderr as warnings, exit status
    unchanged.

    \b
    Example:
      fundcmp check
      fundcmp --registry my.yaml check
    """
    from fundcmp.checks import check, derivable
    from fundcmp.views import check_table, select

    state.warn = False
    registry = state.registry()
    findings = check(registry.programmes)
    for note in derivable(registry.programmes):
        click.echo(f"fundcmp: note: {note}", err=True)
    if not findings:
        click.echo(f"ok: {plural(len(registry.programmes), 'programme')} in "
                   f"{one_line(registry.path, 1000)}; "
                   "no facts disagree", err=True)
        if fmt is not None and fmt != "table":
            emit(select(check_table(findings, registry.path), fields), fmt, no_header, color)
        return
    emit(select(check_table(findings, registry.path), fields), fmt, no_header, color)
    click.get_current_context().exit(1)


@cli.command()
@output_options
def indices(fmt: str | None, fields: list[str], no_header: bool, color: str) -> None:
    """The price indices --prices can use, with their source, base, licence and years.

    \b
    Example:
      fundcmp indices
      fundcmp list --prices 2024 --index gdp-deflator
    """
    from fundcmp.prices import INDEX_NAMES, load_index
    from fundcmp.views import indices_table, select

    table = indices_table([load_index(name) for name in INDEX_NAMES])
    emit(select(table, fields), fmt, no_header, color)


IMPORT_EXIT_CODES = """\b
Exit status: 0 every grant's money counted (grants of other funders or with no
programme are left out by choice); 3 some grants were left out of the money
(bad amount, currency, identifier or funder, a duplicate, or an amount of 0 not
disclosed), summed up by kind on stderr, and the rest imported; 1 nothing
importable, a file that is not 360Giving data, or a registry that cannot be read
or written; 2 a usage error.
"""


@cli.command("import", epilog=IMPORT_EXIT_CODES)
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--into", "into", required=True, metavar="REGISTRY.yaml|.jsonl",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Registry to add the programmes to; created if missing. A .jsonl file is "
                   "JSON Lines (one programme a line), which loads fast at any size.")
@click.option("--dry-run", is_flag=True, help="Print the summary; write no registry.")
@click.option("--replace", is_flag=True,
              help="Replace programmes whose slug is already in the registry (default: keep "
                   "them as they are and report them).")
@click.option("--funder", metavar="ID", default=None,
              help="Only grants of this funder (its 360Giving organisation identifier).")
@click.option("--ungrouped-as-programme", is_flag=True,
              help="Import grants without a grant programme as one entry per funder, also "
                   "for funders that name programmes on other grants.")
@click.option("--keep-zero", is_flag=True,
              help="Count awards of 0 (by default read as 'amount not disclosed' and left "
                   "out of the spread and total).")
@click.option("--report", "report", metavar="FILE.csv", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Write every problem of every grant to FILE.csv, one row each (also "
                   "with --dry-run).")
@click.pass_context
def import_cmd(ctx: click.Context, files: tuple[Path, ...], into: Path, dry_run: bool,
               replace: bool, funder: str | None, ungrouped_as_programme: bool,
               keep_zero: bool, report: Path | None) -> None:
    """Programme entries from 360Giving grants data (JSON data package, CSV or XLSX).

    Grants are grouped by funder, grant programme title (the code only when a
    grant has no title) and currency; each entry records the grants' amounts
    (min, median, max), total, planned durations, amount per year, award dates
    and distinct recipients. Problems are summed up on stderr, one line a kind.

    \b
    Example:
      fundcmp import grants.xlsx --into mine.yaml --dry-run --report problems.csv
      fundcmp --registry mine.yaml list
    """
    import datetime
    import sqlite3
    import tempfile

    from fundcmp import atomic, giving360, jsonl_merge, registry_merge
    from fundcmp.progress import byte_progress
    from fundcmp.registry_jsonl import is_jsonl

    for option, target in (("--report", report), ("--into", into)):
        read_from = next((f for f in files if target is not None and _same_file(target, f)),
                         None)
        if read_from is not None:
            raise click.UsageError(f"{option} {target} is {read_from}, one of the files to "
                                   "import: give another path")
    if report is not None and (report == into or _same_file(report, into)):
        raise click.UsageError(f"--report {report} is the registry --into names: give "
                               "another path")
    jsonl = is_jsonl(str(into))  # a machine registry: merged line by line, read and written once
    # A JSON Lines registry is read once, under the lock, unless this is a dry run.
    old_text = None if jsonl else _registry_text(into)
    total_bytes = sum(f.stat().st_size for f in files)

    def write_report(chunks: Any) -> None:
        if report is not None:
            try:
                atomic.write_chunks(report, chunks)
            except OSError as exc:
                raise giving360.ImportDataError(f"{one_line(str(report))}: cannot write the "
                                                f"report: {exc.strerror}") from None

    try:
        with byte_progress(total_bytes, "Reading grants") as on_bytes:
            summary = giving360.collect(files, funder, ungrouped_as_programme, keep_zero,
                                        on_bytes=on_bytes, report=write_report)
    except sqlite3.Error as exc:  # the grants' temporary table: a full or unwritable $TMPDIR
        raise FundcmpError(f"cannot keep the grants in a temporary file in "
                           f"{one_line(tempfile.gettempdir())}: {exc}; nothing was written "
                           "(set TMPDIR to a directory with more room)") from None
    for line in giving360.overview_lines(summary):
        click.echo(one_line(line, 1000))
    for line in giving360.problem_lines(summary):
        click.echo(f"fundcmp: {escaped(line)}", err=True)
    if report is not None:
        click.echo(f"wrote {one_line(str(report), 1000)} (every problem of every grant)")
    if not summary.entries:
        hint = " (--ungrouped-as-programme imports grants that name no programme)" \
            if summary.without_programme and not ungrouped_as_programme else ""
        raise giving360.ImportDataError(f"nothing importable: no grant made a programme "
                                        f"entry{hint}")
    sources = giving360.source_records(summary, [str(f) for f in files],
                                       datetime.date.today().isoformat())
    if jsonl:
        def merge_jsonl() -> Any:
            return jsonl_merge.merge(jsonl_merge.read(into), str(into), sources, replace)

        if dry_run:
            merged = merge_jsonl()
            merged.validate()  # what the registry would refuse, as a real import says it
        else:
            merged = _locked(into, merge_jsonl, jsonl_merge.write)
    else:
        def merge(text: str | None) -> Any:
            return registry_merge.merge_all(text, str(into), sources, replace)

        merged = merge(old_text) if dry_run else _merge_locked(into, merge)
    names = {e.slug: e for e in summary.entries}
    verbs = ("would add", "would replace") if dry_run else ("added", "replaced")
    for verb, slugs in zip(verbs, (merged.added, merged.replaced), strict=True):
        if slugs:
            click.echo(f"{verb} {plural(len(slugs), 'programme')}:")
            for slug in slugs:
                e = names[slug]
                click.echo(f"  {slug}\t{one_line(giving360.entry_name(e))}\t"
                           f"{plural(e.grants, 'grant')}\t{e.currency}")
    shown = one_line(str(into), limit=1000)
    if merged.kept:
        click.echo(f"kept {len(merged.kept)} already in {shown} as they are (--replace "
                   f"replaces them): {', '.join(merged.kept)}")
    if dry_run:
        click.echo(f"dry run: nothing written to {shown}")
    elif merged.changed:
        click.echo(f"wrote {shown} (source{'s' if ', ' in merged.source_id else ''} "
                   f"{merged.source_id})")
    else:
        click.echo(f"{shown} unchanged")
    ctx.exit(3 if summary.left_out else 0)


def _same_file(target: Path, path: Path) -> bool:
    """Whether writing target would write over path (a link to it, or it by another name)."""
    import os

    try:
        return os.path.samefile(target, path)
    except OSError:  # target does not exist yet: nothing to write over
        return False


def _merge_locked(into: Path, merge: Callable[[str | None], Any]) -> Any:
    """Merge into the registry's latest text and write it, holding its lock (fundcmp.locking);
    Ctrl-C says whether the registry was written."""
    from fundcmp import atomic, locking
    from fundcmp.errors import Interrupted, RegistryError

    merged = []

    def change(text: str | None) -> str | None:
        merged.append(merge(text))
        return str(merged[-1].text) if merged[-1].changed else None

    shown = one_line(str(into), limit=1000)
    try:
        locking.update(into, change, on_wait=lambda m: click.echo(f"fundcmp: {m}", err=True))
    except atomic.WrittenThenInterrupted:
        raise Interrupted(f"interrupted after {shown} was written: the import is complete") \
            from None
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: nothing was written to {shown}") from None
    except OSError as exc:
        raise RegistryError(str(into), None, f"cannot write: {exc.strerror}; nothing was "
                            "changed") from None
    return merged[-1]


def _locked(into: Path, merge: Callable[[], Any], write: Callable[[Path, Any], None]) -> Any:
    """Read, merge and write a JSON Lines registry holding its lock (fundcmp.locking), so
    concurrent imports never lose each other's programmes."""
    import os

    from fundcmp import atomic, locking
    from fundcmp.errors import Interrupted, RegistryError

    target = Path(os.path.realpath(into))
    shown = one_line(str(into), limit=1000)
    try:
        with locking.held(target, locking.wait_seconds(),
                          lambda m: click.echo(f"fundcmp: {m}", err=True)):
            merged = merge()
            if merged.changed:
                try:
                    write(target, merged)
                except OSError as exc:
                    raise RegistryError(str(into), None, f"cannot write: {exc.strerror}; "
                                        "nothing was changed") from None
    except atomic.WrittenThenInterrupted:
        raise Interrupted(f"interrupted after {shown} was written: the import is complete") \
            from None
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: nothing was written to {shown}") from None
    return merged


def _registry_text(path: Path) -> str | None:
    """The target registry's text, checked loadable before any grant is read; None if new."""
    from fundcmp.errors import RegistryError

    if not path.exists():
        return None
    load(path)
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise RegistryError(str(path), None, f"cannot read: {exc.strerror}") from None


class _ClosedOutput(io.TextIOBase):
    """Stands in for a closed stdout (`fundcmp list >&-`): writing to it fails cleanly."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def _say(message: str) -> None:
    """One line on stderr, if stderr can still take it."""
    with contextlib.suppress(OSError, ValueError):
        click.echo(f"fundcmp: {message}", err=True)


def _quiet_stdout() -> None:
    """Point stdout's descriptor at /dev/null so the exit-time flush cannot fail again."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


class _PipeBuffer(io.BufferedWriter):
    """stdout on a pipe or a file: held until the buffer fills or fundcmp ends.

    click and rich flush after every line, and PYTHONUNBUFFERED writes every
    line at once; either way `| head -1` could go away between two writes and
    make the exit status depend on timing. Holding output up to 64 KiB (a
    pipe's capacity) writes it in one piece, so a short output always arrives
    whole (exit 0) and a longer one a reader stops reading always ends with 1.
    """

    def flush(self) -> None:
        """Held: a pipe has no one waiting on a partial line."""

    def release(self) -> None:
        super().flush()


def _held(stream: Any) -> Any:
    """A fully buffered stdout over the same descriptor, when stdout is not a terminal."""
    raw = getattr(stream.buffer, "raw", stream.buffer)
    if not isinstance(raw, io.FileIO):
        return stream  # not a real descriptor (a test's capture): leave it alone
    stream.flush()
    return io.TextIOWrapper(_PipeBuffer(raw, buffer_size=1 << 16), encoding=stream.encoding,
                            errors=stream.errors, line_buffering=False)


def _flush_stdout() -> None:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if isinstance(buffer, _PipeBuffer):
        buffer.release()


def main() -> None:
    """The console script: click's group plus clean exits on a closed pipe, a closed stdout,
    a closed stderr, a full disk and Ctrl-C. Output failures exit 1 with one line (silently
    for `| head`)."""
    if sys.stderr is None:  # `2>&-`: warnings and progress have nowhere to go, and that is fine
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives to exit
    if sys.stdout is None:
        sys.stdout = _ClosedOutput()
    elif not sys.stdout.isatty():
        sys.stdout = _held(sys.stdout)
    elif isinstance(getattr(sys.stdout, "buffer", None), io.RawIOBase):
        # PYTHONUNBUFFERED leaves stdout on a raw file, and TextIOWrapper silently drops the
        # rest of a short write; a BufferedWriter retries it.
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(sys.stdout.buffer),
                                      encoding=sys.stdout.encoding, errors=sys.stdout.errors,
                                      line_buffering=True)
    code: int | Any = 0
    try:
        try:
            code = cli.main(prog_name="fundcmp", standalone_mode=False)
        except click.ClickException as exc:
            exc.__dict__["message"] = escaped(exc.message)  # as FundcmpGroup.invoke does
            exc.show()
            code = exc.exit_code
        except (click.Abort, KeyboardInterrupt):
            code = 130
        finally:
            _flush_stdout()
    except BrokenPipeError:
        _quiet_stdout()
        code = 1
    except OSError as exc:
        _quiet_stdout()
        reason = exc.strerror or str(exc)
        _say(f"{exc.filename}: {reason}" if exc.filename else f"cannot write output: {reason}")
        code = 1
    sys.exit(code if isinstance(code, int) else 0)
