"""Shell completion (click's, for bash, zsh and fish): slugs from the registry, field names.

Enable it with one line, e.g. for bash: eval "$(_FUNDCMP_COMPLETE=bash_source fundcmp)".
Completion runs on every Tab press, so it must never print a traceback into the
user's prompt: a registry that cannot be read simply offers nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fundcmp.errors import FundcmpError

if TYPE_CHECKING:
    import click
    from click.shell_completion import CompletionItem


def slugs(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Slugs in the registries chosen by --registry or $FUNDCMP_REGISTRY, with their names."""
    from click.shell_completion import CompletionItem

    from fundcmp.cli import REGISTRIES_KEY
    from fundcmp.registries import load_all, paths

    try:
        registry = load_all(paths(ctx.meta.get(REGISTRIES_KEY, [])))
    except (FundcmpError, OSError, ValueError):
        return []
    return [CompletionItem(p.slug, help=p.name) for p in registry.programmes
            if p.slug.startswith(incomplete)]


def fields(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Field names for --fields, after any already typed: `slug,du` offers `slug,duration`."""
    from click.shell_completion import CompletionItem

    from fundcmp.views import CATALOGUE

    done, _, partial = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    chosen = set(done.split(","))
    return [CompletionItem(prefix + name, help=title)
            for name, (title, _) in CATALOGUE.items()
            if name.startswith(partial) and name not in chosen]


def rank_keys(ctx: click.Context, param: click.Parameter,
              incomplete: str) -> list[CompletionItem]:
    """Keys for rank --by, comma by comma: `duration,fu` offers `duration,funding`."""
    from click.shell_completion import CompletionItem

    from fundcmp.arithmetic import MEASURES

    done, _, partial = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    chosen = set(done.split(","))
    return [CompletionItem(prefix + key) for key in MEASURES
            if key.startswith(partial) and key not in chosen]
