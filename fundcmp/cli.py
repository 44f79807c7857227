"""The command line: parse options, call the library, hand rows to the renderer.

Exit status: 0 success, 1 a data error (a bad registry), 2 a usage error
(an unknown option, slug or field).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from fundcmp import __version__
from fundcmp.errors import FundcmpError, UnknownSlugError
from fundcmp.model import Programme
from fundcmp.registry import Registry, load, resolve_path

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES = """\b
Exit status: 0 success; 1 a data error (such as a bad registry);
2 a usage error (unknown option, slug or field).
"""


class FundcmpGroup(click.Group):
    """Maps fundcmp's own errors to one line on stderr and their exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FundcmpError as exc:
            click.echo(f"fundcmp: {exc}", err=True)
            ctx.exit(exc.exit_code)


class State:
    def __init__(self, registry: str | None) -> None:
        self.registry_option = registry
        self._registry: Registry | None = None

    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = load(resolve_path(self.registry_option))
        return self._registry

    def programmes(self, slugs: Sequence[str] | None = None) -> list[Programme]:
        registry = self.registry()
        if slugs is None:
            return list(registry.programmes)
        index = registry.by_slug()
        chosen = []
        for slug in slugs:
            if slug not in index:
                import difflib

                close = difflib.get_close_matches(slug, list(index), n=3)
                known = list(index) if len(index) <= 20 else []
                raise click.UsageError(str(UnknownSlugError(slug, close, known)),
                                       click.get_current_context())
            chosen.append(index[slug])
        return chosen


def _split_fields(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str]:
    return [f.strip() for f in value.split(",") if f.strip()] if value else []


def output_options(f: F) -> F:
    """The output options every command that prints rows shares."""
    from fundcmp.render import FORMATS

    for option in reversed((
        click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                     help="table (rich) on a terminal, tsv when piped; also csv, json, jsonl, "
                          "yaml and tabulate's formats (github, grid, rst, ...)."),
        click.option("--fields", callback=_split_fields,
                     help="Comma-separated fields to show, in order (e.g. slug,duration)."),
        click.option("--no-header", is_flag=True, help="No header line in tsv or csv."),
        click.option("--color", type=click.Choice(["auto", "always", "never"]),
                     default="auto", show_default=True,
                     help="Colour in tables; NO_COLOR and TERM=dumb are honoured."),
    )):
        f = option(f)
    return f


def emit(table: Any, fmt: str | None, no_header: bool, color: str) -> None:
    from fundcmp.render import write

    out = sys.stdout
    if fmt is None:
        piped = not out.isatty()
        fmt = "tsv" if piped else "table"
        header = not piped and not no_header
    else:
        header = not no_header
    write(table, fmt, out, header=header, color=color)


@click.group(cls=FundcmpGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="fundcmp")
@click.option("--registry", metavar="PATH", default=None,
              help="Registry file to read (default: $FUNDCMP_REGISTRY, else the shipped one).")
@click.pass_context
def cli(ctx: click.Context, registry: str | None) -> None:
    """Put grant programmes side by side: funding per team, duration and support.

    \b
    Example:
      fundcmp compare shared-purpose common-ambition
    """
    ctx.obj = State(registry)


@cli.command("list")
@output_options
@click.pass_obj
def list_cmd(state: State, fmt: str | None, fields: list[str], no_header: bool,
             color: str) -> None:
    """One row per programme: funder, teams, funding per team, duration, support.

    \b
    Example:
      fundcmp list
      fundcmp list --format json --fields slug,funding,duration
    """
    from fundcmp.views import list_table

    emit(list_table(state.programmes(), fields), fmt, no_header, color)


@cli.command()
@click.argument("slug")
@output_options
@click.pass_obj
def show(state: State, slug: str, fmt: str | None, fields: list[str], no_header: bool,
         color: str) -> None:
    """Every fact of one programme, with the quote and source behind it.

    \b
    Example:
      fundcmp show people-powered-health
    """
    from fundcmp.views import show_table

    emit(show_table(state.programmes([slug])[0]), fmt, no_header, color)


BASIS = click.option("--basis", type=click.Choice(["low", "mid", "high"]), default="mid",
                     show_default=True,
                     help="Which end of a range stands for it: low, mid(point) or high.")


@cli.command()
@click.argument("slugs", nargs=-1, required=True)
@BASIS
@output_options
@click.pass_obj
def compare(state: State, slugs: tuple[str, ...], basis: str, fmt: str | None,
            fields: list[str], no_header: bool, color: str) -> None:
    """Programmes side by side, the best value in each row marked.

    \b
    Example:
      fundcmp compare shared-purpose common-ambition
    """
    from fundcmp.views import compare_table

    if len(slugs) < 2:
        raise click.UsageError("compare needs at least two programmes")
    emit(compare_table(state.programmes(slugs), fields, basis), fmt, no_header, color)


@cli.command()
@click.option("--by", "by", required=True,
              type=click.Choice(["funding", "funding-per-year", "duration", "support", "teams",
                                 "total"]),
              help="What to rank by.")
@BASIS
@click.option("--reverse", is_flag=True, help="Smallest first (unknowns stay last).")
@output_options
@click.pass_obj
def rank(state: State, by: str, basis: str, reverse: bool, fmt: str | None, fields: list[str],
         no_header: bool, color: str) -> None:
    """Programmes in order of one measure; unknowns last, never read as zero.

    \b
    Example:
      fundcmp rank --by funding
      fundcmp rank --by funding-per-year --basis low | head -3 | cut -f1
    """
    from fundcmp.views import rank_table

    emit(rank_table(state.programmes(), by, basis, reverse, fields), fmt, no_header, color)


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


def main() -> None:
    """The console script: click's group plus clean exits on a closed pipe, a closed stdout,
    a full disk and Ctrl-C. Output failures exit 1 with one line (silently for `| head`)."""
    if sys.stdout is None:
        sys.stdout = _ClosedOutput()
    elif isinstance(getattr(sys.stdout, "buffer", None), io.RawIOBase):
        # PYTHONUNBUFFERED leaves stdout on a raw file, and TextIOWrapper silently drops the
        # rest of a short write (as when `| head` goes away); a BufferedWriter retries it.
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(sys.stdout.buffer),
                                      encoding=sys.stdout.encoding, errors=sys.stdout.errors,
                                      line_buffering=True)
    code: int | Any = 0
    try:
        try:
            code = cli.main(prog_name="fundcmp", standalone_mode=False)
        except click.ClickException as exc:
            exc.show()
            code = exc.exit_code
        except (click.Abort, KeyboardInterrupt):
            code = 130
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        code = 1
    except OSError as exc:
        _quiet_stdout()
        reason = exc.strerror or str(exc)
        _say(f"{exc.filename}: {reason}" if exc.filename else f"cannot write output: {reason}")
        code = 1
    sys.exit(code if isinstance(code, int) else 0)
